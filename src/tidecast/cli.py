"""The ``tidecast`` command line: ``serve``, ``config show``.

Every setting of :mod:`tidecast.settings` is also a flag of ``serve`` (``--data-dir``,
``--database-url``, …), generated from the one declaration, so ``--help`` documents them.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path
from typing import Any

import click

from tidecast import __version__
from tidecast.settings import Settings, SettingsError, load_settings, masked_items


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
    logs = settings.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    handlers: list[logging.Handler] = [
        logging.StreamHandler(sys.stderr),
        logging.handlers.RotatingFileHandler(
            logs / "tidecast.log", maxBytes=10 * 1024 * 1024, backupCount=3
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
