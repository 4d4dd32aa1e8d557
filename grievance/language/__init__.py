"""Languages: message catalogs, detection, native digits and SMS segment counting.

Pure: no Flask, SQLAlchemy, Twilio or Redis.
"""

from grievance.language.catalog import Catalog, CatalogError, Text, load_catalogs, render
from grievance.language.detect import Detection, detect
from grievance.language.digits import only_digits, to_ascii_digits
from grievance.language.segments import SegmentCount, count_segments

__all__ = [
    "Catalog",
    "CatalogError",
    "Detection",
    "SegmentCount",
    "Text",
    "count_segments",
    "detect",
    "load_catalogs",
    "only_digits",
    "render",
    "to_ascii_digits",
]
