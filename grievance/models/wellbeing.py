"""The Worker Wellbeing pulse: who asked to be surveyed at a site, the waves sent, and the
answers, which are keyed by a random token to a site and wave and never to a contact.

An invitation row records only that a contact was invited to a wave (for pacing, progress
and not asking twice). The answers live in :class:`WellbeingResponse`, whose key is the random
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
from grievance.models.sending import Sending

# The tables keep the names they were created with (pulse_*, and campaign_id for a wave's
# id): renaming them would need a migration for no change in what they hold.


class WellbeingMember(Base):
    """A contact who sent a site's survey word: they may be invited to that site's waves."""

    __tablename__ = "pulse_members"
    __table_args__ = (UniqueConstraint("site_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WellbeingWave(Sending, Base):
    """One wave of the wellbeing survey at one site."""

    __tablename__ = "pulse_campaigns"
    __table_args__ = (UniqueConstraint("site_id", "wave"),)

    wave: Mapped[int]
    shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WellbeingInvite(Base):
    """That a contact was invited to a wave (or could not be): never which answers are theirs."""

    __tablename__ = "pulse_invites"
    __table_args__ = (UniqueConstraint("campaign_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(
        "campaign_id", ForeignKey("pulse_campaigns.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    # sent, skipped (unreachable), or busy (in the middle of a report: tried again later)
    status: Mapped[str] = mapped_column(String(16))


class WellbeingResponse(Base):
    """One worker's answers to one wave, keyed by the survey's random token.

    ``answers`` maps question ids to 1-5, or 0 for a question skipped; a question not in
    it was never reached. ``said_more`` is whether the worker wrote something at the end (its
    text is never kept here); ``reported`` whether they then chose to make a report.
    """

    __tablename__ = "pulse_responses"

    token: Mapped[str] = mapped_column(String(43), primary_key=True)
    wave_id: Mapped[int] = mapped_column(
        "campaign_id", ForeignKey("pulse_campaigns.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    answers: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    said_more: Mapped[bool] = mapped_column(default=False)
    reported: Mapped[bool] = mapped_column(default=False)
