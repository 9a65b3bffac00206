"""Differential tests: the native replay runtime against the Python reference.

Every case replays one events file twice, with ``engine="native"`` (explicitly, so that a
silent fallback cannot hide a difference) and with ``engine="python"``, and holds the
signals, shadow and decisions files to be byte-identical and the stats and bad lines to
agree. The inputs are small: simulated days, the same perturbed, and hand-made events for
rule files written here, each checked to make its rules fire in the reference.
"""

from __future__ import annotations

import difflib
import io
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from rich.console import Console

from riskstream.agents.scoring import DecisionPolicy
from riskstream.offline import run as run_module
from riskstream.offline.jsonl import BadLine
from riskstream.offline.native import NativeUnsupported
from riskstream.offline.replay import ReplayStats
from riskstream.offline.run import ReplayOutputs, replay_file
from riskstream.simulation.config import SimulationConfig
from riskstream.simulation.dataset import generate

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
Line = dict[str, Any] | bytes

# ---------------------------------------------------------------------------------------
# Events
# ---------------------------------------------------------------------------------------


def stamp(seconds: float, offset_hours: float = 0) -> str:
    """T0 + ``seconds`` in ISO 8601, written in the zone ``offset_hours`` east of UTC."""
    moment = T0 + timedelta(seconds=seconds)
    if offset_hours == 0:
        return moment.isoformat().replace("+00:00", "Z")
    return moment.astimezone(timezone(timedelta(hours=offset_hours))).isoformat()


def txn(
    event_id: str,
    seconds: float,
    amount: str | float = "10",
    *,
    account: str = "acc-1",
    type: str = "payment",
    status: str = "succeeded",
    tz: float = 0,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "event_id": event_id, "type": type, "occurred_at": stamp(seconds, tz),
        "account_id": account, "amount": amount, "currency": "CNY", "status": status, **extra,
    }  # fmt: skip


def acct(
    event_id: str,
    seconds: float,
    type: str = "login",
    *,
    account: str = "acc-1",
    tz: float = 0,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "event_id": event_id, "type": type, "occurred_at": stamp(seconds, tz),
        "account_id": account, **extra,
    }  # fmt: skip


def verdict(
    event_id: str, seconds: float, target: str, label: str, *, account: str = "acc-1", **extra: Any
) -> dict[str, Any]:
    return {
        "event_id": event_id, "type": "feedback", "occurred_at": stamp(seconds),
        "account_id": account, "target_event_id": target, "label": label, **extra,
    }  # fmt: skip


def encode(line: Line) -> bytes:
    return line if isinstance(line, bytes) else orjson.dumps(line)


def write_events(path: Path, lines: Sequence[Line]) -> Path:
    path.write_bytes(b"".join(encode(line) + b"\n" for line in lines))
    return path


# ---------------------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------------------


def rule(rule_id: str, **fields: Any) -> dict[str, Any]:
    """A detection rule document; ``fields`` override the defaults."""
    return {
        "id": rule_id, "version": 1, "description": f"test rule {rule_id}",
        "events": ["payment"], "severity": 50, **fields,
    }  # fmt: skip


def score_rule(rule_id: str, code: str, when: str, points: int = 30) -> dict[str, Any]:
    return {
        "kind": "score", "id": rule_id, "version": 1, "description": f"score {rule_id}",
        "code": code, "when": when, "points": points,
    }  # fmt: skip


def write_rules(directory: Path, *docs: dict[str, Any]) -> Path:
    """One YAML file per document, loaded as a directory (see ``rules.loader``)."""
    directory.mkdir(parents=True, exist_ok=True)
    for index, doc in enumerate(docs):
        (directory / f"{index:02d}-{doc['id']}.yaml").write_text(yaml.safe_dump(doc))
    return directory


# ---------------------------------------------------------------------------------------
# Both engines
# ---------------------------------------------------------------------------------------


@dataclass
class Run:
    stats: ReplayStats
    bad: list[BadLine]
    signals: bytes
    decisions: bytes
    shadow: bytes

    def fired(self) -> set[str]:
        return set(self.stats.signals_by_rule) | set(self.stats.shadow_by_rule)


def replay(
    directory: Path,
    events: Path,
    engine: str,
    rules: Path | None = None,
    policy: DecisionPolicy | None = None,
) -> Run:
    directory.mkdir(parents=True, exist_ok=True)
    outputs = ReplayOutputs(
        directory / "signals.jsonl", directory / "decisions.jsonl", directory / "shadow.jsonl"
    )
    console = Console(file=io.StringIO())
    stats, bad = replay_file(
        events,
        outputs,
        rules=rules,
        policy=policy,
        console=console,
        engine=engine,  # type: ignore[arg-type]
    )
    assert outputs.signals and outputs.decisions and outputs.shadow
    return Run(
        stats, bad, outputs.signals.read_bytes(), outputs.decisions.read_bytes(),
        outputs.shadow.read_bytes(),
    )  # fmt: skip


def _diff(name: str, expected: bytes, actual: bytes) -> str:
    lines = difflib.unified_diff(
        expected.decode().splitlines(), actual.decode().splitlines(),
        f"python/{name}", f"native/{name}", lineterm="", n=0,
    )  # fmt: skip
    return "\n".join(line[:600] for line in list(lines)[:40])


def _stats(stats: ReplayStats) -> dict[str, Any]:
    return {
        "events": stats.events,
        "transactions": stats.transactions,
        "statuses": dict(stats.statuses),
        "decisions": dict(stats.decisions),
        "signals_by_rule": dict(stats.signals_by_rule),
        "shadow_by_rule": dict(stats.shadow_by_rule),
    }


def assert_same(reference: Run, native: Run) -> None:
    problems = [
        _diff(name, getattr(reference, name), getattr(native, name))
        for name in ("signals", "shadow", "decisions")
        if getattr(reference, name) != getattr(native, name)
    ]
    if _stats(reference.stats) != _stats(native.stats):
        problems.append(f"stats: python {_stats(reference.stats)}\n native {_stats(native.stats)}")
    if reference.bad != native.bad:
        problems.append(f"bad lines: python {reference.bad}\n native {native.bad}")
    assert not problems, "\n\n".join(problems)


def parity(
    tmp_path: Path,
    lines: Sequence[Line] | Path,
    docs: list[dict[str, Any]] | None = None,
    *,
    fires: set[str] = frozenset(),  # type: ignore[assignment]
    policy: DecisionPolicy | None = None,
) -> Run:
    """Replay ``lines`` (or an events file) on both engines under ``docs`` (None: the
    shipped rules); assert they agree and that ``fires`` fired in the reference."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    events = lines if isinstance(lines, Path) else write_events(tmp_path / "events.jsonl", lines)
    rules = write_rules(tmp_path / "rules", *docs) if docs else None
    reference = replay(tmp_path / "python", events, "python", rules, policy)
    native = replay(tmp_path / "native", events, "native", rules, policy)
    assert_same(reference, native)
    assert fires <= reference.fired(), f"did not fire: {fires - reference.fired()}"
    return reference


def declines(
    tmp_path: Path, lines: Sequence[Line], docs: list[dict[str, Any]], *, fires: set[str]
) -> None:
    """The native engine declines the rules; ``auto`` then gives the reference's output."""
    events = write_events(tmp_path / "events.jsonl", lines)
    rules = write_rules(tmp_path / "rules", *docs)
    with pytest.raises(NativeUnsupported):
        replay(tmp_path / "native", events, "native", rules)
    reference = replay(tmp_path / "python", events, "python", rules)
    auto = replay(tmp_path / "auto", events, "auto", rules)
    assert_same(reference, auto)
    assert fires <= reference.fired(), f"did not fire: {fires - reference.fired()}"


# ---------------------------------------------------------------------------------------
# 1. Simulated data, as generated and perturbed
# ---------------------------------------------------------------------------------------


def simulated(seed: int, customers: int = 60, days: float = 1.0) -> list[bytes]:
    config = SimulationConfig(seed=seed, customers=customers, days=days, fraud_per_pattern=1)
    return [event.encode() for event in generate(config).events]


@pytest.mark.parametrize(("seed", "customers", "days"), [(1, 60, 1.0), (2, 40, 3.0), (3, 80, 1.0)])
def test_simulated_data(tmp_path: Path, seed: int, customers: int, days: float) -> None:
    reference = parity(tmp_path, simulated(seed, customers, days))
    assert reference.stats.signals_by_rule and reference.stats.transactions > 300


def test_simulated_data_in_shuffled_file_order(tmp_path: Path) -> None:
    lines: list[Line] = list(simulated(4))
    random.Random(4).shuffle(lines)
    parity(tmp_path, lines)


def _reworded(line: bytes, **changes: Any) -> bytes:
    data = orjson.loads(line)
    data.update(changes)
    return orjson.dumps(data)


def test_simulated_data_with_duplicated_events(tmp_path: Path) -> None:
    lines = simulated(5)
    rng = random.Random(5)
    perturbed: list[Line] = list(lines)
    for line in rng.sample(lines, 60):  # the same line again, somewhere later
        perturbed.insert(rng.randrange(len(perturbed) + 1), line)
    for line in rng.sample(lines, 60):  # the same event id, other content
        data = orjson.loads(line)
        changes: dict[str, Any] = {"occurred_at": stamp(rng.uniform(-3600, 86_400))}
        if "amount" in data:
            changes["amount"] = f"{rng.uniform(1, 9000):.2f}"
            changes["status"] = rng.choice(["succeeded", "failed", "pending"])
        perturbed.insert(rng.randrange(len(perturbed) + 1), _reworded(line, **changes))
    reference = parity(tmp_path, perturbed)
    assert reference.stats.statuses["duplicate"] > 60


def test_simulated_data_with_late_events(tmp_path: Path) -> None:
    lines = simulated(6)
    rng = random.Random(6)
    perturbed: list[Line] = list(lines)
    for number, line in enumerate(rng.sample(lines, 80)):
        data = orjson.loads(line)
        moment = datetime.fromisoformat(data["occurred_at"])
        back = rng.choice([timedelta(hours=2), timedelta(days=3), timedelta(minutes=11)])
        late = _reworded(
            line,
            event_id=f"late-{number}",
            occurred_at=(moment - back).isoformat().replace("+00:00", "Z"),
        )
        # Late in the file too, after the event itself (replay sorts by event time).
        perturbed.append(late)
    reference = parity(tmp_path, perturbed)
    assert reference.stats.events == len(perturbed)


INVALID_LINES: list[bytes] = [
    b"{not json",
    b"[1, 2]",
    b"null",
    b'"a string"',
    b'{"type": "nope", "event_id": "x"}',
    b'{"type": 7}',
    b'{"event_id": "x", "occurred_at": "2026-11-02T09:00:00Z", "account_id": "a"}',
    b'{"type": "payment", "event_id": "x"}',
    b'{"type": "payment", "event_id": "x", "occurred_at": "2026-11-02T09:00:00",'
    b' "account_id": "a", "amount": "1", "currency": "CNY"}',
    b'{"type": "payment", "event_id": "x", "occurred_at": "2026-11-02T09:00:00Z",'
    b' "account_id": "a", "amount": "-1", "currency": "CNY"}',
    b'{"type": "payment", "event_id": "x", "occurred_at": "2026-11-02T09:00:00Z",'
    b' "account_id": "a", "amount": "1.123456789", "currency": "CNY"}',
    b'{"type": "payment", "event_id": "x", "occurred_at": "2026-11-02T09:00:00Z",'
    b' "account_id": "a", "amount": "NaN", "currency": "cny"}',
    b'{"type": "payment", "event_id": "  ", "occurred_at": "2026-11-02T09:00:00Z",'
    b' "account_id": "a", "amount": "1", "currency": "CNY"}',
    b'{"type": "login", "event_id": "x", "occurred_at": "2026-13-02T09:00:00Z", "account_id": "a"}',
    b'{"type": "login", "event_id": "x", "occurred_at": "2026-11-02T09:00:00Z",'
    b' "account_id": "a", "geo": {"lat": 91, "lon": 0}}',
    b'{"type": "feedback", "event_id": "x", "occurred_at": "2026-11-02T09:00:00Z",'
    b' "account_id": "a", "target_event_id": "t", "label": "maybe"}',
    b'{"type": "payment", "event_id": "x", "occurred_at": "2026-11-02T09:00:00Z",'
    b' "account_id": "a", "amount": "1", "currency": "CNY", "attributes": {"k": [1]}}',
    b'\xff\xfe{"type": "login"}',
    b'{"type": "login", "event_id": "\xc3\x28", "occurred_at": "2026-11-02T09:00:00Z",'
    b' "account_id": "a"}',
    b'{"type": "login", "event_id": "x", "occurred_at": "2026-11-02T09:00:00Z",'
    b' "account_id": "a"} trailing',
    b"   ",
    b'{"type": "payment", "event_id": "x", "occurred_at": "2026-11-02T09:00:00Z",'
    b' "account_id": "' + b"a" * 200 + b'", "amount": "1", "currency": "CNY"}',
]


def test_simulated_data_with_invalid_lines(tmp_path: Path) -> None:
    lines = simulated(7)
    rng = random.Random(7)
    perturbed: list[Line] = list(lines)
    for invalid in INVALID_LINES:
        perturbed.insert(rng.randrange(len(perturbed) + 1), invalid)
    reference = parity(tmp_path, perturbed)
    assert len(reference.bad) == len(INVALID_LINES) - 1  # the blank line is no line


def test_a_line_over_the_size_limit_is_reported_alike(tmp_path: Path) -> None:
    big = orjson.dumps(txn("big", 1, note="x" * (1 << 20)))
    reference = parity(tmp_path, [txn("p1", 0), big, txn("p2", 2)])
    assert [line.reason for line in reference.bad] == ["oversized"]


# ---------------------------------------------------------------------------------------
# 2. Rule variations
# ---------------------------------------------------------------------------------------


def count_rule(
    rule_id: str, window: dict[str, Any], threshold: int, **fields: Any
) -> dict[str, Any]:
    return rule(
        rule_id, window=window, aggregates={"n": {"fn": "count"}},
        condition=f"agg.n >= {threshold}", **fields,
    )  # fmt: skip


def burst(count: int, step: float = 20, account: str = "acc-1", prefix: str = "p") -> list[Line]:
    return [txn(f"{prefix}{n}", n * step, "10", account=account) for n in range(count)]


def test_tumbling_windows(tmp_path: Path) -> None:
    docs = [
        count_rule("t.tumbling", {"type": "tumbling", "size": "5m"}, 3),
        count_rule("t.tumbling_day", {"type": "tumbling", "size": "1d"}, 5, severity=30),
    ]
    lines = [*burst(40, 25), *burst(10, 400, "acc-2", "q")]
    parity(tmp_path, lines, docs, fires={"t.tumbling", "t.tumbling_day"})


def test_hopping_windows(tmp_path: Path) -> None:
    docs = [
        count_rule("t.hopping", {"type": "hopping", "size": "10m", "hop": "2m"}, 4),
        count_rule("t.hopping_even", {"type": "hopping", "size": "6m", "hop": "6m"}, 3),
    ]
    parity(tmp_path, [*burst(30, 45), *burst(8, 170, "acc-2")], docs, fires={"t.hopping"})


@pytest.mark.parametrize("size", [1, 2, 5])
def test_count_windows(tmp_path: Path, size: int) -> None:
    docs = [
        rule(
            "t.count", window={"type": "count", "size": size},
            aggregates={"n": {"fn": "count"}, "total": {"fn": "sum", "field": "amount"},
                        "top": {"fn": "max", "field": "amount"}},
            condition="agg.total >= 30.0", severity=40,
        )
    ]  # fmt: skip
    lines = [txn(f"p{n}", n * 30, str(5 + 7 * (n % 5))) for n in range(25)]
    lines += [txn(f"o{n}", 200 + n * 7, "31", account="acc-2") for n in range(6)]
    parity(tmp_path, lines, docs, fires={"t.count"})


def test_sliding_windows_with_out_of_order_and_simultaneous_events(tmp_path: Path) -> None:
    docs = [
        rule(
            "t.sliding", window={"type": "sliding", "size": "2m"},
            aggregates={"n": {"fn": "count"}, "total": {"fn": "sum", "field": "amount"},
                        "low": {"fn": "min", "field": "amount"},
                        "high": {"fn": "max", "field": "amount"}},
            condition="agg.n >= 4 && agg.total > 40.0", lateness="30m",
        )
    ]  # fmt: skip
    rng = random.Random(11)
    lines: list[Line] = []
    for n in range(80):
        seconds = (n // 3) * 15  # three events at each instant
        lines.append(txn(f"s{n:03d}", seconds, f"{rng.randint(1, 30)}.{rng.randint(0, 99):02d}"))
    rng.shuffle(lines)  # arrival order is not event order
    # Within the file order, events of one instant keep their order: the same ids reversed.
    lines += [txn(f"z{n}", 600, "12.5", account="acc-2") for n in (3, 2, 1, 0)]
    parity(tmp_path, lines, docs, fires={"t.sliding"})


def test_sliding_windows_fed_out_of_order_through_the_file(tmp_path: Path) -> None:
    """Event time goes back and forth; replay sorts it, the engines see it in order,
    except where the same instant repeats: then the file order decides."""
    docs = [count_rule("t.sliding_eq", {"type": "sliding", "size": "1m"}, 3)]
    lines = [txn(f"e{n}", 30 * (n % 4), account=f"acc-{n % 2}") for n in range(24)]
    parity(tmp_path, lines, docs, fires={"t.sliding_eq"})


def test_min_max_sum_over_amounts(tmp_path: Path) -> None:
    docs = [
        rule(
            "t.money", window={"type": "sliding", "size": "10m"},
            aggregates={
                "total": {"fn": "sum", "field": "amount"},
                "low": {"fn": "min", "field": "amount"},
                "high": {"fn": "max", "field": "amount", "where": 'event.status != "failed"'},
                "n": {"fn": "count"},
            },
            condition="agg.total > 100.0 && agg.high - agg.low > 5.0",
        )
    ]  # fmt: skip
    amounts = ["0.01", "99.99", "12.5", "12.50", "0.00000001", "1E+2", "100", "7.1", "3.333"]
    lines = [txn(f"m{n}", n * 50, amounts[n % len(amounts)]) for n in range(30)]
    lines[3]["status"] = "failed"
    parity(tmp_path, lines, docs, fires={"t.money"})


def test_distinct_over_other_fields(tmp_path: Path) -> None:
    def distinct(rule_id: str, field: str, at_least: int) -> dict[str, Any]:
        return rule(
            rule_id, events=["transaction", "account_event"],
            window={"type": "sliding", "size": "1h"},
            aggregates={"d": {"fn": "distinct", "field": field}},
            condition=f"agg.d >= {at_least}", severity=10,
        )  # fmt: skip

    docs = [
        distinct("t.d_hour", "hour", 3),
        distinct("t.d_lat", "lat", 3),
        distinct("t.d_x", "attributes.x", 4),
        distinct("t.d_amount", "amount", 4),
        distinct("t.d_device", "device_id", 3),
        distinct("t.d_ts", "ts", 5),
        distinct("t.d_status", "status", 2),
    ]
    xs: list[Any] = [1, 1.0, True, "True", "1", 1e16, 1e-05, 0.1, -0.0, 0.0, None, "x", 2**53 + 1]
    amounts = ["10", "10.0", "10.00", "1E+1", "0.5", "5E-1", "7"]
    lats = [31.2, 31.20, 31, -0.0, 45.123456789, 1e-7]
    lines: list[Line] = []
    for n in range(26):
        extra: dict[str, Any] = {
            "device_id": f"dev-{n % 3}",
            "geo": {"lat": lats[n % len(lats)], "lon": 121.5},
            "attributes": {"x": xs[n % len(xs)]},
        }
        status = ["succeeded", "failed", "pending"][n % 3]
        lines.append(
            txn(f"d{n}", n * 137, amounts[n % len(amounts)], tz=n % 5 - 2, status=status, **extra)
        )
    lines.append(acct("a1", 100, "login", geo={"lat": 10.5, "lon": 1}))
    parity(tmp_path, lines, docs, fires={rule["id"] for rule in docs})


def test_ratio_and_filters(tmp_path: Path) -> None:
    docs = [
        rule(
            "t.ratio", events=["payment", "feedback"], key="event.counterparty_id",
            entity="merchant", window={"type": "sliding", "size": "1d"},
            aggregates={
                "fraud": {"fn": "count", "where": 'event.label == "fraud"'},
                "sales": {"fn": "count", "where": 'event.type == "payment" && !has(event.label)'},
                "rate": {"fn": "ratio", "of": ["fraud", "sales"]},
                "empty": {"fn": "ratio", "of": ["sales", "fraud"]},
            },
            condition="agg.fraud >= 2 && agg.rate >= 0.1",
        ),
        rule(
            "t.when", when="event.amount >= 50.0 && event.channel == 'app'",
            window={"type": "sliding", "size": "30m"},
            aggregates={"n": {"fn": "count"},
                        "big": {"fn": "count", "where": "event.amount > 200.0"},
                        "share": {"fn": "ratio", "of": ["big", "n"]}},
            condition="agg.n >= 3 && agg.share > 0.3",
        ),
    ]  # fmt: skip
    lines: list[Line] = []
    for n in range(20):
        amount = ["60", "250", "49.99", "300"][n % 4]
        lines.append(txn(f"r{n}", n * 60, amount, counterparty_id="m-1",
                         channel="app" if n % 3 else "web"))  # fmt: skip
    lines += [verdict(f"f{n}", 700 + n * 60, f"r{n}", "fraud", counterparty_id="m-1")
              for n in range(4)]  # fmt: skip
    parity(tmp_path, lines, docs, fires={"t.ratio", "t.when"})


def test_baseline_mean_and_deviation(tmp_path: Path) -> None:
    docs = [
        rule(
            "t.spike", window={"type": "count", "size": 1},
            aggregates={
                "spike": {"fn": "deviation", "field": "amount", "horizon": "30d",
                          "where": 'event.status != "failed"'},
                "base": {"fn": "baseline_mean", "field": "amount", "horizon": "7d"},
            },
            condition="agg.spike >= 5.0 && agg.spike_days >= 2", severity=40,
        ),
        rule(
            "t.quiet", window={"type": "tumbling", "size": "1d"},
            aggregates={"activity": {"fn": "baseline_mean", "field": "amount", "horizon": "3d"},
                        "largest": {"fn": "max", "field": "amount"}},
            condition="agg.activity_days == 0 && agg.largest > 100.0", severity=20,
        ),
    ]  # fmt: skip
    day = 86_400
    lines: list[Line] = []
    for d in range(10):
        for k in range(3):
            lines.append(txn(f"b{d}-{k}", d * day + k * 3600, f"{20 + d + k}.{d}{k}"))
    lines.append(txn("spike", 10 * day + 60, "900"))
    lines.append(txn("spike-failed", 10 * day + 120, "1000", status="failed"))
    lines.append(txn("quiet", 20 * day, "150"))
    parity(tmp_path, lines, docs, fires={"t.spike", "t.quiet"})


def test_rules_keyed_by_other_fields(tmp_path: Path) -> None:
    def keyed(rule_id: str, key: str, entity: str) -> dict[str, Any]:
        return rule(
            rule_id, key=key, entity=entity, events=["transaction", "login"],
            window={"type": "sliding", "size": "10m"},
            aggregates={"n": {"fn": "count"},
                        "accounts": {"fn": "distinct", "field": "account_id"}},
            condition="agg.n >= 4 && agg.accounts >= 2", severity=25,
        )  # fmt: skip

    docs = [
        keyed("t.device", "event.device_id", "device"),
        keyed("t.ip", "event.ip", "ip"),
        keyed("t.prefix", "event.ip_prefix", "ip"),
        keyed("t.cp", "event.counterparty_id", "counterparty"),
        keyed("t.pair", "event.device_id + '|' + event.ip", "device"),
        keyed("t.ternary", 'event.type == "login" ? event.device_id : event.counterparty_id',
              "device"),
        keyed("t.instrument", "event.instrument_id", "instrument"),
    ]  # fmt: skip
    ips = ["10.0.0.1", "10.0.0.2", "2001:db8::1", "not-an-ip", "10.0.1.7", "::ffff:10.0.0.1"]
    lines: list[Line] = []
    for n in range(40):
        extra: dict[str, Any] = {
            "device_id": f"dev-{n % 2}", "ip": ips[n % len(ips)],
            "counterparty_id": f"cp-{n % 3}", "instrument_id": f"card-{n % 2}",
        }  # fmt: skip
        if n % 7 == 0:
            extra.pop("device_id")  # no key: the device rules skip it
        if n % 5 == 0:
            lines.append(acct(f"l{n}", n * 11, account=f"acc-{n % 4}", device_id="dev-1",
                              ip=ips[n % 3]))  # fmt: skip
        lines.append(txn(f"k{n}", n * 11, account=f"acc-{n % 4}", **extra))
    parity(tmp_path, lines, docs, fires={doc["id"] for doc in docs})


def test_sequences(tmp_path: Path) -> None:
    docs = [
        rule(
            "t.seq_times", events=["login_failed", "login"],
            sequence={"within": "20m", "steps": [
                {"name": "failures", "when": 'event.type == "login_failed"', "times": 3},
                {"name": "success", "when": 'event.type == "login"'},
            ]},
        ),
        rule(
            "t.seq_repeat", events=["payment"],
            sequence={"within": "5m", "steps": [
                {"name": "small", "when": "event.amount < 5.0", "times": 4},
            ]}, severity=30,
        ),
        rule(
            "t.seq_match", events=["top_up", "withdrawal"],
            sequence={"within": "1h", "steps": [
                {"name": "topup", "when": 'event.type == "top_up" && event.amount >= 100.0'},
                {"name": "out", "when": 'event.type == "withdrawal"',
                 "match": "event.amount >= 0.8 * steps.topup.amount"
                          " && event.instrument_id != steps.topup.instrument_id"},
            ]}, severity=70,
        ),
        rule(
            "t.seq_three", events=["login", "password_change", "withdrawal"],
            sequence={"within": "30m", "steps": [
                {"name": "a", "when": 'event.type == "login"'},
                {"name": "b", "when": 'event.type == "password_change"',
                 "match": "event.ts - steps.a.ts < 600.0"},
                {"name": "c", "when": 'event.type == "withdrawal"', "times": 2,
                 "match": "event.amount > 10.0 && steps.b.device_id == event.device_id"},
            ]}, severity=80,
        ),
    ]  # fmt: skip
    lines: list[Line] = []
    base = 0
    for round_ in range(3):
        account = f"acc-{round_}"
        lines += [acct(f"lf{round_}-{n}", base + n * 30, "login_failed", account=account)
                  for n in range(4)]  # fmt: skip
        lines.append(acct(f"li{round_}", base + 200, "login", account=account, device_id="d1"))
        lines += [txn(f"sm{round_}-{n}", base + 210 + n * 20, "1.5", account=account)
                  for n in range(5)]  # fmt: skip
        lines.append(acct(f"pc{round_}", base + 300, "password_change", account=account,
                          device_id="d1"))  # fmt: skip
        lines.append(txn(f"tu{round_}", base + 400, "500", account=account, type="top_up",
                         instrument_id="card-a"))  # fmt: skip
        lines += [txn(f"wd{round_}-{n}", base + 500 + n * 60, ["450", "30", "410"][n],
                      account=account, type="withdrawal", device_id="d1",
                      instrument_id="card-a" if n == 0 else "card-b")
                  for n in range(3)]  # fmt: skip
        base += 4000
    # Out of order: a withdrawal that arrives before its top-up in the file.
    lines.insert(0, txn("early-wd", 9050, "95", account="acc-9", type="withdrawal"))
    lines.append(txn("late-tu", 9000, "100", account="acc-9", type="top_up"))
    parity(tmp_path, lines, docs, fires={doc["id"] for doc in docs})


def test_sequence_with_absence(tmp_path: Path) -> None:
    docs = [
        rule(
            "t.absent", events=["password_change", "login", "payment"],
            sequence={"within": "10m", "steps": [
                {"name": "change", "when": 'event.type == "password_change"'},
                {"name": "pay", "when": 'event.type == "payment"'},
            ], "absent": {"name": "confirm", "when": 'event.type == "login"',
                          "match": "event.device_id == steps.change.device_id"}},
        )
    ]  # fmt: skip
    lines: list[Line] = []
    for n in range(6):
        account, base = f"acc-{n}", n * 100
        lines.append(acct(f"pc{n}", base, "password_change", account=account, device_id="d1"))
        lines.append(txn(f"pay{n}", base + 60, account=account))
        if n % 2:  # confirmed from the same device: no signal
            lines.append(acct(f"ok{n}", base + 120, account=account, device_id="d1"))
        elif n % 3 == 0:  # a login from elsewhere confirms nothing
            lines.append(acct(f"other{n}", base + 120, account=account, device_id="d2"))
        # later activity moves the account's event time past the absence's end
        lines += [txn(f"later{n}-{k}", base + 1300 + k * 400, account=account)
                  for k in range(2)]  # fmt: skip
    parity(tmp_path, lines, docs, fires={"t.absent"})


def test_shadow_rules(tmp_path: Path) -> None:
    docs = [
        count_rule("t.shadow", {"type": "sliding", "size": "5m"}, 3, mode="shadow"),
        count_rule("t.active", {"type": "sliding", "size": "5m"}, 5, severity=45),
        count_rule("t.disabled", {"type": "sliding", "size": "5m"}, 2, mode="disabled"),
    ]
    reference = parity(tmp_path, [*burst(12, 15), *burst(12, 15)], docs,
                       fires={"t.shadow", "t.active"})  # fmt: skip
    assert reference.shadow and "t.disabled" not in reference.fired()


def test_rules_reading_the_entity(tmp_path: Path) -> None:
    docs = [
        rule(
            "t.idle", when="entity.idle_seconds > 3600.0", events=["payment", "login"],
            window={"type": "count", "size": 1}, aggregates={"n": {"fn": "count"}},
            condition="agg.n == 1 && entity.events_seen >= 2",
        ),
        rule(
            "t.young", window={"type": "sliding", "size": "1h"},
            aggregates={"n": {"fn": "count", "where": "entity.age_seconds < 600.0"}},
            condition="agg.n >= 3 && entity.age_seconds < 900.0", severity=20,
        ),
        rule(
            "t.first", events=["payment"], when="!has(entity.events_seen)",
            window={"type": "count", "size": 1}, aggregates={"n": {"fn": "count"}},
            condition="agg.n >= 1", severity=5,
        ),
    ]  # fmt: skip
    lines: list[Line] = [
        *burst(6, 60),
        txn("after-idle", 9000),
        acct("login-idle", 20000),
        *burst(5, 30, "acc-2", "y"),
    ]
    parity(tmp_path, lines, docs, fires={"t.idle", "t.young"})


@pytest.mark.parametrize("penalty", ["freeze", "step_up", "review", "block"])
def test_penalties_change_decisions(tmp_path: Path, penalty: str) -> None:
    docs = [
        count_rule("t.penalty", {"type": "sliding", "size": "10m"}, 3, penalty=penalty,
                   severity=20),
        count_rule("t.device_block", {"type": "sliding", "size": "10m"}, 4, penalty=penalty,
                   key="event.device_id", entity="device", severity=10),
    ]  # fmt: skip
    lines = [txn(f"p{n}", n * 30, account=f"acc-{n % 3}", device_id="dev-1") for n in range(15)]
    reference = parity(tmp_path, lines, docs, fires={"t.penalty", "t.device_block"})
    assert reference.decisions.count(b'"accept"') < len(lines)


def test_score_rules_of_our_own(tmp_path: Path) -> None:
    docs = [
        count_rule("t.velocity", {"type": "sliding", "size": "10m"}, 3, severity=35),
        rule(
            "t.big", window={"type": "count", "size": 1}, aggregates={"n": {"fn": "count"}},
            condition="event.amount >= 1000.0", severity=15, pattern="big.amount",
            penalty="review",
        ),
        score_rule("s.spent", "SPENT_TODAY", "spent_today + event.amount > 1500.0", 25),
        score_rule("s.patterns", "PATTERNS", "size(profiles.account.patterns) >= 2", 30),
        score_rule("s.count", "COUNT", "profiles.account.count >= 2 && event.type == 'payment'",
                   5),
        score_rule("s.device", "DEVICE", "profiles.device.max_severity > 0", 40),
        score_rule("s.penalty", "PENALTY", "size(penalties.account) > 0", 50),
        score_rule("s.hour", "NIGHT", "event.hour < 6 || event.hour >= 22", 10),
        score_rule("s.cp", "CP",
                   "profiles.counterparty.count > 0 || event.counterparty_id == 'm-x'", 12),
        {**score_rule("s.shadow", "SHADOW", "event.amount > 0.0", 99), "mode": "shadow"},
    ]  # fmt: skip
    lines: list[Line] = []
    for n in range(16):
        amount = ["300", "700", "1200", "45.5"][n % 4]
        lines.append(
            txn(
                f"s{n}",
                n * 90,
                amount,
                type=["payment", "transfer"][n % 2],
                counterparty_id="m-x" if n % 5 == 0 else None,
                tz=8 if n % 3 else -5,
            )
        )
    lines.append(txn("refund", 2000, "5000", type="refund"))
    lines.append(txn("topup", 2100, "5000", type="top_up"))
    lines.append(txn("next-day", 86_400 + 60, "900"))
    parity(tmp_path, lines, docs, fires={"t.velocity", "t.big"})


def test_custom_policy(tmp_path: Path) -> None:
    docs = [count_rule("t.velocity", {"type": "sliding", "size": "10m"}, 3, severity=45)]
    policy = DecisionPolicy(review_at=10, challenge_at=45, reject_at=46, unknown="reject")
    parity(tmp_path, burst(10, 20), docs, policy=policy, fires={"t.velocity"})


def test_feedback_clears_and_restores_signals(tmp_path: Path) -> None:
    docs = [count_rule("t.burst", {"type": "sliding", "size": "10m"}, 4, severity=60)]
    lines: list[Line] = [
        *burst(8, 20),
        verdict("fb1", 170, "p3", "legit"),  # the trigger (4th payment): cleared
        txn("after-legit", 175),
        verdict("fb2", 180, "p3", "fraud"),
        txn("after-fraud", 185),
        verdict("fb3", 190, "p3", "legit"),
        verdict("fb0", 100, "p3", "fraud"),  # older than the latest verdict: ignored
        txn("after-old", 195),
        verdict("fb4", 200, "nothing", "legit"),
        verdict("fb1", 205, "p3", "fraud"),  # a repeated feedback id
        txn("after-dup", 210),
        txn("other-account", 215, account="acc-2"),
    ]
    parity(tmp_path, lines, docs, fires={"t.burst"})


def test_many_signals_of_one_rule_on_one_entity(tmp_path: Path) -> None:
    """The profile keeps the 8 latest signals of a rule per entity."""
    docs = [
        rule("t.every", window={"type": "count", "size": 1}, aggregates={"n": {"fn": "count"}},
             condition="agg.n == 1", severity=30, ttl="1h"),
        rule("t.every_other", window={"type": "count", "size": 2},
             aggregates={"n": {"fn": "count"}}, condition="agg.n == 2", severity=40,
             ttl="90s"),
    ]  # fmt: skip
    lines = [txn(f"e{n:02d}", n * 20 - (n % 3) * 5) for n in range(30)]
    lines += [verdict(f"v{n}", 300 + n, f"e{n:02d}", "legit") for n in range(0, 30, 4)]
    lines += [txn("after", 700)]
    parity(tmp_path, lines, docs, fires={"t.every", "t.every_other"})


def test_the_entry_cap(tmp_path: Path) -> None:
    """More entries on one merchant than an entity keeps (EngineLimits.max_entries)."""
    docs = [
        rule(
            "t.merchant", key="event.counterparty_id", entity="merchant",
            events=["payment", "feedback"], window={"type": "sliding", "size": "30d"},
            aggregates={"n": {"fn": "count"},
                        "fraud": {"fn": "count", "where": 'event.type == "feedback"'},
                        "total": {"fn": "sum", "field": "amount"}},
            condition="agg.fraud >= 3 && agg.n >= 2000", severity=70,
        ),
        rule("t.tumble", key="event.counterparty_id", entity="merchant",
             window={"type": "tumbling", "size": "30d"}, aggregates={"n": {"fn": "count"}},
             condition="agg.n >= 5001", severity=10),
    ]  # fmt: skip
    lines: list[Line] = [
        txn(f"m{n:05d}", n * 30, "1.5", account=f"acc-{n % 50}", counterparty_id="shop")
        for n in range(5300)
    ]
    lines += [verdict(f"fb{n}", 5300 * 30 + n, f"m{n:05d}", "fraud", counterparty_id="shop")
              for n in range(4)]  # fmt: skip
    lines += [txn(f"x{n}", 5300 * 30 + 10 + n, "2", counterparty_id="shop") for n in range(5)]
    parity(tmp_path, lines, docs, fires={"t.merchant"})


def test_mean_is_declined_and_auto_falls_back(tmp_path: Path) -> None:
    docs = [
        rule("t.mean", window={"type": "sliding", "size": "10m"},
             aggregates={"avg": {"fn": "mean", "field": "amount"}},
             condition="agg.avg > 5.0"),
    ]  # fmt: skip
    declines(tmp_path, burst(5), docs, fires={"t.mean"})


def test_sum_of_another_field_is_declined_and_auto_falls_back(tmp_path: Path) -> None:
    docs = [
        rule("t.hours", window={"type": "sliding", "size": "10m"},
             aggregates={"h": {"fn": "sum", "field": "hour"}}, condition="agg.h > 20.0"),
    ]  # fmt: skip
    declines(tmp_path, burst(5), docs, fires={"t.hours"})


# ---------------------------------------------------------------------------------------
# 3. Values at the edges
# ---------------------------------------------------------------------------------------


def test_unicode_ids(tmp_path: Path) -> None:
    docs = [
        count_rule("t.u_account", {"type": "sliding", "size": "10m"}, 3),
        count_rule("t.u_device", {"type": "sliding", "size": "10m"}, 3, key="event.device_id",
                   entity="device"),
        rule("t.u_distinct", window={"type": "sliding", "size": "10m"},
             aggregates={"d": {"fn": "distinct", "field": "counterparty_id"}},
             condition="agg.d >= 3"),
    ]  # fmt: skip
    names = ["用户-一", "ünïcödé", "emoji-😀", "a\u0301", "\u00e1", "tab\tin", 'quote"in', "ß"]
    lines = [
        txn(f"ид-{n}-{names[n % len(names)]}", n * 20, account=names[n % 3],
            device_id=names[(n + 1) % len(names)], counterparty_id=names[n % len(names)])
        for n in range(30)
    ]  # fmt: skip
    parity(tmp_path, lines, docs, fires={"t.u_account", "t.u_device", "t.u_distinct"})


def test_amounts_at_the_edges(tmp_path: Path) -> None:
    docs = [
        rule(
            "t.amounts", window={"type": "count", "size": 3},
            aggregates={"total": {"fn": "sum", "field": "amount"},
                        "low": {"fn": "min", "field": "amount"},
                        "high": {"fn": "max", "field": "amount"},
                        "d": {"fn": "distinct", "field": "amount"}},
            condition="agg.total > 0.0", severity=5,
        ),
        rule("t.tiny", when="event.amount < 0.000001", window={"type": "count", "size": 1},
             aggregates={"n": {"fn": "count"}}, condition="agg.n == 1", severity=1),
    ]  # fmt: skip
    amounts: list[Any] = [
        "0.00000001",
        1e-7,
        "1E-7",
        0.0000001,
        "0.0000001",
        1e-08,
        "1E+3",
        "1e3",
        1000,
        1000.0,
        "0001.50",
        "1.50000000",
        "9999999999999999.99999999",
        0.1,
        1e15,
        "1E+15",
        123456789012.5,
        "5",
        5,
        "0.10",
        "1E-8",
    ]
    lines = [txn(f"a{n:02d}", n * 10, amount) for n, amount in enumerate(amounts)]
    lines += [txn(f"b{n:02d}", n * 10, amount, account="acc-2") for n, amount in
              enumerate(reversed(amounts))]  # fmt: skip
    reference = parity(tmp_path, lines, docs, fires={"t.amounts", "t.tiny"})
    assert reference.bad == []


def test_time_zones_around_midnight(tmp_path: Path) -> None:
    docs = [
        rule("t.night", when="event.hour >= 23 || event.hour < 1",
             window={"type": "tumbling", "size": "1d"}, aggregates={"n": {"fn": "count"},
             "hours": {"fn": "distinct", "field": "hour"}},
             condition="agg.n >= 2", severity=15),
        count_rule("t.day", {"type": "tumbling", "size": "1d"}, 3, severity=10),
    ]  # fmt: skip
    midnight = 15 * 3600  # T0 is 09:00Z: 00:00Z of the next day
    lines: list[Line] = []
    for n, (seconds, tz) in enumerate([
        (midnight - 1, 0), (midnight, 0), (midnight - 0.001, 0), (midnight - 8 * 3600, 8),
        (midnight - 8 * 3600 - 1, 8), (midnight + 5 * 3600, -5), (midnight + 5 * 3600 - 1, -5),
        (midnight + 1800, 5.5), (midnight - 1800, -9.5), (midnight + 0.0005, 0),
        (midnight - 0.0005, 14), (midnight + 0.999, -12),
    ]):  # fmt: skip
        lines.append(txn(f"z{n:02d}", seconds, tz=tz))
        lines.append(txn(f"y{n:02d}", seconds, tz=tz, account="acc-2"))
    parity(tmp_path, lines, docs, fires={"t.night", "t.day"})


def test_timestamps_written_in_other_forms(tmp_path: Path) -> None:
    docs = [count_rule("t.forms", {"type": "sliding", "size": "1h"}, 2, severity=5)]
    forms = [
        "2026-11-02T09:00:00Z", "2026-11-02T09:00:00.000Z", "2026-11-02T09:00:00.123456Z",
        "2026-11-02T09:00:00.1234567Z", "2026-11-02T17:00:00+08:00", "2026-11-02 09:00:01Z",
        "2026-11-02T09:00:01+0000", "2026-11-02T09:00:01.5-00:00", "2026-11-02t09:00:02z",
        "1969-12-31T23:59:59.9995Z", "1970-01-01T00:00:00.0005+00:00", "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999Z", "2026-11-02T09:00:03+23:59", "2026-11-02T09:00",
        "2024-02-29T12:00:00Z", "2023-02-29T12:00:00Z", "2026-11-02T24:00:00Z",
        "2026-11-02T09:00:60Z",
    ]  # fmt: skip
    lines: list[Line] = []
    for n, form in enumerate(forms):
        lines.append({**txn(f"f{n:02d}", 0), "occurred_at": form})
    lines.append({**txn("numeric", 0), "occurred_at": 1793610000.5})
    lines.append({**txn("numeric-int", 0), "occurred_at": 1793610001})
    parity(tmp_path, lines, docs, fires={"t.forms"})


def test_events_at_the_same_millisecond(tmp_path: Path) -> None:
    docs = [
        rule("t.same", window={"type": "sliding", "size": "1s"},
             aggregates={"n": {"fn": "count"}, "total": {"fn": "sum", "field": "amount"}},
             condition="agg.n >= 3", severity=50),
        count_rule("t.same_count", {"type": "count", "size": 3}, 3, key="event.device_id",
                   entity="device"),
        count_rule("t.same_hop", {"type": "hopping", "size": "2s", "hop": "1s"}, 4, severity=7),
        count_rule("t.same_tumble", {"type": "tumbling", "size": "1s"}, 5, severity=8),
        rule("t.same_seq", events=["payment"], sequence={"within": "1s", "steps": [
             {"name": "a", "when": "event.amount < 5.0"},
             {"name": "b", "when": "event.amount >= 5.0"}]}),
    ]  # fmt: skip
    lines: list[Line] = []
    ids = ["b", "a", "c", "ab", "A", "0", "b2", "_"]
    for n, name in enumerate(ids):
        lines.append(txn(name, 0.0004 if n % 2 else 0.0001, str(2 + n), device_id="dv"))
    lines += [txn(f"acc2-{n}", 0.0007, str(9 - n), account="acc-2") for n in range(4)]
    fires = {"t.same", "t.same_count", "t.same_seq", "t.same_hop", "t.same_tumble"}
    parity(tmp_path, lines, docs, fires=fires)


def test_extra_fields_and_nulls(tmp_path: Path) -> None:
    """Fields the contract keeps but rules do not see, explicit nulls, geo without country."""
    docs = [
        rule("t.geo", events=["transaction", "account_event"],
             when="event.lat != null && event.country == null",
             window={"type": "sliding", "size": "1h"}, aggregates={"n": {"fn": "count"}},
             condition="agg.n >= 2", severity=10),
        count_rule("t.any", {"type": "sliding", "size": "1h"}, 3, events=["*"]),
    ]  # fmt: skip
    lines: list[Line] = [
        txn("x1", 0, channel=None, device_id=None, extra_field={"nested": [1, 2]}),
        txn("x2", 10, geo={"lat": 1, "lon": 2}, attributes={}),
        txn("x3", 20, geo={"lat": 1.5, "lon": -2.25, "country": None}),
        txn("x4", 30, geo={"lat": 0, "lon": 0, "country": "CN", "alt": 5}),
        txn("x5", 40, geo=None, counterparty_id=None, attributes={"a": None, "b": "ü"}),
        acct("x6", 50, "kyc_update", geo={"lat": -90, "lon": 180}),
        verdict("x7", 60, "x1", "fraud", source="customer"),
        verdict("x8", 70, "x2", "legit", source="chargeback", counterparty_id=None),
        acct("x9", 80, "account_opened", ip="", device_id=" padded "),
    ]
    parity(tmp_path, lines, docs, fires={"t.geo", "t.any"})


def one_event_rule(rule_id: str, condition: str = "true", **fields: Any) -> dict[str, Any]:
    """A rule judging each event on its own (a count window of one)."""
    return rule(
        rule_id, window={"type": "count", "size": 1}, aggregates={"n": {"fn": "count"}},
        condition=condition, **fields,
    )  # fmt: skip


def test_keys_of_other_types(tmp_path: Path) -> None:
    """A key that is no string names its entity by ``str()``: ints, floats (nan, inf,
    -0.0, exponents), booleans; lists and maps name none."""
    keys = [
        "event.hour", "event.ts", "event.lat", "event.amount", "event.amount > 5.0",
        "event.attributes.x", "event.attributes", "(event.amount - event.amount) / 0.0",
        "-event.amount / 0.0", "event.amount * 1e15", "event.amount * 1e-6",
        "event.amount * 0.1 + 0.2", "event.lat * -1.0", "event.hour * 1000000000000000000",
        "event.amount > 5.0 ? event.hour : event.ts", "event.amount * 1e21",
        "event.amount / 3.0", "event.ip_prefix",
    ]  # fmt: skip
    docs = [one_event_rule(f"t.key{n:02d}", key=key, entity="device", severity=n)
            for n, key in enumerate(keys)]  # fmt: skip
    ips = ["10.0.0.1", "010.0.0.1", "1.2.3.04", "255.255.255.255", "0.0.0.0", "1.2.3", "::1",
           "::ffff:1.2.3.4", "2001:DB8::1", "bad", "1.2.3.4/24", "\u0661.2.3.4", "256.1.1.1",
           "0.1.2.3", "1:2:3:4:5:6:7:8", "::"]  # fmt: skip
    lines = [
        txn(f"k{n}", n * 1.001, ["10", "0.5", "1E+1", "0.1", "7"][n % 5],
            geo={"lat": [1.5, -0.0, 0.0, 1e-7][n % 4], "lon": 1}, ip=ips[n % len(ips)],
            attributes={"x": [1, 1.5, True, "s", 2**63 - 1, 1e300, -0.0, "", None][n % 9]})
        for n in range(32)
    ]  # fmt: skip
    fires = {doc["id"] for doc in docs} - {"t.key06"}
    parity(tmp_path, lines, docs, fires=fires)


EDGE_CONDITIONS = [
    "event.amount / 0.0 > 1.0", "-event.amount / 0.0 < 0.0",
    "(event.amount - event.amount) / 0.0 == (event.amount - event.amount) / 0.0",
    "(event.amount - event.amount) / 0.0 != 1.0", "!((event.amount - event.amount) / 0.0 < 1.0)",
    "event.hour / 2 == 4", "-event.hour / 2 == -4", "event.hour - 10 < 0",
    "event.hour * 1000000000000 > 0", "event.ts * 1e300 * 1e300 > 1e308",
    "event.amount * -0.0 == 0.0", "event.lat / event.lon < 0.0", "event.lat == -0.0",
    "1.0 / event.lat < 0.0", "event.account_id < 'acc-2'",
    "event.account_id + event.account_id == 'acc-1acc-1'", "'' < event.account_id",
    "event.hour == 9.0", "event.hour != 9.5", "event.amount == 10", "event.amount >= 10",
    "event.status in ['succeeded', 1]", "event.hour in [9.0, 'x']", "event.amount in [10.0]",
    "event.amount in [10]", "true ? event.amount : 1.0", "event.amount > 5.0 ? 'a' : 'b'",
    "null == null", "event.nope == null", "has(event.nope) || true",
    "event.device_id == null && !has(event.nope)",
    "event.attributes.x == 1 || event.attributes.x == 'a'", "size(event.type) == 7",
    "size('') == 0", "-(-event.amount) > 1.0", "!(!(event.amount > 1.0))",
    "event.ts > 1.0e9 && event.ts < 2e9", "distance_km(event.lat, event.lon, 0.0, 0.0) > 100.0",
    "distance_km(1, 2, 3, 4) > 0.0",
    "distance_km(event.lat, event.lon, event.lat, event.lon) == 0.0",
    "event.attributes.x == 9007199254740993", "event.attributes.x < 9007199254740993",
    "agg.n_days == 0 || agg.n >= 1", "!event.account_id", "event.amount",
]  # fmt: skip


def test_expressions_at_the_edges(tmp_path: Path) -> None:
    """Doubles (inf, nan, -0.0), ints and doubles compared, errors on either side of a
    logical operator, missing fields, lists of literals, functions."""
    docs = [one_event_rule(f"t.cond{n:02d}", condition, severity=1)
            for n, condition in enumerate(EDGE_CONDITIONS)]  # fmt: skip
    xs = [1, "a", 1.0, 9007199254740993, 9007199254740992.0, None]
    lines = [
        txn(f"e{n}", n, ["10", "0.5", "1E+1"][n % 3],
            geo={"lat": [1.5, -0.0, 0.0][n % 3], "lon": [2, -3.5, 0][n % 3]},
            attributes={"x": xs[n % len(xs)]})
        for n in range(12)
    ]  # fmt: skip
    reference = parity(tmp_path, lines, docs)
    assert len(reference.fired()) > len(EDGE_CONDITIONS) // 2


def test_decision_text_with_escapes(tmp_path: Path) -> None:
    """Decision lines are written natively: patterns and descriptions with quotes,
    backslashes, control and non-ASCII characters are escaped as orjson does."""
    weird = (
        'tab\there "quote" back\\slash \x01 ctrl \x7f del \u2028 ls \u2029 ps \U0001f600 \u00fc '
        "</script> \ud7ff \ufffd end"
    )
    docs = [
        one_event_rule("t.weird", pattern=weird[:100], severity=20, penalty="review"),
        {**score_rule("s.weird", "WEIRD", "true", 10), "description": weird},
    ]
    parity(tmp_path, burst(3), docs, fires={"t.weird"})


def test_rule_entity_differs_from_its_key(tmp_path: Path) -> None:
    """The signal's entity type is the rule's, whatever its key: scoring looks it up
    under that type and the transaction's field of that type."""
    docs = [
        one_event_rule("t.m1", entity="merchant", severity=11),
        one_event_rule("t.m2", entity="device", severity=12),
        one_event_rule("t.m3", key="event.device_id", entity="account", severity=13),
        one_event_rule("t.m4", key="event.counterparty_id", entity="counterparty", severity=14),
        one_event_rule("t.m5", key="event.ip", entity="instrument", severity=15, penalty="block"),
        one_event_rule("t.m6", key="event.ip", entity="ip", severity=16, penalty="freeze"),
    ]
    lines = [txn(f"e{n}", n * 10, device_id="acc-1", counterparty_id="acc-1",
                 instrument_id="acc-1", ip="acc-1") for n in range(6)]  # fmt: skip
    parity(tmp_path, lines, docs, fires={doc["id"] for doc in docs})


@pytest.mark.parametrize(("first", "second"), [(1, 50), (5, 50), (10, 15), (2, 25), (15, 30)])
def test_scores_that_round_half_to_even(tmp_path: Path, first: int, second: int) -> None:
    """100 * (1 - 0.99 * 0.5) is 50.5 in doubles: Python rounds it to 50."""
    docs = [
        one_event_rule("t.first", severity=first),
        one_event_rule("t.second", severity=second, key="event.device_id", entity="device"),
        one_event_rule("t.third", severity=second, when="event.amount > 15.0"),
        score_rule("s.points", "POINTS", "event.amount > 25.0", first),
    ]
    lines = [txn(f"r{n}", n * 5, str(10 + 10 * n), device_id="d") for n in range(5)]
    parity(tmp_path, lines, docs, fires={"t.first", "t.second", "t.third"})


def test_bits_of_an_entity_s_first_entry(tmp_path: Path) -> None:
    """The reference gives the first entry of an entity each rule's bits again with an
    empty ``entity`` (``RuleEngine._refresh_flags``): a ``when`` on ``entity`` can differ."""
    docs = [
        one_event_rule("t.first", when="!has(entity.events_seen)", severity=5),
        one_event_rule("t.never", "false"),
        one_event_rule("t.third", "true", events=["payment", "login"], severity=7,
                       when="entity.events_seen == 0 || !has(entity.idle_seconds)"),
    ]  # fmt: skip
    lines: list[Line] = [*burst(3), acct("l1", 100, account="acc-5"), *burst(2, 5, "acc-6")]
    parity(tmp_path, lines, docs, fires={"t.first", "t.third"})


def test_events_before_1970(tmp_path: Path) -> None:
    """Negative epoch milliseconds: the state's -1 sentinels meet real times."""
    docs = [
        one_event_rule("t.age", "entity.age_seconds > 10.0 || entity.idle_seconds > 5.0",
                       events=["payment", "login"]),
        count_rule("t.slide", {"type": "sliding", "size": "10m"}, 3, severity=20),
        count_rule("t.tumble", {"type": "tumbling", "size": "1h"}, 3, severity=21),
        rule("t.base", window={"type": "count", "size": 1}, severity=22,
             aggregates={"b": {"fn": "baseline_mean", "field": "amount", "horizon": "3d"}},
             condition="agg.b_days >= 1"),
        rule("t.seq", events=["payment", "login"], sequence={"within": "10m", "steps": [
            {"name": "a", "when": 'event.type == "login"'},
            {"name": "b", "when": 'event.type == "payment"'}]}),
        score_rule("s.spent", "SPENT", "spent_today > 15.0"),
    ]  # fmt: skip
    epoch = -int((T0 - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds())
    lines: list[Line] = []
    for base in (epoch - 3 * 86_400, epoch - 300, epoch + 86_400):
        lines += [acct(f"l{base}", base), *burst(5, 20, prefix=f"p{base}-")]
        lines[-5:] = [{**line, "occurred_at": stamp(base + n * 20)}  # type: ignore[dict-item]
                      for n, line in enumerate(lines[-5:])]  # fmt: skip
    lines.append(txn(f"p{epoch - 300}-0", epoch + 100))  # an id seen before, later
    lines.append(txn("late-1969", epoch - 0.0005))
    parity(tmp_path, lines, docs)


def test_sub_millisecond_durations(tmp_path: Path) -> None:
    """Durations are whole milliseconds: 1.5ms is 1ms, a sequence within 0.5ms is 0ms
    long (a window shorter than 1ms is refused by the rule model)."""
    docs = [
        count_rule("t.w1", {"type": "sliding", "size": "1ms"}, 2, severity=3),
        count_rule("t.w2", {"type": "sliding", "size": "1.5ms"}, 2, severity=4, ttl="0.5ms"),
        rule("t.q0", sequence={"within": "0.5ms", "steps": [
            {"name": "a", "when": "true", "times": 2}]}),
    ]  # fmt: skip
    lines = [txn(f"s{n:02d}", n // 3 / 1000, device_id="d") for n in range(12)]
    parity(tmp_path, lines, docs, fires={"t.w1", "t.q0"})


def test_evaluation_errors_are_no_match_in_both_engines(tmp_path: Path) -> None:
    """Integer division by zero and int64 overflow in a condition, a filter or a key:
    the rule does not fire there, and both engines go on."""
    docs = [
        count_rule("t.div", {"type": "sliding", "size": "10m"}, 1),
        count_rule("t.ok", {"type": "sliding", "size": "10m"}, 2, severity=3),
    ]
    docs[0]["condition"] = "10 / (agg.n - agg.n) > 0 || 9223372036854775807 + agg.n > 0"
    docs[0]["when"] = "1 / (event.hour - event.hour) == 0 || true"
    docs.append({**count_rule("t.key", {"type": "sliding", "size": "10m"}, 1, severity=4),
                 "key": "1 / (event.hour - event.hour)"})  # fmt: skip
    lines = [txn(f"z{n}", n * 10, device_id="d") for n in range(4)]
    parity(tmp_path, lines, docs, fires={"t.ok"})


def test_a_sequence_with_more_starts_than_are_tried(tmp_path: Path) -> None:
    """Only the latest 200 starts of a sequence are tried (sequences.MAX_STARTS). (A
    repeated last step or an absence searches every start in full: too slow here.)"""
    steps = [
        {"name": "a", "when": 'event.type == "login"'},
        {"name": "b", "when": 'event.type == "payment"'},
    ]
    docs = [rule("t.starts", events=["login", "payment"],
                 sequence={"within": "1h", "steps": steps})]  # fmt: skip
    lines: list[Line] = [acct(f"l{n:03d}", n) for n in range(260)]
    lines += [txn("pay1", 300), txn("pay2", 301), txn("pay3", 5000)]
    parity(tmp_path, lines, docs, fires={"t.starts"})


def test_event_ids_reused_across_accounts_and_types(tmp_path: Path) -> None:
    docs = [
        one_event_rule("t.one", events=["payment", "login", "feedback"]),
        count_rule("t.two", {"type": "sliding", "size": "10m"}, 2,
                   events=["transaction", "account_event"], severity=30),
        count_rule("t.dev", {"type": "sliding", "size": "10m"}, 2, key="event.device_id",
                   entity="device", events=["transaction", "account_event"], severity=31),
    ]  # fmt: skip
    lines: list[Line] = [
        txn("same", 0, device_id="d"), txn("same", 1, account="acc-2", device_id="d"),
        acct("same", 2, "login", device_id="d"), verdict("same", 3, "same", "legit"),
        txn("same", 4, "99"), acct("L", 10, "login"), txn("L", 11), txn("L", 12, account="acc-3"),
        txn("z", 13, device_id="d"),
    ]  # fmt: skip
    parity(tmp_path, lines, docs, fires={"t.one", "t.two", "t.dev"})


def test_an_event_resent_after_the_horizon_is_applied_again(tmp_path: Path) -> None:
    docs = [
        count_rule("t.two", {"type": "sliding", "size": "10m"}, 2),
        one_event_rule("t.each", severity=4, ttl="7d"),
    ]
    later = 3 * 86_400
    lines: list[Line] = [
        *burst(4, 10),
        txn("wake", later - 1),  # applied: the entity forgets what is past its horizon
        txn("p1", later), txn("p2", later + 5, "77"), txn("p3", later + 10),
    ]  # fmt: skip
    reference = parity(tmp_path, lines, docs, fires={"t.two", "t.each"})
    assert reference.stats.statuses["duplicate"] == 0


def test_the_seen_ids_cap(tmp_path: Path) -> None:
    """An entity remembers at most 2 * max_entries event ids, and those of its entries:
    an older id is then new again."""
    docs = [count_rule("t.refunds", {"type": "sliding", "size": "1d"}, 2, events=["refund"])]
    lines: list[Line] = [txn("r0", 0, type="refund"), txn("r1", 1, type="refund")]
    lines += [txn(f"p{n:05d}", 2 + n * 0.5) for n in range(10_050)]
    end = 2 + 10_050 * 0.5
    lines += [
        txn("p00003", end + 1, "99"),  # forgotten: applied again
        txn("r0", end + 2, "99", type="refund"),  # an entry's id: still a duplicate
        txn("p09000", end + 3),  # recent: a duplicate
        txn("p00003", end + 4, "98"),
    ]
    reference = parity(tmp_path, lines, docs, fires={"t.refunds"})
    assert reference.stats.statuses["duplicate"] == 3


def test_odd_rule_shapes(tmp_path: Path) -> None:
    docs = [
        one_event_rule("t.days", "agg.n_days == 0 || agg.n >= 1", version=3),
        rule("t.seqcond", sequence={"within": "1h", "steps": [
            {"name": "a", "when": "true", "times": 2}]}, condition="false", severity=0),
        rule("t.noagg", window={"type": "sliding", "size": "1m"}, condition="true", severity=0,
             pattern="shared"),
        one_event_rule("t.samepat", "event.amount > 100.0", pattern="shared", severity=33),
        one_event_rule("t.spaced", key="  event.account_id ", severity=9),
        one_event_rule("t.paren", key="(event.account_id)", severity=8, entity="account"),
        score_rule("s.zero", "ZERO", "true", 0),
        score_rule("s.pat", "PAT", "size(profiles.account.patterns) == 1"
                   " && profiles.account.count >= 3", 20),
        {**score_rule("s.off", "OFF", "true", 90), "mode": "disabled"},
    ]  # fmt: skip
    lines: list[Line] = [*burst(6, 10), txn("big", 70, "5000", device_id="d")]
    parity(tmp_path, lines, docs, fires={"t.days", "t.seqcond", "t.noagg", "t.samepat"})


@pytest.mark.parametrize(
    "policy",
    [
        DecisionPolicy(review_at=0, challenge_at=200, reject_at=31),
        DecisionPolicy(review_at=101, challenge_at=30, reject_at=30, unknown="accept"),
        DecisionPolicy(review_at=1, challenge_at=2, reject_at=3),
    ],
)
def test_unusual_policies(tmp_path: Path, policy: DecisionPolicy) -> None:
    docs = [
        one_event_rule("t.a", severity=30),
        one_event_rule("t.b", "event.amount > 15.0", severity=1, penalty="step_up"),
    ]
    lines = [txn(f"p{n}", n, str(10 + n * 3)) for n in range(5)]
    parity(tmp_path, lines, docs, policy=policy, fires={"t.a", "t.b"})


def test_distinct_over_fields_an_event_may_lack(tmp_path: Path) -> None:
    fields = ["geo", "nonexistent", "kind", "event_id", "attributes.x.y", "type", "label",
              "source", "target_event_id", "country", "lon", "currency", "channel",
              "instrument_id", "ip_prefix", "Amount"]  # fmt: skip
    docs = [
        rule(f"t.d{n:02d}", events=["*"], window={"type": "sliding", "size": "1h"},
             aggregates={"d": {"fn": "distinct", "field": field}}, condition="agg.d >= 2",
             severity=1)
        for n, field in enumerate(fields)
    ]  # fmt: skip
    lines: list[Line] = [
        txn(f"d{n}", n, geo={"lat": 1, "lon": n, "country": ["CN", "DE"][n % 2]},
            attributes={"x": n}, channel=f"c{n % 2}", instrument_id=f"i{n}",
            ip=f"10.0.{n}.1", currency=["CNY", "USD"][n % 2])
        for n in range(3)
    ]  # fmt: skip
    lines += [acct("a", 5, device_id="x"), verdict("f", 6, "d0", "fraud", source="customer"),
              verdict("g", 7, "d1", "legit")]  # fmt: skip
    parity(tmp_path, lines, docs)


@pytest.mark.parametrize(
    ("case", "docs", "lines"),
    [
        (
            "size of a non-ASCII string",
            [one_event_rule("t.size", "size(event.account_id) > 3")],
            [txn("u1", 0, account="\u00fc-\u00df"), txn("u2", 1, account="a")],
        ),
        (
            "a scoring rule's size of a non-ASCII string",
            [score_rule("s.size", "SIZE", "size(event.account_id) > 3")],
            [txn("u1", 0, account="\U0001f600x"), txn("u2", 1)],
        ),
        (
            "an attribute beyond int64",
            [one_event_rule("t.big", "event.attributes.x > 1")],
            [txn("b1", 0, attributes={"x": 2**64 - 1}), txn("b2", 1)],
        ),
        (
            "distinct over a map",
            [rule("t.map", window={"type": "sliding", "size": "1h"}, condition="agg.d >= 1",
                  aggregates={"d": {"fn": "distinct", "field": "attributes"}})],
            [txn("m1", 0, attributes={"x": 1}), txn("m2", 1, attributes={"y": 1})],
        ),
        (
            "mean",
            [rule("t.mean", window={"type": "sliding", "size": "10m"}, condition="agg.avg > 5.0",
                  aggregates={"avg": {"fn": "mean", "field": "amount"}})],
            burst(5),
        ),
        (
            "sum of another field",
            [rule("t.hours", window={"type": "sliding", "size": "10m"}, condition="agg.h > 20.0",
                  aggregates={"h": {"fn": "sum", "field": "hour"}})],
            burst(5),
        ),
        (
            "an expression outside the fast path",
            [one_event_rule("t.macro", "event.type.startsWith('pay')")],
            burst(3),
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)  # fmt: skip
def test_what_the_native_engine_declines_falls_back(
    tmp_path: Path, case: str, docs: list[dict[str, Any]], lines: list[Line]
) -> None:
    declines(tmp_path, lines, docs, fires=set())


# ---------------------------------------------------------------------------------------
# Random rule sets over random events (seeded): what the cases above did not think of
# ---------------------------------------------------------------------------------------

RANDOM_KEYS = [
    ("event.account_id", "account"), ("event.device_id", "device"), ("event.ip", "ip"),
    ("event.counterparty_id", "merchant"), ("event.device_id + '|' + event.ip", "device"),
    ('event.type == "login" ? event.device_id : event.counterparty_id', "counterparty"),
    ("event.instrument_id", "instrument"), ("event.ip_prefix", "ip"),
]  # fmt: skip
RANDOM_WHENS = [
    "event.amount > 20.0", 'event.status != "failed"', "event.hour >= 9",
    "entity.events_seen > 2", "entity.idle_seconds < 100.0", 'event.kind == "transaction"',
    "has(event.attributes)", "event.attributes.x > 1",
]  # fmt: skip
RANDOM_WHERES = [
    "event.amount > 30.0", 'event.type == "payment"', "entity.age_seconds > 50.0",
    'event.type == "feedback" && event.label == "fraud"', 'event.status == "failed"',
]  # fmt: skip
RANDOM_FIELDS = ["account_id", "device_id", "amount", "hour", "lat", "attributes.x",
                 "counterparty_id", "ip", "ts", "status"]  # fmt: skip
RANDOM_TYPES = ["payment", "transfer", "withdrawal", "top_up", "login", "login_failed",
                "password_change", "feedback", "refund", "red_packet"]  # fmt: skip
RANDOM_STEPS = [
    'event.type == "login"', 'event.type == "payment"', "event.amount > 20.0",
    'event.type == "password_change"', 'event.kind == "transaction"',
    'event.type == "withdrawal"', "event.hour >= 9",
]  # fmt: skip
RANDOM_MATCHES = [
    "event.amount >= 0.5 * steps.s0.amount", "event.device_id == steps.s0.device_id",
    "event.ts - steps.s0.ts < 60.0",
]  # fmt: skip
RANDOM_SCORES = [
    "spent_today > 50.0", "size(profiles.account.patterns) >= 2",
    "profiles.device.max_severity >= 50", "profiles.merchant.count > 0",
    "profiles.account.count >= 3", "profiles.ip.count >= 1 || profiles.instrument.count >= 1",
    "profiles.counterparty.max_severity > 10", "event.amount > 40.0 && event.hour < 12",
]  # fmt: skip


def _random_aggregates(rng: random.Random) -> tuple[dict[str, Any], str]:
    aggregates: dict[str, Any] = {}
    tests: list[str] = []
    for index in range(rng.randint(1, 3)):
        fn = rng.choice(["count", "count", "sum", "min", "max", "distinct", "distinct",
                         "baseline_mean", "deviation"])  # fmt: skip
        spec: dict[str, Any] = {"fn": fn}
        if fn in {"sum", "min", "max", "baseline_mean", "deviation"}:
            spec["field"] = "amount"
        if fn == "distinct":
            spec["field"] = rng.choice(RANDOM_FIELDS)
        if fn in {"baseline_mean", "deviation"}:
            spec["horizon"] = rng.choice(["1d", "3d", "30d"])
        if rng.random() < 0.4:
            spec["where"] = rng.choice(RANDOM_WHERES)
        name = f"a{index}"
        aggregates[name] = spec
        if fn in {"count", "distinct"}:
            tests.append(f"agg.{name} >= {rng.randint(1, 3)}")
        elif fn == "deviation":
            tests.append(f"agg.{name} >= 1.5")
        else:
            tests.append(f"agg.{name} > {rng.choice([0, 5, 20, 50])}.0")
    if len(aggregates) >= 2 and rng.random() < 0.5:
        aggregates["r"] = {"fn": "ratio", "of": ["a0", "a1"]}
        tests.append("agg.r > 0.2")
    joiner = rng.choice([" && ", " || ", " || "])
    return aggregates, joiner.join(rng.sample(tests, rng.randint(1, len(tests))))


def random_rule(rng: random.Random, index: int) -> dict[str, Any]:
    key, entity = rng.choice(RANDOM_KEYS)
    doc: dict[str, Any] = {
        "key": key,
        "entity": rng.choice([entity, entity, entity, "account", "merchant"]),
        "events": rng.sample(RANDOM_TYPES, rng.randint(3, 7))
        if rng.random() < 0.7
        else rng.choice([["transaction"], ["*"], ["transaction", "account_event"]]),
        "severity": rng.randint(0, 100),
        "ttl": rng.choice(["1s", "30s", "5m", "1h", "24h"]),
        "lateness": rng.choice(["0s", "10m", "1h"]),
        "mode": rng.choice(["active"] * 4 + ["shadow", "disabled"]),
    }
    if rng.random() < 0.3:
        doc["penalty"] = rng.choice(["freeze", "block", "step_up", "review"])
    if rng.random() < 0.3:
        doc["pattern"] = rng.choice(["pa", "pb"])
    if rng.random() < 0.35:
        doc["when"] = rng.choice(RANDOM_WHENS)
    if rng.random() < 0.7:
        kind = rng.choice(["sliding", "tumbling", "hopping", "count"])
        if kind == "count":
            window: dict[str, Any] = {"type": "count", "size": rng.choice([1, 1, 2, 3, 5])}
        elif kind == "hopping":
            size = rng.choice([60, 120, 600, 3600])
            hop = rng.choice([hop for hop in (30, 60, 120, 600, 3600) if hop <= size])
            window = {"type": "hopping", "size": size, "hop": hop}
        else:
            window = {"type": kind, "size": rng.choice([1, 30, 60, 120, 600, 3600, 86_400])}
        aggregates, condition = _random_aggregates(rng)
        doc |= {"window": window, "aggregates": aggregates, "condition": condition}
    else:
        steps: list[dict[str, Any]] = []
        for step in range(rng.randint(1, 3)):
            spec: dict[str, Any] = {"name": f"s{step}", "when": rng.choice(RANDOM_STEPS)}
            if rng.random() < 0.3:
                spec["times"] = rng.randint(2, 3)
            if step > 0 and rng.random() < 0.4:
                spec["match"] = rng.choice(RANDOM_MATCHES)
            steps.append(spec)
        if len(steps) == 1 and steps[0].get("times", 1) == 1:
            steps[0]["times"] = 2
        sequence: dict[str, Any] = {"within": rng.choice(["1m", "5m", "1h"]), "steps": steps}
        if rng.random() < 0.3:
            absent = rng.choice(['event.type == "login"', 'event.type == "refund"'])
            sequence["absent"] = {"name": "ab", "when": absent}
            if rng.random() < 0.5:
                sequence["absent"]["match"] = "event.device_id == steps.s0.device_id"
        doc["sequence"] = sequence
    return rule(f"r.{index}", **doc)


def random_events(rng: random.Random, count: int) -> list[Line]:
    lines: list[Line] = []
    ids: list[str] = []
    seconds = 0.0
    for index in range(count):
        step = rng.choice([0, 0, 0.001, 1, 2, 5, 10, 30, 60, 600])
        seconds += step if rng.random() < 0.98 else 86_400
        kind = rng.choice(RANDOM_TYPES)
        account = f"acc-{rng.randint(0, 1)}"
        event_id = f"e{index:04d}" if rng.random() < 0.9 or not ids else rng.choice(ids)
        if rng.random() < 0.15:
            event_id = f"x{rng.randint(0, 99)}"
        ids.append(event_id)
        at = seconds + (rng.choice([-1, -30, -3600, -90_000]) if rng.random() < 0.05 else 0)
        extra: dict[str, Any] = {}
        if rng.random() < 0.8:
            extra["device_id"] = f"dev-{rng.randint(0, 2)}"
        if rng.random() < 0.8:
            extra["ip"] = rng.choice(["10.0.0.1", "10.0.0.2", "10.0.1.3", "::1", "bad"])
        if rng.random() < 0.3:
            extra["geo"] = {"lat": rng.choice([1.5, 31.2, -3, 0]), "lon": 2}
        tz = rng.choice([0, 0, 8, -5])
        if kind == "feedback":
            lines.append(
                verdict(
                    event_id,
                    at,
                    rng.choice(ids),
                    rng.choice(["fraud", "legit"]),
                    account=account,
                    counterparty_id=f"m-{rng.randint(0, 1)}",
                )
            )
        elif kind in {"login", "login_failed", "password_change"}:
            lines.append(acct(event_id, at, kind, account=account, tz=tz, **extra))
        else:
            if rng.random() < 0.6:
                extra["counterparty_id"] = f"m-{rng.randint(0, 1)}"
            if rng.random() < 0.5:
                extra["instrument_id"] = f"card-{rng.randint(0, 1)}"
            if rng.random() < 0.3:
                extra["attributes"] = {"x": rng.choice([1, 2, 2.5, "3", True, None])}
            amounts: list[str | float] = ["1", "5.5", "10", "25.25", "33.333", "50", "100",
                                          "0.01", "1E+2", 12.5]  # fmt: skip
            amount = rng.choice(amounts)
            status = rng.choice(["succeeded"] * 4 + ["failed", "pending"])
            lines.append(txn(event_id, at, amount, account=account, type=kind, status=status,
                             tz=tz, **extra))  # fmt: skip
    return lines


@pytest.mark.parametrize("seed", range(16))
def test_random_rule_sets(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    docs = [random_rule(rng, index) for index in range(rng.randint(2, 6))]
    docs += [score_rule(f"s.{index}", f"S{index}X", rng.choice(RANDOM_SCORES),
                        rng.randint(0, 100)) for index in range(rng.randint(0, 3))]  # fmt: skip
    review, challenge, reject = sorted(rng.sample(range(1, 100), 3))
    policy = DecisionPolicy(review, challenge, reject) if seed % 3 == 0 else None
    parity(tmp_path, random_events(rng, rng.randint(80, 250)), docs, policy=policy)


def scrambled(rng: random.Random, lines: list[Line]) -> list[Line]:
    """The same events under short random ids, half of them moved to the start of their
    minute: many share an instant, and an id that sorts first arrives later, so entries
    are inserted out of order (no running window; earlier windows see the entry too)."""
    ids: dict[str, str] = {}
    out: list[Line] = []
    for original in lines:
        assert isinstance(original, dict)
        line = dict(original)
        for field in ("event_id", "target_event_id"):
            if field in line:
                name = str(line[field])
                if name not in ids:
                    ids[name] = "".join(rng.choice("abcdef0123") for _ in range(rng.randint(1, 3)))
                line[field] = ids[name]
        when = str(line["occurred_at"])
        if rng.random() < 0.5 and when[16] == ":":
            line["occurred_at"] = when[:17] + "00" + when[19:]
        out.append(line)
    return out


@pytest.mark.parametrize("seed", range(8))
def test_random_rule_sets_with_events_out_of_order(tmp_path: Path, seed: int) -> None:
    rng = random.Random(500 + seed)
    docs = [random_rule(rng, index) for index in range(rng.randint(2, 6))]
    docs += [score_rule(f"s.{index}", f"S{index}X", rng.choice(RANDOM_SCORES),
                        rng.randint(0, 100)) for index in range(rng.randint(0, 3))]  # fmt: skip
    parity(tmp_path, scrambled(rng, random_events(rng, rng.randint(80, 300))), docs)


@pytest.mark.parametrize("seed", range(8))
def test_random_signals_for_scoring(tmp_path: Path, seed: int) -> None:
    """Many signals of many rules on few entities: profiles, verdicts, penalties, scores."""
    rng = random.Random(1000 + seed)
    docs: list[dict[str, Any]] = []
    for index in range(rng.randint(3, 8)):
        key, entity = rng.choice(RANDOM_KEYS)
        fields: dict[str, Any] = {
            "key": key, "severity": rng.randint(0, 100),
            "entity": rng.choice(["account", "device", "ip", "instrument", "counterparty",
                                  "merchant", entity, entity]),
            "events": rng.choice([["*"], ["transaction"], ["payment", "transfer", "login"]]),
            "ttl": rng.choice(["1s", "30s", "5m", "1h"]),
            "mode": rng.choice(["active"] * 5 + ["shadow"]),
        }  # fmt: skip
        if rng.random() < 0.5:
            fields["pattern"] = rng.choice(["p1", "p2", "p3"])
        if rng.random() < 0.4:
            fields["penalty"] = rng.choice(["freeze", "block", "step_up", "review"])
        condition = rng.choice(["true", "agg.s > 20.0", "event.amount >= 10.0", "agg.n >= 2",
                                "entity.events_seen > 3"])  # fmt: skip
        docs.append(rule(
            f"g.{index}", window={"type": "count", "size": rng.choice([1, 1, 2, 3])},
            aggregates={"n": {"fn": "count"}, "s": {"fn": "sum", "field": "amount"}},
            condition=condition, **fields,
        ))  # fmt: skip
    docs += [score_rule(f"s.{index}", f"G{index}X", rng.choice(RANDOM_SCORES),
                        rng.randint(0, 100)) for index in range(rng.randint(0, 4))]  # fmt: skip
    reference = parity(tmp_path, random_events(rng, rng.randint(60, 200)), docs)
    assert reference.signals


# ---------------------------------------------------------------------------------------
# The file and the run around the engines
# ---------------------------------------------------------------------------------------


def test_small_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Native replay runs in chunks (run.NATIVE_CHUNK events), the reference in steps of
    PROGRESS_EVERY: the boundaries change nothing."""
    monkeypatch.setattr(run_module, "NATIVE_CHUNK", 7)
    monkeypatch.setattr(run_module, "PROGRESS_EVERY", 5)
    parity(tmp_path, simulated(8))


def test_line_endings_and_blank_lines(tmp_path: Path) -> None:
    lines = [encode(line) for line in burst(12, 20)]
    raw = (
        b"\xef\xbb\xbf" + lines[0] + b"\r\n"  # a byte order mark: not JSON
        + lines[1] + b"\r\n" + b"\r\n" + b" \t \r\n"
        + b"\x0b\x0c" + lines[2] + b"\x0c\n"  # bytes.strip() removes \x0b and \x0c
        + b"\xa0" + lines[3] + b"\n"  # not ASCII whitespace: not JSON
        + b"\n".join(lines[4:]) + b"\n\n\n"
        + lines[0].replace(b'"p0"', b'"last"')  # no final newline
    )  # fmt: skip
    path = tmp_path / "events.jsonl"
    path.write_bytes(raw)
    docs = [count_rule("t.burst", {"type": "sliding", "size": "5m"}, 4)]
    reference = parity(tmp_path, path, docs)
    assert [line.line for line in reference.bad] == [1, 6]


def test_empty_and_all_invalid_files(tmp_path: Path) -> None:
    parity(tmp_path / "empty", [])
    parity(tmp_path / "invalid", INVALID_LINES)


def test_scoring_rules_alone_keep_the_shipped_detection_rules(tmp_path: Path) -> None:
    docs = [
        score_rule("s.night", "NIGHT", "event.hour < 6", 15),
        score_rule("s.known", "KNOWN", "profiles.account.count > 0 || spent_today > 1000.0", 25),
    ]
    reference = parity(tmp_path, simulated(9), docs)
    assert reference.stats.signals_by_rule
