"""The audit log: entries newest first, paged and filtered, never holding a secret."""

from __future__ import annotations

from tidecast.core.audit import AuditLog, scrub
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
