"""Parameters of the engine API: declared per method, read from the query and the form.

Clients send everything as query parameters (GET), some POST forms or multipart uploads
(files), and booleans as ``0/1`` or ``true/false``. Unknown parameters are ignored.
A handler may read only what its method declares, so the OpenAPI document stays true.
"""

from __future__ import annotations

import builtins
import json
from dataclasses import dataclass
from typing import Literal

from starlette.datastructures import FormData, QueryParams, UploadFile

from tidecast.core.errors import InvalidInput, MissingParameter
from tidecast.core.integers import INT_MAX

ParamKind = Literal["string", "integer", "boolean", "file", "int_list", "json_list", "repeated"]

INT_MIN = -INT_MAX - 1
"""Integers are database ids, counts and flags: anything outside int32 is a caller error."""
MAX_LIST = 10_000

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    kind: ParamKind = "string"
    required: bool = False
    description: str = ""


def parse_int(raw: object, name: str) -> int:
    text = str(raw).strip()
    if not (text.isascii() and text.lstrip("-").isdigit() and len(text) <= 11):
        raise InvalidInput(f"{name} must be an integer", field=name)
    value = int(text)
    if not INT_MIN <= value <= INT_MAX:
        raise InvalidInput(f"{name} is out of range", field=name)
    return value


def parse_bool(raw: str, name: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InvalidInput(f"{name} must be a boolean (0/1, true/false)", field=name)


class Params:
    """Typed access to one request's declared parameters."""

    def __init__(
        self,
        query: QueryParams,
        form: FormData | None,
        declared: tuple[Param, ...],
        json_body: dict[builtins.str, object] | None = None,
    ) -> None:
        self._query = query
        self._form = form
        self._declared = {p.name: p for p in declared}
        self._json = json_body or {}

    def _check(self, name: builtins.str) -> None:
        if name not in self._declared:
            raise AssertionError(f"parameter {name!r} is read but not declared")

    def raw_all(self, name: builtins.str) -> list[builtins.str]:
        self._check(name)
        values = [v for v in self._query.getlist(name)]
        if self._form is not None:
            values.extend(v for v in self._form.getlist(name) if isinstance(v, str))
        if name in self._json and isinstance(self._json[name], builtins.str | int | bool):
            values.append(str(self._json[name]))
        return values

    def str(self, name: builtins.str) -> builtins.str | None:
        values = self.raw_all(name)
        return values[0] if values else None

    def required_str(self, name: builtins.str) -> builtins.str:
        value = self.str(name)
        if value is None or value.strip() == "":
            raise MissingParameter(f"missing parameter: {name}", field=name)
        return value

    def int(self, name: builtins.str) -> builtins.int | None:
        value = self.str(name)
        if value is None or value.strip() == "":
            return None
        return parse_int(value, name)

    def required_int(self, name: builtins.str) -> builtins.int:
        value = self.int(name)
        if value is None:
            raise MissingParameter(f"missing parameter: {name}", field=name)
        return value

    def bool(self, name: builtins.str) -> builtins.bool | None:
        value = self.str(name)
        if value is None or value.strip() == "":
            return None
        return parse_bool(value, name)

    def required_bool(self, name: builtins.str) -> builtins.bool:
        value = self.bool(name)
        if value is None:
            raise MissingParameter(f"missing parameter: {name}", field=name)
        return value

    def int_list(self, name: builtins.str) -> list[builtins.int] | None:
        """``ids=1,2`` or ``ids=1&ids=2`` (or a JSON list ``[1,2]``)."""
        values = self.raw_all(name)
        if not values:
            return None
        out: list[builtins.int] = []
        for value in values:
            text = value.strip()
            parts: list[object]
            if text.startswith("["):
                try:
                    parsed = json.loads(text)
                except json.JSONDecodeError:
                    raise InvalidInput(f"{name} must be a list of integers", field=name) from None
                parts = parsed if isinstance(parsed, list) else [parsed]
            else:
                parts = list(text.split(","))
            out.extend(parse_int(part, name) for part in parts)
        if len(out) > MAX_LIST:
            raise InvalidInput(f"{name}: at most {MAX_LIST} values", field=name)
        return out

    def json_list(self, name: builtins.str) -> list[builtins.str] | None:
        """A JSON-encoded list of strings, e.g. ``tags=["news","sport"]``."""
        value = self.str(name)
        if value is None or value.strip() == "":
            return None
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            raise InvalidInput(
                f"{name} must be a JSON-encoded list of strings", field=name
            ) from None
        if not isinstance(parsed, list) or not all(isinstance(v, str) for v in parsed):
            raise InvalidInput(f"{name} must be a JSON-encoded list of strings", field=name)
        return [v.strip() for v in parsed if v.strip()]

    def file(self, name: builtins.str) -> UploadFile | None:
        self._check(name)
        if self._form is None:
            return None
        value = self._form.get(name)
        return value if isinstance(value, UploadFile) else None
