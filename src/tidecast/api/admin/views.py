"""What the admin commands show of accounts, keys, plans, grants, devices, servers and the
audit log, in Oempro's manner: ids as strings (``"AdminID": "1"``), flags as
``"Yes"``/``"No"``, times as ISO 8601 UTC (``2025-01-31T12:00:00Z``, null when none).
Password hashes, two-factor secrets and keys never appear.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tidecast.core.admin_auth import ApiKey
from tidecast.core.audit import AuditEntry
from tidecast.core.devices import Device
from tidecast.core.servers import Server
from tidecast.core.subscriptions import Grant, Plan, Subscription
from tidecast.core.users import ROLE_NAMES, Role, User


def iso(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def yes_no(flag: bool) -> str:
    return "Yes" if flag else "No"


def admin_info(user: User, tfa_enabled: bool) -> dict[str, Any]:
    """``AdminInfo`` of ``Admin.Login``."""
    return {
        "AdminID": str(user.id),
        "Name": user.nickname,
        "Username": user.login,
        "EmailAddress": user.email or "",
        "2FA_Enabled": yes_no(tfa_enabled),
    }


def user_info(user: User, tfa_enabled: bool) -> dict[str, Any]:
    return {
        "UserID": str(user.id),
        "Username": user.login,
        "Name": user.nickname,
        "EmailAddress": user.email or "",
        "Role": ROLE_NAMES[Role(user.type)],
        "2FA_Enabled": yes_no(tfa_enabled),
        "CreatedOn": iso(user.created_at),
        "LastLoginOn": iso(user.last_login_at),
    }


def api_key_info(key: ApiKey) -> dict[str, Any]:
    return {
        "APIKeyID": str(key.id),
        "Label": key.label,
        "CreatedOn": iso(key.created_at),
        "LastUsedOn": iso(key.last_used_at),
    }


def plan_info(plan: Plan) -> dict[str, Any]:
    return {
        "PlanID": str(plan.id),
        "Name": plan.name,
        "Color": plan.color,
        "DeviceLimit": plan.device_limit,
        "DurationDays": plan.duration_days,
        "ServerIDs": [str(server_id) for server_id in plan.server_ids],
        "CreatedOn": iso(plan.created_at),
        "UpdatedOn": iso(plan.updated_at),
    }


def grant_info(grant: Grant, now: int) -> dict[str, Any]:
    return {
        "GrantID": str(grant.id),
        "UserID": str(grant.user_id),
        "PlanID": str(grant.plan_id),
        "StartsOn": iso(grant.starts_at),
        "ExpiresOn": iso(grant.expires_at),
        "CreatedBy": grant.created_by or "",
        "CreatedOn": iso(grant.created_at),
        "RevokedOn": iso(grant.revoked_at),
        "Active": yes_no(grant.is_active(now)),
    }


def subscription_info(subscription: Subscription | None) -> dict[str, Any] | None:
    if subscription is None:
        return None
    return {
        "GrantID": str(subscription.grant_id),
        "Plan": plan_info(subscription.plan),
        "StartsOn": iso(subscription.starts_at),
        "ExpiresOn": iso(subscription.expires_at),
        "DaysLeft": subscription.days_left,
    }


def device_info(device: Device) -> dict[str, Any]:
    return {
        "DeviceID": str(device.id),
        "UserID": str(device.user_id),
        "ClientDeviceID": device.client_id,
        "Name": device.name,
        "CreatedOn": iso(device.created_at),
        "LastSeenOn": iso(device.last_seen_at),
        "RevokedOn": iso(device.revoked_at),
        "Active": yes_no(device.active),
    }


def server_info(server: Server) -> dict[str, Any]:
    return {
        "ServerID": str(server.id),
        "Name": server.name,
        "Country": server.country,
        "CountryCode": server.country_code,
        "City": server.city,
        "BaseURL": server.base_url,
        "PingURL": server.ping_url,
        "IsSelf": yes_no(server.is_self),
        "Enabled": yes_no(server.enabled),
        "Available": yes_no(server.is_available),
        "ActiveConnections": server.active_connections,
        "Load": server.load,
        "LastHeartbeatOn": iso(server.last_heartbeat_at),
        "CreatedOn": iso(server.created_at),
        "UpdatedOn": iso(server.updated_at),
    }


def audit_info(entry: AuditEntry) -> dict[str, Any]:
    return {
        "EntryID": str(entry.id),
        "At": iso(entry.at),
        "Actor": entry.actor,
        "Action": entry.action,
        "Target": entry.target,
        "Detail": entry.detail,
        "Address": entry.address or "",
    }
