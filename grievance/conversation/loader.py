"""Read flow YAML into :mod:`model` objects, reporting every mistake as ``file:line``."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from grievance.conversation.model import (
    MEDIA_KINDS,
    WAIT_KINDS,
    Action,
    Case,
    Flow,
    FlowSet,
    KeywordRule,
    MenuOption,
    Node,
    Say,
    Wait,
    WatchRule,
    parse_condition,
)
from grievance.language.catalog import KEYWORDS
from grievance.yamlsource import LineDict, LineList, YamlError, load_file

SPEC_VERSION = 1
KEYWORDS_FILE = "keywords.yaml"

# The action registry: every effect a flow can ask for, and the parameters it takes
# (None: any lower_case names, the results it sets).
ACTIONS: dict[str, frozenset[str] | None] = {
    "detect_language": frozenset(),
    "set_language": frozenset({"from"}),
    "open_case": frozenset(
        {
            "category",
            "workplace",
            "description",
            "in_danger",
            "wants_updates",
            "full_updates",
            "sms_fallback",
            "retaliation",
        }
    ),
    "lookup_status": frozenset({"code"}),
    "opt_out": frozenset(),
    "opt_in": frozenset(),
    "handover": frozenset({"reason"}),
    "answer": frozenset({"value"}),
    "appeal": frozenset(),
    "start_flow": frozenset({"flow", "carry"}),
    # Record a wellbeing survey's answers so far: the results holding its random token, its
    # wave, whatever the worker wrote at the end, and whether they chose to report it; the
    # answers are the flow's scale questions.
    "wellbeing_record": frozenset({"token", "wave", "said_more", "reported"}),
    "restore_draft": frozenset(),
    "discard_draft": frozenset(),
    # The messages of this run are for the worker's case (a handler's question: which one).
    "to_case": frozenset({"case", "question", "answer"}),
    # Possible danger now: a P0 case, a person, staff alerted.
    "urgent": frozenset({"reason"}),
    # Set results: {name: value or reference}.
    "save": None,
    # Give results to the flow this one interrupted ({story: ...} adds to its story).
    "pass_back": None,
    "call_request": frozenset({"case", "time", "number"}),
    # After the code: how many the problem affects, who recruited the worker, where, and
    # what they paid, for the case in results.case (the words go to the case, not the state).
    "case_details": frozenset({"affected", "agency", "recruited_in", "fee"}),
    # End this flow and give the message to the question it interrupted.
    "answer_interrupted": frozenset(),
}
# Actions whose every parameter names a result, or a list of results of which the first one
# set is used (a result renamed in a new version of a flow, for runs started before it).
RESULT_PARAMS = frozenset({"wellbeing_record"})
# References a parameter or a message may use besides results.<name> and literals.
REFERENCES = frozenset(
    {"contact.language", "contact.language_name", "input.text", "input.phone", "story.excerpt"}
)
# References the host fills when it sends the message: a new case's code, a web link,
# the deployment's emergency contacts for this worker, the time frames of its rules.
HOST_REFERENCES = ("case.", "link.", "contacts.", "rules.", "facts.")
# Facts a condition (skip_if, switch) may name, besides results.<name>.
FACTS = frozenset(
    {
        "language_known",
        "language_confirmed",
        "whatsapp",
        "voice",
        "has_case",
        "has_draft",
        "opted_out",
        "interrupted",
        # The worker has a case in an open stage.
        "has_open_case",
        # ... or one closed within the appeal window: what they write goes to it.
        "has_active_case",
        # The contacts list has organisations that serve this worker (RIGHTS, who to call).
        "help_contacts_listed",
        # The worker asked for a person and no handler has written to them since.
        "person_requested",
    }
)
NODE_KEYS = frozenset(
    {"say", "do", "wait", "routes", "next", "end", "skip_if", "switch", "keywords", "note",
     "watch", "once_per"}
)  # fmt: skip
WAIT_KEYS = frozenset(
    {
        *WAIT_KINDS,
        "save_as",
        "retries",
        "reask",
        "timeout",
        "append",
        "plausible",
        "if_words",
        "clear_no",
    }
)
FLOW_KEYS = frozenset(
    {"id", "spec_version", "version", "start", "expire_after", "sms_budget", "nodes",
     "interruptible", "keep_draft_if", "description", "private", "story", "busy", "channels"}
)  # fmt: skip
# Kinds of words every catalog lists and keywords.yaml may watch for.
WATCH_KINDS = ("danger", "retaliation", "person")
DYNAMIC_MENUS = ("languages", "deployment_languages")
FLOW_CHANNELS = ("sms", "whatsapp", "voice")
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

# spec_version migrations: MIGRATIONS[n] turns a version-n document into version n+1.
MIGRATIONS: dict[int, Callable[[LineDict], LineDict]] = {}


@dataclass(frozen=True, order=True)
class Problem:
    """One mistake in a flow or catalog, located by file and line."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class FlowError(Exception):
    """Flows that cannot be loaded; ``problems`` says why, each as ``file:line: message``."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def suggest(word: str, choices: Iterable[str]) -> str:
    """A ``did you mean`` hint for a misspelt name, or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _result_names(value: Any) -> bool:
    """Whether ``value`` is a result name or a non-empty list of them."""
    names = value if isinstance(value, list) else [value]
    return bool(names) and all(isinstance(n, str) and _NAME.match(n) for n in names)


def parse_duration(value: Any) -> timedelta | None:
    """Parse ``90s``, ``30m``, ``18h`` or ``2d``; None when malformed."""
    match = _DURATION.match(str(value))
    if not match:
        return None
    amount, unit = int(match.group(1)), match.group(2)
    return timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[unit]: amount})


class _Parser:
    """Collects problems while turning one flow document into a :class:`Flow`."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message))

    def flow(self, doc: Any) -> Flow | None:
        if not isinstance(doc, LineDict):
            self.problem(
                1, "a flow file is a mapping with id, spec_version, version, start and nodes"
            )
            return None
        for key in doc:
            if key not in FLOW_KEYS:
                self.problem(
                    doc.line_of(key), f"unknown flow setting '{key}'{suggest(key, FLOW_KEYS)}"
                )
        for required in ("id", "spec_version", "version", "start", "nodes"):
            if required not in doc:
                self.problem(doc.line, f"missing '{required}'")
        spec = doc.get("spec_version", SPEC_VERSION)
        if not isinstance(spec, int) or spec < 1:
            self.problem(doc.line_of("spec_version"), "spec_version must be a whole number like 1")
            return None
        if spec > SPEC_VERSION:
            self.problem(
                doc.line_of("spec_version"),
                f"spec_version {spec} is newer than this grievance understands ({SPEC_VERSION}); upgrade grievance",
            )
            return None
        while spec < SPEC_VERSION:
            doc = MIGRATIONS[spec](doc)
            spec += 1
        version = doc.get("version", 1)
        if not isinstance(version, int) or version < 1:
            self.problem(
                doc.line_of("version"),
                "version must be a whole number; raise it whenever you change the flow",
            )
            version = 1
        expire_after = parse_duration(doc.get("expire_after", "18h"))
        if expire_after is None:
            self.problem(
                doc.line_of("expire_after"), "expire_after is a duration like 18h, 30m or 2d"
            )
            expire_after = timedelta(hours=18)
        budget = doc.get("sms_budget")
        if budget is not None and (not isinstance(budget, int) or budget < 1):
            self.problem(
                doc.line_of("sms_budget"), "sms_budget is a number of SMS segments, like 2"
            )
            budget = None
        nodes_doc = doc.get("nodes")
        nodes: dict[str, Node] = {}
        if isinstance(nodes_doc, LineDict):
            for name, body in nodes_doc.items():
                node = self.node(name, body, nodes_doc.line_of(name))
                if node is not None:
                    nodes[name] = node
        elif nodes_doc is not None:
            self.problem(doc.line_of("nodes"), "nodes is a mapping of node names to nodes")
        flow_id = str(doc.get("id", Path(self.path).stem))
        return Flow(
            id=flow_id,
            version=version,
            spec_version=SPEC_VERSION,
            start=str(doc.get("start", "")),
            nodes=nodes,
            expire_after=expire_after,
            sms_budget=budget,
            interruptible=bool(doc.get("interruptible", True)),
            keep_draft_if=self.conditions(doc.get("keep_draft_if"), doc.line_of("keep_draft_if")),
            story=self.result_name(doc, "story"),
            busy=self.flag(doc, "busy", default=True),
            private=self.flag(doc, "private"),
            channels=self.channels(doc),
            path=self.path,
            line=doc.line,
            key_lines=dict(doc.key_lines),
        )

    def channels(self, doc: LineDict) -> tuple[str, ...]:
        value = doc.get("channels", ["sms", "whatsapp"])
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, str) and v in FLOW_CHANNELS for v in value)
        ):
            self.problem(
                doc.line_of("channels"),
                "channels lists where the flow runs, from sms, whatsapp and voice, "
                "like [sms, whatsapp, voice]",
            )
            return ("sms", "whatsapp")
        return tuple(dict.fromkeys(value))

    def flag(self, doc: LineDict, key: str, default: bool = False) -> bool:
        value = doc.get(key, default)
        if not isinstance(value, bool):
            self.problem(doc.line_of(key), f"{key} is true or false")
            return default
        return value

    def watch(self, body: LineDict) -> bool | tuple[str, ...]:
        """``watch``: true (every kind of watched words, the default), false, or the kinds."""
        value = body.get("watch", True)
        if isinstance(value, bool):
            return value
        if isinstance(value, list) and value and all(isinstance(k, str) for k in value):
            unknown = [k for k in value if k not in WATCH_KINDS]
            for kind in unknown:
                self.problem(
                    body.line_of("watch"),
                    f"unknown kind of words '{kind}'{suggest(kind, WATCH_KINDS)}; "
                    f"the kinds are {', '.join(WATCH_KINDS)}",
                )
            return tuple(k for k in value if k in WATCH_KINDS)
        self.problem(
            body.line_of("watch"), "watch is true, false or a list of kinds, like [danger]"
        )
        return True

    def result_name(self, doc: LineDict, key: str) -> str | None:
        value = doc.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not _NAME.match(value):
            self.problem(doc.line_of(key), f"{key} names a result in lower_case, like description")
            return None
        return value

    def node(self, name: str, body: Any, line: int) -> Node | None:
        if not _NAME.match(name):
            self.problem(line, f"node name '{name}' should be lower_case letters, digits and _")
        if body is None:
            body = LineDict.empty(line)
        if not isinstance(body, LineDict):
            self.problem(line, f"node '{name}' must be a mapping (say, do, wait, next, ...)")
            return None
        for key in body:
            if key not in NODE_KEYS:
                self.problem(
                    body.line_of(key),
                    f"node '{name}' has unknown setting '{key}'{suggest(key, NODE_KEYS)}",
                )
        routes: dict[str, str] = {}
        route_lines: dict[str, int] = {}
        raw_routes = body.get("routes")
        if isinstance(raw_routes, LineDict):
            for category, target in raw_routes.items():
                routes[category] = str(target)
                route_lines[category] = raw_routes.line_of(category)
        elif raw_routes is not None:
            self.problem(
                body.line_of("routes"), "routes is a mapping like {yes: next_node, no: goodbye}"
            )
        end = body.get("end", False)
        if not isinstance(end, bool):
            self.problem(body.line_of("end"), "end is true or false")
            end = False
        nxt = body.get("next")
        if nxt is not None and not isinstance(nxt, str):
            self.problem(body.line_of("next"), "next is the name of one node")
            nxt = None
        node = Node(
            name=name,
            line=line,
            skip_if=self.conditions(body.get("skip_if"), body.line_of("skip_if")),
            actions=self.actions(body.get("do"), body.line_of("do")),
            say=self.says(body.get("say"), body.line_of("say")),
            switch=self.switch(body.get("switch"), body.line_of("switch")),
            wait=self.wait(body.get("wait"), body.line_of("wait")) if "wait" in body else None,
            routes=routes,
            route_lines=route_lines,
            next=nxt,
            next_line=body.line_of("next") if "next" in body else 0,
            end=end,
            keywords=bool(body.get("keywords", True)),
            watch=self.watch(body),
            once_per=self.duration(body, "once_per"),
        )
        if end and (nxt or routes or node.wait):
            self.problem(line, f"node '{name}' ends the flow, so it cannot also wait or go on")
        if not end and not nxt and not routes and not node.switch:
            self.problem(
                line, f"node '{name}' does not say where to go: add next: <node> or end: true"
            )
        if routes and not node.wait:
            self.problem(body.line_of("routes"), f"node '{name}' has routes but no wait to route")
        return node

    def duration(self, doc: LineDict, key: str) -> timedelta | None:
        if key not in doc:
            return None
        value = parse_duration(doc[key])
        if value is None:
            self.problem(doc.line_of(key), f"{key} is a duration like 30m, 2h or 1d")
        return value

    def conditions(self, value: Any, line: int) -> tuple[str, ...]:
        if value is None:
            return ()
        items = value if isinstance(value, list) else [value]
        result = []
        for item in items:
            if not isinstance(item, str):
                self.problem(line, "a condition is a fact name like language_known or results.code")
                continue
            self.condition(item, line)
            result.append(item)
        return tuple(result)

    def condition(self, text: str, line: int) -> None:
        name = parse_condition(text).name
        if name.startswith("results."):
            return
        if name not in FACTS:
            self.problem(
                line,
                f"unknown condition '{name}'{suggest(name, FACTS)}; use a fact or results.<name>",
            )

    def actions(self, value: Any, line: int) -> tuple[Action, ...]:
        if value is None:
            return ()
        items = value if isinstance(value, LineList) else [value]
        found = []
        for i, item in enumerate(items):
            item_line = items.line_of(i) if isinstance(items, LineList) else line
            if isinstance(item, str):
                name, params = item, LineDict.empty(item_line)
            elif isinstance(item, LineDict) and len(item) == 1:
                name, params = next(iter(item.items()))
                if params is None:
                    params = LineDict.empty(item_line)
                if not isinstance(params, LineDict):
                    self.problem(item_line, f"the parameters of '{name}' must be a mapping")
                    continue
            else:
                self.problem(item_line, "do: takes an action name, or {action: {param: value}}")
                continue
            if name not in ACTIONS:
                self.problem(item_line, f"unknown action '{name}'{suggest(name, ACTIONS)}")
                continue
            allowed_params = ACTIONS[name]
            for param in params:
                if allowed_params is None:
                    if not _NAME.match(str(param)):
                        self.problem(
                            params.line_of(param),
                            f"action '{name}' sets results: '{param}' is not a lower_case name",
                        )
                elif param not in allowed_params:
                    allowed = ", ".join(sorted(allowed_params)) or "none"
                    self.problem(
                        params.line_of(param),
                        f"action '{name}' has no parameter '{param}' (it takes: {allowed})",
                    )
                elif name in RESULT_PARAMS and not _result_names(params[param]):
                    self.problem(
                        params.line_of(param),
                        f"action '{name}': '{param}' names a result, or a list of results of "
                        "which the first one set is used, like [token, pulse]",
                    )
            action_params = dict(params)
            carry = params.get("carry")
            if carry is not None and not (
                isinstance(carry, dict)
                and all(
                    isinstance(k, str) and _NAME.match(k) and str(v).startswith("results.")
                    for k, v in carry.items()
                )
            ):
                self.problem(
                    params.line_of("carry"),
                    "carry maps names in the new flow to results of this one, "
                    "like {description: results.anything_else}",
                )
                action_params.pop("carry")
            found.append(Action(name, action_params, item_line))
        return tuple(found)

    def says(self, value: Any, line: int) -> tuple[Say, ...]:
        if value is None:
            return ()
        items = value if isinstance(value, LineList) else [value]
        found = []
        for i, item in enumerate(items):
            item_line = items.line_of(i) if isinstance(items, LineList) else line
            if isinstance(item, str):
                found.append(Say(item, {}, item_line))
            elif isinstance(item, LineDict) and isinstance(item.get("key"), str):
                for extra in set(item) - {"key", "params", "if"}:
                    self.problem(
                        item.line_of(extra),
                        f"a message takes key, params and if, not '{extra}'"
                        f"{suggest(extra, ('key', 'params', 'if'))}",
                    )
                params = item.get("params") or {}
                if not isinstance(params, dict):
                    self.problem(item_line, "params is a mapping like {code: case.code}")
                    params = {}
                when = item.get("if")
                if when is not None:
                    self.condition(str(when), item.line_of("if"))
                found.append(
                    Say(
                        item["key"],
                        {k: str(v) for k, v in params.items()},
                        item_line,
                        str(when) if when is not None else None,
                    )
                )
            else:
                self.problem(
                    item_line, "say: lists catalog keys, or {key: ..., params: {...}, if: ...}"
                )
        return tuple(found)

    def switch(self, value: Any, line: int) -> tuple[Case, ...]:
        if value is None:
            return ()
        if not isinstance(value, LineList):
            self.problem(line, "switch is a list of {if: condition, go: node}")
            return ()
        cases = []
        for i, item in enumerate(value):
            item_line = value.line_of(i)
            if not isinstance(item, LineDict) or set(item) != {"if", "go"}:
                self.problem(item_line, "each switch entry is {if: condition, go: node}")
                continue
            self.condition(str(item["if"]), item_line)
            cases.append(Case(str(item["if"]), str(item["go"]), item_line))
        return tuple(cases)

    def wait(self, value: Any, line: int) -> Wait | None:
        if not isinstance(value, LineDict):
            self.problem(line, f"wait is a mapping with one of: {', '.join(WAIT_KINDS)}")
            return None
        for key in value:
            if key not in WAIT_KEYS:
                self.problem(
                    value.line_of(key), f"unknown wait setting '{key}'{suggest(key, WAIT_KEYS)}"
                )
        kinds = [k for k in WAIT_KINDS if k in value]
        if kinds == ["text", "media"]:
            kinds = ["text"]
        if len(kinds) != 1:
            self.problem(
                value.line,
                f"a wait needs exactly one type of answer ({', '.join(WAIT_KINDS)}); found {kinds or 'none'}",
            )
            return None
        kind = kinds[0]
        retries = value.get("retries", 2)
        if not isinstance(retries, int) or not 0 <= retries <= 10:
            self.problem(value.line_of("retries"), "retries is a number from 0 to 10")
            retries = 2
        timeout = None
        if "timeout" in value:
            timeout = parse_duration(value["timeout"])
            if timeout is None:
                self.problem(value.line_of("timeout"), "timeout is a duration like 2h or 30m")
        save_as = value.get("save_as")
        if save_as is not None and not (isinstance(save_as, str) and _NAME.match(save_as)):
            self.problem(value.line_of("save_as"), "save_as is a name in lower_case")
            save_as = None
        reask = value.get("reask")
        if reask is not None and not isinstance(reask, str):
            self.problem(value.line_of("reask"), "reask is one catalog key")
            reask = None
        options: tuple[MenuOption, ...] = ()
        scale: tuple[int, int, int | None] = (1, 5, None)
        dynamic = None
        min_length, max_length = 1, 1600
        media: tuple[str, ...] = ()
        spec = value.get(kind)
        spec_line = value.line_of(kind)
        if kind == "menu":
            if isinstance(spec, str):
                if spec not in DYNAMIC_MENUS:
                    self.problem(
                        spec_line, f"unknown menu '{spec}'; use 'languages' or a list of options"
                    )
                dynamic = "languages"
            elif isinstance(spec, LineList) and spec:
                options = self.options(spec)
            else:
                self.problem(spec_line, "menu is a list of {value: ..., label: ...} options")
        elif kind == "scale":
            scale = self.scale(spec, spec_line)
        elif kind == "text":
            spec = spec or {}
            if not isinstance(spec, dict):
                self.problem(spec_line, "text takes {min: n, max: n}")
                spec = {}
            min_length = spec.get("min", 1)
            max_length = spec.get("max", 1600)
            if not (
                isinstance(min_length, int)
                and isinstance(max_length, int)
                and 0 <= min_length <= max_length
            ):
                self.problem(spec_line, "text needs 0 <= min <= max, in characters")
                min_length, max_length = 1, 1600
        append = self.flag(value, "append")
        plausible = self.flag(value, "plausible")
        clear_no = self.flag(value, "clear_no")
        if clear_no and kind != "yes_no":
            self.problem(value.line_of("clear_no"), "clear_no is for yes_no answers only")
            clear_no = False
        if_words = value.get("if_words")
        if if_words is not None and not isinstance(if_words, str):
            self.problem(value.line_of("if_words"), "if_words names one answer, like person")
            if_words = None
        if (append or plausible) and kind != "text":
            self.problem(value.line, "append and plausible are for text answers only")
            append = plausible = False
        if "media" in value:
            raw = value["media"]
            raw = [raw] if isinstance(raw, str) else raw
            if not isinstance(raw, list) or not all(m in MEDIA_KINDS for m in raw):
                self.problem(
                    value.line_of("media"), f"media lists kinds from: {', '.join(MEDIA_KINDS)}"
                )
            else:
                media = tuple(raw)
        return Wait(
            kind=kind,
            save_as=save_as,
            options=options,
            dynamic_options=dynamic,
            min_length=min_length,
            max_length=max_length,
            media=media,
            retries=retries,
            reask=reask,
            timeout=timeout,
            line=value.line,
            scale=scale,
            append=append,
            plausible=plausible,
            if_words=if_words,
            clear_no=clear_no,
        )

    def scale(self, spec: Any, line: int) -> tuple[int, int, int | None]:
        """``{min: 1, max: 5, skip: 0}``: whole numbers, skip outside min..max."""
        spec = spec or {}
        low, high, skip = spec.get("min", 1), spec.get("max", 5), spec.get("skip")
        numbers = [low, high] if skip is None else [low, high, skip]
        if (
            not isinstance(spec, dict)
            or set(spec) - {"min", "max", "skip"}
            or not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers)
            or not 0 <= low < high <= 9
            or (skip is not None and (low <= skip <= high or not 0 <= skip <= 9))
        ):
            self.problem(
                line, "scale takes {min: 1, max: 5, skip: 0}: single digits, skip outside min..max"
            )
            return (1, 5, None)
        return (low, high, skip)

    def options(self, items: LineList) -> tuple[MenuOption, ...]:
        options: list[MenuOption] = []
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            item_line = items.line_of(i)
            if not isinstance(item, LineDict) or "value" not in item:
                self.problem(item_line, "a menu option is {value: ..., label: catalog.key}")
                continue
            number = str(item.get("number", i + 1))
            if number in seen:
                self.problem(
                    item_line, f"menu number {number} is used twice (also on line {seen[number]})"
                )
            seen[number] = item_line
            label = item.get("label")
            means = item.get("means")
            if means is not None and means not in ("yes", "no"):
                self.problem(item_line, f"means is 'yes' or 'no', not '{means}'")
                means = None
            elif means is not None and means in [o.means for o in options]:
                self.problem(item_line, f"two options of this menu mean '{means}'; keep one")
                means = None
            options.append(MenuOption(number, str(item["value"]), label, item_line, means))
        return tuple(options)


def parse_flow(doc: Any, path: str) -> tuple[Flow | None, list[Problem]]:
    """Parse one flow document; returns the flow (if usable) and its problems."""
    parser = _Parser(path)
    flow = parser.flow(doc)
    return flow, parser.problems


def load_flow(path: Path) -> tuple[Flow | None, list[Problem]]:
    """Load one flow file."""
    try:
        doc = load_file(path)
    except YamlError as exc:
        return None, [Problem(exc.path, exc.line, exc.message)]
    return parse_flow(doc, str(path))


@dataclass
class KeywordsFile:
    """What ``keywords.yaml`` says: the flows a message starts, keyword rules, watched words."""

    default_flow: str = "intake"
    draft_flow: str | None = None
    case_flow: str | None = None
    stopped_flow: str | None = None
    rules: dict[str, KeywordRule] | None = None
    watch: tuple[WatchRule, ...] = ()
    lines: dict[str, int] | None = None


FLOW_SETTINGS = ("default_flow", "draft_flow", "case_flow", "stopped_flow")


def parse_keywords(doc: Any, path: str) -> tuple[KeywordsFile, list[Problem]]:
    """Parse ``keywords.yaml``: the flows messages start, what each global keyword starts,
    and which words (danger, retaliation) interrupt any flow to ask first."""
    problems: list[Problem] = []
    if not isinstance(doc, LineDict):
        return KeywordsFile(rules={}), [
            Problem(path, 1, "keywords.yaml is a mapping with default_flow and keywords")
        ]
    found = KeywordsFile(
        default_flow=str(doc.get("default_flow", "intake")),
        draft_flow=doc.get("draft_flow"),
        case_flow=doc.get("case_flow"),
        stopped_flow=doc.get("stopped_flow"),
        rules={},
        lines={key: doc.line_of(key) for key in doc},
    )
    allowed = (*FLOW_SETTINGS, "keywords", "spec_version", "watch")
    for key in doc:
        if key not in allowed:
            problems.append(
                Problem(path, doc.line_of(key), f"unknown setting '{key}'{suggest(key, allowed)}")
            )
    raw = doc.get("keywords")
    if not isinstance(raw, LineDict):
        problems.append(
            Problem(path, doc.line, "missing 'keywords': what each global keyword starts")
        )
        return found, problems
    rules: dict[str, KeywordRule] = {}
    for name, body in raw.items():
        line = raw.line_of(name)
        if name not in KEYWORDS:
            problems.append(
                Problem(path, line, f"unknown keyword '{name}'{suggest(name, KEYWORDS)}")
            )
            continue
        if not isinstance(body, LineDict) or not isinstance(body.get("flow"), str):
            problems.append(Problem(path, line, f"keyword '{name}' needs {{flow: <flow id>}}"))
            continue
        rules[name] = KeywordRule(name, body["flow"], bool(body.get("resume", False)), line)
    found.rules = rules
    watch = doc.get("watch")
    rules_watched: list[WatchRule] = []
    if isinstance(watch, LineDict):
        for kind, body in watch.items():
            line = watch.line_of(kind)
            if kind not in WATCH_KINDS:
                problems.append(
                    Problem(
                        path,
                        line,
                        f"unknown kind of words '{kind}'{suggest(kind, WATCH_KINDS)}; "
                        f"catalogs list: {', '.join(WATCH_KINDS)}",
                    )
                )
                continue
            if not isinstance(body, LineDict) or not isinstance(body.get("flow"), str):
                problems.append(Problem(path, line, f"watch '{kind}' needs {{flow: <flow id>}}"))
                continue
            for extra in set(body) - {"flow", "if"}:
                problems.append(
                    Problem(path, body.line_of(extra), f"watch '{kind}' takes flow and if")
                )
            condition = body.get("if")
            if condition is not None:
                parser = _Parser(path)
                parser.condition(str(condition), body.line_of("if"))
                problems += parser.problems
            rules_watched.append(
                WatchRule(kind, body["flow"], str(condition) if condition else None, line)
            )
    elif watch is not None:
        problems.append(
            Problem(path, doc.line_of("watch"), "watch is a mapping like {danger: {flow: danger}}")
        )
    found.watch = tuple(rules_watched)
    return found, problems


def load_flowset(directory: Path) -> tuple[FlowSet | None, list[Problem]]:
    """Load every flow in ``directory`` plus its ``keywords.yaml``; check cross-references."""
    problems: list[Problem] = []
    flows: dict[str, Flow] = {}
    keywords_path = directory / KEYWORDS_FILE
    for path in sorted(directory.glob("*.yaml")):
        if path.name == KEYWORDS_FILE:
            continue
        flow, found = load_flow(path)
        problems += found
        if flow is None:
            continue
        if flow.id in flows:
            problems.append(
                Problem(
                    str(path),
                    flow.line,
                    f"flow id '{flow.id}' is also used by {flows[flow.id].path}",
                )
            )
        flows[flow.id] = flow
    settings = KeywordsFile(rules={})
    if keywords_path.exists():
        try:
            doc = load_file(keywords_path)
        except YamlError as exc:
            problems.append(Problem(exc.path, exc.line, exc.message))
        else:
            settings, found = parse_keywords(doc, str(keywords_path))
            problems += found
    else:
        problems.append(
            Problem(
                str(keywords_path), 1, "missing: it names the default flow and the keyword flows"
            )
        )
    rules = settings.rules or {}
    for rule in rules.values():
        if rule.flow not in flows:
            problems.append(
                Problem(
                    str(keywords_path),
                    rule.line,
                    f"keyword '{rule.keyword}' starts flow '{rule.flow}', which does not exist{suggest(rule.flow, flows)}",
                )
            )
    for watched in settings.watch:
        if watched.flow not in flows:
            problems.append(
                Problem(
                    str(keywords_path),
                    watched.line,
                    f"watch '{watched.kind}' starts flow '{watched.flow}', which does not exist"
                    f"{suggest(watched.flow, flows)}",
                )
            )
    lines = settings.lines or {}
    for setting in FLOW_SETTINGS:
        name = getattr(settings, setting)
        if name is not None and name not in flows:
            problems.append(
                Problem(
                    str(keywords_path),
                    lines.get(setting, 1),
                    f"{setting} '{name}' does not exist{suggest(name, flows)}",
                )
            )
    return (
        FlowSet(
            flows,
            settings.default_flow,
            rules,
            str(directory),
            settings.draft_flow,
            case_flow=settings.case_flow,
            stopped_flow=settings.stopped_flow,
            watch=settings.watch,
        ),
        problems,
    )
