//! Python's projection in (lines the strict reader declines), projection JSON out.

use std::rc::Rc;

use super::json::{Json, Reader};
use super::{Event, Kind};
use crate::dec::Dec;
use crate::value::{event_slot, python_float_repr, slot, EventView, Value};

fn to_value(json: Json) -> Result<Value, String> {
    Ok(match json {
        Json::Null => Value::Null,
        Json::Bool(flag) => Value::Bool(flag),
        Json::Number(number) if number.integer => Value::Int(
            number
                .text
                .parse()
                .map_err(|_| format!("int {} is beyond int64", number.text))?,
        ),
        Json::Number(number) => {
            let value: f64 = number
                .text
                .parse()
                .map_err(|_| format!("bad number {}", number.text))?;
            if !value.is_finite() {
                return Err(format!("number {} is not finite", number.text));
            }
            Value::Float(value)
        }
        Json::Str(text) => Value::Str(Rc::from(&*text)),
        Json::Array(items) => Value::List(Rc::new(
            items.into_iter().map(to_value).collect::<Result<_, _>>()?,
        )),
        Json::Object(items) => {
            let mut out: Vec<(Rc<str>, Value)> = Vec::with_capacity(items.len());
            for (key, value) in items {
                if out.iter().any(|(seen, _)| **seen == *key) {
                    return Err(format!("duplicate key {key:?}"));
                }
                out.push((Rc::from(&*key), to_value(value)?));
            }
            Value::Map(Rc::new(out))
        }
    })
}

/// An event from Python's own projection: `{"ms": occurred_ms, "fields": project(event)}`
/// (the amount as `str(Decimal)`). Err when it is malformed or holds a value outside
/// what `Value` models (an int beyond int64, say).
pub fn from_projection(json: &[u8]) -> Result<Event, String> {
    let text = std::str::from_utf8(json).map_err(|error| format!("not UTF-8: {error}"))?;
    let mut reader = Reader::new(text);
    reader.ws();
    let top = reader
        .value(0)
        .ok_or_else(|| format!("malformed JSON near byte {}", reader.pos))?;
    if !reader.at_end() {
        return Err(format!("trailing data at byte {}", reader.pos));
    }
    let Json::Object(top) = top else {
        return Err("expected a JSON object".into());
    };
    let (mut ms, mut fields) = (None, None);
    for (key, value) in top {
        match (&*key, value) {
            ("ms", Json::Number(number)) if number.integer && ms.is_none() => {
                ms = Some(
                    number
                        .text
                        .parse::<i64>()
                        .map_err(|_| format!("ms {} beyond int64", number.text))?,
                );
            }
            ("fields", Json::Object(items)) if fields.is_none() => fields = Some(items),
            (other, _) => return Err(format!("unexpected or duplicate member {other:?}")),
        }
    }
    let ts_ms = ms.ok_or("no ms")?;
    let fields = fields.ok_or("no fields")?;
    let mut view = EventView::default();
    let (mut amount, mut amount_text) = (None, None);
    for (key, value) in fields {
        let index = event_slot(&key).ok_or_else(|| format!("unknown field {key:?}"))?;
        if view.slots[index].is_some() {
            return Err(format!("duplicate field {key:?}"));
        }
        let value = if index == slot::AMOUNT {
            let Json::Str(text) = value else {
                return Err("amount is not a string".into());
            };
            let dec = Dec::parse(&text).ok_or_else(|| format!("amount {text:?} is not exact"))?;
            let float: f64 = text
                .parse()
                .map_err(|_| format!("amount {text:?} is no number"))?;
            amount = Some(dec);
            amount_text = Some(Rc::from(&*text));
            Value::Float(float)
        } else {
            to_value(value)?
        };
        view.slots[index] = Some(value);
    }
    let kind = view
        .get(slot::KIND)
        .and_then(Value::as_str)
        .and_then(Kind::from_name)
        .ok_or("no valid kind")?;
    if (kind == Kind::Transaction) != amount.is_some() {
        return Err("an amount belongs to transactions, and only to them".into());
    }
    Ok(Event {
        ts_ms,
        kind,
        view: Rc::new(view),
        amount,
        amount_text,
    })
}

fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
        Value::Int(number) => out.push_str(&number.to_string()),
        Value::Float(number) if number.is_finite() => out.push_str(&python_float_repr(*number)),
        Value::Float(number) if number.is_nan() => out.push_str("NaN"),
        Value::Float(number) => out.push_str(if *number > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        }),
        Value::Str(text) => write_string(out, text),
        Value::List(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Map(items) => {
            out.push('{');
            for (index, (key, item)) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_value(out, item);
            }
            out.push('}');
        }
        Value::Event(view) => write_view(out, view, None),
    }
}

fn write_view(out: &mut String, view: &EventView, amount_text: Option<&str>) {
    out.push('{');
    for (index, (name, value)) in view.present().enumerate() {
        if index > 0 {
            out.push(',');
        }
        write_string(out, name);
        out.push(':');
        match amount_text {
            Some(text) if name == "amount" => write_string(out, text),
            _ => write_value(out, value),
        }
    }
    out.push('}');
}

/// For differential tests: the event as `project()` gives it, a JSON object (the amount
/// as its decimal string, attributes as a map; fields in slot order).
pub fn projection_json(event: &Event) -> String {
    let mut out = String::with_capacity(512);
    write_view(&mut out, &event.view, event.amount_text.as_deref());
    out
}
