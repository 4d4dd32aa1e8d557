"""The inbox: store an inbound message exactly once, then hand it to the queue.

Called on the webhook's hot path, so it does the minimum: claim the provider's
message id, find or create the contact by keyed hash, store the encrypted body
and the allowlisted fields, commit (on PostgreSQL, a text message is all of that
in one statement), wake ``process_waiting`` (one queued run takes every
message waiting, in batches).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, bindparam, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from grievance.clock import utcnow
from grievance.db import retry_on_disconnect
from grievance.language.zawgyi import to_unicode
from grievance.models import INBOUND, Attachment, Contact, Message
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
    """Store ``inbound`` once (duplicates are acknowledged and ignored) and enqueue its processing.

    The hot path of the webhook: prepared Core statements in one transaction, no ORM.
    Burmese typed in the legacy Zawgyi encoding is stored and routed as Unicode.
    """
    body, converted = to_unicode(inbound.body)
    fields = dict(inbound.fields) | ({"converted_from": "zawgyi"} if converted else {})
    hashes = runtime.protector.address_hashes(inbound.address)
    if runtime.db.dialect.name == "postgresql" and not inbound.media and len(hashes) == 1:
        # A text message, and no key rotation under way: one statement.
        stored = retry_on_disconnect(
            lambda: _store_in_one_statement(runtime, inbound, hashes[0], body, fields)
        )
    else:
        stored = retry_on_disconnect(lambda: _store(runtime, inbound, body, fields))
    if stored is None:
        # Twilio delivered this MessageSid before (a retry, or a replay).
        return Receipt(None, duplicate=True)
    message_id, attachment_ids = stored
    runtime.queue.wake("process_waiting")
    for attachment_id in attachment_ids:
        runtime.queue.enqueue("fetch_media", attachment_id)
    return Receipt(message_id, duplicate=False)


def _store(
    runtime: Runtime, inbound: InboundMessage, body: str, fields: dict[str, str]
) -> tuple[int, list[int]] | None:
    """One transaction: the contact, the message and its attachments' ids; None if a duplicate."""
    protector = runtime.protector
    now = utcnow()
    with runtime.db.begin() as connection:
        statements = _statements(connection.dialect.name)
        contact_id = _upsert_contact(connection, runtime, inbound, now)
        message_id = connection.execute(
            statements.insert_message,
            {
                "direction": INBOUND,
                "contact_id": contact_id,
                "channel": inbound.channel,
                "provider_sid": inbound.provider_sid,
                "body_encrypted": protector.encrypt(body) if body else None,
                "num_media": len(inbound.media),
                "fields": fields,
                "sensitive": False,
                "created_at": now,
            },
        ).scalar()
        if message_id is None:
            connection.rollback()
            return None
        attachment_ids = [
            connection.execute(
                statements.insert_attachment,
                {
                    "message_id": message_id,
                    "position": i,
                    "content_type": ctype[:100],
                    "source_url": url,
                },
            ).scalar_one()
            for i, (url, ctype) in enumerate(inbound.media[:MAX_MEDIA])
        ]
    return int(message_id), attachment_ids


def _store_in_one_statement(
    runtime: Runtime, inbound: InboundMessage, address_hash: str, body: str, fields: dict[str, str]
) -> tuple[int, list[int]] | None:
    """The contact's upsert and the message's insert as one statement, committed on its own
    (autocommit): one round trip where a transaction takes four. A duplicate MessageSid still
    notes the contact's latest message time, as the first delivery did."""
    protector = runtime.protector
    now = utcnow()
    statements = _statements("postgresql")
    statement = statements.store_with_sender if inbound.our_address else statements.store
    with runtime.db.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        message_id = connection.execute(
            statement,
            {
                "address_hash": address_hash,
                "address_encrypted": protector.encrypt(inbound.address),
                "channel": inbound.channel,
                "our_address": inbound.our_address,
                "last_inbound_at": now,
                "created_at": now,
                "provider_sid": inbound.provider_sid,
                "body_encrypted": protector.encrypt(body) if body else None,
                "fields": fields,
            },
        ).scalar()
    return None if message_id is None else (int(message_id), [])


@dataclass(frozen=True)
class _Statements:
    """The webhook's statements, built once per dialect (building them costs more than running them)."""

    upsert_contact: Any
    upsert_contact_with_sender: Any
    insert_message: Any
    insert_attachment: Any
    # PostgreSQL only: contact and message in one statement (no media).
    store: Any = None
    store_with_sender: Any = None


@cache
def _statements(dialect: str) -> _Statements:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    contacts, messages, attachments = Contact.__table__, Message.__table__, Attachment.__table__
    columns = (
        "address_hash",
        "address_encrypted",
        "channel",
        "our_address",
        "last_inbound_at",
        "created_at",
    )
    upsert = insert(contacts).values(
        {name: bindparam(name) for name in columns}
        | {"language_confirmed": False, "opted_out": False, "sms_fallback": False}
    )
    changes = {
        "last_inbound_at": upsert.excluded.last_inbound_at,
        # A worker whose data was purged who writes again is a contact again.
        "address_encrypted": func.coalesce(
            contacts.c.address_encrypted, upsert.excluded.address_encrypted
        ),
    }
    returning = contacts.c.id
    message_columns = (
        "direction", "contact_id", "channel", "provider_sid", "body_encrypted", "num_media", "fields",
        "sensitive", "created_at",
    )  # fmt: skip
    upsert_contact = upsert.on_conflict_do_update(
        index_elements=["address_hash"], set_=changes
    ).returning(returning)
    upsert_contact_with_sender = upsert.on_conflict_do_update(
        index_elements=["address_hash"],
        set_=changes | {"our_address": upsert.excluded.our_address},
    ).returning(returning)

    def store(upsert_contact: Any) -> Any:
        contact = upsert_contact.cte("contact")
        return (
            insert(messages)
            .from_select(
                [*message_columns, "attempts"],
                select(
                    literal(INBOUND),
                    contact.c.id,
                    bindparam("channel"),
                    bindparam("provider_sid"),
                    bindparam("body_encrypted", type_=messages.c.body_encrypted.type),
                    literal(0),
                    bindparam("fields", type_=messages.c.fields.type),
                    literal(False),
                    bindparam("created_at", type_=messages.c.created_at.type),
                    literal(0),
                ),
            )
            .on_conflict_do_nothing(index_elements=["provider_sid"])
            .returning(messages.c.id)
        )

    return _Statements(
        upsert_contact=upsert_contact,
        upsert_contact_with_sender=upsert_contact_with_sender,
        store=store(upsert_contact) if dialect == "postgresql" else None,
        store_with_sender=store(upsert_contact_with_sender) if dialect == "postgresql" else None,
        insert_message=insert(messages)
        .values({name: bindparam(name) for name in message_columns})
        .on_conflict_do_nothing(index_elements=["provider_sid"])
        .returning(messages.c.id),
        insert_attachment=insert(attachments)
        .values(
            {
                name: bindparam(name)
                for name in ("message_id", "position", "content_type", "source_url")
            }
            | {"status": "pending"}
        )
        .returning(attachments.c.id),
    )


def _upsert_contact(
    connection: Connection, runtime: Runtime, inbound: InboundMessage, now: datetime
) -> int:
    """The contact's id, created if new; notes the time of its latest message."""
    contacts = Contact.__table__
    hashes = runtime.protector.address_hashes(inbound.address)
    if len(hashes) > 1:
        # During key rotation the contact may exist under an older key's hash.
        found = connection.execute(
            select(contacts.c.id).where(contacts.c.address_hash.in_(hashes))
        ).scalar()
        if found is not None:
            sender = {"our_address": inbound.our_address} if inbound.our_address else {}
            connection.execute(
                update(contacts).where(contacts.c.id == found).values(last_inbound_at=now, **sender)
            )
            return int(found)
    statements = _statements(connection.dialect.name)
    statement = (
        statements.upsert_contact_with_sender if inbound.our_address else statements.upsert_contact
    )
    return int(
        connection.execute(
            statement,
            {
                "address_hash": hashes[0],
                "address_encrypted": runtime.protector.encrypt(inbound.address),
                "channel": inbound.channel,
                "our_address": inbound.our_address,
                "last_inbound_at": now,
                "created_at": now,
            },
        ).scalar_one()
    )


def contact_for(connection: Connection, runtime: Runtime, address: str, channel: str) -> int:
    """The id of the contact with ``address`` (a caller's number), created if new."""
    return _upsert_contact(
        connection,
        runtime,
        InboundMessage(provider_sid="", address=address, channel=channel),
        utcnow(),
    )


def inbound_body(runtime: Runtime, message: Message) -> str:
    """The decrypted body of a stored message (empty when purged or absent)."""
    if message.body_encrypted is None:
        return ""
    return runtime.protector.decrypt(message.body_encrypted)


def preset_language(runtime: Runtime, address: str, channel: str, language: str) -> None:
    """Create (or update) a contact with a confirmed language before its first message."""
    with runtime.db.begin() as connection:
        contact_id = _upsert_contact(
            connection,
            runtime,
            InboundMessage(provider_sid="", address=address, channel=channel),
            utcnow(),
        )
        connection.execute(
            update(Contact.__table__)
            .where(Contact.__table__.c.id == contact_id)
            .values(language=language, language_confirmed=True)
        )
