"""What can go wrong talking to BillRun, each with a message an operator can act on."""

from __future__ import annotations


class BillrunError(Exception):
    """A failure talking to BillRun. ``code`` is stable (API answers); the message is for people."""

    code = "billrun_error"
    transient = False  # worth retrying later without any change on either side

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unreachable(BillrunError):
    """No answer, a broken connection, a timeout or a 5xx: BillRun is down or overloaded."""

    code = "billrun_unreachable"
    transient = True


class BadCredentials(BillrunError):
    """The OAuth2 token endpoint refused the client id and secret."""

    code = "bad_credentials"


class NotBillrun(BillrunError):
    """The URL answered, but not as BillRun does."""

    code = "not_billrun"


class PluginNotEnabled(BillrunError):
    """BillRun answered the plugin API with not-found: the webhooks plugin is not enabled."""

    code = "plugin_not_enabled"


class PermissionRefused(BillrunError):
    """BillRun took the token but refused the plugin call (no login, no write permission, bad scope)."""

    code = "permission_refused"


class TokenRejected(BillrunError):
    """The plugin API answered 401 ``invalid_token`` (expired or revoked): get a new token."""

    code = "invalid_token"
    transient = True


class PluginRefused(BillrunError):
    """The plugin answered ``status: 0``."""

    code = "plugin_refused"
    transient = True


class DuplicateWebhookId(PluginRefused):
    """``create`` with a webhook id BillRun already holds (``{"status":0,"code":500}``)."""

    code = "duplicate_webhook_id"


class RefusedUrl(BillrunError):
    """The BillRun URL itself cannot be used (scheme, host, a cloud metadata address)."""

    code = "bad_url"
