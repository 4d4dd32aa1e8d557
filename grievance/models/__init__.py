"""The data model: state only, no I/O. Import from here so every table is registered."""

from grievance.models.accounts import ApiToken, AuditEvent, Invitation, Organisation, Site, User
from grievance.models.cases import (
    CallRequest,
    Case,
    CaseEvent,
    CaseNote,
    CodeAttempt,
    ContactGiven,
    ReferralOrg,
    SiteAlert,
    StaffAlert,
)
from grievance.models.contacts import Contact, Conversation
from grievance.models.messages import (
    BULK,
    INBOUND,
    NOTICE,
    OUTBOUND,
    REPLY,
    Attachment,
    DeliveryEvent,
    Message,
    OutboxItem,
    OutboxMail,
)
from grievance.models.procedure import ProcedureVersion
from grievance.models.pulse import (
    Campaign,
    PulseInvite,
    PulseMember,
    PulseResponse,
    RightsInvite,
    RightsMessage,
)
from grievance.models.recruitment import Agency, AgencyAlert, CaseRecruitment
from grievance.models.remediation import (
    Evidence,
    PlanComment,
    RemediationPlan,
    RemediationStep,
    WorkerPrompt,
)
from grievance.models.reports import Export, ReportRelease

__all__ = [
    "BULK",
    "INBOUND",
    "NOTICE",
    "OUTBOUND",
    "REPLY",
    "Agency",
    "AgencyAlert",
    "ApiToken",
    "Attachment",
    "AuditEvent",
    "CallRequest",
    "Campaign",
    "Case",
    "CaseEvent",
    "CaseNote",
    "CaseRecruitment",
    "CodeAttempt",
    "Contact",
    "ContactGiven",
    "Conversation",
    "DeliveryEvent",
    "Evidence",
    "Export",
    "Invitation",
    "Message",
    "Organisation",
    "OutboxItem",
    "OutboxMail",
    "PlanComment",
    "ProcedureVersion",
    "PulseInvite",
    "PulseMember",
    "PulseResponse",
    "ReferralOrg",
    "RemediationPlan",
    "RemediationStep",
    "ReportRelease",
    "RightsInvite",
    "RightsMessage",
    "Site",
    "SiteAlert",
    "StaffAlert",
    "User",
    "WorkerPrompt",
]
