"""One admin command: look it up, authenticate, check parameters, call, audit, answer.

The checks run in Oempro's order: the command exists (100003) -> the caller is an
operator (99998 without a valid SessionID or admin API key, 99999 for an account that is
not an operator) -> required parameters (every missing one is reported) -> the handler.
A command that changes something is written to the audit log, whether it succeeded or
failed, once its handler ran.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tidecast.api.admin.command import Call, Command
from tidecast.api.admin.envelope import failure, success
from tidecast.api.admin.params import Params
from tidecast.core.admin_auth import Admin
from tidecast.core.audit import ANONYMOUS
from tidecast.core.errors import MissingParameter, UnknownCommand
from tidecast.core.services import Services

COMMAND = "Command"
SESSION_ID = "SessionID"
API_KEYS = ("AdminAPIKey", "APIKey")
"""Oempro's admin key is ``AdminAPIKey`` (older docs: ``AdminApiKey``, the same name here);
5.9.4 examples pass it as ``APIKey``."""


def find(table: Mapping[str, Command], name: str | None) -> Command:
    command = table.get(name.strip().lower()) if name else None
    if command is None:
        raise UnknownCommand(f'Invalid API command: "{name or ""}" not found.')
    return command


async def execute(
    services: Services,
    table: Mapping[str, Command],
    params: Params,
    address: str | None,
    base_url: str = "",
) -> tuple[int, dict[str, Any]]:
    """``(HTTP status, envelope)``; never raises."""
    command: Command | None = None
    try:
        command = find(table, params.text(COMMAND))
        admin = await _authenticate(services, command, params)
        _check_required(command, params)
        result = await _run(command, Call(services, params, address, admin, base_url))
    except Exception as exc:  # every failure is answered in the envelope, never raised
        return failure(exc, command)
    return 200, success(result)


async def _run(command: Command, call: Call) -> dict[str, Any]:
    """The handler's answer; audited, failed or not, when the command changes something."""
    if command.audit is None:
        return await command.handler(call)
    actor = call.admin.user.login if call.admin is not None else ANONYMOUS
    outcome = call.services.audit.outcome(
        command.audit, actor=actor, address=call.address, record=call.record
    )
    async with outcome:
        return await command.handler(call)


async def _authenticate(services: Services, command: Command, params: Params) -> Admin | None:
    if command.auth == "none":
        return None
    keys = [key for key in (params.text(name) for name in API_KEYS) if key]
    return await services.admin_auth.authorize(params.text(SESSION_ID), keys)


def _check_required(command: Command, params: Params) -> None:
    missing = [
        MissingParameter(f"missing parameter {spec.name}", field=spec.name)
        for spec in command.params
        if spec.required and not params.given(spec.name)
    ]
    if len(missing) == 1:
        raise missing[0]
    if missing:
        raise ExceptionGroup("missing parameters", missing)
