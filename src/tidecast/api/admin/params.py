"""Parameters of one ``/api.php`` request, by name without regard to case.

They come from the query string and from the body (a form, or a JSON object); the body
wins over the query, and among names that differ only in case the last one given wins
(``adminapikey`` and ``AdminAPIKey`` are one parameter). JSON scalars become the text a
form would carry (``true`` -> ``"true"``, ``7`` -> ``"7"``); an empty value is no value.
Unknown parameters are ignored.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from typing import Any

from tidecast.core.errors import InvalidInput, MissingParameter
from tidecast.core.integers import INT_MAX

MAX_IDS = 1000
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class Params:
    def __init__(self, values: Mapping[str, object] | None = None) -> None:
        self._values: dict[str, object] = {}
        if values:
            self.update(values.items())

    def update(self, pairs: Iterable[tuple[str, object]]) -> None:
        for name, value in pairs:
            if isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, int | float):
                value = str(value)
            if value is None or value == "":
                continue
            self._values[name.lower()] = value

    def has(self, name: str) -> bool:
        return name.lower() in self._values

    def given(self, name: str) -> bool:
        """Whether ``name`` has a value that is not blank."""
        value = self._values.get(name.lower())
        return value is not None and not (isinstance(value, str) and not value.strip())

    def text(self, name: str) -> str | None:
        """The value as text; InvalidInput for an object or a list, or for text that no
        database can store (NUL, unpaired surrogates)."""
        value = self._values.get(name.lower())
        if value is None:
            return None
        if not isinstance(value, str):
            raise InvalidInput(f"{name} must be text", field=name)
        if "\x00" in value or not _encodable(value):
            raise InvalidInput(f"{name} must not contain NUL or unpaired surrogates", field=name)
        return value

    def required_text(self, name: str) -> str:
        value = self.text(name)
        if value is None or not value.strip():
            raise MissingParameter(f"missing parameter {name}", field=name)
        return value

    def int(self, name: str, *, minimum: builtins.int = 0) -> builtins.int | None:
        text = self.text(name)
        if text is None:
            return None
        text = text.strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 10):
            raise InvalidInput(f"{name} must be a whole number", field=name)
        value = int(text)
        if not minimum <= value <= INT_MAX:
            raise InvalidInput(f"{name} must be at least {minimum}", field=name)
        return value

    def required_int(self, name: str, *, minimum: builtins.int = 0) -> builtins.int:
        value = self.int(name, minimum=minimum)
        if value is None:
            raise MissingParameter(f"missing parameter {name}", field=name)
        return value

    def flag(self, name: str) -> bool | None:
        text = self.text(name)
        if text is None:
            return None
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise InvalidInput(f"{name} must be true or false", field=name)

    def ids(self, name: str) -> list[builtins.int] | None:
        """``1,2,3`` (or a JSON list of numbers)."""
        value = self._values.get(name.lower())
        if value is None:
            return None
        parts: list[Any] = value if isinstance(value, list) else str(value).split(",")
        if len(parts) > MAX_IDS:
            raise InvalidInput(f"{name} lists too many ids (at most {MAX_IDS})", field=name)
        ids: list[builtins.int] = []
        for part in parts:
            text = str(part).strip()
            if isinstance(part, bool) or not (text.isascii() and text.isdigit() and len(text) < 10):
                raise InvalidInput(f"{name} must be ids separated by commas", field=name)
            ids.append(int(text))
        return ids


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
