"""Which role a route needs, and which writes are JSON enough."""

from __future__ import annotations

import pytest

from riskstream.web.policy import json_write_refusal, required_role


def test_public_routes_listed_routes_and_the_rest() -> None:
    assert required_role("GET", "/health/") is None
    assert required_role("HEAD", "/metrics") is None
    assert required_role("POST", "/health/") == "admin"
    assert required_role("POST", "/score/") == "scorer"
    assert required_role("GET", "/score/") == "admin"
    assert required_role("DELETE", "/penalties/{penalty_id}/") == "operator"
    assert required_role("HEAD", "/rules/") == "analyst"
    assert required_role("GET", "/table/{name}/{key}/") == "admin"


@pytest.mark.parametrize(
    ("method", "content_type", "refused"),
    [
        ("POST", "application/json", False),
        ("POST", "application/json; charset=utf-8", False),
        ("POST", "Application/JSON", False),
        ("POST", None, True),
        ("POST", "text/plain", True),
        ("POST", "application/x-www-form-urlencoded", True),
        ("POST", "multipart/form-data; boundary=x", True),
        ("POST", "application/json; charset=latin-1", True),
        ("DELETE", None, False),
        ("DELETE", "text/plain", True),
        ("GET", "text/plain", False),
    ],
)
def test_writes_are_json_only(method: str, content_type: str | None, refused: bool) -> None:
    assert (json_write_refusal(method, content_type) is not None) is refused
