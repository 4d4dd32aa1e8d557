"""The Worker Wellbeing pulse: joining a site's survey, sending a wave, storing answers,
and sharing the results back.

Workers join by sending their site's survey word (printed on its posters). A wave invites
every member of the site: the ``wellbeing`` flow starts for each with a fresh random token,
and the answers are stored under that token with the site and wave only. The conversation
holds the token while the survey runs; the flow is private, so the inbound answers are
erased as soon as they are read. Invitations go out as broadcasts (bulk priority, paced per
sender by the outbox), a batch per job, so a worker waiting for a reply never waits for a
wave; a member in the middle of a report is asked again later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grievance.clock import utcnow
from grievance.conversation import WellbeingRecord
from grievance.language import render
from grievance.models import (
    BULK,
    Contact,
    RightsMessage,
    Site,
    WellbeingInvite,
    WellbeingMember,
    WellbeingResponse,
    WellbeingWave,
)
from grievance.reports import wellbeing as results
from grievance.runtime import Runtime
from grievance.services.errors import NotFound
from grievance.services.outbox import enqueue_deliveries, queue_message

FLOW = "wellbeing"
# The rights message sent to a site's members (the same machinery as a wave).
RIGHTS_FLOW = "rights_campaign"
JOINED_KEY = "wellbeing.joined"
RESULTS_KEY = "wellbeing.results"
MESSAGE_KEYS = (JOINED_KEY, RESULTS_KEY)
# Members invited per job; the job enqueues itself again until the wave is out.
BATCH = 50
# A member still in the middle of a report this long after the wave began is not invited.
BUSY_GIVE_UP = timedelta(days=1)
KEYWORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


class WellbeingError(ValueError):
    """Something an admin asked for that cannot be done; the message says why."""


def normalize_keyword(text: str) -> str:
    """A survey word as compared: trimmed, case-folded, inner spaces removed."""
    return "".join(text.split()).casefold()


def check_keyword(session: Session, site: Site, word: str, reserved: set[str]) -> str:
    """The normalized survey word for ``site``, or :class:`WellbeingError` saying what is wrong."""
    keyword = normalize_keyword(word)
    if not 4 <= len(keyword) <= 32 or not set(keyword) <= KEYWORD_CHARS:
        raise WellbeingError("a survey word is 4 to 32 letters, digits or hyphens, like WELL-4821")
    if keyword in reserved:
        raise WellbeingError(f"{word!r} is already a keyword workers send (like HELP or STOP)")
    taken = session.scalar(select(Site.id).where(Site.pulse_keyword == keyword, Site.id != site.id))
    if taken is not None:
        raise WellbeingError(f"{word!r} is already the survey word of another site")
    return keyword


def site_for_keyword(session: Session, text: str) -> Site | None:
    """The site whose survey word is the whole of ``text``, if any."""
    keyword = normalize_keyword(text)
    if not 4 <= len(keyword) <= 32:
        return None
    return session.scalars(select(Site).where(Site.pulse_keyword == keyword)).one_or_none()


def join(session: Session, runtime: Runtime, contact: Contact, site: Site) -> list[int]:
    """Add the contact to the site's wellbeing members (once) and confirm; returns outbox ids to deliver."""
    member = session.scalars(
        select(WellbeingMember).where(
            WellbeingMember.site_id == site.id, WellbeingMember.contact_id == contact.id
        )
    ).one_or_none()
    if member is None:
        session.add(WellbeingMember(site_id=site.id, contact_id=contact.id))
    language = _language(runtime, contact)
    text = render(runtime.catalogs[language], JOINED_KEY, {}, contact.channel)
    item = queue_message(session, runtime, contact, text, catalog_key=JOINED_KEY)
    return [item.id] if item is not None else []


def record(session: Session, effect: WellbeingRecord) -> None:
    """Store the answers so far under the survey's token (a survey not started by a wave
    has no token and stores nothing)."""
    if effect.token is None or effect.wave is None:
        return
    wave = session.get(WellbeingWave, effect.wave)
    if wave is None:
        return
    response = session.get(WellbeingResponse, effect.token)
    if response is None:
        response = WellbeingResponse(
            token=effect.token, wave_id=wave.id, site_id=wave.site_id, answers={}
        )
        session.add(response)
    response.answers = dict(effect.answers)
    response.said_more = response.said_more or effect.said_more
    response.reported = response.reported or effect.reported


def start_wave(session: Session, site_id: int, user_id: int | None) -> WellbeingWave:
    """A new wave for the site, counting its members now; the caller enqueues the sending."""
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound(site_id)
    if site.pulse_keyword is None:
        raise WellbeingError("give the site a survey word first: workers join by sending it")
    running = session.scalar(  # one wave at a time: a second would ask the same workers twice
        select(WellbeingWave.id).where(
            WellbeingWave.site_id == site_id, WellbeingWave.status == "sending"
        )
    )
    if running is not None:
        raise WellbeingError("a wave is already being sent to this site; wait until it is out")
    members = session.scalar(
        select(func.count(WellbeingMember.id)).where(WellbeingMember.site_id == site_id)
    )
    if not members:
        raise WellbeingError("nobody at this site has joined the survey yet")
    last = session.scalar(
        select(func.max(WellbeingWave.wave)).where(WellbeingWave.site_id == site_id)
    )
    wave = WellbeingWave(
        site_id=site_id, wave=(last or 0) + 1, created_by=user_id, total=int(members or 0)
    )
    session.add(wave)
    session.flush()
    return wave


def start_rights(session: Session, site_id: int, user_id: int | None) -> RightsMessage:
    """The rights message for the site's members, counting them now; the caller enqueues
    the sending. Only workers who joined with the site's word are sent it."""
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound(site_id)
    running = session.scalar(
        select(RightsMessage.id).where(
            RightsMessage.site_id == site_id, RightsMessage.status == "sending"
        )
    )
    if running is not None:
        raise WellbeingError("the rights message is already being sent to this site")
    members = session.scalar(
        select(func.count(WellbeingMember.id)).where(WellbeingMember.site_id == site_id)
    )
    if not members:
        raise WellbeingError("nobody at this site has joined with the site's word yet")
    message = RightsMessage(site_id=site_id, created_by=user_id, total=int(members))
    session.add(message)
    session.flush()
    return message


def stop_sending(wave: WellbeingWave | RightsMessage) -> bool:
    """Stop a wave or rights message still being sent: nobody else is invited; what was
    sent and answered stays. False when it was not being sent."""
    if wave.status != "sending":
        return False
    wave.status = "cancelled"
    wave.finished_at = utcnow()
    return True


@dataclass(frozen=True)
class Shared:
    """How many members the results went to."""

    messages: int


def share(runtime: Runtime, wave_id: int) -> Shared:
    """Send the wave's results to the workers invited to it, in their languages.

    Only a wave whose every area has at least k answers can be shared: a smaller figure
    describes people, not a workplace.
    """
    with runtime.sessions() as session:
        wave = session.get(WellbeingWave, wave_id)
        if wave is None:
            raise NotFound(wave_id)
        if wave.status == "sending":
            raise WellbeingError("the wave is still being sent; share its results when it is out")
        if wave.shared_at is not None:
            raise WellbeingError("these results were already shared")
        result = results.wave_results(session, wave, runtime.settings.pulse_min_cell)
        if not result.shareable:
            raise WellbeingError(
                f"each area needs at least {result.k} answers before results can be shared"
            )
        values = {
            "n": str(result.responded),
            **{area.area: f"{area.mean:.1f}" for area in result.areas if area.mean is not None},
        }
        contacts = session.scalars(
            select(Contact)
            .join(WellbeingInvite, WellbeingInvite.contact_id == Contact.id)
            .where(WellbeingInvite.wave_id == wave.id, WellbeingInvite.status == "sent")
        ).all()
        outbox_ids = []
        for contact in contacts:
            if contact.address_encrypted is None or contact.opted_out:
                continue
            language = _language(runtime, contact)
            text = render(runtime.catalogs[language], RESULTS_KEY, values, contact.channel)
            item = queue_message(
                session,
                runtime,
                contact,
                text,
                catalog_key=RESULTS_KEY,
                priority=BULK,
                template_variables={
                    str(i): values[name]
                    for i, name in enumerate(("n", "safety", "respect", "income"), start=1)
                },
            )
            if item is not None:
                outbox_ids.append(item.id)
        wave.shared_at = utcnow()
        session.commit()
    enqueue_deliveries(runtime, outbox_ids, BULK)
    return Shared(len(outbox_ids))


def _language(runtime: Runtime, contact: Contact) -> str:
    language = contact.language
    return language if language in runtime.catalogs else runtime.settings.languages[0]
