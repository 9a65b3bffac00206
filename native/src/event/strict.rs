//! The strict reader: a line to an event, when it is certain the reference reads the
//! same event.

use rustc_hash::FxHashSet as HashSet;
use std::borrow::Cow;
use std::rc::Rc;

use super::checks::{
    amount, chars_at_most, float_of, is_identifier, number_value, timestamp, upper_code, Interner,
};
use super::json::Reader;
use super::{Event, Kind};
use crate::dec::Dec;
use crate::value::{slot, EventView, Value, EVENT_NAMES};

mod key {
    pub const EVENT_ID: u32 = 0;
    pub const TYPE: u32 = 1;
    pub const OCCURRED_AT: u32 = 2;
    pub const ACCOUNT_ID: u32 = 3;
    pub const COUNTERPARTY_ID: u32 = 4;
    pub const AMOUNT: u32 = 5;
    pub const CURRENCY: u32 = 6;
    pub const CHANNEL: u32 = 7;
    pub const DEVICE_ID: u32 = 8;
    pub const IP: u32 = 9;
    pub const GEO: u32 = 10;
    pub const INSTRUMENT_ID: u32 = 11;
    pub const STATUS: u32 = 12;
    pub const ATTRIBUTES: u32 = 13;
    pub const TARGET_EVENT_ID: u32 = 14;
    pub const LABEL: u32 = 15;
    pub const SOURCE: u32 = 16;
}

const fn bits(keys: &[u32]) -> u32 {
    let mut mask = 0;
    let mut i = 0;
    while i < keys.len() {
        mask |= 1 << keys[i];
        i += 1;
    }
    mask
}

const REQUIRED: u32 = bits(&[key::EVENT_ID, key::TYPE, key::OCCURRED_AT, key::ACCOUNT_ID]);
const TRANSACTION_KEYS: u32 = REQUIRED
    | bits(&[
        key::COUNTERPARTY_ID,
        key::AMOUNT,
        key::CURRENCY,
        key::CHANNEL,
        key::DEVICE_ID,
        key::IP,
        key::GEO,
        key::INSTRUMENT_ID,
        key::STATUS,
        key::ATTRIBUTES,
    ]);
const TRANSACTION_REQUIRED: u32 = REQUIRED | bits(&[key::AMOUNT, key::CURRENCY]);
const ACCOUNT_EVENT_KEYS: u32 = REQUIRED | bits(&[key::DEVICE_ID, key::IP, key::GEO]);
const FEEDBACK_KEYS: u32 = REQUIRED
    | bits(&[
        key::TARGET_EVENT_ID,
        key::LABEL,
        key::COUNTERPARTY_ID,
        key::SOURCE,
    ]);
const FEEDBACK_REQUIRED: u32 = REQUIRED | bits(&[key::TARGET_EVENT_ID, key::LABEL]);

fn key_of(name: &str) -> Option<u32> {
    Some(match name {
        "event_id" => key::EVENT_ID,
        "type" => key::TYPE,
        "occurred_at" => key::OCCURRED_AT,
        "account_id" => key::ACCOUNT_ID,
        "counterparty_id" => key::COUNTERPARTY_ID,
        "amount" => key::AMOUNT,
        "currency" => key::CURRENCY,
        "channel" => key::CHANNEL,
        "device_id" => key::DEVICE_ID,
        "ip" => key::IP,
        "geo" => key::GEO,
        "instrument_id" => key::INSTRUMENT_ID,
        "status" => key::STATUS,
        "attributes" => key::ATTRIBUTES,
        "target_event_id" => key::TARGET_EVENT_ID,
        "label" => key::LABEL,
        "source" => key::SOURCE,
        _ => return None,
    })
}

fn event_type(name: &str) -> Option<(Kind, &'static str)> {
    Some(match name {
        "payment" => (Kind::Transaction, "payment"),
        "transfer" => (Kind::Transaction, "transfer"),
        "red_packet" => (Kind::Transaction, "red_packet"),
        "top_up" => (Kind::Transaction, "top_up"),
        "withdrawal" => (Kind::Transaction, "withdrawal"),
        "refund" => (Kind::Transaction, "refund"),
        "login" => (Kind::AccountEvent, "login"),
        "login_failed" => (Kind::AccountEvent, "login_failed"),
        "password_change" => (Kind::AccountEvent, "password_change"),
        "device_bound" => (Kind::AccountEvent, "device_bound"),
        "phone_change" => (Kind::AccountEvent, "phone_change"),
        "kyc_update" => (Kind::AccountEvent, "kyc_update"),
        "account_opened" => (Kind::AccountEvent, "account_opened"),
        "feedback" => (Kind::Feedback, "feedback"),
        _ => return None,
    })
}

fn one_of(text: &str, options: &[&'static str]) -> Option<&'static str> {
    options.iter().copied().find(|option| *option == text)
}

/// The literal strings of a view besides the event types and kinds (`EVENT_NAMES`):
/// statuses, labels, sources, common currencies.
const OTHER_LITERALS: [&str; 11] = [
    "succeeded",
    "failed",
    "pending",
    "fraud",
    "legit",
    "analyst",
    "chargeback",
    "customer",
    "CNY",
    "USD",
    "EUR",
];
const LITERALS: usize = EVENT_NAMES.len() + OTHER_LITERALS.len();
/// At most this many other currency and country codes are shared per thread.
const MAX_CODES: usize = 256;

thread_local! {
    /// One shared string per literal and code: cloning an Rc costs less than allocating
    /// (and later freeing) a string for every event.
    static INTERNED: std::cell::RefCell<HashSet<Rc<str>>> =
        std::cell::RefCell::new(
            EVENT_NAMES.iter().chain(&OTHER_LITERALS).map(|text| Rc::from(*text)).collect(),
        );
}

/// `text` as a shared string: a literal, or a currency or country code.
fn interned(text: &str) -> Rc<str> {
    INTERNED.with(|cell| {
        let mut all = cell.borrow_mut();
        if let Some(found) = all.get(text) {
            return found.clone();
        }
        let made: Rc<str> = Rc::from(text);
        if all.len() < LITERALS + MAX_CODES {
            all.insert(made.clone());
        }
        made
    })
}

fn literal(text: &str) -> Value {
    Value::Str(interned(text))
}

struct Geo {
    lat: f64,
    lon: f64,
    country: Option<Rc<str>>,
}

#[derive(Default)]
struct Raw {
    event_id: Option<Rc<str>>,
    event_type: Option<(Kind, &'static str)>,
    occurred: Option<(i64, i64)>,
    account_id: Option<Rc<str>>,
    counterparty_id: Option<Rc<str>>,
    amount: Option<(Dec, f64, Rc<str>)>,
    currency: Option<Rc<str>>,
    channel: Option<Rc<str>>,
    device_id: Option<Rc<str>>,
    ip: Option<Rc<str>>,
    geo: Option<Geo>,
    instrument_id: Option<Rc<str>>,
    status: Option<&'static str>,
    attributes: Vec<(Rc<str>, Value)>,
    target_event_id: Option<Rc<str>>,
    label: Option<&'static str>,
    source: Option<&'static str>,
}

impl<'a> Reader<'a> {
    fn string_value(&mut self) -> Option<Cow<'a, str>> {
        self.string()
    }

    /// A unique identifier (an event's id): not interned.
    fn identifier_value(&mut self) -> Option<Rc<str>> {
        let text = self.string()?;
        is_identifier(&text).then(|| Rc::from(&*text))
    }

    /// An optional identifier, interned: Ok(None) for null.
    fn optional_identifier(&mut self, ids: &mut Interner) -> Option<Option<Rc<str>>> {
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            return Some(None);
        }
        let text = self.string()?;
        is_identifier(&text).then(|| Some(ids.get(&text)))
    }

    fn geo_value(&mut self) -> Option<Option<Geo>> {
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            return Some(None);
        }
        let (mut lat, mut lon, mut country, mut seen) = (None, None, None, 0u8);
        self.members(|r, key| {
            let bit = match &*key {
                "lat" => 1,
                "lon" => 2,
                "country" => 4,
                _ => return None,
            };
            if seen & bit != 0 {
                return None;
            }
            seen |= bit;
            match bit {
                1 | 2 => {
                    let value = float_of(r.number()?)?;
                    let bound = if bit == 1 { 90.0 } else { 180.0 };
                    if !(-bound..=bound).contains(&value) {
                        return None;
                    }
                    if bit == 1 {
                        lat = Some(value);
                    } else {
                        lon = Some(value);
                    }
                }
                _ => {
                    if r.peek()? == b'n' {
                        r.literal(b"null")?;
                    } else {
                        let text = r.string()?;
                        if !upper_code(&text, 2) {
                            return None;
                        }
                        country = Some(interned(&text));
                    }
                }
            }
            Some(())
        })?;
        Some(Some(Geo {
            lat: lat?,
            lon: lon?,
            country,
        }))
    }

    /// Attribute names and string values interned: events mostly share them.
    fn attributes_value(&mut self, ids: &mut Interner) -> Option<Vec<(Rc<str>, Value)>> {
        let mut items: Vec<(Rc<str>, Value)> = Vec::new();
        self.members(|r, key| {
            if !chars_at_most(&key, 4096) || items.iter().any(|(seen, _)| **seen == *key) {
                return None;
            }
            let value = match r.peek()? {
                b'"' => {
                    let text = r.string()?;
                    if !chars_at_most(&text, 4096) {
                        return None;
                    }
                    Value::Str(ids.get(&text))
                }
                b'n' => r.literal(b"null").map(|_| Value::Null)?,
                b't' => r.literal(b"true").map(|_| Value::Bool(true))?,
                b'f' => r.literal(b"false").map(|_| Value::Bool(false))?,
                _ => number_value(r.number()?)?,
            };
            items.push((ids.get(&key), value));
            Some(())
        })?;
        items.shrink_to_fit(); // kept for as long as the event
        Some(items)
    }
}

fn opt_str(value: Option<Rc<str>>) -> Value {
    value.map_or(Value::Null, Value::Str)
}

fn opt_float(value: Option<f64>) -> Value {
    value.map_or(Value::Null, Value::Float)
}

/// The fast, strict reader: `Some(event)` only when it is certain that pydantic and
/// `project()` give exactly this; `None` ("unsure") for anything else, valid or not.
/// `ip_prefix` is Python's `_ip_prefix`, called for every non-null `ip` of a `Some` event.
pub fn parse_strict(
    line: &[u8],
    ip_prefix: &mut dyn FnMut(&str) -> Option<Rc<str>>,
    ids: &mut Interner,
) -> Option<Event> {
    let text = std::str::from_utf8(line).ok()?;
    let mut reader = Reader::new(text);
    let mut raw = Raw::default();
    let mut seen = 0u32;
    reader.members(|r, name| {
        let key = key_of(&name)?;
        if seen & (1 << key) != 0 {
            return None;
        }
        seen |= 1 << key;
        match key {
            key::EVENT_ID => raw.event_id = Some(r.identifier_value()?),
            key::TYPE => raw.event_type = Some(event_type(&r.string_value()?)?),
            key::OCCURRED_AT => raw.occurred = Some(timestamp(&r.string_value()?)?),
            key::ACCOUNT_ID => raw.account_id = Some(r.optional_identifier(ids)??),
            key::COUNTERPARTY_ID => raw.counterparty_id = r.optional_identifier(ids)?,
            key::AMOUNT => {
                let text = r.string_value()?;
                let (dec, float) = amount(&text)?;
                raw.amount = Some((dec, float, Rc::from(&*text)));
            }
            key::CURRENCY => {
                let text = r.string_value()?;
                if !upper_code(&text, 3) {
                    return None;
                }
                raw.currency = Some(interned(&text));
            }
            key::CHANNEL => raw.channel = r.optional_identifier(ids)?,
            key::DEVICE_ID => raw.device_id = r.optional_identifier(ids)?,
            key::IP => raw.ip = r.optional_identifier(ids)?,
            key::GEO => raw.geo = r.geo_value()?,
            key::INSTRUMENT_ID => raw.instrument_id = r.optional_identifier(ids)?,
            key::STATUS => {
                let options = ["succeeded", "failed", "pending"];
                raw.status = Some(one_of(&r.string_value()?, &options)?);
            }
            key::ATTRIBUTES => raw.attributes = r.attributes_value(ids)?,
            key::TARGET_EVENT_ID => raw.target_event_id = Some(r.identifier_value()?),
            key::LABEL => raw.label = Some(one_of(&r.string_value()?, &["fraud", "legit"])?),
            key::SOURCE => {
                let options = ["analyst", "chargeback", "customer"];
                raw.source = Some(one_of(&r.string_value()?, &options)?);
            }
            _ => return None,
        }
        Some(())
    })?;
    if !reader.at_end() {
        return None;
    }
    let (kind, type_name) = raw.event_type?;
    let (allowed, required) = match kind {
        Kind::Transaction => (TRANSACTION_KEYS, TRANSACTION_REQUIRED),
        Kind::AccountEvent => (ACCOUNT_EVENT_KEYS, REQUIRED),
        Kind::Feedback => (FEEDBACK_KEYS, FEEDBACK_REQUIRED),
    };
    if seen & !allowed != 0 || seen & required != required {
        return None;
    }
    let (ts_ms, hour) = raw.occurred?;

    let mut view = EventView::default();
    let s = &mut view.slots;
    s[slot::EVENT_ID] = Some(Value::Str(raw.event_id?));
    s[slot::TYPE] = Some(literal(type_name));
    s[slot::ACCOUNT_ID] = Some(Value::Str(raw.account_id?));
    s[slot::TS] = Some(Value::Float(ts_ms as f64 / 1000.0));
    s[slot::HOUR] = Some(Value::Int(hour));
    s[slot::KIND] = Some(literal(kind.name()));
    let (mut amount, mut amount_text) = (None, None);
    match kind {
        Kind::Transaction | Kind::AccountEvent => {
            if kind == Kind::Transaction {
                let (dec, float, text) = raw.amount?;
                amount = Some(dec);
                amount_text = Some(text);
                s[slot::COUNTERPARTY_ID] = Some(opt_str(raw.counterparty_id));
                s[slot::AMOUNT] = Some(Value::Float(float));
                s[slot::CURRENCY] = Some(Value::Str(raw.currency?));
                s[slot::CHANNEL] = Some(opt_str(raw.channel));
                s[slot::INSTRUMENT_ID] = Some(opt_str(raw.instrument_id));
                s[slot::STATUS] = Some(literal(raw.status.unwrap_or("succeeded")));
                if !raw.attributes.is_empty() {
                    s[slot::ATTRIBUTES] = Some(Value::Map(Rc::new(raw.attributes)));
                }
            }
            s[slot::DEVICE_ID] = Some(opt_str(raw.device_id));
            let prefix = raw.ip.as_deref().and_then(ip_prefix);
            s[slot::IP] = Some(opt_str(raw.ip));
            s[slot::IP_PREFIX] = Some(opt_str(prefix));
            let geo = raw.geo;
            s[slot::COUNTRY] = Some(opt_str(geo.as_ref().and_then(|g| g.country.clone())));
            s[slot::LAT] = Some(opt_float(geo.as_ref().map(|g| g.lat)));
            s[slot::LON] = Some(opt_float(geo.as_ref().map(|g| g.lon)));
        }
        Kind::Feedback => {
            s[slot::COUNTERPARTY_ID] = Some(opt_str(raw.counterparty_id));
            s[slot::TARGET_EVENT_ID] = Some(Value::Str(raw.target_event_id?));
            s[slot::LABEL] = Some(literal(raw.label?));
            s[slot::SOURCE] = Some(literal(raw.source.unwrap_or("analyst")));
        }
    }
    Some(Event {
        ts_ms,
        kind,
        view: Rc::new(view),
        amount,
        amount_text,
    })
}
