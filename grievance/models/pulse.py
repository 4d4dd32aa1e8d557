"""The Worker Wellbeing pulse: who asked to be surveyed at a site, the waves sent, and the
answers, which are keyed by a random token to a site and wave and never to a contact.

An invitation row records only that a contact was invited to a wave (for pacing, progress
and not asking twice). The answers live in :class:`PulseResponse`, whose key is the random
token the survey conversation carried while it ran; the row holds no contact, no case and no
time, so neither its columns nor its order link it back to a person.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import JSON

from grievance.clock import utcnow
from grievance.db import Base, UTCDateTime


class PulseMember(Base):
    """A contact who sent a site's survey word: they may be invited to that site's waves."""

    __tablename__ = "pulse_members"
    __table_args__ = (UniqueConstraint("site_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Sending:
    """The columns of anything sent to a site's members in paced batches (a pulse wave, a
    rights message): what services/pulse_waves.py reads and counts."""

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    # sending, sent (every member asked), or cancelled (stopped by an admin)
    status: Mapped[str] = mapped_column(String(16), default="sending")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Members when it started: the denominator of progress (and of a wave's response rate).
    total: Mapped[int] = mapped_column(default=0)
    invited: Mapped[int] = mapped_column(default=0)
    # Members not reachable when their turn came (opted out, contact erased).
    skipped: Mapped[int] = mapped_column(default=0)


class Campaign(Sending, Base):
    """One wave of the pulse survey at one site."""

    __tablename__ = "pulse_campaigns"
    __table_args__ = (UniqueConstraint("site_id", "wave"),)

    wave: Mapped[int]
    shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PulseInvite(Base):
    """That a contact was invited to a wave (or could not be): never which answers are theirs."""

    __tablename__ = "pulse_invites"
    __table_args__ = (UniqueConstraint("campaign_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("pulse_campaigns.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    # sent, skipped (unreachable), or busy (in the middle of a report: tried again later)
    status: Mapped[str] = mapped_column(String(16))


class PulseResponse(Base):
    """One worker's answers to one wave, keyed by the survey's random token.

    ``answers`` maps question ids to 1-5, or 0 for a question skipped; a question not in
    it was never reached. ``said_more`` is whether the worker wrote something at the end (its
    text is never kept here); ``reported`` whether they then chose to make a report.
    """

    __tablename__ = "pulse_responses"

    token: Mapped[str] = mapped_column(String(43), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("pulse_campaigns.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    answers: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    said_more: Mapped[bool] = mapped_column(default=False)
    reported: Mapped[bool] = mapped_column(default=False)


class RightsMessage(Sending, Base):
    """The rights message (the three principles and the topics a worker can read by their
    number) sent to a site's pulse members, in paced batches like a pulse wave."""

    __tablename__ = "rights_messages"


class RightsInvite(Base):
    """That a member was sent a rights message (or could not be, or was busy)."""

    __tablename__ = "rights_invites"
    __table_args__ = (UniqueConstraint("campaign_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("rights_messages.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
