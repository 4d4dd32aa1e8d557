"""The conversation engine: YAML flows in, new session state and effects out.

Pure by design (a test enforces it): no Flask, SQLAlchemy, Twilio, Redis or RQ,
no clock and no randomness except what the host passes in.
"""

from grievance.conversation.effects import (
    Answer,
    Appeal,
    CallRequest,
    Effect,
    Handover,
    LookupStatus,
    OpenCase,
    OptIn,
    Option,
    OptOut,
    PulseRecord,
    Send,
    SetLanguage,
    ToCase,
    Urgent,
    WaitUntil,
)
from grievance.conversation.engine import (
    Engine,
    Expired,
    Input,
    Message,
    Step,
    TimedOut,
    busy,
    clean_text,
    due_timer,
    new_session,
    wake_at,
)
from grievance.conversation.loader import FlowError, Problem, load_flowset
from grievance.conversation.model import Flow, FlowSet

__all__ = [
    "Answer",
    "Appeal",
    "CallRequest",
    "Effect",
    "Engine",
    "Expired",
    "Flow",
    "FlowError",
    "FlowSet",
    "Handover",
    "Input",
    "LookupStatus",
    "Message",
    "OpenCase",
    "OptIn",
    "OptOut",
    "Option",
    "Problem",
    "PulseRecord",
    "Send",
    "SetLanguage",
    "Step",
    "TimedOut",
    "ToCase",
    "Urgent",
    "WaitUntil",
    "busy",
    "clean_text",
    "due_timer",
    "load_flowset",
    "new_session",
    "wake_at",
]
