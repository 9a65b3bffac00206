//! Card numbers (PANs) told apart from other digits, and masked.
//!
//! A PAN here is a Luhn-valid run of 13 to 19 digits, written together or in up to 5
//! groups parted by single spaces or dashes (`4111 1111 1111 1111`, `4111-1111-1111-1111`).
//! A longer unbroken run (an order number of 24 digits) is not one; within a grouped run,
//! any consecutive groups that make a PAN are found, so a card number followed by other
//! digits (`4111 1111 1111 1111 123`) is still caught. A masked PAN keeps what PCI DSS 3.3
//! allows to be shown: the BIN (first 6 digits) and the last 4.

pub const PAN_MIN_DIGITS: usize = 13;
pub const PAN_MAX_DIGITS: usize = 19;
/// Written in at most 5 groups (4-4-4-4-3 for 19 digits); also what bounds the work on a
/// hostile text of single digits.
const PAN_MAX_GROUPS: usize = 5;
pub const BIN_DIGITS: usize = 6;
pub const LAST_DIGITS: usize = 4;

/// The Luhn (mod 10) check. Each character counts as its code less 48, so the `-` of a
/// negative integer's text counts too (as the reference always did: -3).
pub fn luhn_valid(digits: &str) -> bool {
    let mut total: i64 = 0;
    for (position, char) in digits.chars().rev().enumerate() {
        let mut value = char as i64 - 48;
        if position % 2 == 1 {
            value = if value > 4 { value * 2 - 9 } else { value * 2 };
        }
        total += value;
    }
    total.rem_euclid(10) == 0
}

fn is_separator(byte: u8) -> bool {
    byte == b' ' || byte == b'-'
}

/// The end of the run of digit groups (parted by single separators) that starts at
/// `start`, a digit.
fn run_end(bytes: &[u8], start: usize) -> usize {
    let mut end = start;
    while bytes.get(end).is_some_and(u8::is_ascii_digit) {
        end += 1;
    }
    while end + 1 < bytes.len() && is_separator(bytes[end]) && bytes[end + 1].is_ascii_digit() {
        end += 1;
        while bytes.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
    }
    end
}

/// The digits of `value` when the whole of it is one PAN, else None.
pub fn pan_digits(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    // A run is ASCII, so its length in bytes is its length in characters.
    if !(PAN_MIN_DIGITS..=PAN_MAX_DIGITS * 2).contains(&bytes.len())
        || !bytes[0].is_ascii_digit()
        || run_end(bytes, 0) != bytes.len()
    {
        return None;
    }
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    let fits = (PAN_MIN_DIGITS..=PAN_MAX_DIGITS).contains(&digits.len());
    (fits && luhn_valid(&digits)).then_some(digits)
}

/// `411111******1111`: the BIN and the last 4, the rest hidden.
pub fn masked_pan(digits: &str) -> String {
    let hidden = digits.len().saturating_sub(BIN_DIGITS + LAST_DIGITS);
    let mut out = String::with_capacity(digits.len());
    out.push_str(&digits[..BIN_DIGITS.min(digits.len())]);
    out.push_str(&"*".repeat(hidden));
    out.push_str(&digits[digits.len().saturating_sub(LAST_DIGITS)..]);
    out
}

/// `(start, end, digits)` of each PAN in `text` (byte offsets), left to right, not
/// overlapping.
pub fn find_pans(text: &str) -> Vec<(usize, usize, String)> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    if !enough_digits(bytes) {
        return found; // the common case (dates, amounts, ids), answered at once
    }
    let mut at = 0;
    while at < bytes.len() {
        if !bytes[at].is_ascii_digit() {
            at += 1;
            continue;
        }
        let end = run_end(bytes, at);
        let groups = digit_groups(bytes, at, end);
        let mut first = 0;
        while first < groups.len() {
            match longest_pan(text, &groups, first) {
                None => first += 1,
                Some((last, digits)) => {
                    found.push((groups[first].0, groups[last].1, digits));
                    first = last + 1;
                }
            }
        }
        at = end;
    }
    found
}

/// Whether some run of digit groups holds enough digits for a PAN.
fn enough_digits(bytes: &[u8]) -> bool {
    let mut digits = 0;
    let mut previous_digit = false;
    for (at, &byte) in bytes.iter().enumerate() {
        if byte.is_ascii_digit() {
            digits += 1;
            if digits >= PAN_MIN_DIGITS {
                return true;
            }
            previous_digit = true;
            continue;
        }
        let joins = previous_digit
            && is_separator(byte)
            && bytes.get(at + 1).is_some_and(u8::is_ascii_digit);
        if !joins {
            digits = 0;
        }
        previous_digit = false;
    }
    false
}

fn digit_groups(bytes: &[u8], start: usize, end: usize) -> Vec<(usize, usize)> {
    let mut groups = Vec::new();
    let mut at = start;
    while at < end {
        let from = at;
        while at < end && bytes[at].is_ascii_digit() {
            at += 1;
        }
        groups.push((from, at));
        at += 1; // the separator
    }
    groups
}

/// The last group index and digits of the longest PAN starting at group `first`.
fn longest_pan(text: &str, groups: &[(usize, usize)], first: usize) -> Option<(usize, String)> {
    let mut best = None;
    let mut digits = String::new();
    for (index, &(start, end)) in groups
        .iter()
        .enumerate()
        .take((first + PAN_MAX_GROUPS).min(groups.len()))
        .skip(first)
    {
        digits.push_str(&text[start..end]);
        if digits.len() > PAN_MAX_DIGITS {
            break;
        }
        if digits.len() >= PAN_MIN_DIGITS && luhn_valid(&digits) {
            best = Some((index, digits.clone()));
        }
    }
    best
}

/// `text` with every PAN in it masked (`masked_pan`); other digits as they are. None when
/// it holds none.
pub fn mask_text(text: &str) -> Option<String> {
    let found = find_pans(text);
    if found.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end, digits) in found {
        out.push_str(&text[at..start]);
        out.push_str(&masked_pan(&digits));
        at = end;
    }
    out.push_str(&text[at..]);
    Some(out)
}
