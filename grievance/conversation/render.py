"""Turn a :class:`Send` effect into the text a worker receives. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from grievance.conversation.effects import Send
from grievance.language.catalog import Catalog, render


def render_send(
    catalogs: Mapping[str, Catalog],
    default_language: str,
    send: Send,
    channel: str,
    refs: Mapping[str, str],
    today: date | None = None,
) -> str:
    """The message text, with references (``case.code``) filled and menu options appended.

    A message missing from the worker's catalog (a deployment that skipped `flows check`)
    goes in the default language rather than not at all.
    """
    catalog = catalogs.get(send.language) or catalogs[default_language]
    if send.key not in catalog.messages:
        catalog = catalogs[default_language]
    params = dict(send.params)
    for name, reference in send.refs.items():
        params[name] = refs.get(reference, "")
    lines = [render(catalog, send.key, params, channel, today)]
    for option in send.options:
        label = option.label_text
        if label is None and option.label_key:
            labels = catalog if option.label_key in catalog.messages else catalogs[default_language]
            label = render(labels, option.label_key, {}, channel)
        lines.append(f"{option.number} {label}")
    return "\n".join(lines)
