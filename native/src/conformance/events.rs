//! `tests/conformance/events/*.json`: each raw line through the strict reader (`strict`:
//! "read" with the case's projection, or "unsure"), and each valid case's projection
//! back through `from_projection`. The contract's verdicts on invalid lines (`reason`,
//! `fields`) are the validator's, which runs in Python (the pytest runner checks them).

use std::collections::HashMap;
use std::rc::Rc;

use super::json::{self, same, Json};
use super::{files, Report};
use crate::event::{from_projection, parse_strict, projection_json, Event, Interner};
use crate::ip::ipv4_prefix;
use crate::value::{slot, Value};

fn base64(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut bits, mut count) = (0u32, 0);
    for byte in text.bytes().filter(|byte| *byte != b'=') {
        let digit = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return Err(format!("not base64: {byte:?}")),
        };
        bits = bits << 6 | u32::from(digit);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    Ok(out)
}

fn line_of(case: &Json) -> Result<Vec<u8>, String> {
    match (case.get("line"), case.get("line_base64")) {
        (Some(Json::Str(text)), None) => Ok(text.as_bytes().to_vec()),
        (None, Some(Json::Str(encoded))) => base64(encoded),
        _ => Err("neither line nor line_base64".to_string()),
    }
}

/// The event as the case expects it: its `ms`, its projection, and the amount as the CEL
/// view holds it (the decimal string read as the nearest double).
fn check_event(event: &Event, case: &Json, what: &str) -> Result<(), String> {
    let projection = case.get("projection").ok_or("no projection")?;
    let got = json::parse(&projection_json(event))?;
    if !same(&got, projection) {
        let mut text = String::new();
        got.write(&mut text);
        return Err(format!("{what}: the projection is {text}"));
    }
    if Some(&Json::Int(event.ts_ms)) != case.get("ms") {
        return Err(format!("{what}: ms is {}", event.ts_ms));
    }
    let amount = projection.get("amount").and_then(Json::as_str);
    let expected = amount.map(|text| text.parse::<f64>().expect("a decimal amount"));
    let view = match event.view.get(slot::AMOUNT) {
        Some(Value::Float(number)) => Some(*number),
        None => None,
        Some(other) => return Err(format!("{what}: the CEL amount is {other:?}")),
    };
    if view.map(f64::to_bits) != expected.map(f64::to_bits) {
        return Err(format!(
            "{what}: the CEL amount is {view:?}, not {expected:?}"
        ));
    }
    Ok(())
}

fn run(case: &Json, prefixes: &HashMap<String, Option<String>>) -> Result<(), String> {
    let line = line_of(case)?;
    let verdict = case.text("verdict");
    if !matches!(verdict, "valid" | "invalid") {
        return Err(format!("verdict {verdict:?}"));
    }
    if let Some(strict) = case.get("strict").and_then(Json::as_str) {
        // What `_ip_prefix` answers: this crate's for dotted quads, else the case's own.
        let projected = case.get("projection").map(|projection| {
            (
                projection.text("ip").to_string(),
                projection
                    .get("ip_prefix")
                    .and_then(Json::as_str)
                    .map(str::to_string),
            )
        });
        let mut lookup = |ip: &str| -> Option<Rc<str>> {
            if let Some(prefix) = ipv4_prefix(ip) {
                return Some(Rc::from(prefix));
            }
            let known = match &projected {
                Some((seen, prefix)) if seen == ip => prefix.clone(),
                _ => prefixes.get(ip).cloned().flatten(),
            };
            known.map(Rc::from)
        };
        let read = parse_strict(&line, &mut lookup, &mut Interner::default());
        match (strict, &read) {
            ("unsure", None) => {}
            ("read", Some(event)) if verdict == "valid" => check_event(event, case, "strict")?,
            _ => {
                let said = if read.is_some() {
                    "reads it"
                } else {
                    "is unsure"
                };
                return Err(format!("the strict reader {said}, not {strict:?}"));
            }
        }
    }
    if verdict == "valid" {
        let mut text = String::from("{\"ms\":");
        case.get("ms").ok_or("no ms")?.write(&mut text);
        text.push_str(",\"fields\":");
        case.get("projection")
            .ok_or("no projection")?
            .write(&mut text);
        text.push('}');
        let refused = case.text("from_projection") == "refused";
        match (from_projection(text.as_bytes()), refused) {
            (Ok(event), false) => check_event(&event, case, "from_projection")?,
            (Err(_), true) => {}
            (Ok(_), true) => return Err("from_projection reads it".to_string()),
            (Err(reason), false) => return Err(format!("from_projection refuses: {reason}")),
        }
    }
    Ok(())
}

#[test]
fn event_cases() {
    let all = files("events");
    let prefixes: HashMap<String, Option<String>> = all
        .iter()
        .filter(|(file, _)| file == "ip_prefix")
        .flat_map(|(_, cases)| cases)
        .map(|case| {
            let prefix = case.get("prefix").and_then(Json::as_str);
            (case.text("ip").to_string(), prefix.map(str::to_string))
        })
        .collect();
    let mut report = Report::default();
    for (file, cases) in &all {
        if file == "ip_prefix" {
            continue;
        }
        for case in cases {
            report.check(file, case, run(case, &prefixes));
        }
    }
    report.finish("events", 1000);
}

/// `ip_prefix`: the crate answers dotted quads itself (`ipv4_prefix`), the same as the
/// case; anything else it leaves to its caller.
#[test]
fn ip_prefix_cases() {
    let mut report = Report::default();
    for (file, cases) in files("events") {
        if file != "ip_prefix" {
            continue;
        }
        for case in &cases {
            let ip = case.text("ip");
            let expected = case.get("prefix").and_then(Json::as_str);
            let outcome = match ipv4_prefix(ip) {
                Some(prefix) if Some(prefix.as_str()) != expected => {
                    Err(format!("ipv4_prefix gives {prefix}"))
                }
                _ => Ok(()),
            };
            report.check(&file, case, outcome);
        }
    }
    report.finish("ip_prefix", 20);
}
