"""The data model: state only, no I/O. Import from here so every table is registered."""

from grievance.models.accounts import (
    ApiToken,
    AuditEvent,
    Invitation,
    Organisation,
    SavedView,
    Site,
    User,
)
from grievance.models.cases import (
    AssignmentTurn,
    CallRequest,
    Case,
    CaseEvent,
    CaseLink,
    CaseMerge,
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
from grievance.models.recruitment import Agency, AgencyAlert, CaseRecruitment
from grievance.models.remediation import (
    Evidence,
    PlanComment,
    RemediationPlan,
    RemediationStep,
    WorkerPrompt,
)
from grievance.models.reports import Export, ReportRelease
from grievance.models.rights import RightsInvite, RightsMessage
from grievance.models.translations import Translation
from grievance.models.voice import VoiceCall, VoiceCallback, VoiceCallEvent
from grievance.models.wellbeing import (
    WellbeingInvite,
    WellbeingMember,
    WellbeingResponse,
    WellbeingWave,
)

__all__ = [
    "BULK",
    "INBOUND",
    "NOTICE",
    "OUTBOUND",
    "REPLY",
    "Agency",
    "AgencyAlert",
    "ApiToken",
    "AssignmentTurn",
    "Attachment",
    "AuditEvent",
    "CallRequest",
    "Case",
    "CaseEvent",
    "CaseLink",
    "CaseMerge",
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
    "ReferralOrg",
    "RemediationPlan",
    "RemediationStep",
    "ReportRelease",
    "RightsInvite",
    "RightsMessage",
    "SavedView",
    "Site",
    "SiteAlert",
    "StaffAlert",
    "Translation",
    "User",
    "VoiceCall",
    "VoiceCallEvent",
    "VoiceCallback",
    "WellbeingInvite",
    "WellbeingMember",
    "WellbeingResponse",
    "WellbeingWave",
    "WorkerPrompt",
]
