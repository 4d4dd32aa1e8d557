"""The public rules of procedure, ``/procedure/<language>`` (LkSG §8(2) and (4)), and workers'
rights, ``/rights/<language>``: pages written by :mod:`grievance.services.procedure`.
``/p/<language>`` is the short link HELP sends.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, current_app, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from grievance.language import Catalog
from grievance.language.dates import format_day
from grievance.runtime import Runtime
from grievance.services import directory
from grievance.services.procedure import build_page, build_rights_page, published

bp = Blueprint("procedure", __name__)


def _runtime() -> Runtime:
    runtime: Runtime = current_app.extensions["grievance"]
    return runtime


@bp.get("/procedure")
def default() -> ResponseReturnValue:
    """The rules in the deployment's first language."""
    return redirect(url_for("procedure.page", language=_runtime().settings.languages[0]))


@bp.get("/p/<language>")
def short(language: str) -> ResponseReturnValue:
    """The short link HELP sends."""
    return redirect(url_for("procedure.page", language=language))


@bp.get("/procedure/<language>")
def page(language: str) -> ResponseReturnValue:
    """The rules of procedure in ``language``; 404 for a language the line does not speak."""
    runtime = _runtime()
    catalog = runtime.catalogs.get(language)
    if catalog is None:
        abort(404)
    with runtime.sessions() as session:
        built = build_page(runtime, catalog, directory.entries(session, runtime))
        version = published(session, built)
        number, since = version.version, version.published_at
    return render_template(
        "procedure.html",
        page=built,
        version=built.version_line.format(version=number, date=_day(since, catalog)),
        other_languages=built.other_languages,
        languages=[(c.language, c.name) for c in runtime.catalogs.values()],
        endpoint="procedure.page",
    )


@bp.get("/rights")
def rights_default() -> ResponseReturnValue:
    """Workers' rights in the deployment's first language."""
    return redirect(url_for("procedure.rights", language=_runtime().settings.languages[0]))


@bp.get("/rights/<language>")
def rights(language: str) -> ResponseReturnValue:
    """Workers' rights in ``language``, public; 404 for a language the line does not speak."""
    runtime = _runtime()
    catalog = runtime.catalogs.get(language)
    if catalog is None:
        abort(404)
    with runtime.sessions() as session:
        built = build_rights_page(runtime, catalog, directory.entries(session, runtime))
    return render_template(
        "procedure.html",
        page=built,
        version="",
        other_languages=built.other_languages,
        languages=[(c.language, c.name) for c in runtime.catalogs.values()],
        endpoint="procedure.rights",
    )


def _day(moment: datetime, catalog: Catalog) -> str:
    """The day the version took effect, written the language's way ("6 Dec")."""
    return format_day(
        moment.date().isoformat(), catalog.locale or catalog.language, catalog.digits == "native"
    )
