"""Key rotation: rewrite everything encrypted or hashed under an older data key with the newest.

Run ``grievance keys rotate`` after putting a new key first in
``GRIEVANCE_DATA_KEY`` (keeping the old ones after it). Case codes exist only
as hashes, so they cannot be rewritten here: a code is re-hashed under the
newest key the next time its worker uses it with STATUS. Keep an old key
listed while ``pending_codes`` is above zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute

from grievance.models import (
    Attachment,
    Case,
    CaseNote,
    CaseRecruitment,
    Contact,
    Evidence,
    Export,
    Message,
    PlanComment,
    Translation,
    User,
)
from grievance.runtime import Runtime

BATCH = 500


@dataclass(frozen=True)
class RotationReport:
    """How many values were rewritten, and how many case codes still need an old key."""

    contacts: int
    messages: int
    cases: int
    attachments: int
    notes: int
    evidence: int
    comments: int
    totp_secrets: int
    pending_codes: int
    exports: int = 0
    recruitment: int = 0
    translations: int = 0


def rotate_keys(runtime: Runtime) -> RotationReport:
    """Re-encrypt and re-hash every row under the newest key, in batches."""
    protector = runtime.protector
    counts = dict.fromkeys(
        (
            "contacts",
            "messages",
            "cases",
            "attachments",
            "notes",
            "evidence",
            "comments",
            "totp_secrets",
            "exports",
            "recruitment",
            "translations",
        ),
        0,
    )
    with runtime.sessions() as session:
        last = 0
        while True:
            contacts = session.scalars(
                select(Contact).where(Contact.id > last).order_by(Contact.id).limit(BATCH)
            ).all()
            if not contacts:
                break
            for contact in contacts:
                if contact.address_encrypted is not None:
                    address = protector.decrypt(contact.address_encrypted)
                    contact.address_encrypted = protector.encrypt(address)
                    contact.address_hash = protector.address_hash(address)
                    counts["contacts"] += 1
                last = contact.id
            session.commit()
        encrypted: tuple[tuple[type[Any], InstrumentedAttribute[bytes | None], str], ...] = (
            (Message, Message.body_encrypted, "messages"),
            (Case, Case.description_encrypted, "cases"),
            (Attachment, Attachment.data_encrypted, "attachments"),
            (CaseNote, CaseNote.text_encrypted, "notes"),
            (CaseRecruitment, CaseRecruitment.words_encrypted, "recruitment"),
            (Evidence, Evidence.data_encrypted, "evidence"),
            (PlanComment, PlanComment.text_encrypted, "comments"),
            (User, User.totp_secret_encrypted, "totp_secrets"),
            (Export, Export.content_encrypted, "exports"),
            (Translation, Translation.text_encrypted, "translations"),
        )
        for model, column, name in encrypted:
            last = 0
            while True:
                rows = session.scalars(
                    select(model)
                    .where(model.id > last, column.is_not(None))
                    .order_by(model.id)
                    .limit(BATCH)
                ).all()
                if not rows:
                    break
                for row in rows:
                    attribute = column.key
                    setattr(row, attribute, protector.rotate(getattr(row, attribute)))
                    counts[name] += 1
                    last = row.id
                session.commit()
        pending = (
            session.scalar(
                select(func.count(Case.id)).where(Case.code_key_id != protector.code_key_ids[0])
            )
            or 0
        )
    return RotationReport(pending_codes=int(pending), **counts)
