"""A throwaway PostgreSQL server for the test suite.

The storage and API tests run against a real PostgreSQL server that the suite
starts itself with ``initdb``/``pg_ctl`` (Debian's ``postgresql`` package).
Nothing is mocked.

Policy on missing binaries: :func:`postgres_available` returns ``False`` locally
(so the caller may skip), but raises when the ``CI`` environment variable is
set, so a CI run can never silently skip the PostgreSQL tests.

Running as root: ``initdb`` and ``postgres`` refuse to run as root, so when
``os.geteuid() == 0`` they are run as the ``postgres`` system user (via
``runuser`` or ``setpriv``). The data directory then has to be reachable by that
user; if ``base_dir`` is not (pytest's ``tmp_path`` lives under a 0700 root-owned
directory), the data directory and socket directory are placed in a fresh
``tempfile.mkdtemp()`` directory instead, which :meth:`PostgresServer.stop`
removes again. The server log always goes to ``base_dir / "server.log"``.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path

__all__ = [
    "APP_PASSWORD",
    "APP_USER",
    "PostgresServer",
    "PostgresUnavailable",
    "find_postgres_bin_dir",
    "postgres_available",
]

APP_USER = "tidecast"
APP_PASSWORD = "secret-pw"
SUPERUSER = "postgres"  # bootstrap superuser; only reachable over the unix socket (trust)
SYSTEM_USER = "postgres"  # OS user that runs initdb/postgres when we are root

_PG_ROOT = Path("/usr/lib/postgresql")
_REQUIRED_BINARIES = ("initdb", "pg_ctl", "postgres", "psql")
_DB_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
# sockaddr_un.sun_path is 108 bytes on Linux; leave room for "/.s.PGSQL.NNNNN" and NUL.
_MAX_SOCKET_DIR_LEN = 107 - len("/.s.PGSQL.65535") - 1
_START_ATTEMPTS = 3
_LOG_TAIL_LINES = 40


class PostgresUnavailable(RuntimeError):
    """PostgreSQL binaries are missing (raised loudly when running under CI)."""


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no", "off")


def _has_binaries(bin_dir: Path) -> bool:
    return all(os.access(bin_dir / name, os.X_OK) for name in _REQUIRED_BINARIES)


def _version_key(path: Path) -> tuple[int, ...]:
    # /usr/lib/postgresql/<version>/bin; versions are "15", "16", or old-style "9.6".
    parts = re.findall(r"\d+", path.parent.name)
    return tuple(int(p) for p in parts) if parts else (-1,)


def find_postgres_bin_dir() -> Path | None:
    """Directory holding initdb/pg_ctl/postgres/psql, or ``None``.

    Prefers the highest version under /usr/lib/postgresql/*/bin, then falls back
    to PATH (following symlinks, so Debian's psql wrapper is not picked up on
    its own).
    """
    candidates = sorted(_PG_ROOT.glob("*/bin"), key=_version_key, reverse=True)
    for bin_dir in candidates:
        if _has_binaries(bin_dir):
            return bin_dir
    found = shutil.which("pg_ctl")
    if found is not None:
        bin_dir = Path(found).resolve().parent
        if _has_binaries(bin_dir):
            return bin_dir
    return None


def postgres_available() -> bool:
    """True if the PostgreSQL server binaries can be found.

    Returns ``False`` when they are missing, *except* under CI (``CI`` env var
    set), where it raises :class:`PostgresUnavailable` so the tests fail loudly
    instead of being skipped.
    """
    problem: str | None = None
    if find_postgres_bin_dir() is None:
        problem = (
            f"no PostgreSQL binaries were found under {_PG_ROOT}/*/bin or on PATH; "
            "install Debian's 'postgresql' package (apt-get install -y postgresql)"
        )
    elif os.geteuid() == 0:
        try:
            _system_user()
        except PostgresUnavailable as exc:
            problem = str(exc)
    if problem is None:
        return True
    if running_in_ci():
        raise PostgresUnavailable(f"CI is set but PostgreSQL cannot be used: {problem}")
    return False


def _system_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        raise PostgresUnavailable(
            f"running as root, but there is no {SYSTEM_USER!r} system user to run "
            "initdb/postgres as (Debian's 'postgresql' package creates it)"
        ) from None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _traversable_by(path: Path, user: pwd.struct_passwd) -> bool:
    """Whether ``user`` can search every directory from / down to ``path``."""
    groups = set(os.getgrouplist(user.pw_name, user.pw_gid))
    current = path.resolve()
    for directory in (current, *current.parents):
        st = directory.stat()
        if st.st_uid == user.pw_uid:
            bit = stat.S_IXUSR
        elif st.st_gid in groups:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            return False
    return True


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class PostgresServer:
    """A private PostgreSQL cluster living in ``base_dir``.

    Usage::

        server = PostgresServer(tmp_dir)
        server.start()
        url = server.create_database("tidecast_test")
        # postgresql://tidecast:secret-pw@127.0.0.1:<port>/tidecast_test
        ...
        server.stop()
    """

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = Path(base_dir).resolve()
        self.log_path = self.base_dir / "server.log"
        self.host = "127.0.0.1"
        self.port: int | None = None
        self.user = APP_USER
        self.password = APP_PASSWORD
        self.bin_dir: Path | None = None
        # Where the data and socket directories live: base_dir, or a private
        # mkdtemp() dir when running as root and base_dir is unreachable for
        # the postgres user (or when the socket path would be too long).
        self.runtime_dir: Path | None = None
        self.data_dir: Path | None = None
        self.socket_dir: Path | None = None
        self._owned_tmp_dirs: list[Path] = []
        self._as_user: pwd.struct_passwd | None = None
        self._started = False

    # ----------------------------------------------------------------- public

    @property
    def running(self) -> bool:
        return self._started

    def start(self) -> None:
        """initdb a fresh cluster and start it; blocks until it accepts connections."""
        if self._started:
            return
        bin_dir = find_postgres_bin_dir()
        if bin_dir is None:
            raise PostgresUnavailable(
                f"no PostgreSQL binaries under {_PG_ROOT}/*/bin or on PATH "
                "(apt-get install -y postgresql)"
            )
        self.bin_dir = bin_dir
        self._as_user = _system_user() if os.geteuid() == 0 else None
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self._prepare_dirs()
        # Register before anything is started so a crash mid-start is cleaned up too.
        atexit.register(self.stop)
        self._started = True
        try:
            self._initdb()
            self._start_server()
            self._psql(
                f'CREATE ROLE "{APP_USER}" LOGIN CREATEDB PASSWORD {_sql_literal(APP_PASSWORD)}'
            )
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server (``pg_ctl stop -m fast``) and remove private temp dirs.

        Safe to call any number of times, including when start() failed halfway.
        """
        if not self._started:
            return
        self._started = False
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        try:
            if self.data_dir is not None and (self.data_dir / "postmaster.pid").exists():
                self._stop_server()
        finally:
            for tmp in self._owned_tmp_dirs:
                shutil.rmtree(tmp, ignore_errors=True)
            self._owned_tmp_dirs.clear()

    def url_for(self, name: str) -> str:
        """``postgresql://tidecast:secret-pw@127.0.0.1:<port>/<name>`` (no driver suffix)."""
        self._require_running()
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{name}"

    def create_database(self, name: str) -> str:
        """Create database ``name`` owned by role ``tidecast``; return its URL."""
        self._check_name(name)
        self._require_running()
        self._psql(f'CREATE DATABASE "{name}" OWNER "{APP_USER}"')
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` (if it exists), disconnecting any sessions."""
        self._check_name(name)
        self._require_running()
        self._psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    # --------------------------------------------------------------- internals

    def _require_running(self) -> None:
        if not self._started or self.port is None:
            raise RuntimeError("PostgresServer is not running; call start() first")

    @staticmethod
    def _check_name(name: str) -> None:
        if not _DB_NAME_RE.match(name):
            raise ValueError(f"invalid database name {name!r} (use [A-Za-z_][A-Za-z0-9_]*)")

    def _mkdtemp(self) -> Path:
        path = Path(tempfile.mkdtemp(prefix="tidecast-pg-"))
        path.chmod(0o755)
        self._owned_tmp_dirs.append(path)
        return path

    def _prepare_dirs(self) -> None:
        user = self._as_user
        if user is None or _traversable_by(self.base_dir, user):
            runtime = self.base_dir
        else:
            runtime = self._mkdtemp()
        socket_dir = runtime / "sock"
        if len(str(socket_dir)) > _MAX_SOCKET_DIR_LEN:
            socket_dir = self._mkdtemp() / "sock"
        data_dir = runtime / "data"
        if data_dir.exists():
            raise RuntimeError(f"{data_dir} already exists; use a fresh base_dir")
        socket_dir.mkdir(mode=0o700, exist_ok=True)
        data_dir.mkdir(mode=0o700)
        if user is not None:
            for path in (runtime, data_dir, socket_dir, socket_dir.parent):
                os.chown(path, user.pw_uid, user.pw_gid)
        self.runtime_dir = runtime
        self.data_dir = data_dir
        self.socket_dir = socket_dir

    def _env(self) -> dict[str, str]:
        # Drop libpq/PG* settings from the caller's environment so they cannot
        # redirect our commands to some other server.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        env["LANG"] = "C"
        if self._as_user is not None:
            env["HOME"] = self._as_user.pw_dir
            env["USER"] = env["LOGNAME"] = self._as_user.pw_name
        return env

    def _wrap(self, argv: list[str]) -> list[str]:
        """Prefix argv so it runs as the postgres system user when we are root."""
        user = self._as_user
        if user is None:
            return argv
        if shutil.which("runuser"):
            return ["runuser", "-u", user.pw_name, "--", *argv]
        if shutil.which("setpriv"):
            return [
                "setpriv",
                f"--reuid={user.pw_uid}",
                f"--regid={user.pw_gid}",
                "--init-groups",
                "--",
                *argv,
            ]
        raise PostgresUnavailable("running as root but neither runuser nor setpriv is available")

    def _bin(self, name: str) -> str:
        assert self.bin_dir is not None
        return str(self.bin_dir / name)

    def _run(self, argv: list[str], *, as_pg_user: bool, timeout: float = 120) -> str:
        cmd = self._wrap(argv) if as_pg_user else argv
        proc = subprocess.run(
            cmd,
            cwd=self.runtime_dir,
            env=self._env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"command failed with exit code {proc.returncode}: {' '.join(cmd)}\n"
                f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
            )
        return proc.stdout

    def _initdb(self) -> None:
        assert self.data_dir is not None and self.socket_dir is not None
        self._run(
            [
                self._bin("initdb"),
                "--pgdata",
                str(self.data_dir),
                "--username",
                SUPERUSER,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                # C collation, but UTF-8 character classes: lower() folds "É" as a
                # server set up with a UTF-8 locale does.
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            as_pg_user=True,
        )
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": _sql_literal(str(self.socket_dir)),
            "max_connections": "200",
            "password_encryption": "'scram-sha-256'",
            "fsync": "off",
            "full_page_writes": "off",
            "synchronous_commit": "off",
            "logging_collector": "off",
            "log_destination": "'stderr'",
        }
        conf = "".join(f"{key} = {value}\n" for key, value in settings.items())
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as fh:
            fh.write("\n# --- tidecast test suite ---\n" + conf)

    def _start_server(self) -> None:
        assert self.data_dir is not None
        last_error: RuntimeError | None = None
        for _attempt in range(_START_ATTEMPTS):
            port = _free_port()
            # Without -l, pg_ctl hands its stdout to the postmaster: we pass an fd
            # opened by us, so the log lands in base_dir even when the server runs
            # as another user that could not open that path itself.
            with self.log_path.open("ab") as log:
                log_offset = log.tell()
                proc = subprocess.run(
                    self._wrap(
                        [
                            self._bin("pg_ctl"),
                            "start",
                            "--wait",
                            "--timeout=60",
                            "--pgdata",
                            str(self.data_dir),
                            "--options",
                            f"-p {port}",
                        ]
                    ),
                    cwd=self.runtime_dir,
                    env=self._env(),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    timeout=120,
                    check=False,
                )
            if proc.returncode == 0:
                self.port = port
                return
            tail = self._log_tail(log_offset)
            last_error = RuntimeError(
                f"pg_ctl start failed with exit code {proc.returncode} "
                f"(data dir {self.data_dir}, port {port}); tail of {self.log_path}:\n{tail}"
            )
            # Another process may have grabbed the port between probing and binding.
            if not any(s in tail for s in ("could not bind", "already in use", "listen socket")):
                break
        assert last_error is not None
        raise last_error

    def _stop_server(self) -> None:
        assert self.data_dir is not None
        pid = self._postmaster_pid()
        try:
            self._run(
                [
                    self._bin("pg_ctl"),
                    "stop",
                    "--wait",
                    "--timeout=60",
                    "--mode=fast",
                    "--pgdata",
                    str(self.data_dir),
                ],
                as_pg_user=True,
                timeout=90,
            )
        except Exception:
            # Last resort so no server outlives the test session.
            if pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGQUIT)
                    deadline = time.monotonic() + 10
                    while time.monotonic() < deadline:
                        os.kill(pid, 0)
                        time.sleep(0.05)
                    os.kill(pid, signal.SIGKILL)
            raise

    def _postmaster_pid(self) -> int | None:
        assert self.data_dir is not None
        try:
            first = (self.data_dir / "postmaster.pid").read_text().splitlines()[0]
            return int(first)
        except (OSError, IndexError, ValueError):
            return None

    def _psql(self, sql: str) -> str:
        """Run SQL as the superuser over the unix socket (trust auth)."""
        assert self.socket_dir is not None and self.port is not None
        # Root may connect to the socket directly; no need to switch users.
        return self._run(
            [
                self._bin("psql"),
                "--no-psqlrc",
                "--quiet",
                "--set=ON_ERROR_STOP=1",
                "--host",
                str(self.socket_dir),
                "--port",
                str(self.port),
                "--username",
                SUPERUSER,
                "--dbname",
                "postgres",
                "--command",
                sql,
            ],
            as_pg_user=False,
            timeout=60,
        )

    def _log_tail(self, offset: int = 0) -> str:
        try:
            with self.log_path.open("rb") as fh:
                fh.seek(offset)
                data = fh.read().decode("utf-8", errors="replace")
        except OSError as exc:
            return f"<could not read {self.log_path}: {exc}>"
        lines = data.splitlines()[-_LOG_TAIL_LINES:]
        return "\n".join(lines) if lines else "<empty>"

    def __repr__(self) -> str:
        state = f"port={self.port}" if self._started else "stopped"
        return f"PostgresServer({str(self.base_dir)!r}, {state})"
