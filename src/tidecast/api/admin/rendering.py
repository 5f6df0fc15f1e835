"""The envelope on the wire: JSON, XML (``ResponseFormat=XML``) or JSONP (``JSONPCallBack``).

XML is Oempro's: ``<response>`` holding one element per key, values in CDATA, list
items as ``<node_0>``, ``<node_1>``…, true as 1 and false as 0, and an empty value as an
empty element. A key that is not an XML name (``2FA_Enabled``) gets a leading ``_``
(``<_2FA_Enabled>``), so the document stays well-formed. Characters XML 1.0 cannot
carry become U+FFFD.

Nothing the API answers may be cached: sessions, keys and captchas pass through it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.responses import Response

_CALLBACK = re.compile(r"[A-Za-z_$][\w$.]{0,63}", re.ASCII)
_XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*", re.ASCII)
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def valid_callback(name: str | None) -> bool:
    return name is not None and _CALLBACK.fullmatch(name) is not None


def render(
    body: dict[str, Any], status: int, *, xml: bool = False, callback: str | None = None
) -> Response:
    """``body`` as XML, JSONP (a callback already checked by :func:`valid_callback`) or JSON."""
    if xml:
        return Response(to_xml(body), status, _HEADERS, "application/xml; charset=utf-8")
    text = json.dumps(body, separators=(",", ":"))  # non-ASCII escaped, as PHP does
    if callback is not None:
        return Response(
            f"{callback}({text});", status, _HEADERS, "application/javascript; charset=utf-8"
        )
    return Response(text, status, _HEADERS, "application/json")


def to_xml(body: dict[str, Any]) -> bytes:
    inner = "".join(_element(key, value) for key, value in body.items())
    document = f'<?xml version="1.0" encoding="utf-8"?>\n<response>{inner}</response>'
    return document.encode()


def _tag(name: str) -> str:
    if _XML_NAME.fullmatch(name) and not name.lower().startswith("xml"):
        return name
    return "_" + re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def _element(name: str, value: Any) -> str:
    tag = _tag(name)
    if isinstance(value, dict):
        inner = "".join(_element(str(key), item) for key, item in value.items())
    elif isinstance(value, list | tuple):
        inner = "".join(_element(f"node_{index}", item) for index, item in enumerate(value))
    else:
        inner = _cdata(_scalar(value))
    return f"<{tag}>{inner}</{tag}>"


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _cdata(text: str) -> str:
    if text == "":
        return ""
    text = _XML_INVALID.sub("\ufffd", text)
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"
