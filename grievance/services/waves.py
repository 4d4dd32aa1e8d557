"""Sending a wave to a site's wellbeing members: invitations in batches, a job at a time, and
the whole wave from the command line.

Two kinds of wave share the machinery: a wellbeing wave (the ``wellbeing`` flow, with a fresh
random token per member) and a rights message (the ``rights_campaign`` flow: the three
principles and the topics a worker reads by their number). Each member gets the flow started
in their conversation (bulk priority, paced by the outbox, a WhatsApp template outside the
24-hour window as for any broadcast); a member in the middle of a report is asked again
later. This module starts conversations, so it sits above both the wellbeing and the
conversations services, which import each other no more.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from grievance.clock import utcnow
from grievance.models import (
    BULK,
    Contact,
    RightsInvite,
    RightsMessage,
    WellbeingInvite,
    WellbeingMember,
    WellbeingWave,
)
from grievance.models.sending import Sending
from grievance.runtime import Runtime
from grievance.services.conversations import start_flow
from grievance.services.outbox import enqueue_deliveries
from grievance.services.wellbeing import BATCH, BUSY_GIVE_UP, FLOW, RIGHTS_FLOW


@dataclass(frozen=True)
class Kind:
    """A kind of wave: its rows, the flow each member gets, and the job that sends it."""

    wave: type[Sending]  # WellbeingWave or RightsMessage
    # WellbeingInvite or RightsInvite: the same columns by name.
    invite: type[Any]
    flow: str
    job: str
    results: Callable[[int], dict[str, Any]]


WELLBEING = Kind(
    WellbeingWave,
    WellbeingInvite,
    FLOW,
    "send_wellbeing_wave",
    lambda wave: {"token": secrets.token_urlsafe(32), "wave": wave},
)
RIGHTS = Kind(RightsMessage, RightsInvite, RIGHTS_FLOW, "send_rights", lambda wave: {"wave": wave})


def send_batch(runtime: Runtime, wave_id: int, limit: int = BATCH, kind: Kind = WELLBEING) -> bool:
    """Invite the next members of the wave; True when the wave is completely out."""
    Wave, Invite = kind.wave, kind.invite
    outbox_ids: list[int] = []
    with runtime.sessions() as session:
        query = select(Wave).where(Wave.id == wave_id)
        if not runtime.settings.is_sqlite:
            query = query.with_for_update()  # one batch of a wave at a time
        wave = session.scalars(query).one_or_none()
        if wave is None or wave.status != "sending":
            return True
        invited = select(Invite.contact_id).where(
            Invite.wave_id == wave.id, Invite.status != "busy"
        )
        busy_before = {
            invite.contact_id: invite
            for invite in session.scalars(
                select(Invite).where(Invite.wave_id == wave.id, Invite.status == "busy")
            )
        }
        # Members not yet tried come first: a batch of members still busy with a report
        # must not keep the rest of the site waiting.
        members = session.scalars(
            select(WellbeingMember.contact_id)
            .where(*_of_wave(wave), WellbeingMember.contact_id.not_in(invited))
            .order_by(WellbeingMember.contact_id.in_(list(busy_before) or [0]), WellbeingMember.id)
            .limit(limit)
        ).all()
        give_up = utcnow() - wave.created_at > BUSY_GIVE_UP
        for contact_id in members:
            contact = session.get(Contact, contact_id)
            invite = busy_before.get(contact_id)
            if invite is None:
                invite = Invite(wave_id=wave.id, contact_id=contact_id, status="new")
                session.add(invite)
            if contact is None or contact.address_encrypted is None or contact.opted_out:
                invite.status = "skipped"
                continue
            ids = start_flow(
                runtime,
                session,
                contact,
                kind.flow,
                kind.results(wave.id),
                None,
                priority=BULK,
            )
            if ids is None:
                invite.status = "skipped" if give_up else "busy"
                continue
            invite.status = "sent"
            outbox_ids += ids
        session.flush()
        _count(session, wave, Invite)
        pending = session.scalar(
            select(func.count(WellbeingMember.id)).where(
                *_of_wave(wave), WellbeingMember.contact_id.not_in(invited)
            )
        )
        busy = session.scalar(
            select(func.count(Invite.id)).where(Invite.wave_id == wave.id, Invite.status == "busy")
        )
        done = not pending and not busy
        if done:
            wave.status = "sent"
            wave.finished_at = utcnow()
        session.commit()
    enqueue_deliveries(runtime, outbox_ids, BULK)
    return done


def _of_wave(wave: Sending) -> tuple[ColumnElement[bool], ...]:
    """The members a wave asks: the site's, as they were when it started (later joiners are
    asked by the next wave, so the wave's progress and response rate keep their base)."""
    return (
        WellbeingMember.site_id == wave.site_id,
        WellbeingMember.joined_at <= wave.created_at,
    )


def _count(
    session: Session,
    wave: Sending,
    Invite: type[WellbeingInvite] | type[RightsInvite],
) -> None:
    counts = dict(
        session.execute(
            select(Invite.status, func.count(Invite.id))
            .where(Invite.wave_id == wave.id)
            .group_by(Invite.status)
        ).all()
    )
    wave.invited = int(counts.get("sent", 0))
    wave.skipped = int(counts.get("skipped", 0))


def send_wave(
    runtime: Runtime,
    wave_id: int,
    progress: Callable[[int, int], None] | None = None,
    kind: Kind = WELLBEING,
) -> None:
    """Send the whole wave now, batch after batch (``grievance wellbeing send``), reporting
    (members handled, members) after each batch. Members busy with a report are left to the
    job, which asks them again later."""
    while True:
        done = send_batch(runtime, wave_id, kind=kind)
        with runtime.sessions() as session:
            wave = session.get(kind.wave, wave_id)
            if wave is None:
                return
            handled, total = wave.invited + wave.skipped, wave.total
            busy = session.scalar(
                select(func.count(kind.invite.id)).where(
                    kind.invite.wave_id == wave_id, kind.invite.status == "busy"
                )
            )
        if progress is not None:
            progress(handled, total)
        if done or handled + (busy or 0) >= total:
            if not done:
                runtime.queue.enqueue_in(timedelta(minutes=15), kind.job, wave_id, bulk=True)
            return


def run_job(runtime: Runtime, wave_id: int, kind: Kind = WELLBEING) -> bool:
    """One batch, then the next batch as a new job (soon, or in 15 minutes when only
    members in the middle of a report are left)."""
    done = send_batch(runtime, wave_id, kind=kind)
    if not done:
        with runtime.sessions() as session:
            wave = session.get(kind.wave, wave_id)
            fresh = wave is not None and session.scalar(
                select(func.count(WellbeingMember.id)).where(
                    *_of_wave(wave),
                    WellbeingMember.contact_id.not_in(
                        select(kind.invite.contact_id).where(kind.invite.wave_id == wave_id)
                    ),
                )
            )
        if fresh:
            runtime.queue.enqueue(kind.job, wave_id, bulk=True)
        else:
            runtime.queue.enqueue_in(timedelta(minutes=15), kind.job, wave_id, bulk=True)
    return done
