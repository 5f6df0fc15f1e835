"""What one admin command is: its name on the wire, who may call it, its parameters,
its own error codes, and what the audit log records of it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from tidecast.api.admin.params import Params
from tidecast.core.admin_auth import Admin
from tidecast.core.audit import AuditAction, Record
from tidecast.core.errors import TidecastError
from tidecast.core.services import Services
from tidecast.core.users import User

ParamKind = Literal["string", "integer", "boolean", "id_list", "secret"]
"""``boolean``: true/false, yes/no, 1/0; ``id_list``: ``1,2,3``; ``secret``: a string
that is never logged nor audited."""

Auth = Literal["none", "operator"]
"""``none``: anyone (logging in, captchas); ``operator``: a SessionID or admin API key of
an operator (99998 without a valid one, 99999 for a non-operator)."""


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    kind: ParamKind
    description: str
    required: bool = False


@dataclass(frozen=True, slots=True)
class ErrorCode:
    """One entry of ``ErrorCode``/``ErrorText``. ``text`` None shows the error's own
    message (safe by the core's contract); ``status`` is the HTTP status."""

    number: int
    text: str | None = None
    status: int = 200


ErrorKey = str | type[TidecastError]
"""A core ``reason`` tag; ``"missing:<param>"`` / ``"invalid:<param>"`` for a missing or
malformed parameter (names lower-case); or a core error class (matched along its MRO)."""


@dataclass(slots=True)
class Call:
    """One authenticated, validated invocation, as a handler sees it."""

    services: Services
    params: Params
    address: str | None
    admin: Admin | None
    base_url: str = ""
    """scheme://host:port as the client addressed this instance."""
    record: Record = field(default_factory=Record)
    """What the audit log names as the action's object (a login, ``plan:3``…) and records
    besides (never a secret)."""

    @property
    def me(self) -> User:
        """The operator calling (commands with ``auth="operator"`` always have one)."""
        assert self.admin is not None
        return self.admin.user


Handler = Callable[[Call], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    handler: Handler
    summary: str
    auth: Auth = "operator"
    params: tuple[Param, ...] = ()
    errors: Mapping[ErrorKey, ErrorCode] = field(default_factory=dict)
    audit: AuditAction | None = None
    """The audit log's action for this command (None: it changes nothing)."""
    extension: bool = True
    """A tidecast command, not in seed 001."""
