"""The audit log records every admin action, logins included, and never a secret."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from tidecast.api.admin.table import COMMANDS
from tidecast.core import totp
from tidecast.core.audit import ACTIONS
from tidecast.core.services import Services
from tidecast.core.users import User
from tidecast.settings import Settings

from .conftest import PASSWORD, AdminApi, codes


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(admin_captcha_after_failures=50)


async def test_actions_are_recorded_without_secrets(
    client_from: Callable[[str], httpx.AsyncClient],
    operator: User,
    admin_key: str,
    services: Services,
) -> None:
    api = AdminApi(client_from("192.0.2.10"))
    secrets: list[str] = [PASSWORD, admin_key, "wrong password 1"]
    assert codes(await api.call("Admin.Login", Username="boss", Password=secrets[2])) == [3]
    login = await api.ok("Admin.Login", Username="boss", Password=PASSWORD)
    session = login["SessionID"]
    secrets.append(session)
    created = await api.ok("Admin.APIKey.Create", SessionID=session, Label="cron")
    secrets.append(created["APIKey"])
    enrolment = await api.ok("Admin.2FA.Enable", SessionID=session)
    secrets.append(enrolment["Secret"])
    tfa = totp.code_at(enrolment["Secret"], time.time())  # six digits: not searched for
    recovery = (await api.ok("Admin.2FA.Confirm", SessionID=session, TfaCode=tfa))["RecoveryCodes"]
    secrets.extend(recovery)
    new_password = "the new user's password"
    secrets.append(new_password)
    await api.ok("User.Create", SessionID=session, Username="gina", Password=new_password)
    secrets.append((await api.ok("Server.JoinToken.Create", SessionID=session))["JoinToken"])
    assert codes(await api.call("Plan.Delete", SessionID=session, PlanID=77)) == [100012]

    body = await api.ok("AuditLog.Get", SessionID=session, RecordsPerRequest=100)
    entries = body["Entries"]
    assert body["TotalEntries"] == len(entries)
    assert [(e["Action"], e["Detail"]["result"]) for e in reversed(entries)] == [
        ("admin.login", "failed"),
        ("admin.login", "ok"),
        ("admin.apikey.create", "ok"),
        ("admin.2fa.enable", "ok"),
        ("admin.2fa.confirm", "ok"),
        ("user.create", "ok"),
        ("server.join_token.create", "ok"),
        ("plan.delete", "failed"),
    ]
    failed_login, login_entry = entries[-1], entries[-2]
    assert failed_login["Actor"] == "-" and failed_login["Target"] == "boss"
    assert failed_login["Detail"]["reason"] == "bad_credentials"
    assert login_entry["Actor"] == "boss" and login_entry["Address"] == "192.0.2.10"
    assert entries[0]["Target"] == "plan:77"
    assert entries[0]["Detail"]["error"] == ["plan_not_found"]  # the core reason, as the web UI
    assert entries[2]["Target"] == "gina"

    logins = await api.ok("AuditLog.Get", SessionID=session, Action="admin.login")
    assert logins["TotalEntries"] == 2
    page = await api.ok("AuditLog.Get", SessionID=session, RecordsPerRequest=1, RecordsFrom=1)
    assert [e["Action"] for e in page["Entries"]] == ["server.join_token.create"]

    async with services.db.read() as conn:
        rows = (await conn.exec_driver_sql("SELECT * FROM audit_log")).all()
    stored = repr(rows)
    for secret in secrets:
        assert secret not in stored


def test_every_audited_command_records_a_core_action_name() -> None:
    audited = {command.audit for command in COMMANDS.values() if command.audit is not None}
    assert audited <= set(ACTIONS)
    assert "device.revoke" in audited and "user.create" in audited


async def test_entries_of_one_actor(
    api: AdminApi, session: str, services: Services, operator: User
) -> None:
    await services.audit.record("user.create", actor="someone", target="x")
    await api.ok("Plan.Create", SessionID=session, Name="Solo", DeviceLimit=1, DurationDays=30)
    mine = await api.ok("AuditLog.Get", SessionID=session, Actor=" boss ")
    assert [(e["Action"], e["Actor"]) for e in mine["Entries"]] == [
        ("plan.create", "boss"),
        ("admin.login", "boss"),
    ]
    theirs = await api.ok("AuditLog.Get", SessionID=session, Actor="someone", Action="plan.create")
    assert (theirs["Entries"], theirs["TotalEntries"]) == ([], 0)
    everyone = await api.ok("AuditLog.Get", SessionID=session)
    assert everyone["TotalEntries"] == 3
