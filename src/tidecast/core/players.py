"""Media players installed on this host, and launching one on a playback URL.

A player is an executable found on PATH among the configured names. Its id is the SHA-1
of its resolved path, so it stays the same across restarts and differs between two
installs of the same program.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import shutil
from dataclasses import dataclass

from tidecast.core.errors import Conflict, InvalidInput, NotFound

log = logging.getLogger(__name__)

MAX_RUNNING = 8
"""Players started and not yet exited; a public method must not fork without bound."""

_NAMES = {
    "vlc": "VLC",
    "mpv": "mpv",
    "mplayer": "MPlayer",
    "ffplay": "ffplay",
    "smplayer": "SMPlayer",
    "celluloid": "Celluloid",
    "totem": "Videos (Totem)",
    "mpc-qt": "MPC-QT",
    "iina": "IINA",
}


@dataclass(frozen=True, slots=True)
class Player:
    id: str
    name: str
    path: str
    type: str = "proxy"  # the seed's enum: proxy (a local program) or aircast
    protocol: str | None = None
    icon: str | None = None


class PlayerService:
    def __init__(self, names: tuple[str, ...]) -> None:
        self._names = names
        self._children: set[asyncio.Task[int]] = set()

    def available(self) -> list[Player]:
        players: list[Player] = []
        seen: set[str] = set()
        for name in self._names:
            found = shutil.which(name)
            if found is None:
                continue
            path = os.path.realpath(found)
            if path in seen:
                continue
            seen.add(path)
            player_id = hashlib.sha1(path.encode(), usedforsecurity=False).hexdigest()
            players.append(Player(player_id, _NAMES.get(name, name), path))
        return players

    async def open(self, player_id: str, playback_url: str) -> Player:
        """Start the player on the URL, detached; it outlives the request."""
        if not playback_url.startswith(("http://", "https://")):
            raise InvalidInput("playback URL must be http(s)")
        if len(self._children) >= MAX_RUNNING:
            raise Conflict(f"{MAX_RUNNING} players started by tidecast are still running")
        for player in self.available():
            if player.id == player_id:
                break
        else:
            raise NotFound(f"unknown player {player_id}", field="player_id")
        process = await asyncio.create_subprocess_exec(
            player.path,
            playback_url,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        # The URL is not logged: a transport URL in it may carry credentials.
        log.info("started %s (pid %s)", player.name, process.pid)
        # Reap the child when it exits, so no zombie is left behind.
        reaper = asyncio.create_task(process.wait())
        self._children.add(reaper)
        reaper.add_done_callback(self._children.discard)
        return player
