"""The shipped default pack as a whole: complete, documented, compilable."""

from __future__ import annotations

from datetime import timedelta

import orjson

from riskstream.agents.cep.compiler import RuleSet
from riskstream.rules.loader import default_pack, default_ruleset
from riskstream.streams.rule_model import RuleDoc
from tests.unit.factories import account_event, txn
from tests.unit.rules.harness import run

# One rule per pattern of the default pack; removing or renaming one fails here.
EXPECTED_IDS = {
    "velocity.account",
    "velocity.device",
    "velocity.ip",
    "account_takeover",
    "card_testing",
    "cash_out",
    "structuring",
    "mule.fan_in",
    "mule.fan_out",
    "impossible_travel",
    "device.shared_accounts",
    "login.brute_force",
    "login.credential_stuffing",
    "dormant_account",
    "red_packet.collusion",
    "amount.spike",
    "merchant.fraud_rate",
}


def test_pack_covers_every_pattern_with_unique_ids() -> None:
    ids = [doc.id for doc in default_pack()]
    assert len(ids) == len(set(ids))
    assert set(ids) == EXPECTED_IDS


def test_every_rule_is_documented() -> None:
    for doc in default_pack():
        assert doc.description.strip(), doc.id
        assert len(doc.rationale.strip()) >= 80, doc.id
        assert doc.mode == "active", doc.id


def test_pack_compiles_as_one_rule_set() -> None:
    ruleset = RuleSet.of(default_pack())
    assert set(ruleset.rules) == EXPECTED_IDS
    assert len(ruleset.live()) == len(EXPECTED_IDS)
    assert default_ruleset().version == ruleset.version


def test_every_rule_survives_a_json_round_trip() -> None:
    """Rules travel through the risk.rules topic as JSON."""
    for doc in default_pack():
        again = RuleDoc.model_validate(orjson.loads(orjson.dumps(doc.model_dump(mode="json"))))
        assert again == doc, doc.id


def test_signals_last_at_least_as_long_as_their_windows() -> None:
    """A signal must not expire while its window still suppresses a new one."""
    for doc in default_pack():
        if doc.window is not None and isinstance(doc.window.size, timedelta):
            assert doc.ttl >= doc.window.size, doc.id


def test_an_ordinary_day_raises_nothing_with_the_whole_pack() -> None:
    """Two people sharing a home tablet: logins, shopping, a top-up spent over the day,
    red packets and a transfer to friends. The whole pack stays silent."""
    home = {"device_id": "tablet-1", "ip": "198.51.100.20", "channel": "app"}
    geo = {"geo": {"lat": 31.23, "lon": 121.47, "country": "CN"}}
    events = [
        account_event("l1", 0, "login_failed"),
        account_event("l2", 30, "login"),
        txn("t1", 60, "2000", type="top_up", instrument_id="card-a", **home, **geo),
        txn("p1", 600, "35.50", counterparty_id="m-coffee", **home, **geo),
        txn("p2", 3600, "128", counterparty_id="m-grocer", **home),
        txn("r1", 7200, "88", type="red_packet", counterparty_id="friend-1", **home),
        txn("r2", 7260, "66", type="red_packet", counterparty_id="friend-2", **home),
        txn("x1", 9000, "500", type="transfer", counterparty_id="acc-2", **home),
        account_event("l3", 10_000, "login", account="acc-2"),
        txn("p3", 10_100, "300", account="acc-2", counterparty_id="m-grocer", **home),
        txn("w1", 40_000, "900", type="withdrawal", instrument_id="card-a", **home),
    ]
    assert run(default_ruleset(), events) == []
