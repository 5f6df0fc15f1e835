"""tidecast as a person runs it: `python -m tidecast serve` in a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from support.server_process import serving

pytestmark = pytest.mark.e2e


def test_serve_persists_across_restarts(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with serving(data) as base:
        version = httpx.get(base + "/webui/api/service?method=get_version").json()
        assert version["error"] is None and version["result"]["code"] > 0
        token = httpx.get(base + "/server/api?method=get_api_access_token").json()["result"][
            "token"
        ]
        added = httpx.get(
            base + "/server/api",
            params={
                "method": "playlist_add_item",
                "token": token,
                "title": "Kept",
                "infohash": "0a4848271c91ce2d8965ce416267c25047dc8141",
            },
        ).json()
        assert isinstance(added["result"], int)
        flipped = httpx.get(
            base + "/server/api",
            params={"method": "set_allow_remote_access", "token": token, "value": 1},
        ).json()
        assert flipped["result"] == "ok"
        docs = httpx.get(base + "/docs")
        assert docs.status_code == 200 and "playlist_add_item" in docs.text
        spec = httpx.get(base + "/openapi.json").json()
        assert "playlist_get" in spec["paths"]["/server/api"]["get"]["x-tidecast-methods"]
    assert (data / "tidecast.db").exists()
    assert (data / "logs" / "tidecast.log").exists()
    with serving(data) as base:
        again = httpx.get(base + "/server/api?method=get_api_access_token").json()["result"]
        assert again["token"] == token
        items = httpx.get(
            base + "/server/api", params={"method": "playlist_get", "token": token}
        ).json()["result"]
        assert [i["title"] for i in items["playlist"]] == ["Kept"]
    log = (data / "logs" / "tidecast.log").read_text()
    assert token not in log


def test_cli_help_and_config_show(tmp_path: Path) -> None:
    help_text = subprocess.run(
        [sys.executable, "-m", "tidecast", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "serve" in help_text and "config" in help_text
    serve_help = subprocess.run(
        [sys.executable, "-m", "tidecast", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for flag in ("--host", "--port", "--data-dir", "--database-url", "--trusted-proxies"):
        assert flag in serve_help
    config = tmp_path / "tidecast.toml"
    config.write_text('port = 7000\nlog_level = "warning"\n')
    env = dict(
        os.environ,
        TIDECAST_DATABASE_URL="postgresql://alice:hunter2-secret@db.example/tide",
        TIDECAST_SECRET_KEY="very-secret-key",
        TIDECAST_LOG_LEVEL="debug",
    )
    shown = subprocess.run(
        [
            sys.executable,
            "-m",
            "tidecast",
            "--config",
            str(config),
            "config",
            "show",
            "--data-dir",
            str(tmp_path),
            "--log-level",
            "error",
        ],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    assert "port = 7000" in shown  # from the file
    assert "log_level = error" in shown  # flag beats environment beats file
    assert "postgresql://alice:********@db.example/tide" in shown
    assert "hunter2-secret" not in shown and "very-secret-key" not in shown
    bad = subprocess.run(
        [sys.executable, "-m", "tidecast", "config", "show", "--port", "99999"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode != 0 and "port" in bad.stderr and "Traceback" not in bad.stderr
