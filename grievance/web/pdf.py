"""PDFs of the app's own pages, with WeasyPrint fetching nothing but the app's static files.

WeasyPrint follows ``<link>``, ``@import`` and ``url()`` to any http or file URL it is given.
Relative URLs were once resolved against the request's ``Host`` header, so a buyer could make
the server fetch internal URLs and local files into a PDF, or hold web threads on a host that
never answers. Now the base URL is ``PUBLIC_BASE_URL`` (never the request), and the fetcher
answers only ``<PUBLIC_BASE_URL>/static/...`` from the static folder on disk, and ``data:``
URLs, which carry their content inline; every other URL is refused without a connection.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from grievance.runtime import Runtime


def render_pdf(runtime: Runtime, html: str, static_folder: str) -> bytes:
    """``html`` (a page of this app) as PDF."""
    import weasyprint
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    base = runtime.settings.public_base_url.rstrip("/") + "/"
    static = Path(static_folder).resolve()

    class StaticOnly(URLFetcher):  # type: ignore[misc]
        """The app's static files and ``data:`` URLs; nothing from the network or the disk."""

        def __init__(self) -> None:
            super().__init__(allowed_protocols=("data",), allow_redirects=False)

        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith(base + "static/"):
                name = url[len(base) + len("static/") :].split("?")[0].split("#")[0]
                path = (static / name).resolve()
                if path.is_relative_to(static) and path.is_file():
                    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": kind})
                raise ValueError(f"no such static file: {name}")
            if url.startswith("data:"):
                return super().fetch(url, headers)
            raise ValueError("only the app's own static files are fetched for a PDF")

    fetcher = StaticOnly()
    document = weasyprint.HTML(string=html, base_url=base, url_fetcher=fetcher)
    pdf: bytes = document.write_pdf()
    return pdf
