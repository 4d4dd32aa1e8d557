"""Channels: the protocol and its implementations (Twilio, console)."""

from grievance.channels.base import Channel, DeliveryError, MediaError, OutboundMessage, SendResult

__all__ = ["Channel", "DeliveryError", "MediaError", "OutboundMessage", "SendResult"]
