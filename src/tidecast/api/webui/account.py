"""The web UI's account pages, under ``/webui/account``: profile and avatar, password,
two-factor authentication, devices and the subscription. Every page is for a signed-in
account and shows only that account; every change is a CSRF-checked POST answered 303.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from tidecast.api.webui.account_devices import DevicesPage, SubscriptionPage
from tidecast.api.webui.account_page import ACCOUNT
from tidecast.api.webui.account_password import PasswordPage
from tidecast.api.webui.account_profile import ProfilePage
from tidecast.api.webui.account_two_factor import TwoFactorPage
from tidecast.api.webui.ui import WebUI


def routes(ui: WebUI) -> list[BaseRoute]:
    profile = ProfilePage(ui)
    password = PasswordPage(ui)
    two_factor = TwoFactorPage(ui)
    devices = DevicesPage(ui)
    subscription = SubscriptionPage(ui)
    get, post = ["GET"], ["POST"]
    return [
        Route(ACCOUNT, ui.signed_in(profile.show), methods=get),
        Route(f"{ACCOUNT}/profile", ui.signed_in(profile.save), methods=post),
        Route(f"{ACCOUNT}/avatar", ui.signed_in(profile.upload_avatar), methods=post),
        Route(f"{ACCOUNT}/password", ui.signed_in(password.show), methods=get),
        Route(f"{ACCOUNT}/password", ui.signed_in(password.change), methods=post),
        Route(f"{ACCOUNT}/two-factor", ui.signed_in(two_factor.show), methods=get),
        Route(f"{ACCOUNT}/two-factor/begin", ui.signed_in(two_factor.begin), methods=post),
        Route(f"{ACCOUNT}/two-factor/confirm", ui.signed_in(two_factor.confirm), methods=post),
        Route(f"{ACCOUNT}/two-factor/disable", ui.signed_in(two_factor.disable), methods=post),
        Route(f"{ACCOUNT}/devices", ui.signed_in(devices.show), methods=get),
        Route(
            f"{ACCOUNT}/devices/{{device_id}}/sign-out",
            ui.signed_in(devices.sign_out),
            methods=post,
        ),
        Route(f"{ACCOUNT}/subscription", ui.signed_in(subscription.show), methods=get),
    ]
