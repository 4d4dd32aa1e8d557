"""What is sent to a site's wellbeing members in paced batches: a wellbeing wave or a rights
message. Both keep these columns, which services/waves.py reads and counts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from grievance.clock import utcnow
from grievance.db import UTCDateTime


class Sending:
    """The columns of anything sent to a site's members in paced batches (a wellbeing wave, a
    rights message): what services/waves.py reads and counts."""

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
