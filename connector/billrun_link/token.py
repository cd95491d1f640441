"""OAuth2 client credentials against BillRun's ``/oauth2/token``.

The client id and secret go in the form body first; when BillRun refuses that, HTTP Basic (which
BillRun also accepts) is tried once and, if it works, used from then on. A token is kept until
``expires_in`` (less a margin) and dropped at once when the plugin API calls it invalid.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import requests

from connector.billrun_link.endpoint import CONNECT_TIMEOUT, READ_TIMEOUT, json_object, reason
from connector.billrun_link.errors import BadCredentials, NotBillrun, Unreachable

TOKEN_PATH = "/oauth2/token"
UNAVAILABLE = frozenset({502, 503, 504})  # a proxy in front of a BillRun that is down or overloaded
EXPIRY_MARGIN_SECONDS = 30.0
DEFAULT_EXPIRES_IN = 3600.0
FORM = "form"
BASIC = "basic"


@dataclass(frozen=True)
class Credentials:
    url: str  # BillRun's base URL
    client_id: str
    client_secret: str


class TokenClient:
    """Bearer tokens for one BillRun OAuth2 client; safe to share between threads."""

    def __init__(self, credentials: Credentials, http: requests.Session) -> None:
        self.credentials = credentials
        self.http = http
        self.style = FORM  # how the credentials are sent; BASIC once the form was refused and Basic was not
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def token(self) -> str:
        """A valid access token: the cached one, or a new one."""
        with self._lock:
            if self._token is None or time.monotonic() >= self._expires_at:
                self._token, lifetime = self._request()
                self._expires_at = time.monotonic() + max(lifetime - min(EXPIRY_MARGIN_SECONDS, lifetime / 2), 0.0)
            return self._token

    def invalidate(self, token: str) -> None:
        """Forget *token* (the plugin API refused it); a newer one got meanwhile is kept."""
        with self._lock:
            if self._token == token:
                self._token = None

    def _request(self) -> tuple[str, float]:
        styles = (FORM, BASIC) if self.style == FORM else (BASIC,)
        refusal: BadCredentials | None = None
        for style in styles:
            try:
                answer = self._post(style)
            except BadCredentials as exc:
                refusal = refusal or exc
                continue
            self.style = style
            return answer
        assert refusal is not None
        raise refusal

    def _post(self, style: str) -> tuple[str, float]:
        creds = self.credentials
        data = {"grant_type": "client_credentials"}
        auth = None
        if style == FORM:
            data |= {"client_id": creds.client_id, "client_secret": creds.client_secret}
        else:
            auth = (creds.client_id, creds.client_secret)
        url = creds.url + TOKEN_PATH
        try:
            response = self.http.post(
                url, data=data, auth=auth, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT), allow_redirects=False
            )
        except requests.RequestException as exc:
            raise Unreachable(f"cannot reach BillRun at {creds.url}: {reason(exc)}") from None
        return _read_token_answer(url, response)


def _read_token_answer(url: str, response: requests.Response) -> tuple[str, float]:
    if response.status_code in UNAVAILABLE:
        raise Unreachable(f"BillRun's token endpoint {url} answered HTTP {response.status_code}")
    if 300 <= response.status_code < 400:
        location = response.headers.get("Location", "?")
        raise NotBillrun(f"{url} redirects to {location}: give the BillRun URL that answers directly")
    body = json_object(response)
    if body is None:
        raise NotBillrun(
            f"{url} answered HTTP {response.status_code} without an OAuth2 JSON answer: is this BillRun's URL?"
        )
    if response.status_code in (400, 401) and isinstance(body.get("error"), str):
        description = body.get("error_description") or body["error"]
        raise BadCredentials(f"BillRun refused the client id and secret ({body['error']}: {description})")
    token = body.get("access_token")
    if response.status_code != 200 or not isinstance(token, str) or not token:
        raise NotBillrun(f"{url} answered HTTP {response.status_code} without an access token: is this BillRun's URL?")
    expires_in = body.get("expires_in", DEFAULT_EXPIRES_IN)
    lifetime = float(expires_in) if isinstance(expires_in, (int, float)) and expires_in > 0 else DEFAULT_EXPIRES_IN
    return token, lifetime
