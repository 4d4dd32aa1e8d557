"""The case handlers' queue, ``/cases``, and a case's page, ``/cases/<id>`` with its actions.

Views read input, call one service and render or redirect. Every view and
change of a case is audited. Works without JavaScript; htmx (vendored) swaps the
queue table when the filters change, and polls it while the page is open.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext, lazy_gettext, ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from grievance.auth import accounts
from grievance.clock import utcnow
from grievance.contacts import for_referral
from grievance.language.catalog import render
from grievance.models import (
    Agency,
    Attachment,
    Case,
    Contact,
    Organisation,
    Site,
    User,
)
from grievance.models.cases import (
    CATEGORY_LABELS,
    DEFAULT_SEVERITY,
    INDICATORS,
    OPEN_STATUSES,
    SEVERITIES,
    STATUSES,
)
from grievance.models.recruitment import RECRUITMENT_CATEGORIES
from grievance.models.remediation import REMEDY_LABELS, REMEDY_TYPES, Evidence
from grievance.runtime import Runtime
from grievance.services import (
    actions,
    alerts,
    assignments,
    bulk,
    case_queue,
    dialogue,
    directory,
    duplicates,
    escalation,
    handler_messages,
    recruitment,
    remediation,
    saved_views,
    timeline,
    translations,
    triage,
)
from grievance.services import cases as cases_service
from grievance.services import macros as macro_service
from grievance.services.errors import NotFound
from grievance.translation import TranslationUnavailable
from grievance.web import labels
from grievance.web.security import roles_required

bp = Blueprint("cases", __name__)
HANDLERS = ("admin", "handler")
# The language staff read canned replies and the line's messages in, beside the worker's.
STAFF_LANGUAGE = "en"


def _runtime() -> Runtime:
    runtime: Runtime = current_app.extensions["grievance"]
    return runtime


def _int(value: str | None) -> int | None:
    """A database id from a form or query, or None (ids are 32-bit)."""
    return int(value) if value and value.isdigit() and 0 < int(value) < 2**31 else None


def _filter() -> case_queue.QueueFilter:
    args = request.args
    return case_queue.QueueFilter(
        status=args.get("status") or None,
        category=args.get("category") or None,
        severity=args.get("severity") or None,
        site_id=_int(args.get("site")),
        supplier_id=_int(args.get("supplier")),
        language=args.get("language") or None,
        assignee_id=_assignee_filter(args.get("assignee"), bool(args.get("mine"))),
        unassigned=args.get("assignee") == "none",
        overdue=bool(args.get("overdue")),
        query=args.get("q", "")[:200],
        person_requested=bool(args.get("person")),
        worker_replied=bool(args.get("replied")),
    )


def _assignee_filter(value: str | None, mine: bool) -> int | None:
    """``assignee``: "me", a handler's id or "none" (unassigned); ``mine=1`` is "me" too."""
    if value == "me" or (mine and not value):
        return int(current_user.user_id)
    return _int(value)


@bp.get("/cases")
@roles_required(*HANDLERS)
def queue() -> ResponseReturnValue:
    """Open cases, most urgent first, with filters, search and keyset pagination.

    The open page asks again every POLL_SECONDS (htmx, with the filters and page it shows):
    an unchanged queue answers 204 after two index lookups, without an audit entry; otherwise
    the table and counts come back, cases opened or changed since the page was opened marked,
    and the view is audited like any other.
    """
    runtime = _runtime()
    htmx = request.headers.get("HX-Request") == "true"
    polled = htmx and "seen" in request.args
    with runtime.sessions() as db:
        stamp = case_queue.changes(db)
        if polled and request.args.get("seen") == stamp.token:
            return Response(status=204)
        # A poll keeps the time its page was opened; a new page or new filters start afresh.
        opened = case_queue.from_micros(request.args.get("opened")) or stamp.latest or utcnow()
        f = _filter()
        result = case_queue.page(db, f, request.args.get("after"))
        changed = stamp.latest is not None and stamp.latest > opened
        fresh = case_queue.fresh(db, f, opened) if changed else 0
        shown = {key: value for key, value in request.args.items() if key not in LIVE}
        poll: dict[str, Any] = {**shown, "seen": stamp.token, "opened": case_queue.micros(opened)}
        context: dict[str, Any] = {
            "page": result,
            "now": utcnow(),
            "args": shown,
            "severities": SEVERITIES,
            "opened": opened,
            "fresh": fresh,
            "fresh_label": _fresh_label(fresh),
            "title": f"({_fresh_label(fresh)}) {gettext('Cases')}" if fresh else gettext("Cases"),
            "poll_url": url_for("cases.queue", **poll),
            "poll_seconds": POLL_SECONDS,
            "assignees": _assignees(db, result.cases),
            "me": current_user.user_id,
            "possible_duplicates": duplicates.flagged(db, result.cases),
        }
        if not htmx:
            context |= _page_context(db, runtime)
        detail = f"{result.total} cases" + (" (live)" if polled else "")
        accounts.audit(db, _me(db), "queue_viewed", None, detail)
        db.commit()
        template = "cases/_table.html" if htmx else "cases/queue.html"
        return render_template(template, **context)


@bp.get("/alerts/pending")
@roles_required(*HANDLERS)
def pending_alerts() -> ResponseReturnValue:
    """The signed-in handler's alerts since alert ``after``, as JSON for static/notify.js.

    Asked every POLL_SECONDS by any open staff page whose browser may show notifications.
    Each alert is its case number, a fixed phrase and the case's link, never anything a
    worker gave. Nothing new (nearly every poll) is one index read and no audit entry; alerts
    shown are audited as a view of those case numbers.
    """
    raw = request.args.get("after", "")
    # An alert id, 0 included (a browser that started before the first alert); else none.
    ok = raw.isascii() and raw.isdigit() and len(raw) <= 10 and int(raw) < 2**31
    after = int(raw) if ok else None
    with _runtime().sessions() as db:
        found = alerts.pending(db, int(current_user.user_id), after)
        if found.alerts:
            me = _me(db)
            for _id, case_id, reason in found.alerts:
                accounts.audit(db, me, "alert_notified", case_id, f"reason={reason}")
            db.commit()
    return {
        "last": found.last,
        "alerts": [
            {
                "id": alert_id,
                "case": case_id,
                "title": f"Case #{case_id}: {alerts.PHRASES[reason]}",
                "url": url_for("cases.detail", case_id=case_id),
            }
            for alert_id, case_id, reason in found.alerts
        ],
    }


# The live queue's own query parameters, never part of the handler's filters or links.
LIVE = ("seen", "opened")
POLL_SECONDS = 10


def _fresh_label(fresh: int) -> str:
    """How many cases are new or changed since the page was opened, as the title says it."""
    return f"{case_queue.FRESH_CAP}+" if fresh > case_queue.FRESH_CAP else str(fresh)


def _page_context(db: Session, runtime: Runtime) -> dict[str, Any]:
    """What the whole queue page shows around the table: alerts, filters' choices."""
    return {
        "alerts": escalation.active_alerts(db),
        "agency_alerts": recruitment.active_agency_alerts(db),
        "statuses": STATUSES,
        "categories": sorted(DEFAULT_SEVERITY),
        "languages": runtime.settings.languages,
        "waiting_closed": case_queue.waiting_on_closed(db),
        "messages": get_flashed_messages(with_categories=True),
        "views": saved_views.views_of(db, _me(db)),
        "macros": macro_service.available(),
        "bulk_max": bulk.MAX_CASES,
        **_options(db),
    }


def _assignees(db: Session, cases: list[Case]) -> dict[int, str]:
    """The emails of the handlers the shown cases are assigned to, by id (one query)."""
    ids = {case.assignee_id for case in cases if case.assignee_id}
    if not ids:
        return {}
    return dict(db.execute(select(User.id, User.email).where(User.id.in_(ids))).all())


@bp.get("/cases/workload")
@roles_required(*HANDLERS)
def workload() -> ResponseReturnValue:
    """Open cases per handler by severity, and those nobody has, each a link to the queue."""
    with _runtime().sessions() as db:
        load = assignments.workload(db)
        accounts.audit(db, _me(db), "workload_viewed", None)
        db.commit()
        return render_template("cases/workload.html", load=load, severities=SEVERITIES)


@bp.post("/cases/bulk")
@roles_required(*HANDLERS)
def bulk_action() -> ResponseReturnValue:
    """One action on the cases selected in the queue, each case on its own (audited, with its
    rules); back to the queue with what was done and what was refused, and why."""
    form = request.form
    action = form.get("action", "")
    ids = [i for i in (_int(x) for x in form.getlist("case")) if i is not None]
    kwargs: dict[str, Any] = {}
    if action == "assign":
        kwargs["assignee_id"] = _assignee_filter(form.get("assignee"), False)
    elif action == "categorise":
        kwargs["category"] = form.get("category", "")
    elif action == "referral":
        kwargs |= {"referral": form.get("referral", ""), "tell_worker": False}
    elif action == "macro":
        kwargs["macro_id"] = form.get("macro", "")
    try:
        result = bulk.run_bulk(_runtime(), current_user.user_id, ids, action, **kwargs)
    except triage.TriageError as exc:
        flash(gettext("Nothing was done: %(why)s.", why=exc), "error")
    else:
        if result.done:
            flash(_bulk_done(action, result.done), "ok")
        for case_id, why in result.refused[:SHOWN_REFUSALS]:
            flash(
                gettext("Case #%(id)s was left as it was: %(why)s.", id=case_id, why=why), "error"
            )
        more = len(result.refused) - SHOWN_REFUSALS
        if more > 0:
            flash(
                ngettext(
                    "%(num)d more case was left as it was.",
                    "%(num)d more cases were left as they were.",
                    more,
                ),
                "error",
            )
    return redirect(_back_to_queue(form.get("back"))), 303


# The flashed messages travel in the session cookie: a page of refusals would not fit.
SHOWN_REFUSALS = 10
# Lazy: each is translated when flashed, into the language of the person who acted.
_BULK_DONE = {
    "assign": lazy_gettext("Assigned"),
    "categorise": lazy_gettext("Categorised"),
    "acknowledge": lazy_gettext("Acknowledged (each worker is told)"),
    "referral": lazy_gettext("Referral recorded on"),
    "macro": lazy_gettext("Macro applied to"),
}


def _bulk_done(action: str, done: list[int]) -> str:
    cases = ngettext(
        "%(num)d case (%(ids)s)",
        "%(num)d cases (%(ids)s)",
        len(done),
        ids=", ".join(f"#{i}" for i in done),
    )
    what = _BULK_DONE.get(action) or gettext("Done")
    return str(gettext("%(what)s: %(cases)s.", what=what, cases=cases))


def _back_to_queue(back: str | None) -> str:
    """The queue with the filters the handler had: only ever this app's own queue page."""
    query = saved_views.clean_query(back.split("?", 1)[1]) if back and "?" in back else ""
    return url_for("cases.queue") + (f"?{query}" if query else "")


@bp.post("/cases/views")
@roles_required(*HANDLERS)
def save_view() -> ResponseReturnValue:
    """Save the queue's current filters under a name, for this user alone."""
    with _runtime().sessions() as db:
        try:
            view = saved_views.save_view(
                db, _me(db), request.form.get("name", ""), request.form.get("query", "")
            )
        except triage.TriageError as exc:
            db.rollback()
            flash(gettext("Not saved: %(why)s.", why=exc), "error")
            return redirect(url_for("cases.queue")), 303
        db.commit()
        flash(gettext("Saved the view %(name)s.", name=view.name), "ok")
        return redirect(url_for("cases.queue") + (f"?{view.query}" if view.query else "")), 303


@bp.post("/cases/views/<int:view_id>/delete")
@roles_required(*HANDLERS)
def delete_view(view_id: int) -> ResponseReturnValue:
    """Delete one of this user's saved views."""
    with _runtime().sessions() as db:
        try:
            saved_views.delete_view(db, _me(db), view_id)
        except triage.TriageError as exc:
            db.rollback()
            flash(gettext("Not deleted: %(why)s.", why=exc), "error")
        else:
            db.commit()
            flash(gettext("View deleted."), "ok")
    return redirect(url_for("cases.queue")), 303


@bp.post("/cases/find")
@roles_required(*HANDLERS)
def find_by_code() -> ResponseReturnValue:
    """The case whose code a worker reads out (on the phone, at a visit): posted, so the code
    never sits in a URL, a browser's history or an access log."""
    with _runtime().sessions() as db:
        try:
            case = cases_service.find_by_code(
                db, _runtime(), _me(db), request.form.get("code", "")[:60]
            )
        except cases_service.CodeSearchError as exc:
            db.commit()  # the search's audit row
            flash(gettext("No case found: %(why)s.", why=exc), "error")
            return redirect(url_for("cases.queue"), 303)
        db.commit()
        return redirect(url_for("cases.detail", case_id=case.id), 303)


def _options(db: Session) -> dict[str, Any]:
    return {
        "suppliers": db.scalars(
            select(Organisation).where(Organisation.kind == "supplier").order_by(Organisation.name)
        ).all(),
        "sites": db.scalars(select(Site).order_by(Site.name)).all(),
        "handlers": db.scalars(
            select(User).where(User.role.in_(HANDLERS), User.active).order_by(User.email)
        ).all(),
        "referrals": for_referral(directory.entries(db, _runtime())),
    }


def _me(db: Session) -> User:
    user = db.get(User, current_user.user_id)
    assert user is not None
    return user


def _case(db: Session, case_id: int) -> Case:
    case = db.get(
        Case,
        case_id,
        with_for_update=request.method == "POST" and db.get_bind().dialect.name == "postgresql",
    )
    if case is None:
        abort(404)
    return case


@bp.get("/cases/<int:case_id>")
@roles_required(*HANDLERS)
def detail(case_id: int) -> ResponseReturnValue:
    """One case: facts, the worker's own words, the timeline, attachments and actions."""
    runtime = _runtime()
    with runtime.sessions() as db:
        case = _case(db, case_id)
        accounts.audit(db, _me(db), "case_viewed", case.id)
        unread = case.unread_worker_messages
        dialogue.mark_read(db, case)  # a handler has the worker's words in front of them now
        db.commit()
        contact = db.get(Contact, case.contact_id) if case.contact_id else None
        catalog = runtime.catalogs.get(case.language)
        contact_language = (contact.language if contact else None) or case.language
        merged_from = duplicates.merged_from(db, case)
        gathered = [case.id, *(other.id for other in merged_from)]
        items = timeline.timeline(db, runtime, case, merged=gathered[1:])
        description = (
            timeline.worker_words(runtime.protector.decrypt(case.description_encrypted))
            if case.description_encrypted
            else None
        )
        translated = translations.for_case(
            db,
            runtime,
            case,
            _me(db),
            _texts(case, items, description, contact_language),
            STAFF_LANGUAGE,
        )
        db.commit()  # the translations just made, and their audit entry
        context = {
            "case": case,
            "now": utcnow(),
            "unread": unread,
            "timeline": items,
            "translations": translated,
            "not_configured": translations.NOT_CONFIGURED,
            "staff_language_name": labels.language(STAFF_LANGUAGE),
            "worker_language_label": labels.language(contact_language),
            "call_requests": dialogue.call_requests(db, runtime, case),
            "other_cases": dialogue.other_cases(db, case),
            "may_propose": remediation.may_propose(db, case),
            "category_labels": CATEGORY_LABELS,
            "attachments": db.scalars(
                select(Attachment).where(Attachment.case_id.in_(gathered)).order_by(Attachment.id)
            ).all(),
            "playable": PLAYABLE,
            "description": description,
            "direction": catalog.direction if catalog else "ltr",
            "reachable": contact is not None and contact.address_encrypted is not None,
            "opted_out": contact is not None and contact.opted_out,
            "contact_language": contact_language,
            "language_name": _language_name(runtime, contact_language),
            "translate_replies": translated.configured
            and not translations.same_language(contact_language, STAFF_LANGUAGE),
            "canned": [
                (
                    key,
                    _canned_text(runtime, case, contact, key),
                    render(runtime.catalogs[STAFF_LANGUAGE], key, {}, "sms")
                    if STAFF_LANGUAGE in runtime.catalogs
                    else None,
                    key in triage.QUESTIONS,
                )
                for key in triage.CANNED_REPLIES
            ],
            "indicators": INDICATORS,
            "origins": triage.ORIGIN_COUNTRIES,
            "categories": sorted(DEFAULT_SEVERITY),
            "severities": SEVERITIES,
            "open": case.status in OPEN_STATUSES,
            "assignee": db.get(User, case.assignee_id) if case.assignee_id else None,
            "supplier": db.get(Organisation, case.supplier_id) if case.supplier_id else None,
            "site": db.get(Site, case.site_id) if case.site_id else None,
            "messages": get_flashed_messages(with_categories=True),
            "remediation": remediation.plan_view(db, runtime, case),
            "archived": remediation.archived_plans(db, runtime, case),
            "remedy_types": REMEDY_TYPES,
            "remedy_labels": REMEDY_LABELS,
            "macros": macro_service.available(),
            **_recruitment(db, runtime, case),
            **_duplicates(db, case, merged_from),
            **_options(db),
        }
        return render_template("cases/detail.html", **context)


def _duplicates(db: Session, case: Case, merged_from: list[Case]) -> dict[str, Any]:
    """What the case page shows of duplicates: the case this one was merged into, the cases
    merged into it, the cases linked to it, the same worker's similar cases suggested, and
    the worker's open cases it could be merged into."""
    merged_into = duplicates.merged_into(db, case)
    others_open = (
        [other for other in dialogue.other_cases(db, case) if other.status in OPEN_STATUSES]
        if case.status in OPEN_STATUSES
        else []
    )
    return {
        "merged_into": merged_into,
        "merged_from": merged_from,
        "links": duplicates.links_of(db, case),
        "suggestions": [] if merged_into else duplicates.suggestions(db, case),
        # This case into another (not when a supplier follows it), and another into this one.
        "merge_into_choices": others_open if case.supplier_id is None else [],
        "merge_here_ids": {other.id for other in others_open if other.supplier_id is None},
    }


def _texts(
    case: Case, items: list[timeline.Item], description: str | None, contact_language: str
) -> list[translations.Text]:
    """What the page shows in the worker's language: their description, their messages, and
    free text sent to them (catalog messages carry their meaning already)."""
    texts = [translations.Text(None, case.language, description)] if description else []
    for item in items:
        if item.body and item.message_id is not None and not item.meaning:
            language = case.language if item.kind == "in" else contact_language
            texts.append(translations.Text(item.message_id, language, item.body))
    return texts


def _recruitment(db: Session, runtime: Runtime, case: Case) -> dict[str, Any]:
    """Who recruited the worker: their words, what was read from them, the linked agency.
    Shown for fee and debt cases, and any case a worker or handler said something of."""
    row = recruitment.recruitment_of(db, case)
    asked = RECRUITMENT_CATEGORIES
    if row is None and case.category not in asked and case.reported_category not in asked:
        return {"recruitment_shown": False}
    return {
        "recruitment_shown": True,
        "recruitment": row,
        "recruitment_words": recruitment.worker_words(runtime, row),
        "agency": db.get(Agency, row.agency_id) if row is not None and row.agency_id else None,
        "agency_names": [a.name for a in recruitment.agencies(db)],
    }


@bp.app_template_filter("worker_words")
def worker_words(text: str | None) -> str | None:
    """A worker's words in a template (a workplace, say): a phone number typed is hidden."""
    return timeline.worker_words(text) if text else text


def _language_name(runtime: Runtime, language: str) -> str:
    catalog = runtime.catalogs.get(language)
    return f"{catalog.name} ({language})" if catalog else language


def _canned_text(runtime: Runtime, case: Case, contact: Contact | None, key: str) -> str:
    language = (contact.language if contact else None) or case.language
    catalog = runtime.catalogs.get(language) or runtime.catalogs[runtime.settings.languages[0]]
    return render(catalog, key, {}, contact.channel if contact else "sms")


@bp.get("/cases/<int:case_id>/attachments/<int:attachment_id>")
@roles_required(*HANDLERS)
def attachment(case_id: int, attachment_id: int) -> ResponseReturnValue:
    """A worker's photo or voice note, decrypted, always as a download (never rendered inline)."""
    runtime = _runtime()
    with runtime.sessions() as db:
        item = db.get(Attachment, attachment_id) if attachment_id < 2**31 else None
        if item is None or item.case_id != case_id or item.data_encrypted is None:
            abort(404)
        accounts.audit(db, _me(db), "attachment_downloaded", case_id, f"attachment={item.id}")
        db.commit()
        data = runtime.protector.decrypt_bytes(item.data_encrypted)
        extension = _EXTENSIONS.get(item.content_type, "bin")
        return Response(
            data,
            mimetype="application/octet-stream",
            headers={
                "Content-Disposition": f'attachment; filename="case-{case_id}-{item.id}.{extension}"',
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'; sandbox",
            },
        )


# Recordings a handler may play in the page: served with their own type (never sniffed),
# inline, in the same sandbox as a download.
PLAYABLE = frozenset({"audio/wav", "audio/x-wav", "audio/mpeg", "audio/ogg"})


@bp.get("/cases/<int:case_id>/attachments/<int:attachment_id>/play")
@roles_required(*HANDLERS)
def play(case_id: int, attachment_id: int) -> ResponseReturnValue:
    """A worker's recording (a call, a voice note), decrypted for the page's audio player."""
    runtime = _runtime()
    with runtime.sessions() as db:
        item = db.get(Attachment, attachment_id) if attachment_id < 2**31 else None
        if (
            item is None
            or item.case_id != case_id
            or item.data_encrypted is None
            or item.content_type not in PLAYABLE
        ):
            abort(404)
        accounts.audit(db, _me(db), "attachment_played", case_id, f"attachment={item.id}")
        db.commit()
        data = runtime.protector.decrypt_bytes(item.data_encrypted)
        return Response(
            data,
            mimetype=item.content_type,
            headers={
                "Content-Disposition": "inline",
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'; sandbox",
                "Cache-Control": "no-store",
            },
        )


_EXTENSIONS = {
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "audio/ogg": "ogg",
    "audio/mpeg": "mp3",
    "audio/amr": "amr",
    "video/mp4": "mp4",
    "application/pdf": "pdf",
}


# -- actions ---------------------------------------------------------------------------


def _act(case_id: int, action: Callable[..., Any], **kwargs: Any) -> ResponseReturnValue:
    """Run one triage or remediation action (the service function itself) through the one
    action runner; a refused action is shown on the case page."""
    try:
        _, waits = actions.run(
            _runtime(),
            current_user.user_id,
            lambda db, user: _case(db, case_id),
            action,
            lambda db, case: bool(case.pending_close),
            **kwargs,
        )
    except triage.TriageError as exc:
        flash(str(exc), "error")
        return redirect(url_for("cases.detail", case_id=case_id)), 303
    name = action.__name__
    waits = waits and name in ("close", "close_out_of_scope")
    flash(str(_WAITS if waits else _DONE.get(name) or gettext("Saved.")), "ok")
    return redirect(url_for("cases.detail", case_id=case_id)), 303


_WAITS = lazy_gettext(
    "Not closed yet: a second handler must approve it (see the review at the top)."
)
_DONE = {
    "assign": lazy_gettext("Assigned."),
    "categorise": lazy_gettext("Category saved."),
    "apply_macro": lazy_gettext(
        "Macro applied: categorised, acknowledged, and the reply is on its way."
    ),
    "set_severity": lazy_gettext(
        "Severity saved (a lowering of P0 or P1 waits for a second reviewer)."
    ),
    "review_severity": lazy_gettext("Review recorded."),
    "acknowledge": lazy_gettext("Acknowledged; the worker is told."),
    "add_note": lazy_gettext("Note added."),
    "message_worker": lazy_gettext("Message queued for the worker."),
    "attach_referral": lazy_gettext("Referral attached."),
    "link_agency": lazy_gettext("Linked to the recruitment agency."),
    "refer_to_supplier": lazy_gettext("Referred to the supplier; the worker is told."),
    "close_out_of_scope": lazy_gettext("Closed as out of scope; the worker is told."),
    "review_plan": lazy_gettext("Review recorded; the supplier is told by email."),
    "verify_plan": lazy_gettext("Verification recorded."),
    "propose_to_worker": lazy_gettext("The worker is asked whether the problem is solved."),
    "return_to_supplier": lazy_gettext("Sent back to the supplier."),
    "comment": lazy_gettext("Comment added; the supplier is told by email."),
    "close": lazy_gettext("Closed; the worker is told and asked how well we handled it."),
    "link": lazy_gettext("Cases linked; both pages show the link."),
    "unlink": lazy_gettext("Link removed."),
    "review_close": lazy_gettext("Review recorded."),
}


@bp.post("/cases/<int:case_id>/links")
@roles_required(*HANDLERS)
def link(case_id: int) -> ResponseReturnValue:
    """Link the case with another, as a duplicate or a related case (both pages show it)."""
    return _act(
        case_id,
        duplicates.link,
        other_id=_int(request.form.get("other")),
        kind=request.form.get("kind", "duplicate"),
    )


@bp.post("/cases/<int:case_id>/links/<int:other_id>/delete")
@roles_required(*HANDLERS)
def unlink(case_id: int, other_id: int) -> ResponseReturnValue:
    """Remove the link between the case and another (from either case's page)."""
    return _act(case_id, duplicates.unlink, other_id=other_id)


@bp.post("/cases/<int:case_id>/merge")
@roles_required(*HANDLERS)
def merge(case_id: int) -> ResponseReturnValue:
    """Merge the case (a duplicate) into another of the same worker's open cases; then the
    primary's page, which shows the duplicate's history. A P0 or P1 duplicate waits for a
    second handler, on its own page."""
    into = _int(request.form.get("into"))
    try:
        _, waits = actions.run(
            _runtime(),
            current_user.user_id,
            lambda db, user: _case(db, case_id),
            duplicates.merge,
            lambda db, case: bool(case.pending_close),
            into=into,
            reason=request.form.get("reason", ""),
        )
    except triage.TriageError as exc:
        flash(str(exc), "error")
        return redirect(url_for("cases.detail", case_id=case_id)), 303
    if waits:
        flash(str(_MERGE_WAITS), "ok")
        return redirect(url_for("cases.detail", case_id=case_id)), 303
    flash(
        gettext("Case #%(id)s is merged into this case: its history shows below.", id=case_id), "ok"
    )
    return redirect(url_for("cases.detail", case_id=into)), 303


_MERGE_WAITS = lazy_gettext(
    "Not merged yet: a second handler must approve it (see the review at the top)."
)


@bp.post("/cases/<int:case_id>/assign")
@roles_required(*HANDLERS)
def assign(case_id: int) -> ResponseReturnValue:
    """Give the case to a handler, to oneself ("me") or to nobody."""
    return _act(
        case_id, triage.assign, assignee_id=_assignee_filter(request.form.get("assignee"), False)
    )


@bp.post("/cases/<int:case_id>/macro")
@roles_required(*HANDLERS)
def macro(case_id: int) -> ResponseReturnValue:
    """Categorise, acknowledge and send a canned reply, in one click."""
    return _act(case_id, macro_service.apply_macro, macro_id=request.form.get("macro", ""))


@bp.post("/cases/<int:case_id>/categorise")
@roles_required(*HANDLERS)
def categorise(case_id: int) -> ResponseReturnValue:
    """Set category and forced-labour indicators."""
    return _act(
        case_id,
        triage.categorise,
        category=request.form.get("category", ""),
        indicators=request.form.getlist("indicators"),
        origin=request.form.get("origin"),
    )


@bp.post("/cases/<int:case_id>/severity")
@roles_required(*HANDLERS)
def severity(case_id: int) -> ResponseReturnValue:
    """Set the severity (lowering a P0 or P1 asks for a second reviewer)."""
    return _act(
        case_id,
        triage.set_severity,
        severity=request.form.get("severity", ""),
        reason=request.form.get("reason", ""),
    )


@bp.post("/cases/<int:case_id>/severity-review")
@roles_required(*HANDLERS)
def severity_review(case_id: int) -> ResponseReturnValue:
    """Approve or reject a pending lowering."""
    return _act(case_id, triage.review_severity, approve=request.form.get("decision") == "approve")


@bp.post("/cases/<int:case_id>/acknowledge")
@roles_required(*HANDLERS)
def acknowledge(case_id: int) -> ResponseReturnValue:
    """Tell the worker a person has the case."""
    return _act(case_id, triage.acknowledge)


@bp.post("/cases/<int:case_id>/notes")
@roles_required(*HANDLERS)
def note(case_id: int) -> ResponseReturnValue:
    """Add an internal note."""
    return _act(case_id, triage.add_note, text=request.form.get("text", ""))


@bp.post("/cases/<int:case_id>/message")
@roles_required(*HANDLERS)
def message(case_id: int) -> ResponseReturnValue:
    """Send the worker a canned reply or free text, through the outbox.

    With machine translation set up, free text is written in the handler's language and
    goes in two steps: first the translation and its back-translation are shown (nothing is
    sent), then the handler confirms the translation, which is sent. Free text the handler
    marks as already in the worker's language is sent as written, as without translation.
    """
    form = request.form
    key = form.get("canned") or None
    question = not key and bool(form.get("question"))
    if key or _runtime().translator is None or form.get("as_written"):
        return _act(
            case_id,
            handler_messages.message_worker,
            key=key,
            text=None if key else form.get("text", ""),
            question=question,
        )
    if form.get("confirm") and form.get("translated"):
        return _act(
            case_id,
            handler_messages.message_worker,
            text=form.get("translated", ""),
            question=question,
            meaning=form.get("text", ""),
            meaning_language=STAFF_LANGUAGE,
        )
    return _reply_preview(case_id, form.get("text", "")[: triage.MAX_TEXT], question)


def _reply_preview(case_id: int, text: str, question: bool) -> ResponseReturnValue:
    """The handler's reply machine-translated into the worker's language and back again, to
    confirm or rewrite; nothing is sent yet. A failed translation says so, keeping the text."""
    runtime = _runtime()
    with runtime.sessions() as db:
        case = _case(db, case_id)
        contact = db.get(Contact, case.contact_id) if case.contact_id else None
        language = (contact.language if contact else None) or case.language
        catalog = runtime.catalogs.get(language)
        preview, problem = None, None
        if not text.strip():
            problem = "the message is empty: write what to tell the worker"
        elif translations.same_language(language, STAFF_LANGUAGE):
            problem = None
        else:
            try:
                preview = translations.preview_reply(
                    db, runtime, case, _me(db), text, STAFF_LANGUAGE, language
                )
            except TranslationUnavailable as exc:
                problem = str(exc)
        db.commit()
        return render_template(
            "cases/reply_preview.html",
            case=case,
            text=text,
            question=question,
            preview=preview,
            problem=problem,
            same_language=translations.same_language(language, STAFF_LANGUAGE),
            language=language,
            language_name=labels.language(language),
            staff_language=STAFF_LANGUAGE,
            staff_language_name=labels.language(STAFF_LANGUAGE),
            direction=catalog.direction if catalog else "ltr",
        )


@bp.post("/cases/<int:case_id>/referral")
@roles_required(*HANDLERS)
def referral(case_id: int) -> ResponseReturnValue:
    """Attach a referral from the directory."""
    return _act(
        case_id,
        triage.attach_referral,
        referral=request.form.get("referral", ""),
        tell_worker=bool(request.form.get("tell_worker")),
    )


@bp.post("/cases/<int:case_id>/agency")
@roles_required(*HANDLERS)
def agency(case_id: int) -> ResponseReturnValue:
    """Link the case to a recruitment agency (an existing one by name, or a new one)."""
    form = request.form
    return _act(
        case_id,
        recruitment.link_agency,
        name=form.get("agency", ""),
        country=form.get("country", ""),
        fee_amount=form.get("fee_amount", ""),
        fee_currency=form.get("fee_currency", ""),
    )


@bp.get("/agencies")
@roles_required(*HANDLERS)
def agencies() -> ResponseReturnValue:
    """Recruitment agencies across cases: how many cases, fee cases, suppliers, fees paid."""
    with _runtime().sessions() as db:
        rows = recruitment.overview(db)
        accounts.audit(db, _me(db), "agencies_viewed", None)
        db.commit()
        return render_template(
            "cases/agencies.html",
            rows=rows,
            alert_cases=recruitment.AGENCY_ALERT_CASES,
            messages=get_flashed_messages(with_categories=True),
        )


@bp.post("/agencies/merge")
@roles_required(*HANDLERS)
def merge_agencies() -> ResponseReturnValue:
    """Merge two records of one agency: the first's cases count under the second."""
    source, target = _int(request.form.get("source")), _int(request.form.get("target"))
    with _runtime().sessions() as db:
        try:
            kept = recruitment.merge(db, _me(db), source or 0, target or 0)
        except recruitment.RecruitmentError as exc:
            db.rollback()
            flash(str(exc), "error")
        else:
            db.commit()
            flash(gettext("Merged into %(name)s.", name=kept.name), "ok")
    return redirect(url_for("cases.agencies")), 303


@bp.post("/cases/<int:case_id>/supplier")
@roles_required(*HANDLERS)
def supplier(case_id: int) -> ResponseReturnValue:
    """Refer the case to its supplier with a redacted summary."""
    return _act(
        case_id,
        triage.refer_to_supplier,
        supplier_id=_int(request.form.get("supplier")) or 0,
        site_id=_int(request.form.get("site")),
        supplier_summary=request.form.get("summary", ""),
    )


@bp.post("/cases/<int:case_id>/out-of-scope")
@roles_required(*HANDLERS)
def out_of_scope(case_id: int) -> ResponseReturnValue:
    """Close as out of scope with a reason."""
    return _act(case_id, triage.close_out_of_scope, reason=request.form.get("reason", ""))


@bp.post("/cases/<int:case_id>/plan/review")
@roles_required(*HANDLERS)
def plan_review(case_id: int) -> ResponseReturnValue:
    """Accept the supplier's plan, or send it back with what to change."""
    return _act(
        case_id,
        remediation.review_plan,
        accept=request.form.get("decision") == "accept",
        comment_text=request.form.get("comment", ""),
    )


@bp.post("/cases/<int:case_id>/plan/verify")
@roles_required(*HANDLERS)
def plan_verify(case_id: int) -> ResponseReturnValue:
    """Verify the completed plan against its evidence (then the worker is asked), or not yet."""
    return _act(
        case_id,
        remediation.verify_plan,
        accept=request.form.get("decision") == "accept",
        comment_text=request.form.get("comment", ""),
    )


@bp.post("/cases/<int:case_id>/plan/comments")
@roles_required(*HANDLERS)
def plan_comment(case_id: int) -> ResponseReturnValue:
    """A comment to the supplier on its plan."""
    return _act(case_id, remediation.comment, text=request.form.get("comment", ""))


@bp.post("/cases/<int:case_id>/propose")
@roles_required(*HANDLERS)
def propose(case_id: int) -> ResponseReturnValue:
    """Ask the worker whether the problem is solved."""
    return _act(case_id, remediation.propose_to_worker)


@bp.post("/cases/<int:case_id>/plan/reopen")
@roles_required(*HANDLERS)
def plan_reopen(case_id: int) -> ResponseReturnValue:
    """Send the case back to the supplier for further remediation."""
    return _act(
        case_id, remediation.return_to_supplier, comment_text=request.form.get("comment", "")
    )


@bp.post("/cases/<int:case_id>/close")
@roles_required(*HANDLERS)
def close(case_id: int) -> ResponseReturnValue:
    """Close with an outcome, remedy types and a reason."""
    return _act(
        case_id,
        remediation.close,
        outcome=request.form.get("outcome", ""),
        remedy_types=request.form.getlist("remedy_types"),
        reason=request.form.get("reason", ""),
    )


@bp.post("/cases/<int:case_id>/close-review")
@roles_required(*HANDLERS)
def close_review(case_id: int) -> ResponseReturnValue:
    """A second reviewer approves or rejects closing a disputed or unanswered case as resolved."""
    return _act(
        case_id, remediation.review_close, approve=request.form.get("decision") == "approve"
    )


@bp.post("/cases/<int:case_id>/messages/<int:message_id>/move")
@roles_required(*HANDLERS)
def move_message(case_id: int, message_id: int) -> ResponseReturnValue:
    """Move a worker's message to another case of the same worker."""
    with _runtime().sessions() as db:
        case = _case(db, case_id)
        try:
            dialogue.move_message(db, case, message_id, _int(request.form.get("to")) or 0, _me(db))
        except triage.TriageError as exc:
            db.rollback()
            flash(str(exc), "error")
            return redirect(url_for("cases.detail", case_id=case_id)), 303
        db.commit()
    flash(gettext("Message moved."), "ok")
    return redirect(url_for("cases.detail", case_id=case_id)), 303


@bp.post("/cases/<int:case_id>/calls/<int:request_id>/reveal")
@roles_required(*HANDLERS)
def reveal_number(case_id: int, request_id: int) -> ResponseReturnValue:
    """Show the number the worker asked to be called on, to the handler on the case; audited.

    The number is shown on this response only, never stored in a page or a log.
    """
    runtime = _runtime()
    with runtime.sessions() as db:
        case = _case(db, case_id)
        try:
            number = dialogue.reveal_call_number(db, runtime, case, request_id, _me(db))
        except NotFound:
            abort(404)
        except triage.TriageError as exc:
            db.rollback()
            flash(str(exc), "error")
            return redirect(url_for("cases.detail", case_id=case_id)), 303
        db.commit()
        return Response(
            render_template("cases/call_number.html", case=case, number=number),
            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
        )


@bp.get("/cases/<int:case_id>/evidence/<int:evidence_id>")
@roles_required(*HANDLERS)
def evidence(case_id: int, evidence_id: int) -> ResponseReturnValue:
    """A supplier's evidence file, decrypted, always as a download."""
    runtime = _runtime()
    with runtime.sessions() as db:
        case = _case(db, case_id)
        item = remediation.evidence_file(db, case, evidence_id, staff=True)
        if item is None:
            abort(404)
        accounts.audit(db, _me(db), "evidence_downloaded", case.id, f"evidence={item.id}")
        db.commit()
        return download(runtime.protector.decrypt_bytes(item.data_encrypted), evidence_name(item))


def evidence_name(item: Evidence) -> str:
    """An ASCII download name (the uploaded name is shown on the page, not sent in a header)."""
    extension = item.filename.rsplit(".", 1)[-1].lower() if "." in item.filename else "bin"
    return (
        f"evidence-{item.id}.{extension if extension.isascii() and extension.isalnum() else 'bin'}"
    )


def download(data: bytes, filename: str) -> Response:
    """A file that is never rendered: an attachment, nosniff, and a sandbox if it is opened."""
    return Response(
        data,
        mimetype="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


@bp.get("/deliveries/failed")
@roles_required(*HANDLERS)
def failed_deliveries() -> ResponseReturnValue:
    """Messages that did not reach workers with an open case, with the reason in words."""
    from grievance.services.deliveries import failed_deliveries as failures

    with _runtime().sessions() as db:
        rows = failures(db)
        accounts.audit(db, _me(db), "failed_deliveries_viewed", None, f"{len(rows)} messages")
        db.commit()
    return render_template("cases/failed_deliveries.html", failures=rows)
