//! Values as rule expressions see them: CEL's null, bool, int64, double, string, list
//! and map, plus a projected event (a map whose fields sit in fixed slots).

use std::cell::Cell;
use std::rc::Rc;

use smallvec::SmallVec;

use crate::dec::Dec;

/// The fields of a projected event (`expressions.project` in the Python reference), in
/// slot order. An event's view holds a subset of them: a field it does not have is
/// absent (`None`), which is not the same as present and null.
pub const EVENT_FIELDS: [&str; 22] = [
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
    "attributes",
    "target_event_id",
    "label",
    "source",
];
pub const N_FIELDS: usize = EVENT_FIELDS.len();

/// Every event type and kind a rule may name in `events` (the compiler refuses others).
pub const EVENT_NAMES: [&str; 16] = [
    "payment",
    "transfer",
    "red_packet",
    "top_up",
    "withdrawal",
    "refund",
    "login",
    "login_failed",
    "password_change",
    "device_bound",
    "phone_change",
    "kyc_update",
    "account_opened",
    "feedback",
    "transaction",
    "account_event",
];

pub mod slot {
    pub const EVENT_ID: usize = 0;
    pub const TYPE: usize = 1;
    pub const ACCOUNT_ID: usize = 2;
    pub const TS: usize = 3;
    pub const HOUR: usize = 4;
    pub const KIND: usize = 5;
    pub const COUNTERPARTY_ID: usize = 6;
    pub const AMOUNT: usize = 7;
    pub const CURRENCY: usize = 8;
    pub const CHANNEL: usize = 9;
    pub const DEVICE_ID: usize = 10;
    pub const IP: usize = 11;
    pub const IP_PREFIX: usize = 12;
    pub const INSTRUMENT_ID: usize = 13;
    pub const STATUS: usize = 14;
    pub const COUNTRY: usize = 15;
    pub const LAT: usize = 16;
    pub const LON: usize = 17;
    pub const ATTRIBUTES: usize = 18;
    pub const TARGET_EVENT_ID: usize = 19;
    pub const LABEL: usize = 20;
    pub const SOURCE: usize = 21;
}

/// The slot of an event field, if it is one.
pub fn event_slot(name: &str) -> Option<usize> {
    EVENT_FIELDS.iter().position(|field| *field == name)
}

/// Match bits by rule, the rules of all key groups one after the other (each group's
/// from its `GroupPlan::base`): inline for plans of up to 24 rules.
pub type Flags = SmallVec<[Cell<u32>; 24]>;

/// A projected event as CEL sees it (money as a double): `cel_view(project(event))`;
/// in a replay also the record its entries share (one allocation per event).
#[derive(Clone, Debug, Default)]
pub struct EventView {
    pub slots: [Option<Value>; N_FIELDS],
    /// The event id (also in its slot), as entries sort and remember it.
    pub event_id: Rc<str>,
    /// Transactions: the exact amount, and `str(amount)`.
    pub amount: Option<Dec>,
    pub amount_text: Option<Rc<str>>,
    /// Set by each key group as it applies the event (an event has one entity per group).
    pub flags: Flags,
    /// The bits of its type and kind (`plan::event_mask`), as rules' `events` read them.
    pub mask: u32,
}

impl PartialEq for EventView {
    /// Views are equal when their fields are (what CEL sees).
    fn eq(&self, other: &EventView) -> bool {
        self.slots == other.slots
    }
}

impl EventView {
    pub fn get(&self, slot: usize) -> Option<&Value> {
        self.slots[slot].as_ref()
    }

    pub fn get_named(&self, name: &str) -> Option<&Value> {
        event_slot(name).and_then(|slot| self.get(slot))
    }

    /// The present fields, in slot order.
    pub fn present(&self) -> impl Iterator<Item = (&'static str, &Value)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(index, value)| value.as_ref().map(|value| (EVENT_FIELDS[index], value)))
    }
}

#[derive(Clone, Debug)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    List(Rc<Vec<Value>>),
    /// String keys, in insertion order (maps here are small).
    Map(Rc<Vec<(Rc<str>, Value)>>),
    Event(Rc<EventView>),
}

impl Value {
    pub fn str(text: &str) -> Value {
        Value::Str(Rc::from(text))
    }

    pub fn map(items: Vec<(&str, Value)>) -> Value {
        Value::Map(Rc::new(
            items
                .into_iter()
                .map(|(key, value)| (Rc::from(key), value))
                .collect(),
        ))
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(text) => Some(text),
            _ => None,
        }
    }

    /// A key of a map value (an event's field, or a map's entry).
    pub fn field(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Map(items) => items.iter().find(|(key, _)| &**key == name).map(|(_, v)| v),
            Value::Event(view) => view.get_named(name),
            _ => None,
        }
    }
}

/// Structural equality as Python compares the reference's values (`1 == 1.0`, and a
/// bool is not a number here: the engine never mixes them).
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::Int(a), Value::Float(b)) | (Value::Float(b), Value::Int(a)) => {
                (*a as f64) == *b && (*b as i64) == *a
            }
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::List(a), Value::List(b)) => a == b,
            (Value::Map(a), Value::Map(b)) => {
                a.len() == b.len() && a.iter().all(|(key, value)| other_has(b, key, value))
            }
            (Value::Event(a), Value::Event(b)) => a == b,
            _ => false,
        }
    }
}

fn other_has(items: &[(Rc<str>, Value)], key: &str, value: &Value) -> bool {
    items
        .iter()
        .any(|(other, item)| &**other == key && item == value)
}

/// Python's `repr` of a float (what `str(x)` gives): the shortest digits that read back
/// as `x`, in positional notation for exponents -4..16, scientific otherwise.
pub fn python_float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 {
        return if x.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    // `{:e}` gives the shortest round-trip digits: d[.ddd]e[-]x
    let formatted = format!("{:e}", x);
    let (mantissa, exponent) = formatted.split_once('e').expect("exponent");
    let exponent: i32 = exponent.parse().expect("exponent digits");
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if negative { "-" } else { "" };
    if (-4..16).contains(&exponent) {
        let point = exponent + 1; // digits before the point
        let body = if point <= 0 {
            format!("0.{}{}", "0".repeat((-point) as usize), digits)
        } else if point as usize >= digits.len() {
            format!("{}{}.0", digits, "0".repeat(point as usize - digits.len()))
        } else {
            format!(
                "{}.{}",
                &digits[..point as usize],
                &digits[point as usize..]
            )
        };
        format!("{sign}{body}")
    } else {
        let rest = if digits.len() > 1 {
            format!(".{}", &digits[1..])
        } else {
            String::new()
        };
        let exp_sign = if exponent < 0 { "-" } else { "+" };
        format!(
            "{sign}{}{rest}e{exp_sign}{:02}",
            &digits[..1],
            exponent.abs()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_repr_matches_python() {
        let cases = [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (-2.5, "-2.5"),
            (1e16, "1e+16"),
            (1234567890123456.0, "1234567890123456.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (103.8198, "103.8198"),
            (1e22, "1e+22"),
            (123.456e20, "1.23456e+22"),
        ];
        for (value, expected) in cases {
            assert_eq!(python_float_repr(value), expected, "{value}");
        }
    }

    #[test]
    fn ints_equal_floats_of_the_same_value() {
        assert_eq!(Value::Int(3), Value::Float(3.0));
        assert_ne!(Value::Int(3), Value::Float(3.5));
        assert_ne!(Value::Int(1), Value::Bool(true));
    }
}
