//! Sensitive values taken out of an event before anything keeps it: the one
//! implementation, which live ingest and `POST /score/` (through `riskstream.core`) and
//! the replay's reader (`lib_py.rs`) all call.
//!
//! - card verification and PIN data (a field named like `cvv`, `cvc2`, `pin`) is dropped,
//!   at any depth;
//! - a card number in `instrument_id` or in a field named like one (`card_number`, `pan`)
//!   becomes a keyed token, beside it its BIN and last 4 (`instrument_bin`,
//!   `instrument_last4`; `card_number_bin` ...);
//! - a phone or national id number (a field named like `phone`, `msisdn`, `national_id`,
//!   `id_card`) becomes a keyed token;
//! - in any other string, a value that is wholly a card number becomes a token (an
//!   identifier keeps its identity), and a card number within a longer text is masked;
//!   but an identifier (a field named `id` or `..._id`) with a card number inside becomes
//!   a token of the whole text, so that two ids never become one.
//!
//! A token is `tok_<kind>_` and 32 hex digits of HMAC-SHA256 under the configured secret.
//! Dead letters use [`mask`] instead, which needs no secret: the same fields, masked
//! rather than tokenised. `tests/conformance/tokens/` pins the behaviour as data.

mod names;
pub mod pans;
mod walk;

use std::borrow::Cow;

pub use names::{field_kind, is_token, may_hold_sensitive, Key, Kind, Kinds};
pub use walk::{TooDeep, MASKED, MAX_DEPTH};

use crate::event::json::{Json, Reader};
use walk::{Mode, Walk};

/// Why a message could not be walked.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not JSON (what the reader saw).
    NotJson(String),
    /// Nested deeper than [`MAX_DEPTH`].
    TooDeep,
}

impl From<TooDeep> for Refusal {
    fn from(_: TooDeep) -> Refusal {
        Refusal::TooDeep
    }
}

/// Nesting the reader follows before it gives up (orjson's own limit); the walk refuses
/// far less deep.
const READ_DEPTH: usize = 1024;

fn read(line: &[u8]) -> Result<Json<'_>, Refusal> {
    let text = std::str::from_utf8(line).map_err(|error| Refusal::NotJson(error.to_string()))?;
    let mut reader = Reader::new(text);
    reader.max_depth = READ_DEPTH;
    reader.ws();
    let value = reader.value(0);
    match value {
        Some(value) if reader.at_end() => Ok(value),
        _ => Err(Refusal::NotJson(format!(
            "malformed JSON near byte {}",
            reader.pos
        ))),
    }
}

/// The message with its sensitive values tokenised, dropped or masked; None when it has
/// none (the message is then used as it is). Anything but a JSON object is left as it
/// is, for validation to refuse.
pub fn tokenise(line: &[u8], key: &Key) -> Result<Option<Vec<u8>>, Refusal> {
    let Json::Object(members) = read(line)? else {
        return Ok(None);
    };
    let mut walk = Walk::new(Mode::Tokens(key));
    let members = walk.mapping(members, 0)?;
    if walk.found.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(line.len() + 64);
    write(&mut out, &Json::Object(members));
    Ok(Some(out))
}

/// A JSON value with the same fields masked (no secret needed), and the kinds found; the
/// bytes are None when there were none.
pub fn mask(line: &[u8]) -> Result<(Option<Vec<u8>>, Kinds), Refusal> {
    let value = read(line)?;
    let mut walk = Walk::new(Mode::Mask);
    let value = walk.value(value, 0)?;
    if walk.found.is_empty() {
        return Ok((None, walk.found));
    }
    let mut out = Vec::with_capacity(line.len());
    write(&mut out, &value);
    Ok((Some(out), walk.found))
}

/// The id an entity is known by: a card number asked for is looked up by its token, and
/// so is an id with a card number inside (ingest keeps such an id as a token of it all).
pub fn lookup_id<'a>(value: &'a str, key: &Key) -> Cow<'a, str> {
    match pans::pan_digits(value) {
        Some(digits) => Cow::Owned(key.token(Kind::Card, &digits)),
        None => match walk::identifier_token(value, key) {
            Some(token) => Cow::Owned(token),
            None => Cow::Borrowed(value),
        },
    }
}

fn write_string(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    let mut run = 0;
    for (at, byte) in text.bytes().enumerate() {
        let escaped: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&text.as_bytes()[run..at]);
        if escaped.is_empty() {
            out.extend_from_slice(format!("\\u{byte:04x}").as_bytes());
        } else {
            out.extend_from_slice(escaped);
        }
        run = at + 1;
    }
    out.extend_from_slice(&text.as_bytes()[run..]);
    out.push(b'"');
}

/// Compact JSON; numbers as they were written.
fn write(out: &mut Vec<u8>, value: &Json) {
    match value {
        Json::Null => out.extend_from_slice(b"null"),
        Json::Bool(flag) => out.extend_from_slice(if *flag { b"true" } else { b"false" }),
        Json::Number(number) => out.extend_from_slice(number.text.as_bytes()),
        Json::Str(text) => write_string(out, text),
        Json::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write(out, item);
            }
            out.push(b']');
        }
        Json::Object(members) => {
            out.push(b'{');
            for (index, (key, item)) in members.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_string(out, key);
                out.push(b':');
                write(out, item);
            }
            out.push(b'}');
        }
    }
}

#[cfg(test)]
mod tests;
