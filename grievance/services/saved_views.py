"""Saved views: a handler's named sets of queue filters, seen and used by them alone.

A view keeps the query string of ``/cases`` with only the queue's filter parameters, so a
saved link can never carry anything else (a page cursor, the live queue's stamps). The
search box is not kept: it may hold a workplace as a worker wrote it, which retention erases
from the case and must not survive in a view.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grievance.auth.accounts import audit
from grievance.models import SavedView, User
from grievance.services.triage import TriageError

# The queue's filters (web/cases.py reads the same names).
FILTERS = (
    "q",
    "status",
    "severity",
    "category",
    "supplier",
    "site",
    "language",
    "assignee",
    "mine",
    "overdue",
    "person",
    "replied",
)
MAX_VIEWS = 30


def views_of(session: Session, user: User) -> list[SavedView]:
    """The user's saved views, by name."""
    return list(
        session.scalars(
            select(SavedView).where(SavedView.user_id == user.id).order_by(SavedView.name)
        )
    )


def clean_query(query: str, search: bool = True) -> str:
    """The filters of a queue query string, in a fixed order, empty values dropped; without
    the search box unless ``search``."""
    pairs = dict(parse_qsl(query[:2000]))
    kept = FILTERS if search else tuple(k for k in FILTERS if k != "q")
    return urlencode([(k, pairs[k][:200]) for k in kept if pairs.get(k)])


def save_view(session: Session, user: User, name: str, query: str) -> SavedView:
    """Save (or replace) the user's view ``name`` with the filters of ``query``."""
    name = " ".join(name.split())[:60]
    if not name:
        raise TriageError("give the view a name")
    filters = clean_query(query, search=False)
    existing = session.scalar(
        select(SavedView).where(SavedView.user_id == user.id, SavedView.name == name)
    )
    if existing is not None:
        existing.query = filters
        view = existing
    else:
        if len(views_of(session, user)) >= MAX_VIEWS:
            raise TriageError(f"you have {MAX_VIEWS} saved views; delete one first")
        view = SavedView(user_id=user.id, name=name, query=filters)
        try:
            with session.begin_nested():
                session.add(view)
                session.flush()
        except IntegrityError:
            raise TriageError("a view of that name was saved at the same moment") from None
    audit(session, user, "view_saved", None, f"view={view.id}")
    return view


def delete_view(session: Session, user: User, view_id: int) -> None:
    """Delete one of the user's views; another user's is as missing as a deleted one."""
    view = session.get(SavedView, view_id)
    if view is None or view.user_id != user.id:
        raise TriageError("that view no longer exists")
    session.delete(view)
    audit(session, user, "view_deleted", None, f"view={view_id}")
