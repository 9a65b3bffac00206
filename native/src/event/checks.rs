//! Field checks: what the strict reader accepts of each field, as the reference's
//! models would read it.

use rustc_hash::FxHashSet as HashSet;
use std::rc::Rc;

use super::json::Number;
use crate::dec::{Dec, SCALE};
use crate::value::Value;

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
pub(super) fn chars_at_most(text: &str, limit: usize) -> bool {
    text.len() <= limit || text.chars().count() <= limit
}

/// An `Identifier`: stripping would change nothing, 1..=128 code points.
pub(super) fn is_identifier(text: &str) -> bool {
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

pub(super) fn upper_code(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_uppercase())
}

/// An amount Python prints back as itself: `(0|[1-9]\d{0,15})(\.\d{1,8})?`, > 0, and not
/// small enough for `str(Decimal)` to switch to scientific notation (adjusted exponent < -6).
pub(super) fn amount(text: &str) -> Option<(Dec, f64)> {
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
pub(super) fn float_of(number: Number) -> Option<f64> {
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
pub(super) fn plain_decimal(text: &str) -> Option<f64> {
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
pub(super) fn number_value(number: Number) -> Option<Value> {
    if number.integer {
        number.text.parse::<i64>().ok().map(Value::Int)
    } else {
        let value: f64 = number.text.parse().ok()?;
        value.is_finite().then_some(Value::Float(value))
    }
}

/// `occurred_at`: (epoch ms, hour in its own zone).
pub(super) fn timestamp(text: &str) -> Option<(i64, i64)> {
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
