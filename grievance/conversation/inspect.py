"""Static checks of flows against the catalogs: what ``grievance flows check`` reports."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from grievance.conversation.engine import (
    BACK_TO_QUESTION,
    CODE_PROBLEMS,
    FLOW_CHANGED,
    LOOP_ERROR,
    REASK_DEFAULTS,
    REASK_LANGUAGE,
    TEXT_TOO_LONG,
    WHICH_ONE,
)
from grievance.conversation.loader import WATCH_KINDS, Problem, suggest
from grievance.conversation.model import NO_RESPONSE, OTHER, Flow, FlowSet, Node
from grievance.language.catalog import Catalog, placeholders
from grievance.language.segments import count_segments
from grievance.language.words import contains_phrase, fold, strip_edges

ENGINE_KEYS = frozenset(
    {
        *REASK_DEFAULTS.values(),
        *CODE_PROBLEMS.values(),
        REASK_LANGUAGE,
        WHICH_ONE,
        TEXT_TOO_LONG,
        FLOW_CHANGED,
        LOOP_ERROR,
        BACK_TO_QUESTION,
    }
)


@dataclass(frozen=True)
class PromptSize:
    """How many SMS segments one prompt costs in one language."""

    flow: str
    node: str
    language: str
    segments: int
    encoding: str


def used_keys(flowset: FlowSet) -> dict[str, tuple[str, int]]:
    """Every catalog key the flows use, with the first place that uses it."""
    keys: dict[str, tuple[str, int]] = {}
    for flow in flowset.flows.values():
        for node in flow.nodes.values():
            for say in node.say:
                keys.setdefault(say.key, (flow.path, say.line))
            if node.wait is not None:
                if node.wait.reask:
                    keys.setdefault(node.wait.reask, (flow.path, node.wait.line))
                for option in node.wait.options:
                    if option.label:
                        keys.setdefault(option.label, (flow.path, option.line))
    return keys


def check_flow(flow: Flow) -> list[Problem]:
    """Structural problems of one flow: dangling targets, unreachable nodes, unrouted answers."""
    problems: list[Problem] = []

    def add(line: int, message: str) -> None:
        problems.append(Problem(flow.path, line, message))

    if flow.start not in flow.nodes:
        add(
            flow.key_lines.get("start", flow.line),
            f"start node '{flow.start}' does not exist{suggest(flow.start, flow.nodes)}",
        )
    for node in flow.nodes.values():
        for target, line in node.targets():
            if target not in flow.nodes:
                add(
                    line,
                    f"node '{node.name}' goes to '{target}', which does not exist{suggest(target, flow.nodes)}",
                )
        if node.skip_if and node.next is None:
            add(
                node.line,
                f"node '{node.name}' has skip_if but no next: where should a skipped node go?",
            )
        if node.wait is not None:
            problems.extend(_check_routes(flow, node))
    reachable = _reachable(flow)
    for node in flow.nodes.values():
        if node.name not in reachable:
            add(node.line, f"node '{node.name}' can never be reached from '{flow.start}'")
    return problems


def _check_routes(flow: Flow, node: Node) -> list[Problem]:
    assert node.wait is not None
    problems = []
    known = set(node.wait.categories()) | {OTHER, NO_RESPONSE}
    if node.wait.if_words is not None and node.wait.if_words not in node.wait.categories():
        problems.append(
            Problem(
                flow.path,
                node.wait.line,
                f"node '{node.name}': if_words '{node.wait.if_words}' is not an answer its "
                f"{node.wait.kind} wait gives{suggest(node.wait.if_words, node.wait.categories())}",
            )
        )
    for category in node.routes:
        if category not in known:
            problems.append(
                Problem(
                    flow.path,
                    node.route_lines.get(category, node.line),
                    f"node '{node.name}' routes '{category}', which its {node.wait.kind} wait never answers"
                    f"{suggest(category, known)} (it answers: {', '.join(sorted(known))})",
                )
            )
    if node.next is None:
        for category in node.wait.categories():
            if category not in node.routes:
                problems.append(
                    Problem(
                        flow.path,
                        node.line,
                        f"node '{node.name}' has no route for answer '{category}' and no next",
                    )
                )
        if OTHER not in node.routes:
            problems.append(
                Problem(
                    flow.path,
                    node.wait.line,
                    f"node '{node.name}' waits without an 'other' route (or a next) for answers it cannot understand",
                )
            )
        if node.wait.timeout is not None and NO_RESPONSE not in node.routes:
            problems.append(
                Problem(
                    flow.path,
                    node.wait.line,
                    f"node '{node.name}' has a timeout but no 'no_response' route (or a next)",
                )
            )
    return problems


def _reachable(flow: Flow) -> set[str]:
    seen: set[str] = set()
    todo = [flow.start]
    while todo:
        name = todo.pop()
        if name in seen or name not in flow.nodes:
            continue
        seen.add(name)
        todo.extend(target for target, _ in flow.nodes[name].targets())
    return seen


def check_catalogs(
    flowset: FlowSet,
    catalogs: Mapping[str, Catalog],
    host_keys: Iterable[str] = (),
    source_language: str = "en",
    optional_keys: Iterable[str] = (),
) -> list[Problem]:
    """Missing, unused and inconsistent catalog entries, and keyword collisions.

    ``optional_keys`` (the phone menu's own sentences) are used where present and fall back
    to the source language where missing; ``grievance voice prompts`` lists the gaps."""
    problems: list[Problem] = []
    optional = frozenset(optional_keys)
    used = used_keys(flowset)
    needed = dict(used)
    for key in (*ENGINE_KEYS, *host_keys):
        needed.setdefault(key, ("", 0))
    source = catalogs.get(source_language) or next(iter(catalogs.values()), None)
    for catalog in catalogs.values():
        for key, (path, line) in sorted(needed.items()):
            if key not in catalog.messages:
                where = f"used at {path}:{line}" if path else "used by grievance itself"
                problems.append(
                    Problem(
                        catalog.path,
                        1,
                        f"missing message '{key}' ({where}){suggest(key, catalog.messages)}",
                    )
                )
        for key, text in catalog.messages.items():
            if key not in needed and key not in optional:
                problems.append(
                    Problem(
                        catalog.path,
                        text.line,
                        f"message '{key}' is not used by any flow; remove it or use it",
                    )
                )
            if source is None or catalog is source or key not in source.messages:
                continue
            for channel, variant in text.variants():
                expected = placeholders(source.messages[key].for_channel(channel))
                found = placeholders(variant)
                if expected != found:
                    problems.append(
                        Problem(
                            catalog.path,
                            text.line,
                            f"'{key}' ({channel}) has placeholders {_braces(found)} but {source.language} has {_braces(expected)}",
                        )
                    )
        problems.extend(_keyword_collisions(catalog))
    problems.extend(_cross_language_collisions(catalogs))
    problems.extend(_yes_no_collisions(catalogs))
    problems.extend(_menu_word_problems(flowset, catalogs))
    problems.extend(_say_params(flowset, catalogs))
    problems.extend(_glossary_problems(catalogs))
    if source is not None:
        problems.extend(_voice_wording(flowset, source))
    return problems


def _voice_wording(flowset: FlowSet, source: Catalog) -> list[Problem]:
    """Every question of a flow that runs on calls is worded for the ear in the source
    catalog: "Reply with a number" read aloud is no question a caller can answer."""
    problems = []
    for flow in flowset.flows.values():
        if "voice" not in flow.channels:
            continue
        for node in flow.nodes.values():
            if node.wait is None or not node.say:
                continue
            question = node.say[-1].key
            text = source.messages.get(question)
            if text is not None and text.voice is None:
                problems.append(
                    Problem(
                        source.path,
                        text.line,
                        f"'{question}' is asked on calls ({flow.path}:{node.line}, a flow with "
                        "channels [voice]) but has no voice wording; add a voice: variant",
                    )
                )
    return problems


def _glossary_problems(catalogs: Mapping[str, Catalog]) -> list[Problem]:
    """Messages that call a fixed term by another name than the catalog's glossary: a worker
    told "reporte" in one message and "denuncia" in the next may think they are two things."""
    problems = []
    for catalog in catalogs.values():
        for term, entry in catalog.glossary.items():
            avoid = [(word, fold(word)) for word in entry.avoid]
            for key, text in catalog.messages.items():
                for _channel, body in text.variants():
                    found = next((w for w, f in avoid if contains_phrase(fold(body), f)), None)
                    if found is not None:
                        problems.append(
                            Problem(
                                catalog.path,
                                text.line,
                                f"'{key}' says '{found}' for \"{term}\"; this catalog's word "
                                f"is '{entry.use[0]}' (glossary, line {entry.line})",
                            )
                        )
                        break
    return problems


def _yes_no_collisions(catalogs: Mapping[str, Catalog]) -> list[Problem]:
    """A word that is yes in one catalog and no in another is read by the worker's language
    only; a worker writing neither would not be understood, so say so."""
    meaning: dict[str, tuple[str, str]] = {}
    problems = []
    for catalog in catalogs.values():
        for answer, words in (("yes", catalog.yes), ("no", catalog.no)):
            for word in words:
                folded = fold(word)
                first = meaning.setdefault(folded, (answer, catalog.language))
                if first[0] != answer:
                    problems.append(
                        Problem(
                            catalog.path,
                            catalog.lines.get(answer, 1),
                            f"'{word}' means {answer} here but {first[0]} in {first[1]}: "
                            f"only a worker writing {catalog.language} or {first[1]} is "
                            "understood; drop it, or keep the longer spelling",
                        )
                    )
    return problems


def _menu_word_problems(flowset: FlowSet, catalogs: Mapping[str, Catalog]) -> list[Problem]:
    """Menu words for no option, words that are keywords (the keyword wins), and words that
    fit two options of one menu in one language (the worker would always be asked which)."""
    menus = [
        [o.label for o in node.wait.options if o.label]
        for flow in flowset.flows.values()
        for node in flow.nodes.values()
        if node.wait is not None and node.wait.options
    ]
    labels = {label for menu in menus for label in menu}
    keywords = {
        w.casefold(): (c.language, k)
        for c in catalogs.values()
        for k, ws in c.keywords.items()
        for w in ws
    }
    problems = []
    for catalog in catalogs.values():

        def line(key: str, catalog: Catalog = catalog) -> int:
            return catalog.lines.get(f"menu_words.{key}", catalog.lines.get("menu_words", 1))

        for key in catalog.menu_words:
            if key not in labels:
                problems.append(
                    Problem(
                        catalog.path,
                        line(key),
                        f"menu_words '{key}' is the label of no menu option{suggest(key, labels)}",
                    )
                )
        for key in sorted(labels):
            label = catalog.messages.get(key)
            if label is not None and fold(strip_edges(label.sms)) in keywords:
                language, keyword = keywords[fold(strip_edges(label.sms))]
                problems.append(
                    Problem(
                        catalog.path,
                        label.line,
                        f"the option label '{label.sms}' is a {keyword} keyword in {language}: "
                        "a worker typing it would get the keyword; reword the label",
                    )
                )
            for word in catalog.menu_words.get(key, ()):
                if fold(word) in keywords:
                    language, keyword = keywords[fold(word)]
                    problems.append(
                        Problem(
                            catalog.path,
                            line(key),
                            f"the menu word '{word}' is a {keyword} keyword in {language}: "
                            "the keyword wins; drop it",
                        )
                    )
        for menu in menus:
            owner: dict[str, str] = {}
            for key in menu:
                label = catalog.messages.get(key)
                for word in (*catalog.menu_words.get(key, ()), *([label.sms] if label else [])):
                    folded = fold(word)
                    if owner.setdefault(folded, key) != key:
                        problems.append(
                            Problem(
                                catalog.path,
                                line(key),
                                f"'{word}' chooses both '{owner[folded]}' and '{key}' in one "
                                "menu; keep it for one of them",
                            )
                        )
    aliases: dict[str, str] = {}
    for catalog in catalogs.values():
        for name in (catalog.name, catalog.language, *catalog.aliases):
            first = aliases.setdefault(fold(name), catalog.language)
            if first != catalog.language:
                problems.append(
                    Problem(
                        catalog.path,
                        catalog.lines.get("aliases", 1),
                        f"'{name}' names both {first} and {catalog.language} in the language "
                        "menu; keep it for one",
                    )
                )
    return problems


def _cross_language_collisions(catalogs: Mapping[str, Catalog]) -> list[Problem]:
    """Keywords are matched in every deployment language at once, so a word must mean one thing."""
    problems = []
    owner: dict[str, tuple[str, str]] = {}
    for catalog in catalogs.values():
        for keyword, words in catalog.keywords.items():
            for word in words:
                first = owner.setdefault(word.casefold(), (catalog.language, keyword))
                if first[1] != keyword:
                    problems.append(
                        Problem(
                            catalog.path,
                            catalog.keyword_lines.get(keyword, 1),
                            f"'{word}' is a {keyword} keyword here but a {first[1]} keyword in {first[0]}",
                        )
                    )
    for catalog in catalogs.values():
        for kind in WATCH_KINDS:
            for word in getattr(catalog, kind):
                found = owner.get(word.casefold())
                if found is not None:
                    problems.append(
                        Problem(
                            catalog.path,
                            1,
                            f"the {kind} word '{word}' is a {found[1]} keyword in {found[0]}: a "
                            "message of only that word is the command, never asked about",
                        )
                    )
                elif len(word.strip()) < 4 and word.isascii():
                    problems.append(
                        Problem(
                            catalog.path,
                            1,
                            f"the {kind} word '{word}' is too short: it would start too many "
                            "ordinary words; use a longer stem or a phrase",
                        )
                    )
        for word in (*catalog.yes, *catalog.no):
            found = owner.get(word.casefold())
            if found is not None:
                problems.append(
                    Problem(
                        catalog.path,
                        1,
                        f"the yes/no word '{word}' is a {found[1]} keyword in {found[0]}; "
                        "it would be taken as that command",
                    )
                )
    return problems


def _braces(names: set[str]) -> str:
    return "{" + ", ".join(sorted(names)) + "}" if names else "none"


def _keyword_collisions(catalog: Catalog) -> list[Problem]:
    problems = []
    owner: dict[str, str] = {}
    for keyword, words in catalog.keywords.items():
        for word in words:
            folded = word.casefold()
            if folded in owner and owner[folded] != keyword:
                problems.append(
                    Problem(
                        catalog.path,
                        catalog.keyword_lines.get(keyword, 1),
                        f"'{word}' is a word for both {owner[folded]} and {keyword}; keep it in one",
                    )
                )
            owner[folded] = keyword
            if folded in {w.casefold() for w in (*catalog.yes, *catalog.no)}:
                problems.append(
                    Problem(
                        catalog.path,
                        catalog.keyword_lines.get(keyword, 1),
                        f"'{word}' is both a {keyword} keyword and a yes/no answer",
                    )
                )
    return problems


def _say_params(flowset: FlowSet, catalogs: Mapping[str, Catalog]) -> list[Problem]:
    """A message whose {placeholder} no say: params fill would reach the worker broken."""
    problems = []
    for flow in flowset.flows.values():
        for node in flow.nodes.values():
            for say in node.say:
                for catalog in catalogs.values():
                    text = catalog.messages.get(say.key)
                    if text is None:
                        continue
                    missing = set().union(*(placeholders(v) for _, v in text.variants())) - set(
                        say.params
                    )
                    if missing:
                        problems.append(
                            Problem(
                                flow.path,
                                say.line,
                                f"'{say.key}' needs params {_braces(missing)} in {catalog.language}; add params: {{...}}",
                            )
                        )
                        break
    return problems


def prompt_sizes(
    flowset: FlowSet,
    catalogs: Mapping[str, Catalog],
    languages: Iterable[str],
    menu_languages: Sequence[str] | None = None,
) -> list[PromptSize]:
    """SMS segments of each question (the node's last message with its menu) per language.
    The language menu lists ``menu_languages`` (the deployment's; default ``languages``)."""
    languages = list(languages)
    offered = list(menu_languages) if menu_languages is not None else languages
    sizes = []
    for flow in flowset.flows.values():
        for node in flow.nodes.values():
            if not node.say:
                continue
            for lang in languages:
                catalog = catalogs.get(lang)
                if catalog is None or node.say[-1].key not in catalog.messages:
                    continue
                text = catalog.messages[node.say[-1].key].sms
                if node.wait is not None and node.wait.kind == "menu":
                    if node.wait.dynamic_options:
                        labels = [catalogs[x].name for x in offered if x in catalogs]
                        lines = [f"{i} {label}" for i, label in enumerate(labels, 1)]
                    else:
                        lines = [
                            f"{o.number} {catalog.messages[o.label].sms if o.label and o.label in catalog.messages else ''}"
                            for o in node.wait.options
                        ]
                    text = "\n".join([text, *lines])
                count = count_segments(text)
                sizes.append(PromptSize(flow.id, node.name, lang, count.segments, count.encoding))
    return sizes


def check_budgets(
    flowset: FlowSet,
    catalogs: Mapping[str, Catalog],
    languages: Iterable[str],
    menu_languages: Sequence[str] | None = None,
) -> list[Problem]:
    """Prompts that cost more SMS segments than their flow's ``sms_budget``."""
    problems = []
    for size in prompt_sizes(flowset, catalogs, languages, menu_languages):
        flow = flowset.flows[size.flow]
        if flow.sms_budget is not None and size.segments > flow.sms_budget:
            problems.append(
                Problem(
                    flow.path,
                    flow.nodes[size.node].line,
                    f"node '{size.node}' costs {size.segments} SMS segments in {size.language} "
                    f"({size.encoding}); the budget is {flow.sms_budget}: shorten the {size.language} text",
                )
            )
    return problems


def check(
    flowset: FlowSet,
    catalogs: Mapping[str, Catalog],
    languages: Iterable[str],
    host_keys: Iterable[str] = (),
    menu_languages: Sequence[str] | None = None,
    optional_keys: Iterable[str] = (),
) -> list[Problem]:
    """Every problem of the flows and catalogs, sorted by file and line. ``menu_languages``
    are those the language menu lists (the deployment's), when that is not every catalog
    checked."""
    languages = list(languages)
    problems: list[Problem] = []
    for flow in flowset.flows.values():
        problems += check_flow(flow)
    problems += check_catalogs(flowset, catalogs, host_keys, optional_keys=optional_keys)
    problems += check_budgets(flowset, catalogs, languages, menu_languages)
    return sorted(set(problems))
