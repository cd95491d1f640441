"""A BillRun double: the webhooks plugin API and the OAuth2 token endpoint, written from
/work/shared/reference/billrun.md §2 (the real BillRun needs PHP and MongoDB), quirks included.

Run it as a process: ``python billrun_double.py --client-id ID --client-secret SECRET [--port 0]
[--expires-in 3600] [--plugin-disabled] [--basic-only]``; it prints ``listening on http://...``.

As the real one:
- ``POST /oauth2/token``: ``grant_type=client_credentials`` with the client in the form body or
  HTTP Basic; ``{"access_token","expires_in","token_type":"Bearer","scope":null}``; a wrong client
  answers 400 ``{"error":"invalid_client",...}`` (bshaffer's OAuth2 server).
- ``/plugins/<plugin>/<action>/<id>``: the route regex ``^/plugins/(\\w+)/(\\w+)/?(\\w*)`` (anchored at
  the start only: an id is cut at its first non-word character), any HTTP method, parameters from the
  query string and a form body (never JSON), case-insensitive action. Auth before anything: a Bearer
  header or ``access_token`` parameter; none answers 200 ``{"status":0,"code":17574,...}``; an expired
  or unknown token answers 401 ``{"error":"invalid_token",...,"status":0,"code":99001}``.
- ``create``: JSON with ``Content-Type: text/html``, slashes escaped as PHP does, always status 1; a
  missing id gets a 13-hex ``uniqid``; a taken id answers ``{"status":0,"code":500,"data":{...}}``.
- ``read``: ``{"status":1,"webhook":{}}`` (a Mongodloid entity serialises to nothing), ``{"status":0}``.
- ``update``: reads ``webhook__url`` (``webhook_url`` is ignored: stored as null), deletes by id and
  inserts again, always status 1.
- ``delete``: ``{"status":1,"webhook_id":id}`` or ``{"status":0}``.
- Plugin not enabled, or an unknown action (``list``): 404 with an empty JSON-typed body.

Control (for tests), under ``/_double/``: ``GET webhooks`` (the store), ``GET log`` (every request:
method, path, how the client authenticated), ``POST delete/<id>`` (behind the connector's back),
``POST down`` (every other request is cut without an answer) / ``POST up``, ``POST hang?seconds=N``
(every other request is answered N seconds late; 0 ends it), ``POST expire-tokens``,
``POST plugin?enabled=0|1``.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

ROUTE = re.compile(r"^/plugins/(\w+)/(\w+)/?(\w*)")
NO_LOGIN = {"status": 0, "code": 17574, "message": "No user login", "display": "No user login"}


def php_json(value: Any) -> bytes:
    """``json_encode`` as PHP writes it: no spaces, ``\\/`` for slashes, ``\\uXXXX`` for non-ASCII."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/").encode()


class State:
    def __init__(self, client_id: str, client_secret: str, expires_in: int, plugin_enabled: bool, basic_only: bool):
        self.client_id = client_id
        self.client_secret = client_secret
        self.expires_in = expires_in
        self.plugin_enabled = plugin_enabled
        self.basic_only = basic_only
        self.down = False
        self.hang = 0.0  # seconds every request waits before it is answered
        self.tokens: dict[str, float] = {}  # token -> expiry (time.time())
        self.webhooks: list[dict[str, Any]] = []  # the Mongo collection, in insertion order
        self.log: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def find(self, webhook_id: Any) -> dict[str, Any] | None:
        return next((doc for doc in self.webhooks if doc["webhook_id"] == webhook_id), None)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: State

    def log_message(self, *_args: object) -> None:
        pass

    def _answer(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _params(self) -> tuple[dict[str, str], dict[str, str]]:
        """(query params, form params): PHP fills $_POST only for urlencoded (or multipart) bodies."""
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        query = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
        form: dict[str, str] = {}
        if (self.headers.get("Content-Type") or "").startswith("application/x-www-form-urlencoded"):
            form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        return query, form

    def _handle(self) -> None:
        path = urlsplit(self.path).path
        query, form = self._params()
        if path.startswith("/_double/"):
            self._control(path[len("/_double/") :], query)
            return
        state = self.state
        with state.lock:
            if state.down:
                self.close_connection = True
                self.connection.close()  # cut without an answer: the client sees a broken connection
                return
            state.log.append({"method": self.command, "path": path, "auth": self._auth_style(form)})
            hang = state.hang
        if hang:
            time.sleep(hang)  # a BillRun that takes its time (outside the lock: other requests go on)
        params = {**query, **form}  # $request->get: POST before GET
        if path == "/oauth2/token":
            self._token(form)
            return
        match = ROUTE.match(path)
        if match is None:
            self._answer(404, b"<html><body>Not Found</body></html>", "text/html")
            return
        self._plugin(match.group(1), match.group(2), match.group(3), params)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def _auth_style(self, form: dict[str, str]) -> str:
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            return "basic"
        if header.startswith("Bearer "):
            return "bearer"
        return "form" if "client_secret" in form else "none"

    # -- OAuth2 ---------------------------------------------------------------------------------

    def _token(self, form: dict[str, str]) -> None:
        state = self.state
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            decoded = base64.b64decode(header[6:]).decode("utf-8", "replace")
            client_id, _, client_secret = decoded.partition(":")
        elif state.basic_only:
            client_id = client_secret = None
        if form.get("grant_type") != "client_credentials":
            error = {"error": "invalid_request", "error_description": "The grant type was not specified in the request"}
            self._answer(400, php_json(error))
            return
        if client_id != state.client_id or client_secret != state.client_secret:
            error = {"error": "invalid_client", "error_description": "The client credentials are invalid"}
            self._answer(400, php_json(error))
            return
        token = secrets.token_hex(20)
        with state.lock:
            state.tokens[token] = time.time() + state.expires_in
        answer = {"access_token": token, "expires_in": state.expires_in, "token_type": "Bearer", "scope": None}
        self._answer(200, php_json(answer))

    # -- the plugin API -------------------------------------------------------------------------

    def _plugin(self, plugin: str, action: str, path_id: str, params: dict[str, str]) -> None:
        state = self.state
        header = self.headers.get("Authorization", "")
        token = header[7:].strip() if header.startswith("Bearer ") else params.get("access_token")
        if not token:
            self._answer(200, php_json(NO_LOGIN))
            return
        with state.lock:
            expiry = state.tokens.get(token)
        if expiry is None or expiry < time.time():
            description = "The access token provided has expired" if expiry else "The access token provided is invalid"
            error = {"error": "invalid_token", "error_description": description, "status": 0, "code": 99001}
            self._answer(401, php_json(error))
            return
        handler = {
            "apicreate": self._create,
            "apiread": self._read,
            "apiupdate": self._update,
            "apidelete": self._delete,
        }
        hook = "api" + re.sub(r"[^A-Za-z0-9]", "", action.lower())
        if plugin != "webhooks" or not state.plugin_enabled or hook not in handler:
            self._answer(404, b"")  # responseNotFound(): JSON content type, nothing in the body
            return
        with state.lock:
            handler[hook](path_id, params)

    def _create(self, _path_id: str, params: dict[str, str]) -> None:
        webhook_id = params.get("webhook_id", f"{int(time.time() * 1e6):013x}"[-13:])
        if self.state.find(webhook_id) is not None:
            message = f'E11000 duplicate key error collection: billing.webhooks index: webhook_id_1 dup key: {{ : "{webhook_id}" }}'
            self._answer(
                200, php_json({"status": 0, "code": 500, "data": {"message": message}}), "text/html; charset=UTF-8"
            )
            return
        doc = {
            "webhook_module": params.get("webhook_module"),
            "webhook_action": params.get("webhook_action"),
            "webhook_url": params.get("webhook_url"),
            "webhook_id": webhook_id,
        }
        self.state.webhooks.append(doc)
        self._answer(200, php_json({"status": 1, "webhook": doc}), "text/html; charset=UTF-8")

    def _read(self, path_id: str, _params: dict[str, str]) -> None:
        found = self.state.find(path_id)
        self._answer(200, php_json({"status": 1, "webhook": {}} if found else {"status": 0}))

    def _update(self, path_id: str, params: dict[str, str]) -> None:
        doc = {
            "webhook_module": params.get("webhook_module"),
            "webhook_action": params.get("webhook_action"),
            "webhook_url": params.get("webhook__url"),
            "webhook_id": path_id,
        }
        self.state.webhooks = [w for w in self.state.webhooks if w["webhook_id"] != path_id]
        self.state.webhooks.append(doc)
        self._answer(200, php_json({"status": 1, "webhook": doc}))

    def _delete(self, path_id: str, _params: dict[str, str]) -> None:
        found = self.state.find(path_id)
        if found is None:
            self._answer(200, php_json({"status": 0}))
            return
        self.state.webhooks.remove(found)
        self._answer(200, php_json({"status": 1, "webhook_id": path_id}))

    # -- control --------------------------------------------------------------------------------

    def _control(self, command: str, query: dict[str, str]) -> None:
        state = self.state
        with state.lock:
            if command == "webhooks":
                body: Any = state.webhooks
            elif command == "log":
                body = state.log
            elif command.startswith("delete/"):
                webhook_id = command[len("delete/") :]
                state.webhooks = [w for w in state.webhooks if w["webhook_id"] != webhook_id]
                body = {"deleted": webhook_id}
            elif command in ("down", "up"):
                state.down = command == "down"
                body = {"down": state.down}
            elif command == "hang":
                state.hang = float(query.get("seconds", "0"))
                body = {"hang": state.hang}
            elif command == "expire-tokens":
                state.tokens.clear()
                body = {"expired": True}
            elif command == "plugin":
                state.plugin_enabled = query.get("enabled", "1") == "1"
                body = {"enabled": state.plugin_enabled}
            else:
                self._answer(404, b'{"error":"unknown control"}')
                return
        self._answer(200, json.dumps(body).encode())


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # connections cut while "down" are expected


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A BillRun double: webhooks plugin API and OAuth2.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument("--expires-in", type=int, default=3600)
    parser.add_argument("--plugin-disabled", action="store_true")
    parser.add_argument("--basic-only", action="store_true", help="Accept the client only through HTTP Basic.")
    args = parser.parse_args(argv)
    Handler.state = State(
        args.client_id, args.client_secret, args.expires_in, not args.plugin_disabled, args.basic_only
    )
    server = QuietServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
