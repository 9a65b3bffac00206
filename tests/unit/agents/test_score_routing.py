"""Finding the worker that owns an account, while the worker may still be starting."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from yarl import URL

from riskstream.agents.score_routing import ScoreRouter
from riskstream.web.peer import ROUTED_HEADER, verify


def router_with(key_store: Any, canonical_url: str = "http://127.0.0.1:6066") -> ScoreRouter:
    app = SimpleNamespace(
        router=SimpleNamespace(key_store=key_store),
        conf=SimpleNamespace(canonical_url=URL(canonical_url)),
    )
    return ScoreRouter(app, SimpleNamespace(name="account-state"))  # type: ignore[arg-type]


def failing(error: Exception) -> Any:
    def key_store(table: str, key: bytes) -> URL:
        raise error

    return key_store


@pytest.mark.parametrize(
    "error",
    [
        KeyError("no assignment"),
        TypeError("'NoneType' object is not iterable"),  # no topic metadata yet
        AttributeError("no assignor"),
    ],
)
def test_unknown_owner_means_answer_here(error: Exception) -> None:
    assert router_with(failing(error)).owner("acct-1") is None


def test_this_worker_is_not_forwarded_to() -> None:
    router = router_with(lambda table, key: URL("http://127.0.0.1:6066/"))
    assert router.owner("acct-1") is None


def test_another_worker_is_the_owner() -> None:
    seen: list[tuple[str, bytes]] = []

    def key_store(table: str, key: bytes) -> URL:
        seen.append((table, key))
        return URL("http://127.0.0.1:6067/")

    assert router_with(key_store).owner("acct-9") == URL("http://127.0.0.1:6067/")
    assert seen == [("account-state", b"acct-9")]


class RecordingClient:
    """Stands in for the app's HTTP client: records one POST and answers 200."""

    def __init__(self) -> None:
        self.posted: list[tuple[URL, bytes, dict[str, str]]] = []

    def post(self, url: URL, *, data: bytes, headers: dict[str, str], **_: Any) -> Any:
        self.posted.append((url, data, headers))

        class Answer:
            status = 200

            async def __aenter__(self) -> Answer:
                return self

            async def __aexit__(self, *exc: object) -> None:
                return None

            async def read(self) -> bytes:
                return b'{"score": 0}'

        return Answer()


SECRET = b"workers-shared-secret-for-forwarding-42"


async def test_a_forward_is_signed_for_the_caller_and_json() -> None:
    router = router_with(failing(KeyError()))
    router.secret = SECRET
    client = RecordingClient()
    router.app.http_client = client  # type: ignore[attr-defined]
    body = b'{"event_id": "tx-1"}'
    answer = await router.forward(URL("http://127.0.0.1:6067/"), body, "pay-gw")
    assert answer == (200, b'{"score": 0}')
    url, sent, headers = client.posted[0]
    assert (str(url), sent, headers["Content-Type"]) == (
        "http://127.0.0.1:6067/score/", body, "application/json",
    )  # fmt: skip
    identity = verify(SECRET, headers, sent)
    assert (identity.subject, identity.via) == ("pay-gw", "worker")
    assert headers[ROUTED_HEADER] == "http://127.0.0.1:6066"


async def test_without_a_secret_nothing_is_forwarded() -> None:
    router = router_with(failing(KeyError()))
    client = RecordingClient()
    router.app.http_client = client  # type: ignore[attr-defined]
    assert await router.forward(URL("http://127.0.0.1:6067/"), b"{}", "pay-gw") is None
    assert (client.posted, router.failed) == ([], 1)
