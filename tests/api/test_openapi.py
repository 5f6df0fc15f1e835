"""/openapi.json documents every command of every surface, and is valid OpenAPI 3.1."""

from __future__ import annotations

import httpx
from openapi_spec_validator import validate

from tidecast.api.engine.routes import SERVER_API, WEBUI_SERVICE_API


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
