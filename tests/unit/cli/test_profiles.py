"""``riskstream profiles build`` from an archive: its snapshot file, and its mistakes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from riskstream.cli.profiles import BuildInputError, build, parse_as_of
from riskstream.streams.settings import get_settings


@pytest.fixture(autouse=True)
def settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("RISKSTREAM_TOKEN_SECRET", "profiles-tests-token-secret")
    monkeypatch.setenv("RISKSTREAM_DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def line(**fields: Any) -> bytes:
    return orjson.dumps(fields) + b"\n"


def archive(path: Path) -> Path:
    common = {"account_id": "acc-1", "currency": "EUR", "counterparty_id": "m-1"}
    path.write_bytes(
        line(event_id="t1", type="payment", occurred_at="2026-03-01T10:00:00Z", amount="20",
             **common)
        + b"not json\n"
        + line(event_id="f1", type="feedback", occurred_at="2026-03-05T10:00:00Z",
               account_id="acc-1", target_event_id="t1", label="fraud", counterparty_id="m-1")
        # out of order in the file: the build sorts by event time
        + line(event_id="t2", type="payment", occurred_at="2026-03-02T10:00:00Z", amount="40",
               **common)
    )  # fmt: skip
    return path


def snapshot(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    records = [orjson.loads(raw) for raw in path.read_bytes().splitlines()]
    return {(body["entity_type"], body["entity_id"]): body for body in records}


def test_a_build_from_an_archive_as_of_the_end(tmp_path: Path) -> None:
    out = tmp_path / "snapshot.jsonl"
    report = build(str(archive(tmp_path / "events.jsonl")), False, None, str(out), False)
    assert report.refused == {"not_json": 1} and report.events_fed == 3
    written = snapshot(out)
    assert set(written) == {("account", "acc-1"), ("merchant", "m-1")}
    merchant = written[("merchant", "m-1")]
    assert merchant["as_of"] == "2026-03-05T10:00:00+00:00" and merchant["format"] == 1
    assert merchant["profile"]["txn_count"] == 2 and merchant["profile"]["fraud_verdicts"] == 1
    assert "state" in merchant


def test_a_verdict_after_as_of_is_not_in_the_build(tmp_path: Path) -> None:
    out = tmp_path / "snapshot.jsonl"
    events = str(archive(tmp_path / "events.jsonl"))
    report = build(events, False, "2026-03-04T00:00:00", str(out), False)
    assert report.events_skipped == 1
    assert snapshot(out)[("merchant", "m-1")]["profile"]["fraud_verdicts"] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((None, False, None, "x", False), "give one of --from-jsonl FILE and --from-topics"),
        (("a.jsonl", True, None, "x", False), "give one of --from-jsonl FILE and --from-topics"),
        (("a.jsonl", False, None, None, False), "give --out FILE, --publish, or both"),
        (("missing.jsonl", False, None, "x", False), "cannot read missing.jsonl"),
        (("a.jsonl", False, "next tuesday", "x", False), "is not an ISO time"),
    ],
)
def test_mistakes_are_usage_errors(
    args: tuple[Any, ...], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    archive(tmp_path / "a.jsonl")
    with pytest.raises(BuildInputError, match=message):
        build(*args)


def test_as_of_without_a_zone_is_utc() -> None:
    assert parse_as_of("2026-03-04T00:00:00") == parse_as_of("2026-03-04T01:00:00+01:00")
