"""The simulator's output: reproducible, valid, ordered, labelled apart from the events."""

from __future__ import annotations

import ipaddress
import re
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console

from riskstream.agents.validation import parse_event
from riskstream.simulation.config import SimulationConfig
from riskstream.simulation.dataset import FIELD_ORDER, Dataset, generate
from riskstream.simulation.output import write_events, write_labels
from riskstream.simulation.scenarios import pack_rule_ids
from riskstream.streams.events import AccountEvent, Feedback, Transaction
from tests.unit.simulation.conftest import SMALL

QUIET = Console(quiet=True)
CGNAT = ipaddress.ip_network("100.64.0.0/10")
FORMATS = {
    # The run id ends in a letter: never a run of digits a card-number mask would take.
    "event_id": r"(tx|ae|fb)-[0-9a-f]{5}[a-f]-\d{8}",
    "target_event_id": r"tx-[0-9a-f]{5}[a-f]-\d{8}",
    "account_id": r"acct-[0-9a-f]{8}",
    "counterparty_id": r"acct-[0-9a-f]{8}|merch-[0-9a-f]{6}",
    "device_id": r"dev-[0-9a-f]{12}|term-[0-9a-f]{8}",
    "instrument_id": r"card-tok-[0-9a-f]{8}|bank-acct-[0-9a-f]{8}",
}
ENTITY_FIELDS = ("account_id", "device_id", "ip", "instrument_id")


def decoded(lines: list[bytes]) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in lines]


def write(dataset: Dataset, folder: Path) -> tuple[bytes, bytes]:
    folder.mkdir()
    write_events(dataset, folder / "events.jsonl", QUIET)
    write_labels(dataset, folder / "labels.jsonl")
    return (folder / "events.jsonl").read_bytes(), (folder / "labels.jsonl").read_bytes()


def test_same_seed_and_options_give_byte_identical_files(tmp_path: Path, small: Dataset) -> None:
    first = write(small, tmp_path / "a")
    second = write(generate(SMALL), tmp_path / "b")
    assert first == second
    assert first[0].count(b"\n") == len(small.events)
    assert first[1].count(b"\n") == len(small.labels)
    other = write(generate(SimulationConfig(seed=12, customers=300, days=2.0)), tmp_path / "c")
    assert other[0] != first[0] and other[1] != first[1]


def test_every_event_is_valid_contract_v1_and_its_kind_matches(small_lines: list[bytes]) -> None:
    models = {"transaction": Transaction, "account_event": AccountEvent, "feedback": Feedback}
    counts: Counter[str] = Counter()
    for line in small_lines:
        event = parse_event(line, max_bytes=64 * 1024)
        counts[type(event).__name__] += 1
    assert set(counts) == {model.__name__ for model in models.values()}
    assert counts["Transaction"] > counts["AccountEvent"] > counts["Feedback"] > 0


def test_events_are_in_event_time_order_and_ids_are_unique(small_lines: list[bytes]) -> None:
    events = decoded(small_lines)
    moments = [datetime.fromisoformat(event["occurred_at"]) for event in events]
    assert moments == sorted(moments)
    ids = [event["event_id"] for event in events]
    assert len(ids) == len(set(ids))
    assert [int(event_id.rsplit("-", 1)[1]) for event_id in ids] == list(range(1, len(ids) + 1))


def test_no_ground_truth_on_the_events(small_lines: list[bytes]) -> None:
    """Labels are in their own file: not as fields, not in the ids' or the fields' shape."""
    for event in decoded(small_lines):
        assert set(event) <= set(FIELD_ORDER), event
        assert list(event) == [name for name in FIELD_ORDER if name in event]
        assert ("label" in event) == (event["type"] == "feedback")
        assert set(event.get("attributes", {})) <= {"merchant_category"}
        for name, pattern in FORMATS.items():
            if name in event:
                assert re.fullmatch(pattern, event[name]), (name, event[name])
        if "ip" in event:
            assert ipaddress.ip_address(event["ip"]) in CGNAT


def test_every_pack_rule_has_its_fraud_and_look_alike_instances(small: Dataset) -> None:
    instances: dict[str, tuple[str, bool]] = {}
    roles: dict[str, set[str]] = defaultdict(set)
    variants: dict[str, str] = {}
    for label in small.labels:
        assert set(label) == {"event_id", "scenario", "instance", "fraud", "role", "variant"}
        known = instances.setdefault(label["instance"], (label["scenario"], label["fraud"]))
        assert known == (label["scenario"], label["fraud"])
        roles[label["instance"]].add(label["role"])
        # One variant per instance, named on every one of its lines.
        assert variants.setdefault(label["instance"], label["variant"]) == label["variant"]
        assert label["variant"]
    for instance, (_, fraud) in instances.items():
        # A fraud has its attack (and maybe context around it); a look-alike is context.
        assert ("attack" in roles[instance]) == fraud, instance
        assert roles[instance] <= {"attack", "context"}, instance
    with_context = {scenario for name, (scenario, fraud) in instances.items()
                    if fraud and "context" in roles[name]}  # fmt: skip
    assert with_context == {"account_takeover", "amount.spike", "dormant_account",
                            "impossible_travel", "merchant.fraud_rate"}  # fmt: skip
    per_scenario = Counter(instances.values())
    count = SMALL.fraud_per_pattern
    assert per_scenario == {(rule, fraud): count for rule in pack_rule_ids() for fraud in (1, 0)}
    assert small.instances == 2 * count * len(pack_rule_ids())
    event_ids = {event.payload["event_id"] for event in small.events}
    assert {label["event_id"] for label in small.labels} <= event_ids


def test_injected_stories_share_no_account_device_ip_or_card(small: Dataset) -> None:
    """Each instance has entities of its own, apart from each other and the background
    (merchants are shared on purpose: a fraudster pays where everyone pays)."""
    instance_of = {label["event_id"]: label["instance"] for label in small.labels}
    owner: dict[str, str] = {}
    for event in small.events:
        group = instance_of.get(event.payload["event_id"], "background")
        for name in ENTITY_FIELDS:
            value = event.payload.get(name)
            if value is not None:
                assert owner.setdefault(str(value), group) == group, (name, value)


def test_period_bounds_and_history(small: Dataset) -> None:
    start, end = SMALL.start, SMALL.end
    labelled = {label["event_id"] for label in small.labels}
    background = [e for e in small.events if e.payload["event_id"] not in labelled]
    assert all(start <= event.occurred_at < end for event in background)
    assert all(event.occurred_at < end for event in small.events)
    # The long-horizon stories bring their history: months before the start.
    assert (start - small.events[0].occurred_at).days > 90


def test_feedback_follows_its_transaction_after_a_delay(small: Dataset) -> None:
    by_id = {event.payload["event_id"]: event for event in small.events}
    position = {event.payload["event_id"]: index for index, event in enumerate(small.events)}
    truth = {label["event_id"]: label for label in small.labels}
    sources: Counter[tuple[str, str]] = Counter()
    for event in small.events:
        if event.kind != "feedback":
            continue
        payload = event.payload
        target = by_id[payload["target_event_id"]]
        assert target.kind == "transaction"
        assert position[payload["target_event_id"]] < position[payload["event_id"]]
        assert payload["account_id"] == target.payload["account_id"]
        delay = (event.occurred_at - target.occurred_at).total_seconds()
        assert delay >= 600
        mine, its = truth.get(payload["event_id"]), truth.get(payload["target_event_id"])
        if mine is None:  # background: only disputes cleared as legit
            assert payload["label"] == "legit" and its is None
        else:  # an injected story's: about a transaction of the same instance
            assert its is not None and its["instance"] == mine["instance"]
            if payload["label"] == "fraud" and mine["fraud"]:
                sources[(mine["scenario"], payload["source"])] += 1
                # What is reported is the fraud, never the victim's history before it.
                assert mine["role"] == its["role"] == "attack", mine
        if target.payload["type"] == "payment":
            assert payload["counterparty_id"] == target.payload["counterparty_id"]
    # The delayed reports of the positive stories are there (the merchant's own story
    # reports within its history).
    assert {"velocity.account", "account_takeover", "structuring"} <= {s for s, _ in sources}
    assert {"customer", "analyst", "chargeback"} <= {source for _, source in sources}


def test_late_feedback_is_dropped_unless_kept() -> None:
    dropped = generate(SimulationConfig(seed=3, customers=200, days=1.0, fraud_per_pattern=2))
    kept = generate(
        SimulationConfig(seed=3, customers=200, days=1.0, fraud_per_pattern=2,
                         keep_late_feedback=True)
    )  # fmt: skip
    end = dropped.config.end
    assert all(event.occurred_at < end for event in dropped.events)
    late = [event for event in kept.events if event.occurred_at >= end]
    assert late and {event.kind for event in late} == {"feedback"}
    assert dropped.dropped_feedback > kept.dropped_feedback
    assert len(late) == dropped.dropped_feedback - kept.dropped_feedback
    assert len(kept.events) == len(dropped.events) + len(late)


def test_background_is_plausible(small: Dataset) -> None:
    """No device or card shared like a fraud farm's; every kind of traffic present."""
    instance_of = {label["event_id"] for label in small.labels}
    accounts_of: dict[str, set[str]] = defaultdict(set)
    types: Counter[str] = Counter()
    for event in small.events:
        payload = event.payload
        if payload["event_id"] in instance_of:
            continue
        types[payload["type"]] += 1
        if payload.get("channel") != "pos" and payload.get("device_id"):
            accounts_of[payload["device_id"]].add(payload["account_id"])
        if payload.get("instrument_id"):
            accounts_of[payload["instrument_id"]].add(payload["account_id"])
    # A family tablet: households have up to four members.
    assert max(len(accounts) for accounts in accounts_of.values()) <= 4
    for kind in ("payment", "transfer", "red_packet", "top_up", "withdrawal", "login"):
        assert types[kind] > 0, kind
    assert types["payment"] > types["top_up"] > types["withdrawal"]
