"""The command table: every admin command, by its name on the wire (matched without
regard to case)."""

from __future__ import annotations

from collections.abc import Mapping

from tidecast.api.admin import (
    account_commands,
    login_commands,
    plan_commands,
    server_commands,
    user_commands,
)
from tidecast.api.admin.command import Command


def _table(*groups: tuple[Command, ...]) -> dict[str, Command]:
    table: dict[str, Command] = {}
    for group in groups:
        for command in group:
            key = command.name.lower()
            if key in table:
                raise ValueError(f"admin command {command.name} declared twice")
            table[key] = command
    return table


COMMANDS: Mapping[str, Command] = _table(
    login_commands.COMMANDS,
    account_commands.COMMANDS,
    user_commands.COMMANDS,
    plan_commands.COMMANDS,
    server_commands.COMMANDS,
)
"""Lower-cased name -> command."""
