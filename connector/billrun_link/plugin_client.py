"""BillRun's webhooks plugin API, read exactly as the real plugin answers (reference/billrun.md §2).

- Parameters go as a form body (the plugin never parses JSON); the id of read, update and delete
  goes in the path (``/read/<id>``), as the plugin's route takes it.
- Answers are JSON whatever the Content-Type (``create`` says ``text/html``); every failure is
  ``status: 0`` with HTTP 200; ``read`` of a stored webhook may answer ``{"status":1,"webhook":{}}``;
  ``create`` with a taken id answers ``{"status":0,"code":500,...}``; ``update`` reads the misspelt
  ``webhook__url`` (sent together with ``webhook_url``, which fixed plugins read).
- A 401 ``invalid_token`` (expired or revoked token) gets one new token and one retry.
- Not-found (HTTP 404) means the plugin is not enabled; no login or permission errors
  (codes 17574, 17575) mean the OAuth2 client may not write.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from connector.billrun_link.endpoint import CONNECT_TIMEOUT, READ_TIMEOUT, json_object, reason
from connector.billrun_link.errors import (
    DuplicateWebhookId,
    NotBillrun,
    PermissionRefused,
    PluginNotEnabled,
    PluginRefused,
    TokenRejected,
    Unreachable,
)
from connector.billrun_link.token import UNAVAILABLE, TokenClient

PLUGIN_PATH = "/plugins/webhooks/"
PERMISSION_CODES = frozenset({17574, 17575})  # "No user login", "No permissions."
DUPLICATE_CODE = 500  # the error controller's answer to Mongo's duplicate key error


class PluginClient:
    """The four calls of the plugin API against one BillRun."""

    def __init__(self, tokens: TokenClient, http: requests.Session) -> None:
        self.tokens = tokens
        self.http = http
        self.base = tokens.credentials.url + PLUGIN_PATH

    def create(self, webhook_id: str, module: str, action: str, url: str) -> None:
        """Create the webhook; raises :class:`DuplicateWebhookId` when BillRun already holds the id."""
        self._call(
            "create",
            None,
            {"webhook_module": module, "webhook_action": action, "webhook_url": url, "webhook_id": webhook_id},
        )

    def exists(self, webhook_id: str) -> bool:
        """Whether BillRun holds the webhook (its content cannot be read: real BillRun answers ``{}``)."""
        try:
            self._call("read", webhook_id, {})
        except PluginRefused:
            return False
        return True

    def update(self, webhook_id: str, module: str, action: str, url: str) -> None:
        """Replace the webhook (the plugin deletes it and inserts it again, creating it when missing)."""
        self._call(
            "update",
            webhook_id,
            {"webhook_module": module, "webhook_action": action, "webhook__url": url, "webhook_url": url},
        )

    def delete(self, webhook_id: str) -> bool:
        """Delete the webhook; ``False`` when BillRun did not hold it (already gone: nothing to do)."""
        try:
            self._call("delete", webhook_id, {})
        except PluginRefused:
            return False
        return True

    def probe(self) -> None:
        """Prove the token works on the plugin API, changing nothing: a read of an id never used."""
        self.exists("billrun_connector_probe")

    def _call(self, action: str, webhook_id: str | None, params: Mapping[str, str]) -> dict[str, Any]:
        token = self.tokens.token()
        try:
            return self._send(action, webhook_id, params, token)
        except TokenRejected:
            self.tokens.invalidate(token)
            return self._send(action, webhook_id, params, self.tokens.token())

    def _send(self, action: str, webhook_id: str | None, params: Mapping[str, str], token: str) -> dict[str, Any]:
        url = self.base + action + (f"/{webhook_id}" if webhook_id else "")
        try:
            response = self.http.post(
                url,
                data=dict(params),
                headers={"Authorization": f"Bearer {token}"},
                timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise Unreachable(f"cannot reach BillRun's plugin API ({action}): {reason(exc)}") from None
        return _read_answer(action, response)


def _read_answer(action: str, response: requests.Response) -> dict[str, Any]:
    status = response.status_code
    body = json_object(response)
    if status == 401 and body is not None and body.get("error") == "invalid_token":
        raise TokenRejected(f"BillRun refused the access token: {body.get('error_description') or 'invalid_token'}")
    if status == 404:
        raise PluginNotEnabled(
            "BillRun answered not-found on /plugins/webhooks: enable the webhooks plugin "
            "(General Settings → Plugins) and try again"
        )
    if status in UNAVAILABLE:
        raise Unreachable(f"BillRun's plugin API ({action}) answered HTTP {status}")
    if body is None or body.get("status") not in (0, 1):
        raise NotBillrun(
            f"the plugin API ({action}) answered HTTP {status} with no BillRun status: is this BillRun's URL?"
        )
    if status in (401, 403) or (body["status"] == 0 and body.get("code") in PERMISSION_CODES):
        detail = body.get("message") or body.get("error_description") or body.get("error") or f"HTTP {status}"
        raise PermissionRefused(f"BillRun refused the plugin call ({detail}): the OAuth2 client needs the global scope")
    if status != 200:
        raise NotBillrun(f"the plugin API ({action}) answered HTTP {status}: is this BillRun's URL?")
    if body["status"] == 1:
        return body
    if action == "create" and body.get("code") == DUPLICATE_CODE:
        raise DuplicateWebhookId("BillRun already holds a webhook with this id")
    detail = _message(body)
    raise PluginRefused(f"BillRun's plugin refused {action}" + (f": {detail}" if detail else ""))


def _message(body: Mapping[str, Any]) -> str:
    data = body.get("data")
    nested = data.get("message") if isinstance(data, Mapping) else None
    message = body.get("message") or nested or ""
    return str(message)[:300]
