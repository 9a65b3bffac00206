"""Every route of the worker's web server, route by route: who gets in, and who not."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest

from riskstream.streams.codec import dumps
from riskstream.web.credentials import NO_CREDENTIALS_CONFIGURED
from riskstream.web.peer import ROUTED_HEADER, sign
from tests.unit.web.conftest import Served, serve
from tests.unit.web.keys import INTERNAL_SECRET, OTHER_SECRET, bearer, token

pytestmark = pytest.mark.asyncio(loop_scope="module")
JSON = {"Content-Type": "application/json"}
ALL_ROLES = ("scorer", "analyst", "operator", "admin")


def transaction(event_id: str = "tx-1", amount: str = "12.50", **extra: Any) -> bytes:
    return dumps({
        "event_id": event_id, "type": "payment", "account_id": "acct-1", "amount": amount,
        "currency": "CNY", "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **extra,
    })  # fmt: skip


PENALTY = dumps({"entity_type": "account", "entity_id": "acct-7", "kind": "freeze",
                 "reason": "chargebacks", "ttl": "1h"})  # fmt: skip

# method, path, body, the roles that may call it, the status they get
ROUTES: list[tuple[str, str, bytes | None, set[str], int]] = [
    ("POST", "/score/", transaction("tx-routes"), {"scorer", "admin"}, 200),
    ("GET", "/profiles/device/d-1/", None, {"analyst", "operator", "admin"}, 200),
    ("GET", "/penalties/", None, {"analyst", "operator", "admin"}, 200),
    ("GET", "/rules/", None, {"analyst", "operator", "admin"}, 200),
    ("GET", "/models/", None, {"analyst", "operator", "admin"}, 200),
    ("GET", "/stats/", None, {"analyst", "operator", "admin"}, 200),
    ("GET", "/stats/memory/", None, {"analyst", "operator", "admin"}, 200),
    ("POST", "/penalties/", PENALTY, {"operator", "admin"}, 201),
    ("DELETE", "/penalties/account:acct-7:freeze:operator:x/?reason=done", None,
     {"operator", "admin"}, 404),
    ("GET", "/", None, {"admin"}, 200),  # Faust's index
]  # fmt: skip


async def call(
    served: Served, method: str, path: str, body: bytes | None, headers: dict[str, str]
) -> Any:
    return await served.client.request(
        method, path, data=body, headers={**headers, **(JSON if body is not None else {})}
    )


@pytest.mark.parametrize(("method", "path", "body", "allowed", "status"), ROUTES)
async def test_each_route_needs_its_role(
    served: Served, method: str, path: str, body: bytes | None, allowed: set[str], status: int
) -> None:
    anonymous = await call(served, method, path, body, {})
    assert anonymous.status == 401, await anonymous.text()
    assert anonymous.headers["WWW-Authenticate"].startswith('Bearer realm="riskstream"')
    for role in ALL_ROLES:
        answer = await call(served, method, path, body, bearer(token([role], subject=role)))
        expected = status if role in allowed else 403
        assert answer.status == expected, (role, await answer.text())


@pytest.mark.parametrize("path", ["/health/", "/metrics"])
async def test_health_and_metrics_are_public(served: Served, path: str) -> None:
    answer = await served.client.get(path)
    assert answer.status in {200, 503}  # 503: not ready, which is no refusal
    assert "WWW-Authenticate" not in answer.headers


@pytest.mark.parametrize(
    ("credential", "says"),
    [
        (token(["admin"], expires_in=-120), "expired"),
        (token(["admin"], secret=OTHER_SECRET), "does not verify"),
        ("garbage", "neither a known API key"),
    ],
)
async def test_a_bad_token_is_401_with_the_reason_in_the_challenge(
    served: Served, credential: str, says: str
) -> None:
    answer = await served.client.get("/rules/", headers=bearer(credential))
    assert answer.status == 401
    assert says in (await answer.json())["error"]
    challenge = answer.headers["WWW-Authenticate"]
    assert 'error="invalid_token"' in challenge and says in challenge


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_writes_other_than_json_are_415(served: Served, content_type: str | None) -> None:
    headers = bearer(token(["admin"]))
    if content_type:
        headers["Content-Type"] = content_type
    for path, body in (("/score/", transaction("tx-415")), ("/penalties/", PENALTY)):
        answer = await served.client.post(path, data=body, headers=headers)
        assert answer.status == 415, await answer.text()


async def test_the_penalty_actor_is_the_caller_never_the_request(served: Served) -> None:
    operator = {**bearer(token(["operator"], subject="carol")), **JSON}
    added = await served.client.post("/penalties/", data=PENALTY, headers=operator)
    assert added.status == 201
    assert served.added[-1][1] == "carol"
    assert (await added.json())["source"] == "operator:carol"

    claimed = orjson.loads(PENALTY) | {"operator": "mallory"}
    refused = await served.client.post("/penalties/", data=dumps(claimed), headers=operator)
    assert refused.status == 422
    assert (await refused.json())["fields"][0]["field"] == "operator"

    path = "/penalties/account:acct-7:freeze:operator:carol/"
    named = await served.client.delete(f"{path}?operator=mallory&reason=x", headers=operator)
    assert named.status == 422
    removed = await served.client.delete(f"{path}?reason=paid", headers=operator)
    assert removed.status == 404  # none in force here; what matters is who asked
    assert served.removed[-1] == ("account:acct-7:freeze:operator:carol", "carol", "paid")


async def test_a_routed_header_without_a_signature_is_403(served: Served) -> None:
    scorer = {**bearer(token(["scorer"])), **JSON}
    body = transaction("tx-forged")
    forged = await served.client.post(
        "/score/", data=body, headers={**scorer, ROUTED_HEADER: "http://10.0.0.9:6066"}
    )
    assert forged.status == 403
    assert ROUTED_HEADER in (await forged.json())["error"]
    elsewhere = await served.client.get(
        "/stats/", headers={**bearer(token(["admin"])), ROUTED_HEADER: "x"}
    )
    assert elsewhere.status == 403


async def test_a_signed_forward_is_answered_as_the_callers_without_a_token(
    served: Served,
) -> None:
    body = transaction("tx-forwarded")
    headers = {**sign(INTERNAL_SECRET.encode(), "http://10.0.0.2:6066", "pay-gw", body), **JSON}
    answer = await served.client.post("/score/", data=body, headers=headers)
    assert answer.status == 200, await answer.text()
    assert (await answer.json())["event_id"] == "tx-forwarded"
    stale = sign(INTERNAL_SECRET.encode(), "http://10.0.0.2:6066", "pay-gw", body, time.time() - 60)
    late = await served.client.post("/score/", data=body, headers={**stale, **JSON})
    assert late.status == 403


async def test_the_same_event_id_with_another_body_is_409(served: Served) -> None:
    scorer = {**bearer(token(["scorer"])), **JSON}
    first = await served.client.post("/score/", data=transaction("tx-idem"), headers=scorer)
    assert first.status == 200
    remembered = {k: v for k, v in (await first.json()).items() if k != "latency_ms"}
    assert "request_sha256" not in remembered
    # The same request however its JSON is laid out: the remembered answer.
    again = orjson.loads(transaction("tx-idem"))
    respaced = orjson.dumps(dict(reversed(list(again.items()))), option=orjson.OPT_INDENT_2)
    retry = await served.client.post("/score/", data=respaced, headers=scorer)
    assert retry.status == 200
    assert {k: v for k, v in (await retry.json()).items() if k != "latency_ms"} == remembered
    other = await served.client.post(
        "/score/", data=transaction("tx-idem", amount="99999"), headers=scorer
    )
    assert other.status == 409
    assert "another body" in (await other.json())["error"]


async def test_nothing_configured_refuses_every_protected_route() -> None:
    bare = await serve("bare", auth_jwt_secret=None)
    try:
        for method, path, body, _, _ in ROUTES:
            answer = await call(bare, method, path, body, bearer(token(["admin"])))
            assert answer.status == 401
            assert (await answer.json())["error"] == NO_CREDENTIALS_CONFIGURED
        assert (await bare.client.get("/metrics")).status == 200
    finally:
        await bare.client.close()


async def test_faust_views_are_off_by_default_and_for_admins_when_on(served: Served) -> None:
    admin = bearer(token(["admin"]))
    assert (await served.client.get("/table/", headers=admin)).status == 404
    assert (await served.client.get("/router/", headers=admin)).status == 404
    debug = await serve("debug", web_debug_views=True)
    try:
        assert (await debug.client.get("/table/")).status == 401
        analyst = await debug.client.get("/table/", headers=bearer(token(["analyst"])))
        assert analyst.status == 403
        assert (await debug.client.get("/table/", headers=admin)).status == 200
    finally:
        await debug.client.close()
