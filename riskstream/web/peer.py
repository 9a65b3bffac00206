"""Score requests that one worker forwards to another, signed with the workers' secret.

The forwarding worker has authenticated the caller; the owner takes its word only when
the request carries an HMAC-SHA256 over the sender, the caller, the time and the body,
made with ``RISKSTREAM_INTERNAL_SECRET``, no older than ``MAX_AGE_S``. Anything else that
claims to be forwarded is refused: a client must never make a worker answer for an
account it does not own.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping

from riskstream.streams.access import SUBJECT_PATTERN
from riskstream.web.identity import Identity

ROUTED_HEADER = "x-riskstream-routed-from"
SIGNATURE_HEADER = "x-riskstream-signature"
CALLER_HEADER = "x-riskstream-caller"
PEER_HEADERS = (ROUTED_HEADER, SIGNATURE_HEADER, CALLER_HEADER)
MAX_AGE_S = 30.0
_SIGNATURE = re.compile(r"^t=(\d{1,12});v1=([0-9a-f]{64})$")
_SUBJECT = re.compile(SUBJECT_PATTERN)


class PeerRefusedError(Exception):
    """Answered with 403: the request claims to come from a worker and cannot prove it."""


def _mac(secret: bytes, stamp: int, routed_from: str, caller: str, body: bytes) -> str:
    message = "\n".join(
        ("riskstream-forward-v1", str(stamp), routed_from, caller, hashlib.sha256(body).hexdigest())
    )
    return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()


def sign(
    secret: bytes, routed_from: str, caller: str, body: bytes, now: float | None = None
) -> dict[str, str]:
    """The headers that make ``body`` a forwarded request another worker accepts."""
    stamp = int(time.time() if now is None else now)
    mac = _mac(secret, stamp, routed_from, caller, body)
    return {
        ROUTED_HEADER: routed_from,
        CALLER_HEADER: caller,
        SIGNATURE_HEADER: f"t={stamp};v1={mac}",
    }


def verify(
    secret: bytes | None, headers: Mapping[str, str], body: bytes, now: float | None = None
) -> Identity:
    """The caller the forwarding worker vouches for; PeerRefusedError if not proven."""
    if secret is None:
        raise PeerRefusedError(
            "this worker takes no forwarded requests (no internal secret is set)"
        )
    found = _SIGNATURE.match(headers.get(SIGNATURE_HEADER, ""))
    if found is None:
        raise PeerRefusedError(
            f"{ROUTED_HEADER} is for workers only: no valid signature came with it"
        )
    stamp, mac = int(found[1]), found[2]
    if abs((time.time() if now is None else now) - stamp) > MAX_AGE_S:
        raise PeerRefusedError(f"the forwarded request is older than {MAX_AGE_S:.0f} s")
    routed_from, caller = headers.get(ROUTED_HEADER, ""), headers.get(CALLER_HEADER, "")
    if not hmac.compare_digest(mac, _mac(secret, stamp, routed_from, caller, body)):
        raise PeerRefusedError("the forwarded request's signature does not verify")
    if not _SUBJECT.match(caller):
        raise PeerRefusedError("the forwarded request names no caller")
    return Identity(subject=caller, roles=frozenset({"scorer"}), via="worker")
