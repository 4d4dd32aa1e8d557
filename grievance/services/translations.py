"""Machine translation on the case page: the worker's words and each message in the
handler's language, and a handler's reply in the worker's, with its back-translation.

Each text is translated once per target language and kept encrypted (``translations``):
the next view of the case sends nothing. What goes to the translation service is the text
alone, as staff see it (a phone number the worker typed is already hidden), with its
language: never a number, a name, a case id. Translations are shown to handlers only; they
are never sent to a worker, never shown to suppliers or buyers, and erased with the words
they translate (retention). A service that fails leaves the words as written and says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from grievance.auth import accounts
from grievance.db import dialect_insert
from grievance.models import Case, User
from grievance.models.translations import HANDLER, MACHINE, Translation
from grievance.runtime import Runtime
from grievance.translation import TranslationUnavailable, Translator

# Texts per request to the translation service, and requests per view of a case: a long
# case's first view waits for a few requests at most, and the next view goes on.
BATCH = 20
BATCHES_PER_VIEW = 3

NOT_CONFIGURED = (
    "Machine translation is not set up on this line (GRIEVANCE_TRANSLATION_URL): "
    "workers' words are shown as they wrote them."
)


@dataclass(frozen=True)
class Text:
    """A text of a case to show translated: a message (by id) or the description (no id)."""

    message_id: int | None
    language: str
    text: str


@dataclass(frozen=True)
class Shown:
    """A translation as the page shows it: machine-made, or the handler's own words."""

    text: str
    origin: str

    @property
    def machine(self) -> bool:
        """True for a machine translation (marked so on the page)."""
        return self.origin == MACHINE


@dataclass
class CaseTranslations:
    """The translations of one case page into ``target``."""

    target: str
    configured: bool
    # Why some texts are not translated now (the service failed), in words for the page.
    problem: str | None = None
    description: Shown | None = None
    messages: dict[int, Shown] = field(default_factory=dict)
    # How many texts this view sent to the translation service (0 when all were cached).
    sent: int = 0
    # Texts left for the next view (a long case is translated a few batches per view).
    pending: int = 0


def same_language(a: str, b: str) -> bool:
    """True when two BCP-47 codes name one language (``en`` and ``en-GB``): nothing to do."""
    return a.split("-")[0].lower() == b.split("-")[0].lower()


def for_case(
    session: Session,
    runtime: Runtime,
    case: Case,
    actor: User,
    texts: Sequence[Text],
    target: str,
) -> CaseTranslations:
    """The translation of each of ``texts`` into ``target``: cached ones decrypted, the others
    sent to the translation service in batches and cached. Audited when anything is sent.
    Without a translator nothing is sent and nothing shown."""
    translator = runtime.translator
    result = CaseTranslations(target=target, configured=translator is not None)
    if translator is None:
        return result  # translation turned off: none shown, even those kept from before
    # A menu answer ("1") or a code has no words to translate.
    wanted = [
        t
        for t in texts
        if any(c.isalpha() for c in t.text) and not same_language(t.language, target)
    ]
    missing = _from_cache(session, runtime, case, wanted, target, result)
    if missing:
        _translate(session, runtime, translator, case, missing, target, result)
    if result.sent:
        accounts.audit(
            session,
            actor,
            "translated",
            case.id,
            f"{result.sent} texts to {target} by {translator.name}",
        )
    return result


def _show(result: CaseTranslations, text: Text, shown: Shown) -> None:
    if text.message_id is None:
        result.description = shown
    else:
        result.messages[text.message_id] = shown


def _from_cache(
    session: Session,
    runtime: Runtime,
    case: Case,
    wanted: list[Text],
    target: str,
    result: CaseTranslations,
) -> list[Text]:
    """Show the translations kept for ``wanted``; return the texts that have none."""
    protector = runtime.protector
    ids = [t.message_id for t in wanted if t.message_id is not None]
    cached: dict[int | None, Translation] = {}
    if ids:
        cached = {
            row.message_id: row
            for row in session.scalars(
                select(Translation).where(
                    Translation.message_id.in_(ids), Translation.target == target
                )
            )
        }
    described = session.scalars(
        select(Translation).where(
            Translation.case_id == case.id,
            Translation.message_id.is_(None),
            Translation.target == target,
        )
    ).first()
    missing: list[Text] = []
    for t in wanted:
        row = cached.get(t.message_id) if t.message_id is not None else described
        # A message never changes; a description grows, so its hash must match its text.
        if row is not None and (
            t.message_id is not None or row.source_hash in protector.text_hashes(t.language, t.text)
        ):
            _show(result, t, Shown(protector.decrypt(row.text_encrypted), row.origin))
        else:
            missing.append(t)
    return missing


def _translate(
    session: Session,
    runtime: Runtime,
    translator: Translator,
    case: Case,
    missing: list[Text],
    target: str,
    result: CaseTranslations,
) -> None:
    """Send ``missing`` to the translation service, a few batches per view, keeping each
    batch's translations as they come: a later batch that fails loses nothing."""
    # A text said twice (the description is often the first message) is sent once.
    same: dict[tuple[str, str], list[Text]] = {}
    for t in missing:
        same.setdefault((t.language, t.text), []).append(t)
    batches: dict[str, list[list[str]]] = {}
    for language, text in same:
        groups = batches.setdefault(language, [[]])
        if len(groups[-1]) == BATCH:
            groups.append([])
        groups[-1].append(text)
    queue = [(k, g) for k, groups in batches.items() for g in groups]
    result.pending = sum(len(g) for _, g in queue[BATCHES_PER_VIEW:])
    for language, group in queue[:BATCHES_PER_VIEW]:
        try:
            translated = translator.translate(group, language, target)
        except TranslationUnavailable as exc:
            result.problem = str(exc)
            return
        result.sent += len(group)
        for source_text, text in zip(group, translated, strict=True):
            for t in same[(language, source_text)]:
                _store(session, runtime, case, t, target, text, MACHINE)
                _show(result, t, Shown(text, MACHINE))


def _store(
    session: Session,
    runtime: Runtime,
    case: Case,
    text: Text,
    target: str,
    translated: str,
    origin: str,
) -> None:
    """Keep one translation, encrypted; a message's first translation wins a race."""
    values = {
        "case_id": case.id,
        "message_id": text.message_id,
        "source": text.language,
        "target": target,
        "source_hash": runtime.protector.text_hashes(text.language, text.text)[0],
        "origin": origin,
        "text_encrypted": runtime.protector.encrypt(translated),
    }
    if text.message_id is None:
        # One description translation per case and language: the grown text replaces it.
        session.execute(
            delete(Translation).where(
                Translation.case_id == case.id,
                Translation.message_id.is_(None),
                Translation.target == target,
            )
        )
        session.add(Translation(**values))
        return
    insert = dialect_insert(session.get_bind().dialect.name)
    session.execute(
        insert(Translation)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["message_id", "target"])
    )


@dataclass(frozen=True)
class ReplyPreview:
    """A handler's reply, machine-translated into the worker's language, and that translation
    translated back, so the handler sees what the worker will read before it is sent."""

    original: str
    language: str
    translated: str
    back: str


def preview_reply(
    session: Session,
    runtime: Runtime,
    case: Case,
    actor: User,
    text: str,
    source: str,
    language: str,
) -> ReplyPreview:
    """Translate the handler's ``text`` from ``source`` into the worker's ``language`` and
    back; nothing is sent to the worker. Raises :class:`TranslationUnavailable`."""
    translator = runtime.translator
    if translator is None:
        raise TranslationUnavailable("machine translation is not set up on this line")
    original = text.strip()
    translated = translator.translate([original], source, language)[0]
    back = translator.translate([translated], language, source)[0]
    accounts.audit(session, actor, "reply_translated", case.id, f"{source} to {language}")
    return ReplyPreview(original, language, translated, back)


def keep_handler_words(
    session: Session,
    runtime: Runtime,
    case: Case,
    message_id: int,
    words: str,
    language: str,
    target: str,
) -> None:
    """Keep what the handler wrote beside the machine translation sent to the worker: the
    timeline shows their own words, not a translation of a translation."""
    _store(
        session,
        runtime,
        case,
        Text(message_id, language, words),
        target,
        words,
        HANDLER,
    )
