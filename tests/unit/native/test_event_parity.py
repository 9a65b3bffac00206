"""The native strict event reader (``native/src/event/``) against the Python reference.

``parse_strict`` may say "unsure" (None) about any line, valid or not; whenever it reads
one, pydantic (``parse_event``) must accept it and ``project`` must give exactly the same
fields, in the same order and of the same types, and the same ``occurred_ms``. Lines come
from both simulators (which it must all read) and from seeded mutations of them: edge
timestamps, amounts, identifiers, attributes and geo, escapes, extra, missing and
duplicate keys, whitespace, bytes that are not JSON. ``from_projection`` (how the native
replay takes the lines Python validated) must read every projection back unchanged.
"""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import orjson
import pytest

from riskstream.agents.cep.expressions import _ip_prefix, project
from riskstream.agents.validation import InvalidEventError, parse_event
from riskstream.offline.jsonl import MAX_LINE_BYTES
from riskstream.simulation.config import SimulationConfig
from riskstream.simulation.dataset import generate
from riskstream.simulation.traffic import SimConfig, TrafficSimulator
from riskstream.streams.events import Event

MUTATIONS = 6000
INT64 = (-(2**63), 2**63 - 1)


@pytest.fixture(scope="module")
def simulated() -> list[bytes]:
    dataset = generate(SimulationConfig(seed=17, customers=250, days=1.0, fraud_per_pattern=2))
    demo = TrafficSimulator(
        SimConfig(seed=3, accounts=120, end=datetime(2026, 11, 2, 8, tzinfo=UTC))
    ).events()
    return [event.encode() for event in [*dataset.events, *demo]]


def same(a: Any, b: Any) -> bool:
    """Equal values of the same types: floats bit for bit (-0.0), dicts in key order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b)
        )
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[key], b[key]) for key in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(same, a, b))
    return bool(a == b)


def reference(line: bytes) -> Event | None:
    try:
        return parse_event(line, max_bytes=MAX_LINE_BYTES)
    except InvalidEventError:
        return None


def check_strict(native: ModuleType, line: bytes) -> tuple[bool, bool]:
    """(native read it, Python accepts it); fails on a native reading Python disagrees with."""
    read = native._parse_line(line, _ip_prefix)
    event = reference(line)
    if read is None:
        return False, event is not None
    assert event is not None, f"native reads a line Python refuses: {line!r}"
    ms, projection, amount = read
    fields = project(event)
    assert ms == event.occurred_ms, f"occurred_ms {ms} != {event.occurred_ms}: {line!r}"
    got = json.loads(projection)
    assert same(got, fields), f"{line!r}\n  native {got}\n  python {fields}"
    expected_amount = float(fields["amount"]) if "amount" in fields else None
    assert same(amount, expected_amount), f"CEL amount {amount!r} != {expected_amount!r}"
    return True, True


def test_the_simulators_lines_are_all_read(native: ModuleType, simulated: list[bytes]) -> None:
    assert len(simulated) > 2000
    for line in simulated:
        read, _ = check_strict(native, line)
        assert read, f"the strict reader is unsure of a simulated line: {line!r}"


# --- mutations -------------------------------------------------------------------------------

TIMESTAMPS = [
    "2026-11-02T00:05:06.409000Z", "2026-11-02T00:05:06.1234567Z", "2016-12-31T23:59:60Z",
    "2026-11-02T24:00:00Z", "2026-11-02T10:05:06+23:59", "2026-11-02T10:05:06-23:59",
    "2026-11-02T10:05:06+24:00", "2026-11-02T10:05:06-00:00", "0001-01-01T00:00:00+01:00",
    "0001-01-01T00:00:00-01:00", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999-23:59",
    "9999-12-31T23:59:59.999999Z", "2024-02-29T01:00:00Z", "2023-02-29T01:00:00Z",
    "1969-12-31T23:59:59.9995Z", "2026-11-02t00:05:06z", "2026-11-02T00:05Z",
    "2026-11-02T00:05:06+05:30", "2026-11-02T23:05:06.5-05:30", "1900-02-28T12:00:00.000001Z",
    "2000-02-29T23:59:59.999999+00:01", "2100-02-29T00:00:00Z", "2026-11-02T00:05:06",
    "2026-11-02 00:05:06Z", "2026-11-02T00:05:06.Z", "1970-01-01T00:00:00Z",
    "1969-12-31T23:59:59.999Z", "1960-06-15T05:00:00.0001-12:45", "2026-11-02T00:05:06+0530",
    "2026-11-02T00:05:06.123+05", "20261102T000506Z", "2026-W44-1T00:00:00Z",
    "2026-11-02T00:05:06,5Z", "2026-1-2T00:05:06Z", "2026-11-02T00:05:06.000000000Z",
    "1677-09-21T00:12:43.145224Z", "2262-04-11T23:47:16.854775Z", "1582-10-10T00:00:00Z",
]  # fmt: skip
AMOUNTS = [
    "13.81", "013.81", "0.5", ".5", "5.", "0.0000001", "0.000001", "0.00000010", "1.00000000",
    "1.000000000", "1234567890123456.12345678", "12345678901234567", "0", "0.00", " 1.5",
    "1.5 ", "+1.5", "1e2", "1E-7", "100", "1.0", "9999999999999999.99999999", "0.10",
    "0.00000100", "0.0000010", "10.10000000", "-1", "1.123456789", "00", "0.01",
    "123456789012345.1", "0.00000001", "0.00000009", "1.5e0", "Infinity", "NaN", "1_000",
    "١٢", "0x10", "1.", "-0", "-0.0", "99999999999999999999999.9", "1" * 24, "1" * 25,
]  # fmt: skip
STRINGS = [
    "x", " x", "x ", "x\u00a0", "\u00a0x", "x\u0085", "x\u001f", "\u001fx", "\u200bx", "\ufeffx",
    "\u180ex", "a\u0000b", "", "é" * 128, "é" * 129, "😀" * 128, "😀" * 129, "a b", "\u3000x",
    "x\u2028", 'a"b', "a\\b", "\t", "\u000bx", "x\u001c", "\u2007x", "\u00adx", "x\u0300",
    "\ud7ffx", "\ue000", "x" * 128, "x" * 129, " " * 3, "a/b", "USD", "usd", "1.2.3.4",
    "::1", "2001:db8::1", "10.0.0.256", "192.168.001.1", "1.2.3.4 ",
]  # fmt: skip
NUMBERS = [
    "1", "-0", "-0.0", "0", "1.5", "90", "90.0", "90.0000001", "-90", "180", "-180.00001",
    "1e1", "1E-5", "1.3521", "103.8198", "true", '"1.5"', "null", "1e400", "-1e-400",
    "12345678901234567890", "0.1e1", "-179.99999999999999", "4.9e-324", "1e-7", "[1]",
]  # fmt: skip
ATTRIBUTE_VALUES = [
    "1", "1.0", "true", "false", "null", '"x"', "-0.0", "1e5", "-0", "9223372036854775807",
    "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
    "18446744073709551615", "18446744073709551616", "1e400", "[1]", "{}", '{"a":1}',
    '"' + "y" * 4096 + '"', '"' + "y" * 4097 + '"', "2.5e-320", "0.1", "1E2", "1e16",
    "123456789012345678", '"\\u00e9"', '"\\ud83d\\ude00"', '"\\ud800"', "1.7976931348623157e308",
]  # fmt: skip
ATTRIBUTE_KEYS = ["a", "b", "", "k" * 4096, "k" * 4097, "é", "merchant_category", "\\u0041"]
LITERALS = [
    "payment", "transfer", "red_packet", "top_up", "withdrawal", "refund", "login",
    "login_failed", "password_change", "device_bound", "phone_change", "kyc_update",
    "account_opened", "feedback", "logout", "Payment", "succeeded", "failed", "pending",
    "fraud", "legit", "analyst", "chargeback", "customer", "bank", "payment ",
]  # fmt: skip
IDENTIFIERS = ["event_id", "account_id", "counterparty_id", "channel", "device_id", "ip",
               "instrument_id", "target_event_id", "currency"]  # fmt: skip
WHITESPACE = [" ", "\t", "\n", "\r", "  ", "\r\n"]
NOT_JSON_SPACE = ["\x0b", "\x0c", "\u00a0", "\ufeff", "\x00", "\x1c"]


class Raw(str):
    """JSON text written as it is."""


class _Members(list[tuple[str, Any]]):
    """An object's members with a key twice (a dict cannot hold them)."""


def encode(text: str, rng: random.Random) -> str:
    """A JSON string for ``text``, spelled one of the ways JSON allows."""
    roll = rng.random()
    if roll < 0.45:
        return json.dumps(text, ensure_ascii=False)
    if roll < 0.75:
        return json.dumps(text, ensure_ascii=True)
    if roll < 0.9:
        return json.dumps(text, ensure_ascii=False).replace("/", "\\/")
    # every character escaped (UTF-16 code units, surrogate pairs too), hex in either case
    units = text.encode("utf-16-be").hex(" ", 2).split()
    return '"' + "".join("\\u" + rng.choice([unit, unit.upper()]) for unit in units) + '"'


def random_timestamp(rng: random.Random) -> str:
    year = rng.choice([1, 2, 1969, 1970, 2000, 2024, 2026, 9999, rng.randint(1, 9999)])
    month = rng.choice([1, 2, 12, rng.randint(1, 12), 13, 0])
    day = rng.choice([1, 28, 29, 30, 31, rng.randint(1, 31), 32])
    hour = rng.choice([0, 23, rng.randint(0, 23), 24])
    minute, second = rng.randint(0, 59), rng.choice([0, 59, rng.randint(0, 59), 60])
    fraction = (
        ""
        if rng.random() < 0.4
        else "."
        + "".join(rng.choice("0123456789") for _ in range(rng.choice([1, 2, 3, 4, 6, 7, 9])))
    )
    zone = rng.choice(
        ["Z", "z", "+00:00", "-00:00", "+08:00", "-05:30", "+23:59", "-23:59", "+14:00", "",
         f"{rng.choice('+-')}{rng.randint(0, 24):02d}:{rng.randint(0, 60):02d}"]
    )  # fmt: skip
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}{fraction}{zone}"


def random_amount(rng: random.Random) -> str:
    whole = rng.choice(["0", "1", "7", "00", str(rng.randint(1, 10 ** rng.randint(1, 17)))])
    if rng.random() < 0.3:
        return whole
    digits = rng.choice([1, 2, 2, 3, 6, 8, 8, 9, 12])
    fraction = "".join(rng.choice("0123456789") for _ in range(digits))
    text = f"{whole}.{fraction}"
    if rng.random() < 0.1:
        text += rng.choice(["e2", "E-3", "e+1", "e0"])
    return text


def mutate(payload: dict[str, Any], rng: random.Random) -> dict[str, Any] | _Members:
    """Some changes to a decoded event: its new members (values as ``Raw`` JSON text)."""
    items: list[tuple[str, Any]] = list(payload.items())

    def put(key: str, raw: str) -> None:
        for index, (name, _) in enumerate(items):
            if name == key:
                items[index] = (key, Raw(raw))
                return
        items.append((key, Raw(raw)))

    for _ in range(rng.randint(1, 3)):
        roll = rng.random()
        if roll < 0.12:
            text = rng.choice(TIMESTAMPS) if rng.random() < 0.5 else random_timestamp(rng)
            put("occurred_at", encode(text, rng))
        elif roll < 0.24:
            if rng.random() < 0.85:
                text = rng.choice(AMOUNTS) if rng.random() < 0.5 else random_amount(rng)
                put("amount", encode(text, rng))
            else:
                put("amount", rng.choice(["13.81", "13", "null", "1e2", '""']))
        elif roll < 0.36:
            value = encode(rng.choice(STRINGS), rng) if rng.random() < 0.9 else "null"
            put(rng.choice(IDENTIFIERS), rng.choice([value, value, "5", "[]"]))
        elif roll < 0.46:
            geo = {"lat": rng.choice(NUMBERS), "lon": rng.choice(NUMBERS)}
            if rng.random() < 0.5:
                geo["country"] = rng.choice(['"US"', '"us"', "null", '"USA"', '"S\\u0047"'])
            if rng.random() < 0.1:
                geo["x"] = "1"
            if rng.random() < 0.1:
                del geo[rng.choice(["lat", "lon"])]
            members = ",".join(f'"{key}":{value}' for key, value in geo.items())
            put("geo", "{" + members + "}" if rng.random() < 0.9 else "null")
        elif roll < 0.58:
            members = ",".join(
                f"{encode(rng.choice(ATTRIBUTE_KEYS), rng)}:{rng.choice(ATTRIBUTE_VALUES)}"
                for _ in range(rng.randint(0, 3))
            )
            put("attributes", "{" + members + "}" if rng.random() < 0.95 else "null")
        elif roll < 0.64:
            put("type", encode(rng.choice(LITERALS), rng))
        elif roll < 0.7:
            key = rng.choice(["status", "label", "source"])
            put(key, encode(rng.choice(LITERALS), rng) if rng.random() < 0.9 else "null")
        elif roll < 0.75 and items:
            items.pop(rng.randrange(len(items)))
        elif roll < 0.8 and items:
            items.append(rng.choice(items))  # a duplicate key
        elif roll < 0.85:
            put(rng.choice(["extra", "_occurred_ms", "kind", "ts", "hour", "ip_prefix"]), "1")
        else:
            rng.shuffle(items)
    return dict(items) if len({key for key, _ in items}) == len(items) else _Members(items)


def write(value: Any, rng: random.Random, spaced: bool, escaped: bool) -> str:
    """JSON text of a decoded value with ``Raw`` parts: with whitespace between tokens,
    with strings (keys too) spelled in random ways of JSON's."""

    def gap() -> str:
        return rng.choice(WHITESPACE) if spaced and rng.random() < 0.3 else ""

    def string(text: str) -> str:
        return encode(text, rng) if escaped else json.dumps(text, ensure_ascii=False)

    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict | _Members):
        members = value.items() if isinstance(value, dict) else value
        body = ",".join(
            f"{gap()}{string(key)}{gap()}:{gap()}{write(item, rng, spaced, escaped)}{gap()}"
            for key, item in members
        )
        return "{" + body + gap() + "}"
    if isinstance(value, list):
        items = (gap() + write(item, rng, spaced, escaped) + gap() for item in value)
        return "[" + ",".join(items) + "]"
    if isinstance(value, str):
        return string(value)
    return orjson.dumps(value).decode()


def mutated_line(line: bytes, rng: random.Random) -> bytes:
    roll = rng.random()
    if roll < 0.08:  # bytes, not members
        data = bytearray(line)
        choice = rng.random()
        if choice < 0.25:
            data[rng.randrange(len(data))] = rng.choice([0xFF, 0xC3, 0x80, 0x00, 0x22, 0x5C])
        elif choice < 0.5:
            del data[rng.randrange(1, len(data)) :]
        elif choice < 0.75:
            data = bytearray(rng.choice(NOT_JSON_SPACE).encode()) + data
        else:
            data += rng.choice([*NOT_JSON_SPACE, ",", "}", "{}", " x"]).encode()
        return bytes(data)
    payload = orjson.loads(line)
    changed: Any = mutate(payload, rng) if roll < 0.85 else payload
    spaced = rng.random() < 0.25
    text = write(changed, rng, spaced, escaped=rng.random() < 0.25)
    if spaced:
        text = rng.choice(WHITESPACE) + text + rng.choice(WHITESPACE)
    return text.encode("utf-8", "surrogatepass")


@pytest.fixture(scope="module")
def mutated(simulated: list[bytes]) -> list[bytes]:
    rng = random.Random(20261102)
    return [mutated_line(rng.choice(simulated), rng) for _ in range(MUTATIONS)]


def test_mutated_lines_read_as_python_reads_them(native: ModuleType, mutated: list[bytes]) -> None:
    read = valid = 0
    for line in mutated:
        native_read, python_valid = check_strict(native, line)
        read += native_read
        valid += python_valid
    # The cases must mean something: many are valid, and the strict reader reads a good
    # share of those (it is unsure of some by design: extra or escaped keys, say).
    assert valid > MUTATIONS // 3, valid
    assert read > MUTATIONS // 6, (read, valid)


def test_every_projection_reads_back_unchanged(
    native: ModuleType, simulated: list[bytes], mutated: list[bytes]
) -> None:
    checked = refused = 0
    for line in [*simulated, *mutated]:
        event = reference(line)
        if event is None:
            continue
        fields = project(event)
        try:
            text = orjson.dumps({"ms": event.occurred_ms, "fields": fields})
        except orjson.JSONEncodeError:
            continue  # beyond 64 bits: `Replay.load` gives up (NativeUnsupported) on it too
        beyond_int64 = any(
            type(value) is int and not INT64[0] <= value <= INT64[1]
            for value in fields.get("attributes", {}).values()
        )
        try:
            ms, projection, amount = native._from_projection(text)
        except ValueError as error:
            assert beyond_int64, f"{error}: {text!r}"
            refused += 1
            continue
        assert not beyond_int64, text
        assert ms == event.occurred_ms
        assert same(json.loads(projection), fields), f"{text!r}\n  native {projection}"
        assert same(amount, float(fields["amount"]) if "amount" in fields else None)
        checked += 1
    assert checked > 5000, (checked, refused)


def test_the_ip_prefix_callback_is_asked(native: ModuleType, simulated: list[bytes]) -> None:
    line = next(line for line in simulated if b'"ip":' in line)
    asked: list[str] = []

    def prefix(ip: str) -> str | None:
        asked.append(ip)
        return None if len(asked) > 1 else f"P:{ip}"

    ip = orjson.loads(line)["ip"]
    first = native._parse_line(line, prefix)
    assert first is not None and json.loads(first[1])["ip_prefix"] == f"P:{ip}"
    second = native._parse_line(line, prefix)
    assert second is not None and json.loads(second[1])["ip_prefix"] is None
    assert asked == [ip, ip]

    def broken(ip: str) -> str | None:
        raise LookupError(ip)

    with pytest.raises(LookupError):
        native._parse_line(line, broken)
