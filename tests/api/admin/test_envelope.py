"""``/api.php`` on the wire: GET, form and JSON requests, names in any case, the envelope
as JSON, XML and JSONP, and the hard failures (100000, 100001, 100003)."""

from __future__ import annotations

import json
import re

import httpx
from defusedxml import ElementTree

from tidecast.api.admin.rendering import to_xml
from tidecast.api.admin.table import COMMANDS
from tidecast.core.users import User

from .conftest import AdminApi, codes


async def test_commands_and_parameters_match_in_any_case(
    client: httpx.AsyncClient, admin_key: str
) -> None:
    for request in (
        client.get("/api.php", params={"command": "users.get", "adminapikey": admin_key}),
        client.post("/api.php", data={"COMMAND": "USERS.GET", "AdminApiKey": admin_key}),
        client.post("/api.php", json={"Command": "Users.Get", "ADMINAPIKEY": admin_key}),
    ):
        response = await request
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.headers["cache-control"] == "no-store"
        assert response.json()["TotalUsers"] == 1


async def test_body_wins_over_query_and_json_scalars_are_text(
    client: httpx.AsyncClient, admin_key: str
) -> None:
    response = await client.post(
        "/api.php?Command=Nope.Nope",
        json={"Command": "Users.Get", "AdminAPIKey": admin_key, "RecordsPerRequest": 1},
    )
    assert response.json()["Success"] is True


async def test_unknown_command_is_100003_with_http_400(client: httpx.AsyncClient) -> None:
    response = await client.get("/api.php", params={"Command": "nope"})
    assert response.status_code == 400
    text = 'Invalid API command: "nope" not found.'
    assert response.json() == {
        "Success": False,
        "ErrorCode": [100003],
        "ErrorText": [text],
        "Errors": [{"Code": 100003, "Message": text}],
    }
    assert (await client.get("/api.php")).json()["ErrorCode"] == [100003]


async def test_malformed_requests_are_answered_in_the_envelope(client: httpx.AsyncClient) -> None:
    bad_json = await client.post(
        "/api.php", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert bad_json.status_code == 400 and bad_json.json()["ErrorCode"] == [100000]
    not_object = await client.post("/api.php", json=[1, 2])
    assert not_object.json()["ErrorCode"] == [100000]
    put = await client.put("/api.php", data={"Command": "Users.Get"})
    assert put.status_code == 400 and put.json()["ErrorCode"] == [100001]
    assert put.headers["allow"] == "GET, POST"
    huge = await client.post("/api.php", data={"Command": "Users.Get", "x": "y" * 2_000_000})
    assert huge.status_code == 413 and huge.json()["Success"] is False


async def test_xml_form(client: httpx.AsyncClient, admin_key: str, operator: User) -> None:
    response = await client.post(
        "/api.php",
        data={"Command": "Users.Get", "AdminAPIKey": admin_key, "ResponseFormat": "XML"},
    )
    assert response.headers["content-type"] == "application/xml; charset=utf-8"
    text = response.text
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>\n<response>')
    assert "<Success><![CDATA[1]]></Success><ErrorCode><![CDATA[0]]></ErrorCode>" in text
    assert "<ErrorText></ErrorText>" in text
    root = ElementTree.fromstring(response.content)
    user = root.find("Users/node_0")
    assert user is not None and user.findtext("Username") == "boss"
    assert user.findtext("_2FA_Enabled") == "No"
    assert root.findtext("TotalUsers") == "1"
    error = await client.get("/api.php", params={"Command": "Users.Get", "responseformat": "xml"})
    root = ElementTree.fromstring(error.content)
    assert root.findtext("Success") == "0"
    assert root.findtext("ErrorCode/node_0") == "99998"


def test_xml_escapes_what_cdata_cannot_hold() -> None:
    body = {"Success": True, "Text": "a]]>b\x01c<d>", "Empty": "", "None": None, "Flag": False}
    root = ElementTree.fromstring(to_xml(body))
    assert root.findtext("Text") == "a]]>b\ufffdc<d>"
    assert root.findtext("Empty") == "" and root.findtext("None") == ""
    assert root.findtext("Flag") == "0"


async def test_jsonp_form(client: httpx.AsyncClient, admin_key: str) -> None:
    response = await client.get(
        "/api.php",
        params={"Command": "Users.Get", "AdminAPIKey": admin_key, "JSONPCallBack": "app.cb_1"},
    )
    assert response.headers["content-type"] == "application/javascript; charset=utf-8"
    match = re.fullmatch(r"app\.cb_1\((.*)\);", response.text, re.S)
    assert match is not None and json.loads(match.group(1))["TotalUsers"] == 1
    for bad in ("alert(1)//", "a b", "<script>", "1abc"):
        refused = await client.get(
            "/api.php", params={"Command": "Users.Get", "JSONPCallBack": bad}
        )
        assert refused.status_code == 400
        assert refused.headers["content-type"] == "application/json"
        assert refused.json()["ErrorCode"] == [100000]
        assert bad not in refused.text


async def test_field_errors_of_extension_commands(api: AdminApi, session: str) -> None:
    body = await api.call("Plan.Create", SessionID=session, Name="gold")
    assert codes(body) == [100011, 100011]
    assert body["ErrorText"] == [
        "missing parameter DeviceLimit",
        "missing parameter DurationDays",
    ]
    body = await api.call("User.Get", SessionID=session, UserID="x")
    assert codes(body) == [100010] and "UserID" in body["ErrorText"][0]
    assert codes(await api.call("User.Get", SessionID=session, UserID="999")) == [100012]


async def test_openapi_and_docs_list_every_admin_command(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    operation = document["paths"]["/api.php"]["post"]
    documented = operation["x-tidecast-commands"]
    assert set(documented) == {command.name for command in COMMANDS.values()}
    login = documented["Admin.Login"]
    assert login["error_codes"] == {
        "1": "Missing username",
        "2": "Missing password",
        "3": "Invalid username or password",
        "4": "Missing captcha",
        "5": "Invalid captcha",
        "101": "Invalid two-factor authentication code",
    }
    assert "99998" in operation["description"] and "99999" in operation["description"]
    page = (await client.get("/docs")).text
    assert "<code>Admin.Update</code>" in page and "<code>POST /api.php</code>" in page
