"""The one error hierarchy of tidecast's core.

Every failure a caller can cause or meet is one of these classes. They carry no HTTP:
each API surface maps them to its own envelope in exactly one place, by walking the
exception's class hierarchy (``type(exc).__mro__``), so a new subclass is rendered like
its parent until a dialect says otherwise.

``message`` is safe to show to a client; it never holds a secret or a traceback.
``reason`` is an optional stable tag (``"password_too_short"``, ``"user_exists"``, …) for
surfaces whose clients expect a finer code than the class gives; it is never prose.
"""

from __future__ import annotations


class TidecastError(Exception):
    """Base class of every error the core raises on purpose."""

    default_message = "internal error"

    def __init__(
        self, message: str | None = None, *, field: str | None = None, reason: str | None = None
    ) -> None:
        self.message = message or self.default_message
        self.field = field
        self.reason = reason
        super().__init__(self.message)


class InvalidInput(TidecastError):
    """A parameter is malformed or out of range; ``field`` names it when known."""

    default_message = "invalid input"


class MissingParameter(InvalidInput):
    """A required parameter was not given."""

    default_message = "missing parameter"


class UnknownCommand(TidecastError):
    """The method or command named by the caller does not exist."""

    default_message = "unknown method"


class NotFound(TidecastError):
    """The thing addressed (item, playlist, task, content) does not exist."""

    default_message = "not found"


class AuthenticationRequired(TidecastError):
    """No valid credential was presented for something that needs one."""

    default_message = "invalid token"


class AccessDenied(TidecastError):
    """The caller is known (or its address is) but is not allowed to do this."""

    default_message = "access denied"


class FeatureClosed(AccessDenied):
    """The instance has this feature switched off (frontend mode, guest logins, …)."""

    default_message = "closed on this instance"


class TooManyAttempts(AccessDenied):
    """Too many failed logins for an account or an address; the lockout ends by itself."""

    default_message = "too many failed attempts, try again later"


class Conflict(TidecastError):
    """The request contradicts the current state (duplicate, wrong state)."""

    default_message = "conflict"


class ItemLocked(Conflict):
    """A locked playlist item refuses edits and deletion until it is unlocked."""

    default_message = "item is locked"


class UnsupportedContent(TidecastError):
    """The query or transport file is of a kind tidecast does not understand."""

    default_message = "unknown protocol"


class ContentUnavailable(TidecastError):
    """Content could not be obtained: upstream down, not a transport file, timed out."""

    default_message = "cannot get transport file"


class FetchRefused(AccessDenied):
    """A URL was refused before fetching: private address for a remote caller, bad scheme."""

    default_message = "url not allowed"


class PayloadTooLarge(InvalidInput):
    """An upload or a fetched body exceeded its configured size limit."""

    default_message = "payload too large"


class NotSupported(TidecastError):
    """A documented feature tidecast deliberately does not provide (e.g. Google sign-in)."""

    default_message = "not supported"


class StorageUnavailable(TidecastError):
    """The database could not be reached or failed unexpectedly (logged; a 500 to clients)."""

    default_message = "storage unavailable"


ALL_ERRORS: tuple[type[TidecastError], ...] = (
    TidecastError,
    InvalidInput,
    MissingParameter,
    UnknownCommand,
    NotFound,
    AuthenticationRequired,
    AccessDenied,
    FeatureClosed,
    TooManyAttempts,
    Conflict,
    ItemLocked,
    UnsupportedContent,
    ContentUnavailable,
    FetchRefused,
    PayloadTooLarge,
    NotSupported,
    StorageUnavailable,
)
"""Every class above, for tests that run each error through each dialect's envelope."""
