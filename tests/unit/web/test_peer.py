"""Forwarded score requests: only a worker holding the shared secret can make one."""

from __future__ import annotations

import pytest

from riskstream.web.peer import (
    CALLER_HEADER,
    MAX_AGE_S,
    ROUTED_HEADER,
    SIGNATURE_HEADER,
    PeerRefusedError,
    sign,
    verify,
)

SECRET = b"workers-shared-secret-for-forwarding-42"
BODY = b'{"event_id": "tx-1"}'
NOW = 1_800_000_000.0


def signed(**changes: str) -> dict[str, str]:
    return {**sign(SECRET, "http://10.0.0.2:6066", "pay-gateway", BODY, now=NOW), **changes}


def test_a_signed_request_vouches_for_its_caller_as_a_scorer() -> None:
    identity = verify(SECRET, signed(), BODY, now=NOW + 5)
    assert (identity.subject, identity.roles, identity.via) == (
        "pay-gateway", {"scorer"}, "worker",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("headers", "body", "now", "says"),
    [
        ({ROUTED_HEADER: "http://10.0.0.2:6066"}, BODY, NOW, "no valid signature"),
        (signed(), b'{"event_id": "tx-2"}', NOW, "does not verify"),
        (signed(**{CALLER_HEADER: "admin"}), BODY, NOW, "does not verify"),
        (signed(**{ROUTED_HEADER: "http://evil:1"}), BODY, NOW, "does not verify"),
        (signed(**{SIGNATURE_HEADER: "t=1;v1=" + "0" * 64}), BODY, NOW, "older than"),
        (signed(), BODY, NOW + MAX_AGE_S + 1, "older than"),
        (signed(), BODY, NOW - MAX_AGE_S - 1, "older than"),  # from the future
    ],
)
def test_anything_else_is_refused(
    headers: dict[str, str], body: bytes, now: float, says: str
) -> None:
    with pytest.raises(PeerRefusedError, match=says):
        verify(SECRET, headers, body, now=now)


def test_another_secret_or_none_is_refused() -> None:
    with pytest.raises(PeerRefusedError, match="does not verify"):
        verify(b"x" * 40, signed(), BODY, now=NOW)
    with pytest.raises(PeerRefusedError, match="no internal secret"):
        verify(None, signed(), BODY, now=NOW)
