use super::checks::{plain_decimal, timestamp};
use super::*;
use crate::value::{slot, EventView, Value};
use std::cell::RefCell;

const PAYMENT: &str = r#"{"event_id":"tx-1de1a3-00000417","type":"payment","occurred_at":"2026-11-02T00:05:06.409000Z","account_id":"acct-96a3d230","counterparty_id":"merch-9caed5","amount":"13.81","currency":"CNY","channel":"app","device_id":"dev-a6c7a9151331","ip":"100.96.6.201","instrument_id":"card-tok-ff67bd19","status":"succeeded","attributes":{"merchant_category":"5499"}}"#;
const LOGIN: &str = r#"{"event_id":"ae-1de1a3-00000322","type":"login","occurred_at":"2026-11-01T03:33:41.164000Z","account_id":"acct-68f0b8b7","device_id":"dev-ebf570040055","geo":{"lat":1.3521,"lon":103.8198,"country":"SG"}}"#;
const FEEDBACK: &str = r#"{"event_id":"fb-1de1a3-00000373","type":"feedback","occurred_at":"2026-11-01T18:29:32.460000Z","account_id":"acct-8167923d","target_event_id":"tx-1de1a3-00000232","label":"legit","source":"analyst","counterparty_id":"merch-da0318"}"#;
/// More lines as `riskstream simulate` writes them.
const SIMULATED: [&str; 6] = [
    r#"{"event_id":"tx-1de1a3-00000001","type":"payment","occurred_at":"2026-03-29T22:33:12.734000Z","account_id":"acct-50bbdb93","counterparty_id":"merch-368ab0","amount":"235.60","currency":"CNY","channel":"app","status":"succeeded"}"#,
    r#"{"event_id":"tx-1de1a3-00000323","type":"payment","occurred_at":"2026-11-01T03:37:27.800000Z","account_id":"acct-68f0b8b7","counterparty_id":"merch-466c44","amount":"88.06","currency":"CNY","channel":"app","device_id":"dev-ebf570040055","geo":{"lat":1.3521,"lon":103.8198,"country":"SG"},"status":"succeeded"}"#,
    r#"{"event_id":"ae-1de1a3-00000411","type":"login","occurred_at":"2026-11-01T23:31:16.035000Z","account_id":"acct-93b64069","device_id":"dev-1c4615035f68","geo":{"lat":40.7128,"lon":-74.006,"country":"US"}}"#,
    r#"{"event_id":"ae-1de1a3-00000394","type":"login","occurred_at":"2026-11-01T22:19:15.916000Z","account_id":"acct-6b950752","device_id":"dev-fd114cdad2ee","ip":"100.64.92.90"}"#,
    r#"{"event_id":"fb-1de1a3-00000387","type":"feedback","occurred_at":"2026-11-01T20:47:36.748000Z","account_id":"acct-315d6211","target_event_id":"tx-1de1a3-00000134","label":"legit","source":"analyst","counterparty_id":"merch-da0318"}"#,
    r#"{"event_id":"tx-1de1a3-00000999","type":"top_up","occurred_at":"2026-11-02T13:00:01Z","account_id":"acct-50bbdb93","amount":"1000.00","currency":"CNY","channel":"app","instrument_id":"bank-1","status":"succeeded"}"#,
];
const BASE_TX: &str = r#""event_id":"e1","type":"payment","account_id":"a","occurred_at":"2026-11-02T00:05:06Z","currency":"USD""#;

#[test]
fn plain_decimals_read_as_the_general_parser_reads_them() {
    let mut texts: Vec<String> = [
        "0.0",
        "-0.0",
        "1.3521",
        "103.8198",
        "-74.006",
        "90.0",
        "-180.000000000000",
        "0.1",
        "0.3",
        "123456789.012345",
        "999999999999999.",
        "1.",
        "00.5",
    ]
    .iter()
    .map(|text| text.to_string())
    .collect();
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..20_000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let digits = (seed % 15 + 1) as usize;
        let point = (seed >> 8) as usize % (digits + 1);
        let mut text = String::new();
        if seed >> 20 & 1 == 1 {
            text.push('-');
        }
        for index in 0..digits {
            if index == point {
                text.push('.');
            }
            text.push(char::from(b'0' + ((seed >> (24 + index * 2)) % 10) as u8));
        }
        if point == digits {
            text.push('.');
        }
        texts.push(text);
    }
    for text in &texts {
        let expected: f64 = text.parse().unwrap();
        let got = plain_decimal(text).unwrap_or_else(|| panic!("{text} taken"));
        assert_eq!(got.to_bits(), expected.to_bits(), "{text}");
    }
    for declined in ["1e5", "1.5E-3", "1234567890.1234567", "-", "1.2.3"] {
        assert_eq!(plain_decimal(declined), None, "{declined}");
    }
}

/// A stand-in for Python's `_ip_prefix` on dotted IPv4 addresses.
fn fake_prefix(ip: &str) -> Option<Rc<str>> {
    let parts: Vec<&str> = ip.split('.').collect();
    if parts.len() != 4 || !parts.iter().all(|p| p.parse::<u8>().is_ok()) {
        return None;
    }
    Some(Rc::from(format!(
        "{}.{}.{}.0/24",
        parts[0], parts[1], parts[2]
    )))
}

fn parse(line: &str) -> Option<Event> {
    parse_strict(line.as_bytes(), &mut fake_prefix, &mut Interner::default())
}

fn tx(extra: &str) -> Option<Event> {
    parse(&format!("{{{BASE_TX},{extra}}}"))
}

fn s(text: &str) -> Option<Value> {
    Some(Value::str(text))
}

fn view_of(fields: Vec<(usize, Value)>) -> EventView {
    let mut view = EventView::default();
    for (index, value) in fields {
        view.slots[index] = Some(value);
    }
    view
}

fn names(event: &Event) -> Vec<&'static str> {
    event.view.present().map(|(name, _)| name).collect()
}

fn float_bits(value: Option<&Value>) -> u64 {
    match value {
        Some(Value::Float(x)) => x.to_bits(),
        other => panic!("not a float: {other:?}"),
    }
}

#[test]
fn reads_a_typical_transaction() {
    let calls = RefCell::new(Vec::new());
    let mut prefix = |ip: &str| {
        calls.borrow_mut().push(ip.to_string());
        fake_prefix(ip)
    };
    let event =
        parse_strict(PAYMENT.as_bytes(), &mut prefix, &mut Interner::default()).expect("strict");
    assert_eq!(*calls.borrow(), vec!["100.96.6.201".to_string()]);
    assert_eq!(event.kind, Kind::Transaction);
    assert_eq!(event.ts_ms, 1_793_577_906_409);
    assert_eq!(event.amount, Dec::parse("13.81"));
    assert_eq!(event.amount_text.as_deref(), Some("13.81"));
    use slot::*;
    let expected = view_of(vec![
        (EVENT_ID, Value::str("tx-1de1a3-00000417")),
        (TYPE, Value::str("payment")),
        (ACCOUNT_ID, Value::str("acct-96a3d230")),
        (TS, Value::Float(1_793_577_906.409)),
        (HOUR, Value::Int(0)),
        (KIND, Value::str("transaction")),
        (COUNTERPARTY_ID, Value::str("merch-9caed5")),
        (AMOUNT, Value::Float(13.81)),
        (CURRENCY, Value::str("CNY")),
        (CHANNEL, Value::str("app")),
        (DEVICE_ID, Value::str("dev-a6c7a9151331")),
        (IP, Value::str("100.96.6.201")),
        (IP_PREFIX, Value::str("100.96.6.0/24")),
        (INSTRUMENT_ID, Value::str("card-tok-ff67bd19")),
        (STATUS, Value::str("succeeded")),
        (COUNTRY, Value::Null),
        (LAT, Value::Null),
        (LON, Value::Null),
        (
            ATTRIBUTES,
            Value::map(vec![("merchant_category", Value::str("5499"))]),
        ),
    ]);
    assert_eq!(*event.view, expected);
    assert!(matches!(event.view.get(HOUR), Some(Value::Int(0))));
    assert!(matches!(event.view.get(TS), Some(Value::Float(_))));
}

#[test]
fn a_bare_transaction_has_nulls_and_defaults() {
    let calls = RefCell::new(0);
    let mut prefix = |ip: &str| {
        *calls.borrow_mut() += 1;
        fake_prefix(ip)
    };
    let line = format!("{{{BASE_TX},\"amount\":\"1\",\"attributes\":{{}}}}");
    let event =
        parse_strict(line.as_bytes(), &mut prefix, &mut Interner::default()).expect("strict");
    assert_eq!(*calls.borrow(), 0, "no ip, no call");
    assert_eq!(
        names(&event),
        [
            "event_id",
            "type",
            "account_id",
            "ts",
            "hour",
            "kind",
            "counterparty_id",
            "amount",
            "currency",
            "channel",
            "device_id",
            "ip",
            "ip_prefix",
            "instrument_id",
            "status",
            "country",
            "lat",
            "lon",
        ]
    );
    for field in [
        "counterparty_id",
        "channel",
        "device_id",
        "ip",
        "ip_prefix",
        "instrument_id",
    ] {
        assert_eq!(event.view.get_named(field), Some(&Value::Null), "{field}");
    }
    for field in ["country", "lat", "lon"] {
        assert_eq!(event.view.get_named(field), Some(&Value::Null), "{field}");
    }
    assert_eq!(event.view.get(slot::STATUS), s("succeeded").as_ref());
    assert_eq!(
        event.view.get(slot::TS),
        Some(&Value::Float(1_793_577_906.0))
    );
    // An ip the callback rejects gives a null prefix.
    let event = tx(r#""amount":"1","ip":"zzz","status":"pending""#).unwrap();
    assert_eq!(event.view.get(slot::IP), s("zzz").as_ref());
    assert_eq!(event.view.get(slot::IP_PREFIX), Some(&Value::Null));
    assert_eq!(event.view.get(slot::STATUS), s("pending").as_ref());
}

#[test]
fn reads_an_account_event() {
    let event = parse(LOGIN).expect("strict");
    assert_eq!(event.kind, Kind::AccountEvent);
    assert_eq!(event.amount, None);
    assert_eq!(event.amount_text, None);
    use slot::*;
    let expected = view_of(vec![
        (EVENT_ID, Value::str("ae-1de1a3-00000322")),
        (TYPE, Value::str("login")),
        (ACCOUNT_ID, Value::str("acct-68f0b8b7")),
        (TS, Value::Float(event.ts_ms as f64 / 1000.0)),
        (HOUR, Value::Int(3)),
        (KIND, Value::str("account_event")),
        (DEVICE_ID, Value::str("dev-ebf570040055")),
        (IP, Value::Null),
        (IP_PREFIX, Value::Null),
        (COUNTRY, Value::str("SG")),
        (LAT, Value::Float(1.3521)),
        (LON, Value::Float(103.8198)),
    ]);
    assert_eq!(*event.view, expected);
    // 2026-11-01T03:33:41.164Z
    assert_eq!(event.ts_ms, 1_793_504_021_164);
}

#[test]
fn reads_feedback_with_its_defaults() {
    let event = parse(FEEDBACK).expect("strict");
    assert_eq!(event.kind, Kind::Feedback);
    assert_eq!(
        names(&event),
        [
            "event_id",
            "type",
            "account_id",
            "ts",
            "hour",
            "kind",
            "counterparty_id",
            "target_event_id",
            "label",
            "source"
        ]
    );
    assert_eq!(
        event.view.get(slot::COUNTERPARTY_ID),
        s("merch-da0318").as_ref()
    );
    let line = r#"{"event_id":"e1","type":"feedback","account_id":"a","occurred_at":"2026-11-02T00:05:06+05:30","target_event_id":"t","label":"fraud"}"#;
    let event = parse(line).expect("strict");
    // Python: occurred_ms 1793558106000, hour 0 (the event's own zone).
    assert_eq!(event.ts_ms, 1_793_558_106_000);
    assert_eq!(event.view.get(slot::HOUR), Some(&Value::Int(0)));
    assert_eq!(event.view.get(slot::COUNTERPARTY_ID), Some(&Value::Null));
    assert_eq!(event.view.get(slot::SOURCE), s("analyst").as_ref());
    assert_eq!(event.view.get(slot::LABEL), s("fraud").as_ref());
}

#[test]
fn reads_the_simulators_lines() {
    for line in SIMULATED.iter().chain([PAYMENT, LOGIN, FEEDBACK].iter()) {
        assert!(parse(line).is_some(), "{line}");
    }
    let event = parse(SIMULATED[0]).unwrap();
    assert_eq!(event.amount_text.as_deref(), Some("235.60"));
    assert_eq!(event.view.get(slot::AMOUNT), Some(&Value::Float(235.6)));
    assert_eq!(event.view.get(slot::HOUR), Some(&Value::Int(22)));
}

#[test]
fn timestamps_match_python() {
    // (occurred_at, occurred_ms, occurred_at.hour), from parse_event in Python.
    let cases = [
        ("2026-11-02T00:05:06.409000Z", 1_793_577_906_409, 0),
        ("2026-11-02T10:05:06+23:59", 1_793_527_566_000, 10),
        ("2026-11-02T10:05:06-23:59", 1_793_700_246_000, 10),
        ("2026-11-02T10:05:06-00:00", 1_793_613_906_000, 10),
        ("0001-01-01T00:00:00+01:00", -62_135_600_400_000, 0),
        ("9999-12-31T23:59:59.999999-23:59", 253_402_387_139_999, 23),
        ("2024-02-29T01:00:00Z", 1_709_168_400_000, 1),
        ("1969-12-31T23:59:59.9995Z", -1, 23),
        ("2026-11-02T00:05:06.1Z", 1_793_577_906_100, 0),
    ];
    for (text, ms, hour) in cases {
        let line = format!(
            r#"{{"event_id":"e1","type":"login","account_id":"a","occurred_at":"{text}"}}"#
        );
        let event = parse(&line).unwrap_or_else(|| panic!("{text}"));
        assert_eq!(event.ts_ms, ms, "{text}");
        assert_eq!(
            event.view.get(slot::HOUR),
            Some(&Value::Int(hour)),
            "{text}"
        );
        assert_eq!(
            event.view.get(slot::TS),
            Some(&Value::Float(ms as f64 / 1000.0))
        );
    }
    assert_eq!(
        timestamp("1969-12-31T23:59:59.9995Z").map(|t| t.0 as f64 / 1000.0),
        Some(-0.001)
    );
}

#[test]
fn declines_doubtful_timestamps() {
    for text in [
        "2026-11-02T00:05:06.1234567Z",   // pydantic truncates to microseconds
        "2026-11-02T00:05:06.123456789Z", // likewise
        "2016-12-31T23:59:60Z",           // leap second: rejected
        "2026-11-02T24:00:00Z",
        "2026-11-02T10:05:06+24:00",
        "0000-01-01T00:00:00Z",
        "2023-02-29T01:00:00Z",
        "2026-11-02t00:05:06z", // pydantic accepts; not our form
        "2026-11-02T00:05:06.Z",
        "2026-11-02T00:05Z",
        "2026-11-02T00:05:06+0530",
        "2026-11-02T00:05:06+05",
        "2026-11-02 00:05:06Z",
        "2026-11-02T00:05:06",
        "2026-11-02",
        "2026-13-02T00:05:06Z",
        "2026-04-31T00:05:06Z",
        "2026-11-02T00:60:06Z",
        "2026-11-02T00:05:06+05:60",
        "2026-11-02T00:05:06Z ",
    ] {
        let line = format!(
            r#"{{"event_id":"e1","type":"login","account_id":"a","occurred_at":"{text}"}}"#
        );
        assert!(parse(&line).is_none(), "{text}");
    }
}

#[test]
fn amounts_print_as_python_prints_them() {
    for (text, units) in [
        ("13.81", 1_381_000_000_i128),
        ("0.5", 50_000_000),
        ("0.000001", 100),
        ("1.00000000", 100_000_000),
        ("1.0", 100_000_000),
        ("100", 10_000_000_000),
        ("1234567890123456.12345678", 123_456_789_012_345_612_345_678),
        ("9999999999999999.99999999", 999_999_999_999_999_999_999_999),
    ] {
        let event = tx(&format!(r#""amount":"{text}""#)).unwrap_or_else(|| panic!("{text}"));
        assert_eq!(event.amount, Some(Dec { units }), "{text}");
        assert_eq!(event.amount, Dec::parse(text), "{text}");
        assert_eq!(event.amount_text.as_deref(), Some(text));
        let float: f64 = text.parse().unwrap();
        assert_eq!(event.view.get(slot::AMOUNT), Some(&Value::Float(float)));
    }
    for amount in [
        r#""013.81""#,     // Python prints 13.81
        r#"".5""#,         // 0.5
        r#""5.""#,         // 5
        r#""0.0000001""#,  // 1E-7
        r#""0.00000010""#, // 1.0E-7
        r#""1.000000000""#,
        r#""12345678901234567""#, // more than 16 whole digits: invalid
        r#""0000000000000000000000001""#,
        r#""0""#,
        r#""0.00""#,
        r#"" 1.5""#,
        r#""1.5 ""#,
        r#""+1.5""#,
        r#""-1.5""#,
        r#""1_000""#,
        r#""1e2""#,
        r#""1E-7""#,
        r#""١٢""#,
        r#""""#,
        "13.81",
        "13",
        "null",
    ] {
        assert!(tx(&format!(r#""amount":{amount}"#)).is_none(), "{amount}");
    }
}

#[test]
fn attributes_keep_the_unions_types() {
    let event =
        tx(r#""amount":"1","attributes":{"a":1,"b":1.0,"c":true,"d":null,"e":"x","f":-0.0,"g":1e5,"h":-0,"":false,"i":9223372036854775807,"j":-9223372036854775808}"#)
            .expect("strict");
    let Some(Value::Map(items)) = event.view.get(slot::ATTRIBUTES) else {
        panic!("attributes");
    };
    let keys: Vec<&str> = items.iter().map(|(key, _)| &**key).collect();
    assert_eq!(keys, ["a", "b", "c", "d", "e", "f", "g", "h", "", "i", "j"]);
    let value = |name: &str| {
        items
            .iter()
            .find(|(key, _)| &**key == name)
            .unwrap()
            .1
            .clone()
    };
    assert!(matches!(value("a"), Value::Int(1)));
    assert!(matches!(value("b"), Value::Float(x) if x == 1.0));
    assert!(matches!(value("c"), Value::Bool(true)));
    assert!(matches!(value("d"), Value::Null));
    assert!(matches!(value("e"), Value::Str(ref x) if &**x == "x"));
    assert!(matches!(value("f"), Value::Float(x) if x == 0.0 && x.is_sign_negative()));
    assert!(matches!(value("g"), Value::Float(x) if x == 100000.0));
    assert!(matches!(value("h"), Value::Int(0)));
    assert!(matches!(value(""), Value::Bool(false)));
    assert!(matches!(value("i"), Value::Int(i64::MAX)));
    assert!(matches!(value("j"), Value::Int(i64::MIN)));
    let long = "x".repeat(4096);
    assert!(tx(&format!(r#""amount":"1","attributes":{{"k":"{long}"}}"#)).is_some());
    assert!(tx(&format!(r#""amount":"1","attributes":{{"k":"{long}x"}}"#)).is_none());
    assert!(tx(&format!(r#""amount":"1","attributes":{{"{long}x":1}}"#)).is_none());
    for attributes in [
        r#"{"big":9223372036854775808}"#,  // a Python int beyond int64
        r#"{"big":18446744073709551616}"#, // orjson makes it a float
        r#"{"big":-9223372036854775809}"#,
        r#"{"x":1e400}"#,
        r#"{"x":[1]}"#,
        r#"{"x":{}}"#,
        r#"{"a":1,"a":2}"#,
        "null",
        "[]",
    ] {
        assert!(
            tx(&format!(r#""amount":"1","attributes":{attributes}"#)).is_none(),
            "{attributes}"
        );
    }
}

#[test]
fn geo_numbers_are_floats() {
    let event = tx(r#""amount":"1","geo":{"lat":1,"lon":-0}"#).expect("strict");
    assert!(matches!(event.view.get(slot::LAT), Some(Value::Float(x)) if *x == 1.0));
    assert_eq!(float_bits(event.view.get(slot::LON)), 0.0f64.to_bits());
    assert_eq!(event.view.get(slot::COUNTRY), Some(&Value::Null));
    let event = tx(r#""amount":"1","geo":{"lon":180,"lat":-0.0,"country":null}"#).unwrap();
    assert_eq!(float_bits(event.view.get(slot::LAT)), (-0.0f64).to_bits());
    assert_eq!(event.view.get(slot::LON), Some(&Value::Float(180.0)));
    let event = tx(r#""amount":"1","geo":{"lat":-90,"lon":-180.0,"country":"U\u0053"}"#).unwrap();
    assert_eq!(event.view.get(slot::COUNTRY), s("US").as_ref());
    let event = tx(r#""amount":"1","geo":null"#).unwrap();
    assert_eq!(event.view.get(slot::LAT), Some(&Value::Null));
    for geo in [
        r#"{"lat":90.0000001,"lon":0}"#,
        r#"{"lat":1,"lon":180.5}"#,
        r#"{"lat":1,"lon":2,"x":1}"#, // an extra: kept by pydantic, declined here
        r#"{"lat":true,"lon":2}"#,    // pydantic: 1.0
        r#"{"lat":"1.5","lon":2}"#,   // pydantic: 1.5
        r#"{"lat":1,"lon":2,"country":"us"}"#,
        r#"{"lat":1,"lon":2,"country":"USA"}"#,
        r#"{"lat":1}"#,
        r#"{"lat":1,"lon":2,"lat":3}"#,
        r#"{"lat":1e999,"lon":2}"#,
        "[]",
    ] {
        assert!(
            tx(&format!(r#""amount":"1","geo":{geo}"#)).is_none(),
            "{geo}"
        );
    }
}

#[test]
fn decodes_escapes() {
    let escaped = r#""amount":"1","counterparty_id":"x\/y\"\\\b\f\n\r\t\u00e9z\ud83d\ude00","#;
    let event = tx(&format!(
        r#"{escaped}"channel":"a\u0000b","device_id":"\u00e9""#
    ))
    .expect("strict");
    assert_eq!(
        event.view.get(slot::COUNTERPARTY_ID),
        s("x/y\"\\\u{8}\u{c}\n\r\t\u{e9}z\u{1f600}").as_ref()
    );
    assert_eq!(event.view.get(slot::CHANNEL), s("a\0b").as_ref());
    assert_eq!(event.view.get(slot::DEVICE_ID), s("é").as_ref());
    // An escaped key is the same key; its type too.
    let event = parse(r#"{"event\u005fid":"e1","type":"pay\u006dent","account_id":"a","occurred_at":"2026-11-02T00:05:06Z","currency":"USD","amount":"1"}"#).unwrap();
    assert_eq!(event.view.get(slot::EVENT_ID), s("e1").as_ref());
    assert_eq!(event.view.get(slot::TYPE), s("payment").as_ref());
    // Identifier lengths count code points.
    let name = "é".repeat(128);
    assert!(tx(&format!(r#""amount":"1","channel":"{name}""#)).is_some());
    assert!(tx(&format!(r#""amount":"1","channel":"{name}é""#)).is_none());
}

#[test]
fn declines_doubtful_lines() {
    for extra in [
        r#""channel":" x ""#, // pydantic strips
        r#""channel":"x\u00a0""#,
        r#""channel":"x\u0085""#,
        r#""channel":"x\u001f""#, // kept by pydantic, but declined
        r#""channel":"\u200bx""#,
        r#""channel":"\ufeffx""#,
        r#""channel":"x\u3000""#,
        r#""channel":"""#,
        r#""channel":"\ud800""#,
        r#""channel":"\udc00x""#,
        r#""channel":"\ud800\u0041""#,
        r#""channel":"\x""#,
        r#""channel":"\u12""#,
        "\"channel\":\"a\tb\"", // a raw control character: not JSON
        r#""channel":5"#,
        r#""status":null"#,
        r#""status":"Succeeded""#,
        r#""currency":"usd""#, // a second currency key
        r#""extra":1"#,
        r#""label":"fraud""#,       // a feedback key on a transaction
        r#""target_event_id":"t""#, // likewise
        r#""event_id":"e2""#,       // a duplicate key
        r#""amount":"1","amount":"2""#,
    ] {
        let line = if extra.contains("\"amount\"") {
            format!("{{{BASE_TX},{extra}}}")
        } else {
            format!("{{{BASE_TX},\"amount\":\"1\",{extra}}}")
        };
        assert!(parse(&line).is_none(), "{line}");
    }
    let lines: Vec<String> = vec![
        format!("{{{BASE_TX}}}"), // no amount
        format!("{{{BASE_TX},\"amount\":\"1\"}} x"),
        format!("{{{BASE_TX},\"amount\":\"1\",}}"),
        format!("\u{feff}{{{BASE_TX},\"amount\":\"1\"}}"),
        format!("[{{{BASE_TX},\"amount\":\"1\"}}]"),
        r#"{"event_id":"e1","type":"login","account_id":"a","occurred_at":"2026-11-02T00:05:06Z","amount":"1"}"#.into(),
        r#"{"event_id":"e1","type":"login","account_id":"a","occurred_at":"2026-11-02T00:05:06Z","status":"failed"}"#.into(),
        r#"{"event_id":"e1","type":"logout","account_id":"a","occurred_at":"2026-11-02T00:05:06Z"}"#.into(),
        r#"{"event_id":"e1","type":null,"account_id":"a","occurred_at":"2026-11-02T00:05:06Z"}"#.into(),
        r#"{"event_id":"e1","account_id":"a","occurred_at":"2026-11-02T00:05:06Z"}"#.into(),
        r#"{"event_id":"e1","type":"login","occurred_at":"2026-11-02T00:05:06Z"}"#.into(),
        r#"{"event_id":null,"type":"login","account_id":"a","occurred_at":"2026-11-02T00:05:06Z"}"#.into(),
        r#"{"event_id":"e1","type":"feedback","account_id":"a","occurred_at":"2026-11-02T00:05:06Z","label":"fraud"}"#.into(),
        r#"{"event_id":"e1","type":"feedback","account_id":"a","occurred_at":"2026-11-02T00:05:06Z","target_event_id":null,"label":"fraud"}"#.into(),
        r#"{"event_id":"e1","type":"feedback","account_id":"a","occurred_at":"2026-11-02T00:05:06Z","target_event_id":"t","label":"fraud","source":"bank"}"#.into(),
        r#"{"event_id":"e1","type":"feedback","account_id":"a","occurred_at":"2026-11-02T00:05:06Z","target_event_id":"t","label":"fraud","device_id":"d"}"#.into(),
        "{}".into(),
        "".into(),
        "null".into(),
    ];
    for line in &lines {
        assert!(parse(line).is_none(), "{line}");
    }
    let mut invalid_utf8 = format!("{{{BASE_TX},\"amount\":\"1\",\"channel\":\"").into_bytes();
    invalid_utf8.extend_from_slice(b"\xff\"}");
    assert!(parse_strict(&invalid_utf8, &mut fake_prefix, &mut Interner::default()).is_none());
    // JSON whitespace around tokens is fine, as for orjson.
    let spaced = format!(
        " {{ {} ,\n\"amount\" : \"1\" }}\r\n",
        BASE_TX.replace(',', " ,\t")
    );
    assert!(parse(&spaced).is_some(), "{spaced}");
}

fn wrapped(event: &Event) -> String {
    format!(
        r#"{{"ms":{},"fields":{}}}"#,
        event.ts_ms,
        projection_json(event)
    )
}

#[test]
fn projections_round_trip() {
    let mut lines: Vec<String> = SIMULATED.iter().map(|line| line.to_string()).collect();
    lines.extend([PAYMENT, LOGIN, FEEDBACK].map(String::from));
    lines.push(format!(
        r#"{{{BASE_TX},"amount":"0.000001","attributes":{{"a":1,"b":1.0,"c":true,"d":null,"e":"\"\\\u0001é","f":-0.0,"g":1e300,"h":1e-7}},"geo":{{"lat":-0.0,"lon":1}}}}"#
    ));
    for line in &lines {
        let event = parse(line).unwrap_or_else(|| panic!("{line}"));
        let text = wrapped(&event);
        let back = from_projection(text.as_bytes()).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert_eq!(back.ts_ms, event.ts_ms);
        assert_eq!(back.kind, event.kind);
        assert_eq!(back.view, event.view, "{text}");
        assert_eq!(back.amount, event.amount);
        assert_eq!(back.amount_text, event.amount_text);
        assert_eq!(projection_json(&back), projection_json(&event));
        for index in [slot::LAT, slot::LON] {
            if let (Some(Value::Float(a)), Some(Value::Float(b))) =
                (event.view.get(index), back.view.get(index))
            {
                assert_eq!(a.to_bits(), b.to_bits());
            }
        }
    }
    let json = projection_json(&parse(PAYMENT).unwrap());
    assert!(json.contains(r#""amount":"13.81""#), "{json}");
    assert!(
        json.contains(r#""attributes":{"merchant_category":"5499"}"#),
        "{json}"
    );
    assert!(json.contains(r#""ts":1793577906.409,"hour":0"#), "{json}");
}

#[test]
fn reads_pythons_projection() {
    // As orjson writes project() of a transaction Python printed as 1E-7.
    let text = br#"{"ms":1793577906000,"fields":{"event_id":"e1","type":"payment","account_id":"a","ts":1793577906.0,"hour":0,"kind":"transaction","counterparty_id":null,"amount":"1.0E-7","currency":"USD","channel":null,"device_id":null,"ip":"1.2.3.4","ip_prefix":"1.2.3.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null,"attributes":{"big":9223372036854775807,"x":1e16}}}"#;
    let event = from_projection(text).expect("reads");
    assert_eq!(event.kind, Kind::Transaction);
    assert_eq!(event.amount, Some(Dec { units: 10 }));
    assert_eq!(event.amount_text.as_deref(), Some("1.0E-7"));
    assert_eq!(event.view.get(slot::AMOUNT), Some(&Value::Float(1e-7)));
    assert_eq!(event.view.get(slot::IP_PREFIX), s("1.2.3.0/24").as_ref());
    assert_eq!(event.view.get(slot::HOUR), Some(&Value::Int(0)));
    let feedback = br#"{"ms":-1,"fields":{"event_id":"e1","type":"feedback","account_id":"a","ts":-0.001,"hour":23,"kind":"feedback","counterparty_id":null,"target_event_id":"t","label":"fraud","source":"analyst"}}"#;
    let event = from_projection(feedback).expect("reads");
    assert_eq!(
        (event.kind, event.ts_ms, event.amount),
        (Kind::Feedback, -1, None)
    );
    assert_eq!(event.view.present().count(), 10);
    for (bad, why) in [
        (
            r#""attributes":{"big":9223372036854775808}"#,
            "int beyond int64",
        ),
        (r#""attributes":{"a":1,"a":2}"#, "duplicate"),
        (r#""surprise":1"#, "unknown field"),
        (r#""currency":"USD""#, "duplicate field"),
    ] {
        let text = String::from_utf8(text.to_vec())
            .unwrap()
            .replace(r#""attributes":{"big":9223372036854775807,"x":1e16}"#, bad);
        let text = if why == "duplicate field" {
            text.replace(r#""hour":0"#, r#""hour":0,"currency":"USD""#)
        } else {
            text
        };
        assert!(from_projection(text.as_bytes()).is_err(), "{why}: {text}");
    }
    assert!(from_projection(br#"{"ms":1,"fields":{"kind":"feedback","amount":"1"}}"#).is_err());
    assert!(from_projection(br#"{"ms":1.5,"fields":{"kind":"feedback"}}"#).is_err());
    assert!(from_projection(br#"{"ms":1,"fields":{"kind":"feedback"}} x"#).is_err());
    assert!(from_projection(br#"{"fields":{"kind":"feedback"}}"#).is_err());
}
