"""Errors services raise for the web layers to turn into answers, in one place
(``grievance/web/errors.py``).

Services used to raise the built-in ``LookupError`` for "not found, or not yours", and views
caught it around whole service calls, so a ``KeyError`` bug anywhere inside (a subclass of
``LookupError``) became a silent 404. :class:`NotFound` is raised on purpose, and only it
means 404.
"""

from __future__ import annotations


class NotFound(Exception):
    """Not found, or not the caller's to see: answered 404, as for something that does not
    exist, so that nobody learns what exists elsewhere."""
