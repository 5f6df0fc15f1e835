"""/openapi.json documents every command of every surface, and is valid OpenAPI 3.1."""

from __future__ import annotations

import httpx
from openapi_spec_validator import validate
from starlette.routing import Route

from tidecast.api.commands.routes import IMPORT_FILE
from tidecast.api.commands.table import COMMANDS
from tidecast.api.engine.routes import SERVER_API, WEBUI_SERVICE_API
from tidecast.api.openapi import openapi_document
from tidecast.api.playback.routes import routes


async def test_openapi_is_valid_and_complete(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    validate(document)
    methods = document["paths"]["/server/api"]["get"]["x-tidecast-methods"]
    assert set(methods) == set(SERVER_API)
    for name, method in SERVER_API.items():
        declared = {p.name for p in method.params if p.kind != "file"}
        assert {p["name"] for p in methods[name]["parameters"]} == declared, name
    assert set(document["paths"]["/webui/api/service"]["get"]["x-tidecast-methods"]) == set(
        WEBUI_SERVICE_API
    )
    add_item = methods["playlist_add_item"]
    assert {f["name"] for f in add_item["multipart_fields"]} == {"file", "logo_file"}


async def test_docs_page_lists_every_method(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.headers["content-type"].startswith("text/html")
    for name in SERVER_API:
        assert f"<code>{name}</code>" in page.text
    assert "<script" not in page.text  # readable offline, nothing fetched from a CDN


async def test_openapi_lists_every_command_with_its_body_fields(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    operation = document["paths"]["/api/command"]["post"]
    documented = operation["x-tidecast-commands"]
    assert set(documented) == set(COMMANDS)
    for name, command in COMMANDS.items():
        doc = documented[name]
        assert [f["name"] for f in doc["fields"]] == [f.name for f in command.fields], name
        required = {f["name"] for f in doc["fields"] if f["required"]}
        assert required == {f.name for f in command.fields if f.required}, name
        assert doc["error_code"] == command.error
        assert (doc["authentication"], doc["mode"]) == (command.access, command.mode)
        assert len(doc["badges"]) == 2
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert set(schema["properties"]["cmd"]["enum"]) == set(COMMANDS)
    assert documented["createUser"]["badges"] == [
        "No authentication needed (a token is used when given)",
        "Frontend needs to be restricted or open",
    ]
    assert documented["deleteUser"]["badges"][0] == "Operator user required"
    upload = document["paths"]["/api/importFile"]["post"]
    assert IMPORT_FILE.name in upload["x-tidecast-commands"]
    assert "file" in upload["requestBody"]["content"]["multipart/form-data"]["schema"]["required"]
    assert "/avatars/{key}" in document["paths"]


async def test_docs_page_lists_every_command(client: httpx.AsyncClient) -> None:
    page = (await client.get("/docs")).text
    assert "<code>POST /api/command</code>" in page
    for name, command in COMMANDS.items():
        assert f"<code>{name}</code>" in page
        for field in command.fields:
            assert f"<code>{field.name}</code>" in page
    assert "WEBAPPMODE_CLOSED_API_MESSAGE" in page
    assert "<code>POST /api/importFile</code>" in page


async def test_root_leads_to_the_docs(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 302
    assert response.headers["location"] == "/docs"


def test_every_playback_route_is_documented() -> None:
    documented = openapi_document()["paths"]
    served = [r.path for r in routes(None) if isinstance(r, Route)]  # type: ignore[arg-type]
    assert served and all(path in documented for path in served), served
    for path in served:
        declared = {p["name"] for p in documented[path]["get"]["parameters"] if p["in"] == "path"}
        assert declared == set(Route(path, lambda r: None).param_convertors), path
