"""Every core error through the device API's envelope: Laravel's shapes are a contract."""

from __future__ import annotations

import json

import pytest

from tidecast.api.device.envelope import FieldErrors, failure
from tidecast.core.errors import (
    ALL_ERRORS,
    AuthenticationRequired,
    ContentUnavailable,
    InvalidInput,
    NotSupported,
    StorageUnavailable,
    TidecastError,
    UnsupportedContent,
)


@pytest.mark.parametrize("error_class", ALL_ERRORS, ids=lambda c: c.__name__)
def test_every_error_has_a_laravel_shape(error_class: type[TidecastError]) -> None:
    response = failure(error_class("something specific", field="email"))
    body = json.loads(bytes(response.body))
    status = response.status_code
    assert response.headers["cache-control"] == "no-cache, private"
    assert response.headers["access-control-allow-origin"] == "*"
    assert 400 <= status < 600
    if issubclass(error_class, AuthenticationRequired):
        assert (status, body) == (401, {"message": "Unauthenticated."})
    elif status == 422:
        assert issubclass(error_class, InvalidInput | UnsupportedContent)
        assert body == {
            "message": "something specific",
            "errors": {"email": ["something specific"]},
        }
    elif error_class is TidecastError:
        assert (status, body) == (500, {"error": "internal error"})
    else:
        assert list(body) == ["error"]
        shown = status < 500 or error_class in (
            StorageUnavailable,
            ContentUnavailable,
            NotSupported,
        )
        assert body["error"] == ("something specific" if shown else "internal error")


def test_wrong_credentials_keep_the_seeds_shape() -> None:
    exc = AuthenticationRequired("wrong login or password", reason="bad_credentials")
    response = failure(exc)
    assert response.status_code == 401
    assert json.loads(bytes(response.body)) == {"error": "wrong login or password"}


@pytest.mark.parametrize(
    "exc",
    [
        AuthenticationRequired("two-factor code required", reason="tfa_required"),
        AuthenticationRequired("invalid two-factor code", reason="tfa_invalid"),
    ],
    ids=lambda exc: exc.reason,
)
def test_two_factor_refusals_say_so(exc: AuthenticationRequired) -> None:
    response = failure(exc)
    assert response.status_code == 401
    assert json.loads(bytes(response.body)) == {"error": exc.message, "two_factor": True}


def test_field_errors_report_every_field() -> None:
    response = failure(FieldErrors({"a": ["A is bad."], "b": ["B is bad.", "B again."]}))
    assert response.status_code == 422
    assert json.loads(bytes(response.body)) == {
        "message": "A is bad. (and 2 more errors)",
        "errors": {"a": ["A is bad."], "b": ["B is bad.", "B again."]},
    }


def test_an_unexpected_exception_is_a_500_without_detail() -> None:
    response = failure(ValueError("secret detail"))
    assert response.status_code == 500
    assert json.loads(bytes(response.body)) == {"error": "internal error"}
