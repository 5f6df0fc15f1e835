"""The command table: every command of seed 003, by its name on the wire."""

from __future__ import annotations

from collections.abc import Mapping

from tidecast.api.commands import auth_commands, my_account_commands, user_commands
from tidecast.api.commands.command import Command


def _table(*groups: tuple[Command, ...]) -> dict[str, Command]:
    table: dict[str, Command] = {}
    for group in groups:
        for command in group:
            if command.name in table:
                raise ValueError(f"command {command.name} declared twice")
            table[command.name] = command
    return table


COMMANDS: Mapping[str, Command] = _table(
    auth_commands.COMMANDS, user_commands.COMMANDS, my_account_commands.COMMANDS
)
