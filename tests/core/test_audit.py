"""The audit log: entries newest first, paged and filtered (by action, by actor), never
holding a secret; an action's outcome recorded ok or failed with its reasons."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tidecast.core.audit import ACTIONS, ANONYMOUS, AuditAction, AuditLog, Record, scrub
from tidecast.core.errors import Conflict, InvalidInput, NotFound, StorageUnavailable
from tidecast.storage.database import Database


def test_scrub_drops_keys_that_name_secrets() -> None:
    detail = {
        "password": "hunter22",
        "new_Password": "x",
        "api_key": "k",
        "TfaCode": "123456",
        "session_id": "s",
        "captcha": "ABCDEF",
        "join_token": "t",
        "secret": "s",
        "result": "ok",
        "fields": ["Name", "Password"],
    }
    assert scrub(detail) == {"result": "ok", "fields": ["Name", "Password"]}


async def test_record_and_read_back_paged_and_filtered(db: Database) -> None:
    audit = AuditLog(db)
    for index in range(5):
        await audit.record(
            "admin.login" if index % 2 == 0 else "user.create",
            actor="boss",
            target=f"t{index}",
            detail={"n": index},
            address="10.0.0.1",
        )
    entries, total = await audit.entries(offset=0, limit=2)
    assert total == 5
    assert [entry.target for entry in entries] == ["t4", "t3"]
    logins, total = await audit.entries(offset=1, limit=10, action="admin.login")
    assert total == 3
    assert [entry.target for entry in logins] == ["t2", "t0"]
    assert logins[0].detail == {"n": 2} and logins[0].address == "10.0.0.1"


async def test_attacker_chosen_text_is_stored_as_data(db: Database) -> None:
    audit = AuditLog(db)
    await audit.record("admin.login", actor="", target="x\x00y" + "z" * 1000, detail={})
    (entry,), _ = await audit.entries()
    assert entry.actor == "-"
    assert entry.target.startswith("xyz") and len(entry.target) == 255


@pytest.fixture
async def any_db(database_url: str) -> AsyncIterator[Database]:
    """A migrated database on SQLite, then on PostgreSQL."""
    database = Database(database_url)
    await database.migrate()
    yield database
    await database.dispose()


async def test_entries_of_one_actor(any_db: Database) -> None:
    audit = AuditLog(any_db)
    for index, actor in enumerate(("root", "olga", "root", "", "root")):
        action = AuditAction.USER_CREATE if index < 3 else AuditAction.ADMIN_LOGIN
        await audit.record(action, actor=actor, target=f"t{index}")
    mine, total = await audit.entries(actor="root")
    assert total == 3
    assert [entry.target for entry in mine] == ["t4", "t2", "t0"]
    both, total = await audit.entries(actor="root", action="user.create", offset=1)
    assert total == 2 and [entry.target for entry in both] == ["t0"]
    nobody, _ = await audit.entries(actor=ANONYMOUS)
    assert [entry.target for entry in nobody] == ["t3"]
    assert await audit.entries(actor="Root") == ([], 0)  # a login, matched exactly
    assert (await audit.entries(actor=None))[1] == 5


async def test_an_outcome_is_recorded_ok_or_failed_with_its_reason(db: Database) -> None:
    audit = AuditLog(db)
    async with audit.outcome(
        AuditAction.PLAN_CREATE, actor="root", address="10.0.0.1", record=Record(target="Solo")
    ) as record:
        record.target, record.detail = "plan:1", {"name": "Solo", "password": "hunter22"}
    with pytest.raises(Conflict):
        async with audit.outcome(AuditAction.USER_CREATE, actor="root", address=None) as record:
            record.target = "bob"
            raise Conflict("user bob already exists", reason="user_exists")
    with pytest.raises(NotFound):
        async with audit.outcome(AuditAction.PLAN_DELETE, actor="root", address=None):
            raise NotFound("no such plan")  # no reason: its class names it
    with pytest.raises(ExceptionGroup):
        async with audit.outcome(AuditAction.USER_UPDATE, actor="root", address=None):
            raise ExceptionGroup("two", [InvalidInput("a"), RuntimeError("a bug")])

    grouped, no_reason, conflict, ok = (await audit.entries())[0]
    assert (ok.action, ok.actor, ok.target, ok.address) == (
        "plan.create",
        "root",
        "plan:1",
        "10.0.0.1",
    )
    assert ok.detail == {"name": "Solo", "result": "ok"}  # the secret dropped
    assert (conflict.target, conflict.detail) == (
        "bob",
        {"result": "failed", "error": ["user_exists"]},
    )
    assert no_reason.detail == {"result": "failed", "error": ["not_found"]}
    assert grouped.detail == {"result": "failed", "error": ["invalid_input", "internal"]}


async def test_an_entry_that_cannot_be_written_does_not_undo_the_action(
    db: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    audit = AuditLog(db)

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise StorageUnavailable("database down")

    monkeypatch.setattr(audit, "record", broken)
    async with audit.outcome(AuditAction.GRANT_REVOKE, actor="root", address=None):
        done = True
    assert done
    assert "audit log write failed for grant.revoke: database down" in caplog.text


def test_action_names_are_unique_and_storable() -> None:
    assert len(set(ACTIONS)) == len(ACTIONS) == len(AuditAction)
    assert all(len(name) <= 64 and name == name.lower() for name in ACTIONS)
    assert "admin.login" in ACTIONS  # recorded by the core's admin logins
