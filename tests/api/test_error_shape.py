"""Every core error, through every dialect's envelope: the shape is a contract."""

from __future__ import annotations

import json

import pytest

from tidecast.api.engine.envelope import render_error
from tidecast.core.errors import ALL_ERRORS, StorageUnavailable, TidecastError


@pytest.mark.parametrize("error_class", ALL_ERRORS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("api_version", [0, 3])
def test_engine_envelope(error_class: type[TidecastError], api_version: int) -> None:
    exc = error_class("something specific")
    response = render_error(exc, api_version=api_version)
    body = json.loads(bytes(response.body))
    assert list(body) == ["result", "error"]
    assert body["result"] is None
    internal = error_class in (TidecastError, StorageUnavailable)
    assert response.status_code == (500 if internal else 200)
    message = "internal error" if internal else "something specific"
    if api_version >= 2:
        assert body["error"] == {"message": message, "code": 0}
    else:
        assert body["error"] == message


def test_engine_envelope_unexpected_exception_is_a_500_without_traceback() -> None:
    response = render_error(ValueError("secret detail"), api_version=0)
    assert response.status_code == 500
    assert json.loads(bytes(response.body)) == {"result": None, "error": "internal error"}
    assert b"secret detail" not in bytes(response.body)
    assert b"Traceback" not in bytes(response.body)


def test_every_error_class_is_listed() -> None:
    import tidecast.core.errors as errors

    declared = {
        obj
        for obj in vars(errors).values()
        if isinstance(obj, type) and issubclass(obj, TidecastError)
    }
    assert declared == set(ALL_ERRORS)
