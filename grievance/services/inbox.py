"""The inbox: store an inbound message exactly once, then hand it to the queue.

Called on the webhook's hot path, so it does the minimum: claim the provider's
message id, find or create the contact by keyed hash, store the encrypted body
and the allowlisted fields, commit, enqueue ``process_inbound``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grievance.clock import utcnow
from grievance.models import INBOUND, Attachment, Contact, Conversation, Message
from grievance.runtime import Runtime

log = logging.getLogger(__name__)

MAX_MEDIA = 10  # Twilio sends at most 10 media items per message


@dataclass(frozen=True)
class InboundMessage:
    """A message as a channel received it. ``address`` is personal data: never log it."""

    provider_sid: str
    address: str
    channel: str  # "sms" | "whatsapp"
    body: str = ""
    our_address: str | None = None
    media: tuple[tuple[str, str], ...] = ()  # (url, content type)
    fields: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"InboundMessage(sid={self.provider_sid!r}, channel={self.channel!r}, media={len(self.media)})"


@dataclass(frozen=True)
class Receipt:
    """What happened to an inbound message: its id, and whether it was a duplicate."""

    message_id: int | None
    duplicate: bool


def receive(runtime: Runtime, inbound: InboundMessage) -> Receipt:
    """Store ``inbound`` once (duplicates are acknowledged and ignored) and enqueue its processing."""
    protector = runtime.protector
    hashes = protector.address_hashes(inbound.address)
    body = inbound.body
    fields = dict(inbound.fields)
    now = utcnow()
    with runtime.sessions() as session:
        if session.scalar(select(Message.id).where(Message.provider_sid == inbound.provider_sid)):
            return Receipt(None, duplicate=True)
        contact = _find_or_create_contact(session, runtime, inbound, hashes)
        contact.last_inbound_at = now
        if inbound.our_address:
            contact.our_address = inbound.our_address
        message = Message(
            direction=INBOUND,
            contact_id=contact.id,
            channel=inbound.channel,
            provider_sid=inbound.provider_sid,
            body_encrypted=protector.encrypt(body) if body else None,
            num_media=len(inbound.media),
            fields=fields,
            created_at=now,
        )
        session.add(message)
        try:
            session.flush()
        except IntegrityError:
            # Another delivery of the same MessageSid won the race.
            session.rollback()
            return Receipt(None, duplicate=True)
        attachments = [
            Attachment(message_id=message.id, position=i, content_type=ctype[:100], source_url=url)
            for i, (url, ctype) in enumerate(inbound.media[:MAX_MEDIA])
        ]
        session.add_all(attachments)
        session.commit()
        message_id = message.id
        attachment_ids = [a.id for a in attachments]
    runtime.queue.enqueue("process_inbound", message_id)
    for attachment_id in attachment_ids:
        runtime.queue.enqueue("fetch_media", attachment_id)
    return Receipt(message_id, duplicate=False)


def _find_or_create_contact(
    session: Session, runtime: Runtime, inbound: InboundMessage, hashes: list[str]
) -> Contact:
    contact = session.scalar(select(Contact).where(Contact.address_hash.in_(hashes)))
    if contact is not None:
        if contact.address_encrypted is None:  # purged earlier: the worker came back
            contact.address_encrypted = runtime.protector.encrypt(inbound.address)
        return contact
    contact = Contact(
        address_hash=hashes[0],
        address_encrypted=runtime.protector.encrypt(inbound.address),
        channel=inbound.channel,
        our_address=inbound.our_address,
    )
    try:
        with session.begin_nested():
            session.add(contact)
            session.flush()
            session.add(Conversation(contact_id=contact.id, state={}))
            session.flush()
    except IntegrityError:
        # The same worker's other message created the contact a moment ago.
        contact = session.scalars(select(Contact).where(Contact.address_hash.in_(hashes))).one()
    return contact


def inbound_body(runtime: Runtime, message: Message) -> str:
    """The decrypted body of a stored message (empty when purged or absent)."""
    if message.body_encrypted is None:
        return ""
    return runtime.protector.decrypt(message.body_encrypted)


def preset_language(runtime: Runtime, address: str, channel: str, language: str) -> None:
    """Create (or update) a contact with a confirmed language before its first message."""
    hashes = runtime.protector.address_hashes(address)
    with runtime.sessions() as session:
        contact = _find_or_create_contact(
            session,
            runtime,
            InboundMessage(provider_sid="", address=address, channel=channel),
            hashes,
        )
        contact.language = language
        contact.language_confirmed = True
        session.commit()
