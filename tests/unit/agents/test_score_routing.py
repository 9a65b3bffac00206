"""Finding the worker that owns an account, while the worker may still be starting."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from yarl import URL

from riskstream.agents.score_routing import ScoreRouter


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
