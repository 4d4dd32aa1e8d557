"""The rights message sent to a site's wellbeing members, and who was sent it."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from grievance.db import Base
from grievance.models.sending import Sending


class RightsMessage(Sending, Base):
    """The rights message (the three principles and the topics a worker can read by their
    number) sent to a site's wellbeing members, in paced batches like a wellbeing wave."""

    __tablename__ = "rights_messages"


class RightsInvite(Base):
    """That a member was sent a rights message (or could not be, or was busy)."""

    __tablename__ = "rights_invites"
    __table_args__ = (UniqueConstraint("campaign_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The message's id; the column keeps the name it was created with.
    wave_id: Mapped[int] = mapped_column(
        "campaign_id", ForeignKey("rights_messages.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
