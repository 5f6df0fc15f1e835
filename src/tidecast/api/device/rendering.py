"""How users, subscriptions, devices, servers and keys look on the device API wire.

Times are ISO 8601 in UTC (``2025-12-31T23:59:59Z``), as Laravel serialises dates; a
device limit of ``null`` means no limit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tidecast.core.devices import Device
from tidecast.core.entitlements import IssuedKey
from tidecast.core.servers import Server
from tidecast.core.subscriptions import Subscription
from tidecast.core.users import User


def iso(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def limit(value: int) -> int | None:
    return value or None


def user(account: User, *, devices_used: int, devices_limit: int) -> dict[str, Any]:
    return {
        "id": account.id,
        "email": account.email,
        "login": account.login,
        "name": account.nickname,
        "created_at": iso(account.created_at),
        "devices_count": devices_used,
        "devices_limit": limit(devices_limit),
    }


def subscription(
    current: Subscription | None, *, allowed: bool, devices_used: int, devices_limit: int
) -> dict[str, Any]:
    plan = current.plan if current is not None else None
    return {
        "active": current is not None,
        "allowed": allowed,
        "plan": plan.name if plan is not None else None,
        "plan_id": plan.id if plan is not None else None,
        "color": plan.color if plan is not None else None,
        "starts_at": iso(current.starts_at) if current is not None else None,
        "expires_at": iso(current.expires_at) if current is not None else None,
        "days_left": current.days_left if current is not None else None,
        "devices_limit": limit(devices_limit),
        "devices_used": devices_used,
        "server_ids": list(plan.server_ids) if plan is not None and plan.server_ids else None,
    }


def device(entry: Device, *, current: bool) -> dict[str, Any]:
    return {
        "device_id": str(entry.id),
        "client_device_id": entry.client_id,
        "name": entry.name,
        "created_at": iso(entry.created_at),
        "last_seen_at": iso(entry.last_seen_at),
        "current": current,
    }


def server(entry: Server) -> dict[str, Any]:
    return {
        "id": entry.id,
        "name": entry.name,
        "country": entry.country,
        "country_code": entry.country_code,
        "city": entry.city,
        "ping_url": entry.ping_url,
        "base_url": entry.base_url,
        "active_connections": entry.active_connections,
        "load": entry.load,
        "is_available": entry.is_available,
    }


def key(issued: IssuedKey) -> dict[str, Any]:
    return {
        "server_id": issued.server_id,
        "key": issued.key,
        "expires_at": iso(issued.expires_at),
        "playback_url": issued.playback_url,
    }
