//! The event reader: a raw line (contract v1 JSON) to the view rules see.
//!
//! `parse_strict` is the fast path. It says `Some` only when it is certain that the Python
//! reference (`orjson.loads` -> the pydantic model chosen by `type` -> `expressions.project`
//! -> `cel_view`) gives exactly this event; anything it is unsure of, valid or not, is
//! `None` and the caller asks Python. `from_projection` reads Python's own projection.
//!
//! What the strict reader accepts (everything else is `None`):
//! - one JSON object (RFC 8259 grammar, valid UTF-8, no BOM), no duplicate keys, only the
//!   keys of the model its `type` selects (an extra key, allowed by the model, is `None`);
//! - identifiers: strings of 1..=128 code points whose first and last characters are not
//!   whitespace, control or zero-width characters (so pydantic's strip is a no-op);
//! - `occurred_at`: `YYYY-MM-DDTHH:MM:SS[.f{1,6}](Z|+HH:MM|-HH:MM)`, a real calendar date,
//!   year 0001..=9999, seconds 00..=59, offsets up to 23:59;
//! - `amount`: a JSON string `(0|[1-9][0-9]{0,15})(.[0-9]{1,8})?`, greater than zero, and
//!   printed by `str(Decimal)` as itself (not `0.000000x`, which Python prints as `xE-7`);
//! - `currency` `[A-Z]{3}`; literals (`type`, `status`, `label`, `source`) spelled exactly;
//! - `geo`: null or `{lat, lon[, country]}`, numbers within bounds (an integer `1` is the
//!   float `1.0`), country null or `[A-Z]{2}`;
//! - `attributes`: an object of str (<= 4096 code points, keys too), int64, finite float,
//!   bool and null values.

use rustc_hash::FxHashSet as HashSet;
use std::borrow::Cow;
use std::rc::Rc;

use crate::dec::{Dec, SCALE};
use crate::value::{event_slot, python_float_repr, slot, EventView, Value, EVENT_NAMES};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Transaction,
    AccountEvent,
    Feedback,
}

impl Kind {
    /// The `kind` field of the projection.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Transaction => "transaction",
            Kind::AccountEvent => "account_event",
            Kind::Feedback => "feedback",
        }
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        match name {
            "transaction" => Some(Kind::Transaction),
            "account_event" => Some(Kind::AccountEvent),
            "feedback" => Some(Kind::Feedback),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Event {
    /// `occurred_ms`: epoch milliseconds, the floor of the instant.
    pub ts_ms: i64,
    pub kind: Kind,
    /// `cel_view(project(event))`: every field `project()` gives, the amount as a double.
    pub view: Rc<EventView>,
    /// Transactions: the exact amount.
    pub amount: Option<Dec>,
    /// Transactions: `str(event.amount)` as Python prints it (`project()`'s `amount`).
    pub amount_text: Option<Rc<str>>,
}

// ---------------------------------------------------------------------------------------
// JSON reading
// ---------------------------------------------------------------------------------------

/// A JSON number as written: its text and whether it is an integer literal.
#[derive(Clone, Copy, Debug)]
struct Number<'a> {
    text: &'a str,
    integer: bool,
}

/// A decoded JSON value, for `from_projection` (numbers stay text until converted).
#[derive(Debug)]
enum Json<'a> {
    Null,
    Bool(bool),
    Number(Number<'a>),
    Str(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

const MAX_DEPTH: usize = 64;

/// The index of the first byte from `from` on that a string cannot hold as it is: `"`,
/// `\\` or a control character below 0x20; `bytes.len()` when there is none. Eight bytes
/// at a time: each test below is nonzero exactly when some byte of the word matches.
#[inline]
fn special_byte(bytes: &[u8], from: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut i = from;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let quote = word ^ (ONES * b'"' as u64);
        let backslash = word ^ (ONES * b'\\' as u64);
        let found = ((quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (word.wrapping_sub(ONES * 0x20) & !word))
            & HIGHS;
        if found != 0 {
            // The lowest flagged byte is a true match (a borrow only flags bytes above one).
            return i + (found.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            return i;
        }
        i += 1;
    }
    i
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Reader<'a> {
        Reader {
            text,
            bytes: text.as_bytes(),
            pos: 0,
        }
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            if b == b' ' || b == b'\n' || b == b'\r' || b == b'\t' {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// The next byte after whitespace, consumed.
    #[inline]
    fn next_token(&mut self) -> Option<u8> {
        self.ws();
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    #[inline]
    fn at_end(&mut self) -> bool {
        self.ws();
        self.pos == self.bytes.len()
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            Some(())
        } else {
            None
        }
    }

    /// A string; the reader stands on its opening quote.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        if self.peek()? != b'"' {
            return None;
        }
        let start = self.pos + 1;
        let mut i = special_byte(self.bytes, start);
        match *self.bytes.get(i)? {
            b'"' => {
                self.pos = i + 1;
                // Both ends are ASCII, so the slice is on char boundaries.
                return Some(Cow::Borrowed(&self.text[start..i]));
            }
            b'\\' => {}
            _ => return None, // a raw control character
        }
        let mut out = String::with_capacity(i - start + 16);
        out.push_str(&self.text[start..i]);
        let mut run = i; // start of the pending unescaped run
        loop {
            let b = *self.bytes.get(i)?;
            match b {
                b'"' => {
                    out.push_str(&self.text[run..i]);
                    self.pos = i + 1;
                    return Some(Cow::Owned(out));
                }
                b'\\' => {
                    out.push_str(&self.text[run..i]);
                    let escape = *self.bytes.get(i + 1)?;
                    i += 2;
                    match escape {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let high = self.hex4(i)?;
                            i += 4;
                            let code = if (0xD800..0xDC00).contains(&high) {
                                if self.bytes.get(i) != Some(&b'\\')
                                    || self.bytes.get(i + 1) != Some(&b'u')
                                {
                                    return None; // a lone high surrogate
                                }
                                let low = self.hex4(i + 2)?;
                                if !(0xDC00..0xE000).contains(&low) {
                                    return None;
                                }
                                i += 6;
                                0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                            } else if (0xDC00..0xE000).contains(&high) {
                                return None; // a lone low surrogate
                            } else {
                                high
                            };
                            out.push(char::from_u32(code)?);
                        }
                        _ => return None,
                    }
                    run = i;
                }
                0..=0x1f => return None,
                _ => i = special_byte(self.bytes, i),
            }
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let digits = self.bytes.get(at..at + 4)?;
        let mut code = 0u32;
        for &d in digits {
            code = code * 16 + (d as char).to_digit(16)?;
        }
        Some(code)
    }

    /// A number as RFC 8259 writes it: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    fn number(&mut self) -> Option<Number<'a>> {
        let start = self.pos;
        let bytes = self.bytes;
        let mut i = start;
        if bytes.get(i) == Some(&b'-') {
            i += 1;
        }
        match bytes.get(i)? {
            b'0' => i += 1,
            b'1'..=b'9' => {
                while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
            }
            _ => return None,
        }
        let mut integer = true;
        if bytes.get(i) == Some(&b'.') {
            integer = false;
            i += 1;
            let digits = i;
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == digits {
                return None;
            }
        }
        if matches!(bytes.get(i), Some(b'e' | b'E')) {
            integer = false;
            i += 1;
            if matches!(bytes.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            let digits = i;
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == digits {
                return None;
            }
        }
        self.pos = i;
        Some(Number {
            text: &self.text[start..i],
            integer,
        })
    }

    /// Any value (for `from_projection`); the reader stands on it (whitespace skipped).
    fn value(&mut self, depth: usize) -> Option<Json<'a>> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'n' => self.literal(b"null").map(|_| Json::Null),
            b't' => self.literal(b"true").map(|_| Json::Bool(true)),
            b'f' => self.literal(b"false").map(|_| Json::Bool(false)),
            b'"' => self.string().map(Json::Str),
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                self.ws();
                if self.peek()? == b']' {
                    self.pos += 1;
                    return Some(Json::Array(items));
                }
                loop {
                    self.ws();
                    items.push(self.value(depth + 1)?);
                    match self.next_token()? {
                        b',' => continue,
                        b']' => return Some(Json::Array(items)),
                        _ => return None,
                    }
                }
            }
            b'{' => {
                self.pos += 1;
                let mut items = Vec::new();
                self.ws();
                if self.peek()? == b'}' {
                    self.pos += 1;
                    return Some(Json::Object(items));
                }
                loop {
                    self.ws();
                    let key = self.string()?;
                    if self.next_token()? != b':' {
                        return None;
                    }
                    self.ws();
                    let value = self.value(depth + 1)?;
                    items.push((key, value));
                    match self.next_token()? {
                        b',' => continue,
                        b'}' => return Some(Json::Object(items)),
                        _ => return None,
                    }
                }
            }
            _ => self.number().map(Json::Number),
        }
    }

    /// Iterate an object's members: `f(reader, key)` reads each value. The reader stands
    /// on the `{`. Returns None on malformed JSON or when `f` does.
    fn members(&mut self, mut f: impl FnMut(&mut Self, Cow<'a, str>) -> Option<()>) -> Option<()> {
        if self.next_token()? != b'{' {
            return None;
        }
        self.ws();
        if self.peek()? == b'}' {
            self.pos += 1;
            return Some(());
        }
        loop {
            self.ws();
            let key = self.string()?;
            if self.next_token()? != b':' {
                return None;
            }
            self.ws();
            f(self, key)?;
            match self.next_token()? {
                b',' => continue,
                b'}' => return Some(()),
                _ => return None,
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Field checks
// ---------------------------------------------------------------------------------------

/// Whether `c` may end an identifier for certain: pydantic strips with Rust's `trim`
/// (Unicode White_Space); also refused are controls and zero-width characters.
#[inline]
fn plain_end(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_graphic();
    }
    !(c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            '\u{180E}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}'
        ))
}

#[inline]
fn chars_at_most(text: &str, limit: usize) -> bool {
    text.len() <= limit || text.chars().count() <= limit
}

/// An `Identifier`: stripping would change nothing, 1..=128 code points.
fn is_identifier(text: &str) -> bool {
    let (Some(first), Some(last)) = (text.chars().next(), text.chars().next_back()) else {
        return false;
    };
    plain_end(first) && plain_end(last) && chars_at_most(text, 128)
}

/// The identifiers read so far: an account, device or merchant id is one string however
/// many events name it (fewer allocations to make and free, less memory to walk).
#[derive(Default)]
pub struct Interner(HashSet<Rc<str>>);

impl Interner {
    pub fn get(&mut self, text: &str) -> Rc<str> {
        if let Some(known) = self.0.get(text) {
            return known.clone();
        }
        let made: Rc<str> = Rc::from(text);
        self.0.insert(made.clone());
        made
    }
}

fn upper_code(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_uppercase())
}

/// An amount Python prints back as itself: `(0|[1-9]\d{0,15})(\.\d{1,8})?`, > 0, and not
/// small enough for `str(Decimal)` to switch to scientific notation (adjusted exponent < -6).
fn amount(text: &str) -> Option<(Dec, f64)> {
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    };
    if whole.is_empty() || whole.len() > 16 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if whole.len() > 1 && whole.starts_with('0') {
        return None;
    }
    if let Some(fraction) = fraction {
        if fraction.is_empty()
            || fraction.len() > 8
            || !fraction.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        if whole == "0" && fraction.starts_with("000000") {
            return None; // zero, or printed as 1E-7 / 1.0E-7
        }
    } else if whole == "0" {
        return None;
    }
    // At most 16 + 8 digits: the scaled value fits an i128 (and Dec's bound) with room.
    let mut units: i128 = 0;
    for b in whole.bytes() {
        units = units * 10 + (b - b'0') as i128;
    }
    let fraction = fraction.unwrap_or("");
    for b in fraction.bytes() {
        units = units * 10 + (b - b'0') as i128;
    }
    units *= 10_i128.pow(SCALE - fraction.len() as u32);
    if units <= 0 {
        return None;
    }
    let float = match plain_decimal(text) {
        Some(float) => float,
        None => text.parse().ok()?,
    };
    Some((Dec { units }, float))
}

/// A number for a float field (`lat`, `lon`): ints become floats as pydantic does.
fn float_of(number: Number) -> Option<f64> {
    let value = if number.integer {
        number.text.parse::<i64>().ok()? as f64
    } else {
        plain_decimal(number.text).or_else(|| number.text.parse::<f64>().ok())?
    };
    value.is_finite().then_some(value)
}

/// `-ddd.ddd` with at most 15 significant digits (coordinates), as `str::parse` reads it
/// but without its general algorithm: the digits and the power of ten are both exact
/// doubles then, so one correctly rounded division is the correctly rounded value.
fn plain_decimal(text: &str) -> Option<f64> {
    const POWERS: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let (negative, digits) = match text.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        bytes => (false, bytes),
    };
    if digits.len() > 16 || !digits.iter().any(u8::is_ascii_digit) {
        return None; // possibly more than 15 digits: the general algorithm decides
    }
    let (mut mantissa, mut scale, mut point) = (0u64, 0usize, false);
    for &byte in digits {
        match byte {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(byte - b'0');
                scale += usize::from(point);
            }
            b'.' if !point => point = true,
            _ => return None, // an exponent
        }
    }
    let magnitude = mantissa as f64 / POWERS[scale];
    Some(if negative { -magnitude } else { magnitude })
}

/// A number as the attributes union `str | int | float | bool | None` keeps it.
fn number_value(number: Number) -> Option<Value> {
    if number.integer {
        number.text.parse::<i64>().ok().map(Value::Int)
    } else {
        let value: f64 = number.text.parse().ok()?;
        value.is_finite().then_some(Value::Float(value))
    }
}

/// `occurred_at`: (epoch ms, hour in its own zone).
fn timestamp(text: &str) -> Option<(i64, i64)> {
    let b = text.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let digits = |from: usize, n: usize| -> Option<i64> {
        let mut value = 0i64;
        for &d in b.get(from..from + n)? {
            if !d.is_ascii_digit() {
                return None;
            }
            value = value * 10 + (d - b'0') as i64;
        }
        Some(value)
    };
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = digits(0, 4)?;
    let month = digits(5, 2)?;
    let day = digits(8, 2)?;
    let hour = digits(11, 2)?;
    let minute = digits(14, 2)?;
    let second = digits(17, 2)?;
    if year < 1 || !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut i = 19;
    let mut micros = 0i64;
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let n = i - start;
        if n == 0 || n > 6 {
            return None;
        }
        micros = digits(start, n)? * 10i64.pow((6 - n) as u32);
    }
    let offset_minutes = match b.get(i)? {
        b'Z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let hours = digits(i + 1, 2)?;
            let minutes = digits(i + 4, 2)?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            let total = hours * 60 + minutes;
            if *sign == b'-' {
                -total
            } else {
                total
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let ms = (days * 86_400 + hour * 3_600 + minute * 60 + second - offset_minutes * 60) * 1000
        + micros / 1000;
    Some((ms, hour))
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

// ---------------------------------------------------------------------------------------
// The strict reader
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Python's projection in, projection JSON out
// ---------------------------------------------------------------------------------------

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

#[cfg(test)]
mod tests {
    use super::*;
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
        let event = parse_strict(PAYMENT.as_bytes(), &mut prefix, &mut Interner::default())
            .expect("strict");
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
        let event =
            tx(r#""amount":"1","geo":{"lat":-90,"lon":-180.0,"country":"U\u0053"}"#).unwrap();
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
}
