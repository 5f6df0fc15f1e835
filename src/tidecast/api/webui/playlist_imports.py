"""Importing an M3U file, and the page that follows a background task (an import, or an
external playlist's update) with a progress bar.

An upload is spooled to a file the task owns and imported in the background by the
core's ImportService (all entries or none). The task page works without JavaScript: it
reloads itself every few seconds (a refresh inside ``<noscript>``). With JavaScript,
static/playlist.js polls the JSON status endpoint, moves the ``<progress>`` bar and
reloads the page once the task has ended. A task is shown to the account that started
it only; anyone else's is "not found".
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tidecast.api.webui.forms import read_upload
from tidecast.api.webui.pages import HEADERS, see_other
from tidecast.api.webui.playlist_listing import owner_of
from tidecast.api.webui.sessions import CSRF_FIELD, Visitor
from tidecast.api.webui.ui import WebUI
from tidecast.core.errors import NotFound, PayloadTooLarge
from tidecast.core.services import Services
from tidecast.core.tasks import TaskInfo
from tidecast.core.users import User

IMPORT_CAP = 32 * 1024 * 1024
"""The web UI's largest upload: a form is read into memory before it is spooled, so it is
capped below ``upload_max_bytes`` (hundreds of thousands of M3U entries still fit)."""
MAX_PROBLEMS_SHOWN = 20
TASK_KINDS = {
    "playlist_import": "Importing an M3U file",
    "external_playlist_update": "Updating an external playlist",
}


def task_path(task_id: int) -> str:
    return f"/webui/playlist/task/{task_id}"


@dataclass(frozen=True, slots=True)
class TaskView:
    """A task as its page shows it; ``counts`` are the import's (empty while it runs)."""

    id: int
    title: str
    state: str
    progress: int
    error: str | None
    counts: dict[str, int]
    problems: list[dict[str, Any]]
    problem_count: int
    status_url: str


def task_view(task: TaskInfo) -> TaskView:
    result = task.result if isinstance(task.result, dict) else {}
    counts = {
        key: int(result[key])
        for key in ("imported", "updated", "removed", "duplicates")
        if isinstance(result.get(key), int)
    }
    problems = result.get("problems")
    return TaskView(
        id=task.id,
        title=TASK_KINDS.get(task.kind, "Working"),
        state=task.state,
        progress=task.progress,
        error=task.error,
        counts=counts,
        problems=list(problems)[:MAX_PROBLEMS_SHOWN] if isinstance(problems, list) else [],
        problem_count=int(result.get("problem_count") or 0),
        status_url=f"{task_path(task.id)}/status",
    )


class ImportPages:
    def __init__(self, ui: WebUI) -> None:
        self._ui = ui
        self._services: Services = ui.services
        self._limit = min(self._services.settings.upload_max_bytes, IMPORT_CAP)

    async def form(self, request: Request, visitor: Visitor, user: User) -> Response:
        return self._form(request, visitor, {})

    async def start(self, request: Request, visitor: Visitor, user: User) -> Response:
        """Spool the uploaded file and start its import; the browser goes to its task page."""
        try:
            fields, files = await read_upload(request, self._limit + 64 * 1024)
        except PayloadTooLarge:
            megabytes = self._limit // (1024 * 1024)
            error = f"The file is larger than {megabytes} MB."
            return self._form(request, visitor, {"file": error}, status=413)
        self._ui.sessions.check_csrf(visitor, fields.get(CSRF_FIELD))
        upload = files.get("file")
        if upload is None:
            return self._form(request, visitor, {"file": "Choose an M3U file."}, status=400)
        if not upload.data.strip():
            return self._form(request, visitor, {"file": "That file is empty."}, status=400)
        imports = self._services.imports
        path = await imports.spool(io.BytesIO(upload.data), self._limit)
        task_id = await imports.start_import(owner_of(user), path)
        return see_other(task_path(task_id))

    async def task(self, request: Request, visitor: Visitor, user: User) -> Response:
        view = task_view(await self._task(request, user))
        return self._ui.pages.render(request, visitor, "playlist_task.html", task=view)

    async def status(self, request: Request, visitor: Visitor, user: User) -> Response:
        """``{"state": "running"|"done"|"failed", "progress": 0-100, "error": ...}``."""
        task = await self._task(request, user)
        body = {"id": task.id, "state": task.state, "progress": task.progress, "error": task.error}
        return JSONResponse(body, headers=HEADERS)

    async def _task(self, request: Request, user: User) -> TaskInfo:
        task_id: int = request.path_params["task_id"]
        task = await self._services.tasks.get(task_id)
        if task.owner != owner_of(user):
            raise NotFound(f"task {task_id} not found")
        return task

    def _form(
        self, request: Request, visitor: Visitor, errors: dict[str, str], status: int = 200
    ) -> Response:
        return self._ui.pages.render(
            request,
            visitor,
            "playlist_import.html",
            status=status,
            errors=errors,
            limit_mb=self._limit // (1024 * 1024),
        )
