"""Hash-chained audit entries: any change, removal, reordering or forgery is found."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from riskstream.streams.audit_chain import GENESIS, AuditChain, canonical, digest, verify
from riskstream.streams.codec import dumps
from riskstream.streams.scoring_model import AuditRecord

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def entry(
    actor: str = "alice", penalty_id: str = "account:a-1:freeze:operator:alice"
) -> AuditRecord:
    return AuditRecord(at=AT, actor=actor, action="add", penalty_id=penalty_id, reason="why")


def trail(chain: AuditChain, count: int) -> list[bytes]:
    return [chain.seal(entry(actor=f"op-{n}")) for n in range(count)]


def offsets(values: list[bytes | None]) -> list[tuple[int, bytes | None]]:
    return list(enumerate(values))


def test_a_chain_links_each_entry_to_the_bytes_before_it() -> None:
    chain = AuditChain("worker:test")
    stored = trail(chain, 3)
    records = [orjson.loads(value) for value in stored]
    assert [r["seq"] for r in records] == [0, 1, 2]
    assert records[0]["prev"] == GENESIS
    assert records[1]["prev"] == digest(stored[0]) and records[2]["prev"] == digest(stored[1])
    assert stored[0] == canonical(AuditRecord.model_validate(records[0]))


def test_an_intact_trail_of_interleaved_chains_verifies() -> None:
    one, two = AuditChain("worker:a"), AuditChain("worker:b")
    values: list[bytes | None] = []
    for n in range(4):
        values += [one.seal(entry(actor=f"a{n}")), two.seal(entry(actor=f"b{n}"))]
    report = verify(offsets(values))
    assert (report.entries, report.chains, report.broken) == (8, 2, None)


def test_entries_from_before_the_chains_are_counted_not_refused() -> None:
    values: list[bytes | None] = [dumps(entry()), *trail(AuditChain("cli:x"), 2)]
    report = verify(offsets(values))
    assert (report.unchained, report.chains, report.broken) == (1, 1, None)


def tampered(values: list[bytes], at: int, actor: str) -> bytes:
    data = orjson.loads(values[at])
    data["actor"] = actor
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)


def test_a_changed_entry_breaks_the_link_after_it() -> None:
    values = trail(AuditChain("worker:a"), 4)
    changed: list[bytes | None] = [*values]
    changed[1] = tampered(values, 1, "mallory")
    broken = verify(offsets(changed)).broken
    assert broken is not None and broken.offset == 2
    assert "does not hash the entry before it" in broken.line()


@pytest.mark.parametrize(
    ("edit", "offset", "said"),
    [
        (lambda v: [v[0], v[2], v[3]], 1, "skips from seq 0 to 2"),  # one removed
        (lambda v: [v[0], v[2], v[1], v[3]], 1, "skips"),  # reordered
        (lambda v: [*v, v[1]], 4, "seq 1 again"),  # replayed
        (lambda v: [*v, None], 4, "deleted"),  # a tombstone
        (lambda v: [*v, b"{not json"], 4, "unreadable"),
        (lambda v: [*v, dumps(entry("mallory"))], 4, "without a chain"),
        (lambda v: [v[1], *v], 0, "starts at seq 1"),
    ],
    ids=["removed", "reordered", "replayed", "tombstone", "garbage", "unchained", "headless"],
)
def test_each_kind_of_tampering_is_named_at_its_offset(
    edit: object, offset: int, said: str
) -> None:
    values = trail(AuditChain("worker:a"), 4)
    changed = edit(values)  # type: ignore[operator]
    broken = verify(offsets(changed)).broken
    assert broken is not None, said
    assert broken.offset == offset and said in broken.why


def test_an_entry_forged_at_the_end_shows_once_the_producer_writes_again() -> None:
    chain = AuditChain("worker:a")
    values: list[bytes | None] = [*trail(chain, 2)]
    forged = entry("mallory").model_copy(
        update={"chain": chain.chain, "seq": chain.seq, "prev": chain.prev}
    )
    values.append(canonical(forged))  # a perfect link: not detectable yet
    assert verify(offsets(values)).broken is None
    values.append(chain.seal(entry("bob")))  # the genuine next entry claims the same place
    broken = verify(offsets(values)).broken
    assert broken is not None and broken.offset == 3 and "seq 2 again" in broken.why


def test_undo_takes_back_an_entry_that_was_not_stored() -> None:
    chain = AuditChain("worker:a")
    first = chain.seal(entry())
    chain.seal(entry("lost"))
    chain.undo()
    report = verify(offsets([first, chain.seal(entry("next"))]))
    assert report.broken is None
