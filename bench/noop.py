"""The no-op reference endpoint, added by the bench to the connector's own app.

``POST /bench/noop/<token>`` does what the ingest endpoint does minus the connector's own work: the
same WSGI server, threads and Flask app route it, it reads the whole body from the request stream
the way the ingest does (``request.get_data(cache=False)``) and looks at the content type, and it
answers a JSON object of the same shape and size (``jsonify``, status 200). It does not decode the
form, check the token, validate or touch the database. Its path is 4 bytes shorter than
``/ingest/billrun/<token>``.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify, request

NOOP_PATH = "/bench/noop/"
_ANSWER = {
    "status": 1,
    "id": "evt_" + "0" * 22,
    "type": "subscribers.update",
    "fanout": "pending",
    "schema_valid": True,
}


def add_noop(app: Flask) -> None:
    @app.post(NOOP_PATH + "<token>")
    def bench_noop(token: str) -> tuple[Response, int]:
        body = request.get_data(cache=False)
        if not body or not request.content_type:
            return jsonify(status=0), 400
        return jsonify(_ANSWER), 200
