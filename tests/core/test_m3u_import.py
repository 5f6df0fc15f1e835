"""Importing playlists: one transaction, broken lines reported, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tidecast.core.playlists import NO_OWNER, ItemFilter
from tidecast.core.services import Services


def write_playlist(path: Path, entries: int) -> Path:
    with path.open("w") as fh:
        fh.write("#EXTM3U\n")
        for n in range(entries):
            fh.write(f'#EXTINF:-1 group-title="G{n % 7}",Channel {n}\nacestream://{n:040x}\n')
    return path


async def test_cancelled_import_leaves_nothing(services: Services, tmp_path: Path) -> None:
    path = write_playlist(tmp_path / "big.m3u", 60_000)
    task_id = await services.imports.start_import(NO_OWNER, path)
    for _ in range(2000):
        if (await services.tasks.get(task_id)).progress >= 5:
            break
        await asyncio.sleep(0.005)
    assert services.tasks.cancel(task_id)
    await services.tasks.wait(task_id)
    task = await services.tasks.get(task_id)
    assert task.state == "failed" and task.error == "cancelled"
    page = await services.playlists.page(ItemFilter(owner=NO_OWNER, limit=1))
    assert page.total_items == 0  # all or nothing
    assert not path.exists()


async def test_long_attributes_are_kept(services: Services, tmp_path: Path) -> None:
    group = "G" * 600
    path = tmp_path / "long.m3u"
    path.write_text(
        f'#EXTM3U\n#EXTINF:-1 tvg-name="{"N" * 400}" group-title="{group}",Long\n'
        f"acestream://{'a' * 40}\n"
    )
    summary = await services.imports.import_file(NO_OWNER, path)
    assert summary.imported == 1 and summary.problem_count == 0
    item = (await services.playlists.page(ItemFilter(owner=NO_OWNER))).items[0]
    assert item.category == group


async def test_restart_marks_running_tasks_interrupted(services: Services) -> None:
    from tidecast.core.services import build_services
    from tidecast.storage import tasks_repo

    # A task row left "running" by a process that died mid-import.
    async with services.db.write() as conn:
        task_id = await tasks_repo.insert(conn, kind="playlist_import", owner=NO_OWNER, now=1)
    await services.stop()
    again = build_services(services.settings)
    await again.start()
    try:
        task = await again.tasks.get(task_id)
        assert (task.state, task.error) == ("failed", "interrupted by a restart")
    finally:
        await again.stop()
        await services.start()  # the fixture stops it once more
