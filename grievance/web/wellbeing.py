"""``/wellbeing``: the Worker Wellbeing pulse. Admins give each site a survey word, send
waves to the workers who joined, follow the sending, and share the results back; admins,
handlers and buyers (their linked suppliers' sites only) read the results.

The pages were at ``/campaigns`` before: those addresses answer a permanent redirect here.
Audit events keep the names they were first written with (``pulse_*``, ``campaign=<id>``), so
the trail of one wave reads the same before and after the rename.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import (
    Blueprint,
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
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grievance import csvsafe
from grievance.auth import accounts
from grievance.models import Organisation, RightsMessage, Site, User, WellbeingMember, WellbeingWave
from grievance.reports import wellbeing as results
from grievance.runtime import Runtime
from grievance.services import wellbeing
from grievance.services.errors import NotFound
from grievance.services.visibility import visible_suppliers
from grievance.web.security import roles_required

bp = Blueprint("wellbeing", __name__, url_prefix="/wellbeing")
# The old address of these pages, for bookmarks: signed in like any page, then sent on.
moved = Blueprint("wellbeing_moved", __name__, url_prefix="/campaigns")
READERS = ("admin", "handler", "buyer")


def _runtime() -> Runtime:
    runtime: Runtime = current_app.extensions["grievance"]
    return runtime


def _user(db: Session) -> User:
    user = db.get(User, current_user.user_id)
    assert user is not None
    return user


def _sites(db: Session, user: User) -> list[Site]:
    query = select(Site).order_by(Site.name)
    if user.role == "buyer":
        query = query.where(Site.supplier_id.in_(visible_suppliers(db, user)))
    return list(db.scalars(query))


def _reserved() -> set[str]:
    """Every keyword of every catalog: a survey word must not be one."""
    return {
        wellbeing.normalize_keyword(word)
        for catalog in _runtime().catalogs.values()
        for words in catalog.keywords.values()
        for word in words
    }


@bp.get("")
@roles_required(*READERS)
def index() -> ResponseReturnValue:
    """Sites with their survey word, members and waves."""
    with _runtime().sessions() as db:
        user = _user(db)
        sites = _sites(db, user)
        ids = [site.id for site in sites]
        members = dict(
            db.execute(
                select(WellbeingMember.site_id, func.count(WellbeingMember.id))
                .where(WellbeingMember.site_id.in_(ids))
                .group_by(WellbeingMember.site_id)
            ).all()
        )
        waves = db.scalars(
            select(WellbeingWave)
            .where(WellbeingWave.site_id.in_(ids))
            .order_by(WellbeingWave.created_at.desc(), WellbeingWave.id.desc())
            .limit(100)
        ).all()
        rights = db.scalars(
            select(RightsMessage)
            .where(RightsMessage.site_id.in_(ids))
            .order_by(RightsMessage.created_at.desc(), RightsMessage.id.desc())
            .limit(100)
        ).all()
        suppliers = dict(db.execute(select(Organisation.id, Organisation.name)).all())
        names = {site.id: site.name for site in sites}
        return render_template(
            "wellbeing/index.html",
            sites=sites,
            members=members,
            waves=waves,
            rights=rights,
            names=names,
            suppliers=suppliers,
            messages=get_flashed_messages(with_categories=True),
        )


@bp.post("/sites/<int:site_id>/keyword")
@roles_required("admin")
def keyword(site_id: int) -> ResponseReturnValue:
    """Set (or clear) the word workers of a site send to join its pulse."""
    word = request.form.get("keyword", "").strip()
    with _runtime().sessions() as db:
        user = _user(db)
        site = db.get(Site, site_id)
        if site is None:
            abort(404)
        try:
            site.pulse_keyword = (
                wellbeing.check_keyword(db, site, word, _reserved()) if word else None
            )
        except wellbeing.WellbeingError as exc:
            flash(f"{site.name}: {exc}", "error")
            return redirect(url_for("wellbeing.index"))
        accounts.audit(db, user, "pulse_keyword_set", None, f"site={site.id}")
        db.commit()
        flash(
            f"{site.name}: workers join by sending {site.pulse_keyword.upper()}"
            if site.pulse_keyword
            else f"{site.name}: no survey word; nobody new can join",
            "ok",
        )
    return redirect(url_for("wellbeing.index"))


@bp.post("")
@roles_required("admin")
def start() -> ResponseReturnValue:
    """Start a wave at a site; its invitations go out in paced batches."""
    site_id = request.form.get("site", type=int)
    runtime = _runtime()
    with runtime.sessions() as db:
        user = _user(db)
        try:
            wave = wellbeing.start_wave(db, site_id or 0, user.id)
        except NotFound:
            abort(404)
        except wellbeing.WellbeingError as exc:
            flash(str(exc), "error")
            return redirect(url_for("wellbeing.index"))
        accounts.audit(db, user, "pulse_wave_started", None, f"campaign={wave.id}")
        db.commit()
        wave_id = wave.id
    runtime.queue.enqueue("send_wellbeing_wave", wave_id, bulk=True)
    return redirect(url_for("wellbeing.wave", wave_id=wave_id))


@bp.post("/rights")
@roles_required("admin")
def start_rights() -> ResponseReturnValue:
    """Send the rights message to a site's members, in paced batches like a wave."""
    site_id = request.form.get("site", type=int)
    runtime = _runtime()
    with runtime.sessions() as db:
        user = _user(db)
        if site_id is None or db.get(Site, site_id) not in _sites(db, user):
            abort(404)
        try:
            message = wellbeing.start_rights(db, site_id, user.id)
        except wellbeing.WellbeingError as exc:
            flash(str(exc), "error")
            return redirect(url_for("wellbeing.index"))
        accounts.audit(db, user, "rights_message_started", None, f"rights={message.id}")
        db.commit()
        message_id, total = message.id, message.total
    runtime.queue.enqueue("send_rights", message_id, bulk=True)
    flash(f"The rights message is going out to {total} workers.", "ok")
    return redirect(url_for("wellbeing.index"))


@bp.post("/rights/<int:message_id>/stop")
@roles_required("admin")
def stop_rights(message_id: int) -> ResponseReturnValue:
    """Stop a rights message still being sent: nobody else is sent it."""
    with _runtime().sessions() as db:
        user = _user(db)
        message = db.get(RightsMessage, message_id) if message_id < 2**31 else None
        site = db.get(Site, message.site_id) if message is not None else None
        if message is None or site not in _sites(db, user):
            abort(404)
        if wellbeing.stop_sending(message):
            accounts.audit(db, user, "rights_message_stopped", None, f"rights={message.id}")
            db.commit()
            flash(f"Stopped: {message.invited} workers had been sent it.", "ok")
    return redirect(url_for("wellbeing.index"))


def _wave(db: Session, user: User, wave_id: int) -> tuple[WellbeingWave, Site]:
    """The wave and its site, if the user may read them; else 404."""
    wave = db.get(WellbeingWave, wave_id)
    site = db.get(Site, wave.site_id) if wave is not None else None
    if wave is None or site is None or site not in _sites(db, user):
        abort(404)
    return wave, site


@bp.get("/<int:wave_id>")
@roles_required(*READERS)
def wave(wave_id: int) -> ResponseReturnValue:
    """A wave: sending progress, results per area, reach per question, the site's trend."""
    runtime = _runtime()
    k = runtime.settings.pulse_min_cell
    with runtime.sessions() as db:
        user = _user(db)
        wave, site = _wave(db, user, wave_id)
        trend = results.site_trend(db, site.id, k)
        accounts.audit(db, user, "pulse_results_viewed", None, f"campaign={wave.id}")
        db.commit()
        current = next(r for r in trend if r.wave_id == wave.id)
        return render_template(
            "wellbeing/wave.html",
            wave=wave,
            site=site,
            result=current,
            trend=trend,
            k=k,
            messages=get_flashed_messages(with_categories=True),
        )


@bp.post("/<int:wave_id>/stop")
@roles_required("admin")
def stop(wave_id: int) -> ResponseReturnValue:
    """Stop a wave that is still being sent: nobody else is invited; answers already given stay."""
    runtime = _runtime()
    with runtime.sessions() as db:
        user = _user(db)
        wave, _ = _wave(db, user, wave_id)
        if wellbeing.stop_sending(wave):
            accounts.audit(db, user, "pulse_wave_stopped", None, f"campaign={wave.id}")
            db.commit()
            flash(f"Stopped: {wave.invited} workers had been invited.", "ok")
    return redirect(url_for("wellbeing.wave", wave_id=wave_id))


@bp.post("/<int:wave_id>/share")
@roles_required("admin")
def share(wave_id: int) -> ResponseReturnValue:
    """Send the wave's results back to the workers who were invited."""
    runtime = _runtime()
    with runtime.sessions() as db:
        _wave(db, _user(db), wave_id)
    try:
        shared = wellbeing.share(runtime, wave_id)
    except wellbeing.WellbeingError as exc:
        flash(str(exc), "error")
    else:
        with runtime.sessions() as db:
            accounts.audit(db, _user(db), "pulse_results_shared", None, f"campaign={wave_id}")
            db.commit()
        flash(f"Results sent to {shared.messages} workers.", "ok")
    return redirect(url_for("wellbeing.wave", wave_id=wave_id))


@bp.get("/<int:wave_id>/trend.svg")
@roles_required(*READERS)
def trend_chart(wave_id: int) -> ResponseReturnValue:
    """The site's area means across waves as an SVG line chart (withheld waves have no point)."""
    import pygal

    from grievance.web.reports import svg_response

    runtime = _runtime()
    with runtime.sessions() as db:
        _, site = _wave(db, _user(db), wave_id)
        trend = results.site_trend(db, site.id, runtime.settings.pulse_min_cell)
    config = pygal.Config(js=[], disable_xml_declaration=False, width=800, height=320, range=(1, 5))
    chart = pygal.Line(config, title=f"Wellbeing at {site.name}, by wave (mean, 1-5)")
    chart.x_labels = [f"wave {w.wave} ({w.month})" for w in trend]
    for index, label in enumerate(results.AREA_LABELS.values()):
        chart.add(label, [w.areas[index].mean for w in trend])
    return svg_response(chart)


@bp.get("/<int:wave_id>/results.csv")
@roles_required(*READERS)
def results_csv(wave_id: int) -> ResponseReturnValue:
    """The site's results, wave by wave and area by area, withheld as on the page."""
    import io

    from grievance.web.reports import csv_response

    runtime = _runtime()
    with runtime.sessions() as db:
        _, site = _wave(db, _user(db), wave_id)
        trend = results.site_trend(db, site.id, runtime.settings.pulse_min_cell)
        accounts.audit(db, _user(db), "pulse_results_exported", None, f"site={site.id}")
        db.commit()
    out = io.StringIO()
    writer = csvsafe.writer(out)
    writer.writerow(
        ["Wave", "Month", "Invited", "Answered", "Area", "Workers (n)", "Mean (1-5)", "Favourable"]
    )
    for wave in trend:
        for area in wave.areas:
            writer.writerow(
                [
                    wave.wave,
                    wave.month,
                    wave.invited,
                    wave.small(wave.responded),
                    area.label,
                    wave.small(area.n),
                    f"{area.mean:.2f}" if area.mean is not None else "withheld",
                    f"{area.favourable:.0%}" if area.favourable is not None else "withheld",
                ]
            )
        writer.writerow(
            [
                wave.wave,
                wave.month,
                wave.invited,
                wave.small(wave.responded),
                "Site score",
                "",
                f"{wave.site_score:.2f}" if wave.site_score is not None else "withheld",
                "",
            ]
        )
    return csv_response(out, f"wellbeing-site-{site.id}.csv")


@moved.route("", methods=["GET", "POST"])
@moved.route("/<path:rest>", methods=["GET", "POST"])
def moved_here(rest: str = "") -> ResponseReturnValue:
    """``/campaigns...`` is now ``/wellbeing...``: a permanent redirect to the same path, 308 so
    that a form posted to the old address is posted again to the new one."""
    target = url_for("wellbeing.index") + (f"/{quote(rest)}" if rest else "")
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    return redirect(target, code=308)
