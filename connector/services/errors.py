"""What a use case refuses, independent of how the interface answers it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ServiceError(Exception):
    """A refused request; *message* says what is wrong and, where it can, how to fix it."""

    def __init__(self, message: str, fields: Mapping[str, Any] | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})
        self.code = code  # a stable machine name, where the kind alone is not precise enough


class NotFound(ServiceError):
    """The thing does not exist for this caller (another tenant's looks the same as none)."""


class Gone(ServiceError):
    """The thing was the caller's and has been removed (told apart from one it never had)."""


class Conflict(ServiceError):
    """The thing exists but its state forbids the change (disabled, in flight, taken)."""


class Forbidden(ServiceError):
    """The caller may not do this at all."""


class Invalid(ServiceError):
    """The input is well-formed but not acceptable (unknown tenant, no sample, wrong type)."""


class Unauthorized(ServiceError):
    """The credential presented is unknown or revoked."""
