"""The ``tidecast`` command line: ``serve``, ``config show``, ``user add|list|passwd|remove``,
``node token|join|status|leave``.

Every setting of :mod:`tidecast.settings` is also a flag of ``serve`` (``--data-dir``,
``--database-url``, …), generated from the one declaration, so ``--help`` documents them.
The core is imported only by the commands that use it, so ``--help`` stays quick.
"""

from __future__ import annotations

import asyncio
import logging
import logging.handlers
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from tidecast import __version__
from tidecast.settings import Settings, SettingsError, load_settings, masked_items

if TYPE_CHECKING:
    from tidecast.core.accounts import AccountService
    from tidecast.core.services import Services
    from tidecast.core.users import User


def _setting_options(func: Any) -> Any:
    for name, field in reversed(list(Settings.model_fields.items())):
        flag = "--" + name.replace("_", "-")
        annotation = field.annotation
        if annotation is bool:
            option = click.option(
                f"{flag}/--no-{name.replace('_', '-')}", name, default=None, help=field.description
            )
        else:
            kind: Any = str
            if annotation is int:
                kind = int
            elif annotation is float:
                kind = float
            option = click.option(flag, name, type=kind, default=None, help=field.description)
        func = option(func)
    return func


def _load(config: Path | None, overrides: dict[str, Any]) -> Settings:
    try:
        return load_settings(config_file=config, overrides=overrides)
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from exc


def configure_logging(settings: Settings) -> None:
    settings.log_file.parent.mkdir(parents=True, exist_ok=True)
    handlers: list[logging.Handler] = [
        logging.StreamHandler(sys.stderr),
        logging.handlers.RotatingFileHandler(
            settings.log_file, maxBytes=10 * 1024 * 1024, backupCount=3
        ),
    ]
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    # httpx logs every request URL at INFO, query strings (often tokens) included.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # aiosqlite logs every statement with its parameters at DEBUG: password hashes, token
    # hashes and email addresses have no place in a log, whatever the level.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tidecast")
@click.option(
    "--config",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    envvar="TIDECAST_CONFIG",
    help="TOML config file (keys are setting names).",
)
@click.pass_context
def main(ctx: click.Context, config: Path | None) -> None:
    """tidecast: a self-hosted streaming engine speaking the Ace Stream engine HTTP API.

    Settings come from defaults, then the config file, then TIDECAST_* environment
    variables (e.g. TIDECAST_DATABASE_URL), then command-line flags.
    """
    ctx.obj = {"config": config}


@main.command()
@_setting_options
@click.pass_context
def serve(ctx: click.Context, /, **overrides: Any) -> None:
    """Start every API surface on one port (default 127.0.0.1:6878)."""
    import uvicorn

    from tidecast.app import create_app

    settings = _load(ctx.obj["config"], overrides)
    configure_logging(settings)
    app = create_app(settings)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        proxy_headers=False,
        server_header=False,
        # Access logs would write request URLs, and engine API URLs carry the token.
        access_log=False,
    )


@main.group()
def config() -> None:
    """Inspect the settings."""


@config.command("show")
@_setting_options
@click.pass_context
def config_show(ctx: click.Context, /, **overrides: Any) -> None:
    """Print every setting with its value (secrets masked) and its help."""
    settings = _load(ctx.find_root().obj["config"], overrides)
    for name, value, help_text in masked_items(settings):
        click.echo(f"{name} = {value}")
        click.echo(f"    {help_text}")


# -- tidecast user: the host's operator manages accounts -----------------------------------

T = TypeVar("T")


class _NotThisProcessCode(logging.Filter):
    """Building the services makes a security code; it is not the server's, so printing it
    (or writing it to the server's log) would only mislead whoever reads it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name != "tidecast.security"


def _quiet_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_NotThisProcessCode())
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", handlers=[handler]
    )


def _with_accounts(
    ctx: click.Context,
    overrides: dict[str, Any],
    action: Callable[[AccountService], Awaitable[T]],
) -> T:
    """Run ``action`` on the accounts of the configured database (see _with_services)."""
    return _with_services(ctx, overrides, lambda services: action(services.accounts))


def _with_services(
    ctx: click.Context,
    overrides: dict[str, Any],
    action: Callable[[Services], Awaitable[T]],
) -> T:
    """Run ``action`` on the configured database (migrated first), the server not started.

    Core errors become a one-line ``Error: …`` and exit code 1, never a traceback.
    """
    from tidecast.core.errors import TidecastError
    from tidecast.core.services import build_services

    settings = _load(ctx.find_root().obj["config"], overrides)
    _quiet_logging()

    async def run() -> T:
        services = build_services(settings)
        try:
            await services.db.migrate()
            return await action(services)
        finally:
            await services.fetcher.aclose()
            await services.db.dispose()

    try:
        return asyncio.run(run())
    except TidecastError as exc:
        raise click.ClickException(exc.message) from None
    except (click.ClickException, click.Abort):
        raise
    except Exception as exc:  # the database unreachable, a bad URL, a read-only disk…
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise click.ClickException(f"{type(exc).__name__}: {first_line}") from None


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise click.ClickException("no password on standard input")
        return password
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


_PASSWORD_STDIN = click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of prompting.",
)


@main.group()
def user() -> None:
    """Manage accounts, as the operator of this host.

    Works on the configured database (the same settings as `serve`) whether or not the
    server runs; no security code is needed.
    """


@user.command("add")
@click.argument("login")
@click.option(
    "--role", type=click.Choice(["admin", "user", "guest"]), default="user", show_default=True
)
@click.option("--nickname", help="Shown name (default: the login).")
@click.option("--email", help="Email address; the account can sign in with it too.")
@_PASSWORD_STDIN
@_setting_options
@click.pass_context
def user_add(
    ctx: click.Context,
    /,
    login: str,
    role: str,
    nickname: str | None,
    email: str | None,
    password_stdin: bool,
    **overrides: Any,
) -> None:
    """Create an account. Guests need no password (none is asked unless --password-stdin)."""

    from tidecast.core.errors import Conflict, InvalidInput
    from tidecast.core.users import is_online, normalize_login

    async def add(accounts: AccountService) -> User:
        name = normalize_login(login)
        if is_online(name):
            raise InvalidInput("online accounts are created at their home instance")
        if await _exists(accounts, name):
            raise Conflict(f"user {name} already exists")
        password = _read_password(password_stdin) if role != "guest" or password_stdin else None
        return await accounts.create(
            name, password, role=role, nickname=nickname, email=email, trusted=True
        )

    created = _with_accounts(ctx, overrides, add)
    click.echo(f"created {_role(created)} {created.login}")


@user.command("list")
@_setting_options
@click.pass_context
def user_list(ctx: click.Context, /, **overrides: Any) -> None:
    """List every account: login, nickname, role and last login (UTC)."""
    users = _with_accounts(ctx, overrides, lambda accounts: accounts.all())
    rows = [("LOGIN", "NICKNAME", "ROLE", "LAST LOGIN")] + [
        (u.login, u.nickname, _role(u), _when(u.last_login_at)) for u in users
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


@user.command("passwd")
@click.argument("login")
@_PASSWORD_STDIN
@_setting_options
@click.pass_context
def user_passwd(ctx: click.Context, /, login: str, password_stdin: bool, **overrides: Any) -> None:
    """Set an account's password; its sessions and tokens end."""

    async def passwd(accounts: AccountService) -> str:
        account = await accounts.get(login)
        await accounts.set_password(account.login, _read_password(password_stdin))
        return account.login

    click.echo(f"password of {_with_accounts(ctx, overrides, passwd)} changed")


@user.command("remove")
@click.argument("login")
@_setting_options
@click.pass_context
def user_remove(ctx: click.Context, /, login: str, **overrides: Any) -> None:
    """Delete an account (not `admin`, not the last operator)."""

    async def remove(accounts: AccountService) -> str:
        account = await accounts.get(login)
        await accounts.delete(account.login, actor=None, trusted=True)
        return account.login

    click.echo(f"removed {_with_accounts(ctx, overrides, remove)}")


@main.group()
def node() -> None:
    """Join this instance to a control instance as a streaming node, or let nodes join.

    On the control: `tidecast node token` prints a one-time join token. On the node:
    `tidecast node join <control_url> --token <token> --url <this node's public URL>`;
    the running node then reports to the control and serves keys the control signed.
    """


@node.command("token")
@_setting_options
@click.pass_context
def node_token(ctx: click.Context, /, **overrides: Any) -> None:
    """Print a one-time token (valid for an hour) with which a node joins this instance."""
    click.echo(_with_services(ctx, overrides, lambda s: s.servers.create_join_token()))


@node.command("join")
@click.argument("control_url")
@click.option("--token", "join_token", required=True, help="A join token from the control.")
@click.option("--url", "base_url", help="This node's public base URL (default: PUBLIC_URL).")
@click.option("--name", help="This node's name (default: SERVER_NAME).")
@click.option("--country-code", help="ISO two-letter country (default: SERVER_COUNTRY_CODE).")
@click.option("--city", help="This node's city (default: SERVER_CITY).")
@_setting_options
@click.pass_context
def node_join(
    ctx: click.Context,
    /,
    control_url: str,
    join_token: str,
    base_url: str | None,
    name: str | None,
    country_code: str | None,
    city: str | None,
    **overrides: Any,
) -> None:
    """Register this instance as a node of CONTROL_URL; restart `serve` to start reporting."""

    async def join(services: Services) -> str:
        settings = services.settings
        url = base_url or settings.public_url
        if not url:
            raise click.UsageError("--url (or the public_url setting) is required")
        config = await services.node.join(
            control_url,
            join_token,
            base_url=url,
            name=name or settings.server_name,
            country_code=country_code if country_code is not None else settings.server_country_code,
            city=city if city is not None else settings.server_city,
        )
        return f"joined {config.control_url} as server {config.server_id}"

    click.echo(_with_services(ctx, overrides, join))


@node.command("status")
@_setting_options
@click.pass_context
def node_status(ctx: click.Context, /, **overrides: Any) -> None:
    """Say whether this instance is a node, and of which control."""

    async def status(services: Services) -> str:
        await services.node.load()
        config = services.node.config
        if config is None:
            return "not a node"
        return f"node {config.server_id} of {config.control_url}"

    click.echo(_with_services(ctx, overrides, status))


@node.command("leave")
@_setting_options
@click.pass_context
def node_leave(ctx: click.Context, /, **overrides: Any) -> None:
    """Forget the control instance; this instance serves everyone as before."""

    async def leave(services: Services) -> str:
        await services.node.leave()
        return "left the control instance"

    click.echo(_with_services(ctx, overrides, leave))


def _role(account: User) -> str:
    from tidecast.core.users import ROLE_NAMES, Role

    return ROLE_NAMES[Role(account.type)]


async def _exists(accounts: AccountService, login: str) -> bool:
    from tidecast.core.errors import NotFound

    try:
        await accounts.get(login)
    except NotFound:
        return False
    return True


def _when(timestamp: int | None) -> str:
    if timestamp is None:
        return "never"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S")
