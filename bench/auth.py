"""Logins per second (argon2id) and what checking a token adds to a request.

Starts `tidecast serve` (SQLite in a temporary data directory), creates an account with
`tidecast user add`, and prints:

1. logins per second through the engine API's ``sign_in`` (an argon2id verification, a
   credential written, ``last_login_at`` updated), one client at a time and several at
   once; and through the core (``AccountService.authenticate``) in this process;
2. the latency of a private engine method with a valid token (``check_auth`` with nobody
   signed in, which reads no database) against a public one without a token
   (``get_status``), both answering a small object: the difference is what checking the
   token adds to a request;
3. in this process, the checks alone: ``EngineApiToken.verify`` (the engine API token),
   and ``TokenService.verify`` for a bearer token (the other surfaces): cold (first use:
   a database read and the last-used write), after its cache expired (a read), cached;
   and ``AccountService.user_for_token`` (the check plus reading the account).

Target (issue 4): checking a token adds under 1 ms to a request.
Usage: python bench/auth.py [--seconds 5] [--requests 3000] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from engine_process import engine_token, tidecast_server

from tidecast.core.credentials import _CACHE_SECONDS, COMMAND_KIND
from tidecast.core.services import build_services
from tidecast.settings import Settings

PASSWORD = "bench password 1"


def add_user(data_dir: Path, login: str) -> None:
    subprocess.run(
        [
            *(sys.executable, "-m", "tidecast", "user", "add", login),
            *("--data-dir", str(data_dir), "--password-stdin"),
        ],
        input=PASSWORD,
        text=True,
        check=True,
        capture_output=True,
    )


async def rate(action: Callable[[], Awaitable[object]], seconds: float, workers: int) -> float:
    """Completed actions per second with ``workers`` running at once."""
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await action()
            done += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return done / (time.perf_counter() - start)


async def engine_logins(base: str, token: str, seconds: float, workers: int) -> float:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        params = {"method": "sign_in", "token": token, "login": "bench", "password": PASSWORD}

        async def sign_in() -> None:
            reply = (await client.get("/server/api", params=params)).json()
            assert reply["result"] == "ok", reply

        return await rate(sign_in, seconds, workers)


def request_latencies(urls: dict[str, str], requests: int) -> dict[str, list[float]]:
    """Per-request milliseconds, the URLs interleaved so drift hits them alike."""
    times: dict[str, list[float]] = {name: [] for name in urls}
    with httpx.Client(timeout=30) as client:
        for url in urls.values():  # warm up the connection and both paths
            for _ in range(200):
                client.get(url)
        for _ in range(requests):
            for name, url in urls.items():
                start = time.perf_counter()
                reply = client.get(url)
                times[name].append((time.perf_counter() - start) * 1000)
                assert reply.json()["error"] is None, reply.text
    return times


async def in_process(data_dir: Path, seconds: float, workers: int) -> list[tuple[str, float]]:
    """Microseconds per check (and core logins per second), on the same SQLite database."""
    settings = Settings(data_dir=data_dir, network_probe_target="127.0.0.1:9", players=())
    services = build_services(settings)
    await services.db.migrate()
    await services.engine_token.ensure_registered()
    try:
        rows: list[tuple[str, float]] = []
        accounts, tokens = services.accounts, services.tokens
        for n in (1, workers):
            logins = await rate(
                lambda: accounts.authenticate("bench", PASSWORD, address="127.0.0.1"), seconds, n
            )
            rows.append((f"core authenticate, {n} at once (logins/s)", logins))

        engine = services.engine_token
        presented = engine.reveal()
        loops = 100_000
        start = time.perf_counter()
        for _ in range(loops):
            engine.verify(presented)
        rows.append(("EngineApiToken.verify (µs)", (time.perf_counter() - start) / loops * 1e6))

        user = await accounts.get("bench")
        issued = [await tokens.issue(COMMAND_KIND, str(user.id)) for _ in range(300)]

        async def each(label: str, rounds: int = 1) -> None:
            start = time.perf_counter()
            for _ in range(rounds):
                for token in issued:
                    await tokens.verify(token, {COMMAND_KIND})
            per = (time.perf_counter() - start) / (rounds * len(issued)) * 1e6
            rows.append((f"TokenService.verify, {label} (µs)", per))

        await each("cold: read + last-used write")
        await each("cached", rounds=50)
        await asyncio.sleep(_CACHE_SECONDS + 0.2)
        await each("cache expired: read")

        start = time.perf_counter()
        for token in issued:
            await accounts.user_for_token(token, {COMMAND_KIND})
        per = (time.perf_counter() - start) / len(issued) * 1e6
        rows.append(("AccountService.user_for_token, cached token (µs)", per))
        return rows
    finally:
        await services.fetcher.aclose()
        await services.db.dispose()


def command_latencies(base: str, token: str, requests: int) -> dict[str, list[float]]:
    """/api/command checkAuth without a token (refused before any check) and with a user's
    login token (checked, and its account read): the difference is the token check."""
    bodies = {
        "user command, no token (401)": {"cmd": "checkAuth", "body": {"body": {}}},
        "user command checkAuth, login token": {
            "cmd": "checkAuth",
            "body": {"body": {}, "authorization": token},
        },
    }
    times: dict[str, list[float]] = {name: [] for name in bodies}
    with httpx.Client(timeout=30) as client:
        for body in bodies.values():
            for _ in range(200):
                client.post(f"{base}/api/command", json=body)
        for _ in range(requests):
            for name, body in bodies.items():
                start = time.perf_counter()
                client.post(f"{base}/api/command", json=body)
                times[name].append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    # This process's own services make a security code: it is nobody's business here.
    logging.getLogger("tidecast.security").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="per login measurement")
    parser.add_argument("--requests", type=int, default=3000, help="per endpoint")
    parser.add_argument("--concurrency", type=int, default=4, help="concurrent logins")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "engine"
        add_user(data_dir, "bench")
        with tidecast_server(data_dir) as (base, _pid):
            token = engine_token(base)
            print(f"{'logins (argon2id)':52} {'per second':>12}")
            for workers in (1, args.concurrency):
                logins = asyncio.run(engine_logins(base, token, args.seconds, workers))
                print(f"{f'engine sign_in, {workers} client(s) at once':52} {logins:>12.1f}")
            # Nobody signed in: check_auth then reads no database, like get_status.
            api = f"{base}/server/api?method="
            httpx.get(f"{api}sign_out&token={token}")
            urls = {
                "public get_status, no token": f"{api}get_status",
                "private check_auth, valid token": f"{api}check_auth&token={token}",
            }
            latencies = request_latencies(urls, args.requests)
            # For the record: with someone signed in, check_auth reads the sign-in and the
            # account (checked on every use, so a revocation anywhere ends it at once).
            httpx.get(f"{api}sign_in&token={token}&login=bench&password={PASSWORD}")
            signed_in = {"private check_auth, someone signed in": urls.popitem()[1]}
            latencies |= request_latencies(signed_in, args.requests)
            login = httpx.post(
                f"{base}/api/command",
                json={
                    "cmd": "login",
                    "body": {"body": {"username": "bench", "password": PASSWORD}},
                },
            ).json()["data"]["token"]
            commands = command_latencies(base, login, args.requests)
        rows = asyncio.run(in_process(data_dir, args.seconds, args.concurrency))
    for name, value in rows[:2]:
        print(f"{name:52} {value:>12.1f}")

    print(f"\n{'request over HTTP (ms)':52} {'median':>8} {'mean':>8} {'p99':>8}")
    medians = []
    for name, values in latencies.items():
        values.sort()
        p99 = values[int(len(values) * 0.99)]
        medians.append(statistics.median(values))
        print(f"{name:52} {medians[-1]:>8.3f} {statistics.fmean(values):>8.3f} {p99:>8.3f}")
    added = medians[1] - medians[0]
    verdict = "met" if added < 1.0 else "NOT met"
    print(f"{'token check adds (median difference)':52} {added:>8.3f}   target < 1 ms: {verdict}")
    command_medians = []
    for name, values in commands.items():
        values.sort()
        command_medians.append(statistics.median(values))
        p99 = values[int(len(values) * 0.99)]
        print(f"{name:52} {command_medians[-1]:>8.3f} {statistics.fmean(values):>8.3f} {p99:>8.3f}")
    added = command_medians[1] - command_medians[0]
    verdict = "met" if added < 1.0 else "NOT met"
    print(
        f"{'login token check adds (median difference)':52} {added:>8.3f}   "
        f"target < 1 ms: {verdict}"
    )

    print(f"\n{'the check alone, in process':52} {'µs':>12}")
    for name, value in rows[2:]:
        print(f"{name.removesuffix(' (µs)'):52} {value:>12.1f}")


if __name__ == "__main__":
    main()
