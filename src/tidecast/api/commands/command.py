"""What one command is: its name on the wire, who may call it, its body fields, its handler.

Each command is declared once, with the gates of its seed badges: ``access`` (whether a
token is needed), ``role`` (the least role that passes), ``mode`` (the least frontend
mode that lets non-operators in) and ``error`` (the command's own error code, used for
failures that have no finer one, as the original server does).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from tidecast.core.access import Caller
from tidecast.core.errors import TidecastError
from tidecast.core.services import Services
from tidecast.core.users import Role, User

Mode = Literal["closed", "restricted", "open"]
MODE_RANK: dict[str, int] = {"closed": 0, "restricted": 1, "open": 2}

Access = Literal["none", "optional", "required"]
"""``none``: the token is ignored (login); ``optional``: used when given; ``required``."""

FieldKind = Literal["string", "integer", "boolean", "object", "array", "code", "avatar", "any"]
"""``code``: a string or a number (security codes); ``avatar``: ``{path}`` or a key string."""


@dataclass(frozen=True, slots=True)
class BodyField:
    name: str
    kind: FieldKind
    description: str
    required: bool = False


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """How an error renders: ``{code: status, message: {code, data?}}``.

    ``code`` None renders ``{code: status}`` alone. ``own`` uses the command's own error
    code instead (``code`` is then the fallback outside any command). ``detail`` adds the
    error's message (safe by the core's contract) as ``data``; ``fields`` renders an error
    naming a field as the original server's validation errors, ``{field: [message]}``.
    ``internal`` hides the message and logs the failure.
    """

    status: int
    code: str | None
    detail: bool = False
    own: bool = False
    fields: bool = False
    internal: bool = False


ErrorKey = str | type[TidecastError]
"""A core error's ``reason`` tag, or a core error class (matched along its MRO)."""


@dataclass(frozen=True, slots=True)
class Message:
    """An action's success: ``{code: 200, message: {code, data?}}``."""

    code: str
    data: Any = None


@dataclass(slots=True)
class Call:
    """One validated invocation, as a handler sees it."""

    services: Services
    caller: Caller
    body: dict[str, Any]
    user: User | None
    online_token: str | None

    @property
    def me(self) -> User:
        """The authenticated user (commands with ``access="required"`` always have one)."""
        assert self.user is not None
        return self.user

    @property
    def address(self) -> str | None:
        return str(self.caller.address) if self.caller.address is not None else None


Handler = Callable[[Call], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    handler: Handler
    summary: str
    access: Access
    role: Role
    mode: Mode
    error: str
    fields: tuple[BodyField, ...] = ()
    errors: Mapping[ErrorKey, ErrorReply] = field(default_factory=dict)
    passthrough: bool = False
    """Keep body keys not in ``fields`` (edits hand them to the core, which refuses what it
    does not know); otherwise they are dropped, as the original server's schemas do."""
    alias_of: str | None = None
    success: str | None = None
    """The success code of an action (``USER_CREATED``…); None for getters."""
