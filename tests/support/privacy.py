"""Searching everything the database holds, for what must not be there."""

from __future__ import annotations

from grievance.db import Base
from grievance.runtime import Runtime


def all_rows_text(runtime: Runtime) -> str:
    """Every value of every table, as text, for searching."""
    chunks = []
    with runtime.db.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(table.select()):
                chunks.append(repr(tuple(row)))
    return "\n".join(chunks)
