"""One access-log line per request, in logfmt (see :mod:`connector.logfmt`), on the logger
``connector.access``::

    method=POST path=/ingest/billrun/*** ingest_url=ing_0aB3... status=200 duration_ms=4.2 client=10.0.0.5

Credentials never reach the log: an ingest URL's token is replaced by ``***`` (the ``ingest_url``
field names the ingest URL by its id, or says ``invalid``), and so are the values of the
``access_token`` query parameter and of the plugin API's target URL parameters (a target URL, like
Zapier's hook URLs, may itself be a credential). It is WSGI middleware, so it sees every answer,
errors included, and times the whole response, body included.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wsgi import ClosingIterator

from connector.ingest_urls import INGEST_PATH, read_token
from connector.logfmt import logfmt

access_log = logging.getLogger("connector.access")

HIDDEN = "***"
SECRET_PARAMETERS = re.compile(r"(?<![^&])(access_token|webhook_url|webhook__url)=[^&]*", re.IGNORECASE)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class AccessLog:
    """Wraps a WSGI app; logs each request once its response is closed."""

    def __init__(self, app: WsgiApp, secret_key: str) -> None:
        self.app = app
        self.secret_key = secret_key

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not access_log.isEnabledFor(logging.INFO):
            return self.app(environ, start_response)
        started = time.perf_counter()
        status = ["-"]

        def recording_start_response(status_line: str, headers: Any, exc_info: Any = None) -> Any:
            status[0] = status_line.split(" ", 1)[0]
            return start_response(status_line, headers, exc_info)

        try:
            body = self.app(environ, recording_start_response)
        except BaseException:
            self._log(environ, "500", started)
            raise
        return ClosingIterator(body, lambda: self._log(environ, status[0], started))

    def _log(self, environ: dict[str, Any], status: str, started: float) -> None:
        path, ingest_url = self.shown_path(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""))
        query = SECRET_PARAMETERS.sub(lambda m: f"{m.group(1)}={HIDDEN}", environ.get("QUERY_STRING", ""))
        fields: dict[str, object] = {
            "method": environ.get("REQUEST_METHOD"),
            "path": f"{path}?{query}" if query else path,
        }
        if ingest_url is not None:
            fields["ingest_url"] = ingest_url
        fields.update(
            status=status,
            duration_ms=f"{(time.perf_counter() - started) * 1000:.1f}",
            client=environ.get("REMOTE_ADDR"),
        )
        access_log.info(logfmt(**fields))

    def shown_path(self, path: str) -> tuple[str, str | None]:
        """*path* without an ingest URL's token, and the id of that ingest URL (``invalid`` when the
        token is not one of this connector's); ``None`` for any other path."""
        if not path.startswith(INGEST_PATH):
            return path, None
        token = path[len(INGEST_PATH) :]
        token_id = read_token(self.secret_key, token) if token else None
        return INGEST_PATH + HIDDEN, token_id or "invalid"
