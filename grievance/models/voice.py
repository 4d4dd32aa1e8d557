"""Phone calls: the state of a call in progress, its status events, and missed-call callbacks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from grievance.clock import utcnow
from grievance.db import Base, UTCDateTime


class VoiceCall(Base):
    """One call to (or from) the line, kept server-side while it lasts.

    The caller is the contact (keyed hash and ciphertext); the call row holds no number.
    What must be repeated (the last question, a case code just given) is encrypted and
    erased when the call ends.
    """

    __tablename__ = "voice_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(40), unique=True)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    # "inbound", or "callback" (the line called a missed caller back)
    direction: Mapped[str] = mapped_column(String(10), default="inbound")
    # The line's own number the call came in on (or went out from): the caller id of <Dial>.
    our_number: Mapped[str | None] = mapped_column(String(32))
    # language, menu, flow, code, person, done
    stage: Mapped[str] = mapped_column(String(12), default="language")
    # Answers taken so far: each follow-up action carries the step it answers, so a
    # request Twilio sends twice is answered once.
    step: Mapped[int] = mapped_column(Integer, default=0)
    # Questions in a row that heard no key.
    silent: Mapped[int] = mapped_column(Integer, default=0)
    # The last question as spoken (JSON, encrypted), to repeat it when no key is pressed.
    prompt_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The case code just given (encrypted), to say again on request; erased at the call's end.
    code_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    status: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class VoiceCallEvent(Base):
    """One status Twilio reported for a call, recorded once per (CallSid, status)."""

    __tablename__ = "voice_call_events"
    __table_args__ = (UniqueConstraint("call_sid", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class VoiceCallback(Base):
    """A missed call the line calls back: pending, calling, answered, failed or given up
    (or refused: opted out, too soon, over the global cap)."""

    __tablename__ = "voice_callbacks"
    __table_args__ = (Index("ix_voice_callbacks_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    our_number: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    call_sid: Mapped[str | None] = mapped_column(String(40))
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
