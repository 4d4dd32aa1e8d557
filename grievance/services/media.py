"""Inbound media: download with the account credentials, keep only ciphertext."""

from __future__ import annotations

import logging

from sqlalchemy import update

from grievance.channels.base import MediaError
from grievance.clock import utcnow
from grievance.db import affected
from grievance.models import Attachment
from grievance.runtime import Runtime

log = logging.getLogger(__name__)

MAX_MEDIA_BYTES = 16 * 1024 * 1024  # WhatsApp's own limit for audio and video


def fetch_media(runtime: Runtime, attachment_id: int) -> str:
    """Fetch and encrypt one attachment once; returns its status afterwards."""
    with runtime.sessions() as session:
        claimed = affected(
            session.execute(
                update(Attachment)
                .where(Attachment.id == attachment_id, Attachment.status == "pending")
                .values(status="fetching")
            )
        )
        session.commit()
        attachment = session.get(Attachment, attachment_id)
        if attachment is None:
            return "missing"
        if not claimed or attachment.source_url is None:
            return attachment.status
        url = attachment.source_url
    try:
        data, content_type = runtime.channel.fetch_media(url, MAX_MEDIA_BYTES)
    except MediaError as exc:
        log.warning("attachment %s: %s", attachment_id, exc)
        with runtime.sessions() as session:
            attachment = session.get(Attachment, attachment_id)
            assert attachment is not None
            if exc.retryable:
                attachment.status = "pending"  # the sweeper tries again later
            else:
                # Trying again cannot help; the handler sees "failed" on the case page.
                attachment.status = "failed"
                attachment.source_url = None
            session.commit()
        if exc.retryable:
            raise
        return "failed"
    with runtime.sessions() as session:
        attachment = session.get(Attachment, attachment_id)
        assert attachment is not None
        attachment.data_encrypted = runtime.protector.encrypt(data)
        attachment.size = len(data)
        attachment.content_type = content_type[:100] or attachment.content_type
        attachment.status = "stored"
        attachment.fetched_at = utcnow()
        attachment.source_url = None
        session.commit()
    return "stored"
