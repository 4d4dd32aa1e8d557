"""The data model: state only, no I/O. Import from here so every table is registered."""

from grievance.models.cases import Case, CaseEvent, CodeAttempt
from grievance.models.contacts import Contact, Conversation
from grievance.models.messages import INBOUND, OUTBOUND, Attachment, Message, OutboxItem

__all__ = [
    "INBOUND",
    "OUTBOUND",
    "Attachment",
    "Case",
    "CaseEvent",
    "CodeAttempt",
    "Contact",
    "Conversation",
    "Message",
    "OutboxItem",
]
