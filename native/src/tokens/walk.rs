//! One pass over a decoded JSON value, replacing its sensitive values (`mod.rs` says
//! which), with the values as Python's `orjson.loads` gives them: an object keeps the
//! last of a repeated key, at the first one's place; an integer literal is an int only
//! within int64..=uint64 (beyond, a float, which no rule touches).

use std::borrow::Cow;

use rustc_hash::FxHashMap;

use super::names::{field_kind, is_token, Key, Kind, Kinds};
use super::pans::{luhn_valid, mask_text, masked_pan, pan_digits, BIN_DIGITS, LAST_DIGITS};
use super::pans::{PAN_MAX_DIGITS, PAN_MIN_DIGITS};
use crate::event::json::{Json, Number};

/// Deeper JSON than this is not an event: refused rather than walked.
pub const MAX_DEPTH: usize = 32;
/// What a masked phone or id number reads.
pub const MASKED: &str = "[masked]";
/// Identifier fields whose value is a card number when it is a PAN (others are opaque ids).
const INSTRUMENT_FIELDS: [&str; 1] = ["instrument_id"];

/// A field that names something (`event_id`, `account_id`, `target_event_id` ...): its
/// value must keep its identity.
fn is_identifier(name: &str) -> bool {
    name == "id" || name.ends_with("_id")
}

/// The token of an identifier with a card number inside (not wholly one: that is the
/// card's own token), keyed on the whole text; None for any other text.
pub fn identifier_token(text: &str, key: &Key) -> Option<String> {
    if text.len() < PAN_MIN_DIGITS || is_token(text) || pan_digits(text).is_some() {
        return None;
    }
    mask_text(text)?;
    Some(key.identifier_token(Kind::Card, text))
}

/// The value nests deeper than `MAX_DEPTH`.
#[derive(Debug, PartialEq, Eq)]
pub struct TooDeep;

pub type Members<'a> = Vec<(Cow<'a, str>, Json<'a>)>;

/// What replaces a sensitive value: keyed tokens (ingest), or masks (dead letters, where
/// no secret is at hand).
pub enum Mode<'k> {
    Tokens(&'k Key),
    Mask,
}

pub struct Walk<'k> {
    mode: Mode<'k>,
    /// The kinds replaced so far.
    pub found: Kinds,
}

/// An integer literal's text as Python prints the int orjson reads; None when orjson reads
/// a float (not an integer literal, or beyond int64..=uint64).
fn int_text<'a>(number: &Number<'a>) -> Option<Cow<'a, str>> {
    if !number.integer {
        return None;
    }
    let value: i128 = number.text.parse().ok()?;
    if value < i128::from(i64::MIN) || value > i128::from(u64::MAX) {
        return None;
    }
    Some(if number.text == "-0" {
        Cow::Borrowed("0")
    } else {
        Cow::Borrowed(number.text)
    })
}

/// The card number a card field holds: a PAN, or for a field named as a card any 12-19
/// digits (the name says what it is, Luhn-valid or not).
fn card_field_digits(value: &Json, named: bool) -> Option<String> {
    let text = match value {
        Json::Str(text) => text.clone(),
        Json::Number(number) => int_text(number)?,
        _ => return None,
    };
    let digits = pan_digits(&text);
    if digits.is_some() || !named {
        return digits;
    }
    let bare: String = text
        .chars()
        .filter(|char| *char != ' ' && *char != '-')
        .collect();
    let fits = (12..=PAN_MAX_DIGITS).contains(&bare.len());
    (fits && bare.bytes().all(|byte| byte.is_ascii_digit())).then_some(bare)
}

/// Python's `str.isspace`: Unicode's White_Space and the four separators below 0x20.
fn is_python_space(char: char) -> bool {
    char.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&char)
}

/// A phone or id number as text; None for what holds none (null, empty, a token).
fn personal_text<'a>(value: &Json<'a>) -> Option<Cow<'a, str>> {
    let text = match value {
        Json::Str(text) => text.clone(),
        Json::Number(number) => int_text(number)?,
        _ => return None,
    };
    (!text.chars().all(is_python_space) && !is_token(&text)).then_some(text)
}

/// An object's members by key: setting a key it has replaces the value in place.
#[derive(Default)]
struct Ordered<'a> {
    members: Members<'a>,
    /// Positions by key, once there are too many members to search.
    index: Option<FxHashMap<String, usize>>,
}

const SEARCHED_MEMBERS: usize = 16;

impl<'a> Ordered<'a> {
    fn position(&self, key: &str) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(key).copied(),
            None => self.members.iter().position(|(name, _)| name == key),
        }
    }

    fn set(&mut self, key: Cow<'a, str>, value: Json<'a>) {
        if let Some(at) = self.position(&key) {
            self.members[at].1 = value;
            return;
        }
        if self.index.is_none() && self.members.len() >= SEARCHED_MEMBERS {
            let index = self.members.iter().enumerate();
            self.index = Some(
                index
                    .map(|(at, (name, _))| (name.to_string(), at))
                    .collect(),
            );
        }
        if let Some(index) = &mut self.index {
            index.insert(key.to_string(), self.members.len());
        }
        self.members.push((key, value));
    }
}

/// The members as a JSON object decodes them: a repeated key's last value, in its first
/// place.
fn deduplicated(members: Members) -> Members {
    let repeated = if members.len() <= SEARCHED_MEMBERS {
        let mut keys = members.iter().map(|(key, _)| key);
        (1..members.len()).any(|_| {
            let key = keys.next().expect("a key");
            keys.clone().any(|other| other == key)
        })
    } else {
        let mut seen = rustc_hash::FxHashSet::default();
        !members.iter().all(|(key, _)| seen.insert(&**key))
    };
    if !repeated {
        return members;
    }
    let mut out = Ordered::default();
    for (key, value) in members {
        out.set(key, value);
    }
    out.members
}

impl<'k> Walk<'k> {
    pub fn new(mode: Mode<'k>) -> Walk<'k> {
        Walk {
            mode,
            found: Kinds::default(),
        }
    }

    fn card(&self, digits: &str) -> String {
        match self.mode {
            Mode::Tokens(key) => key.token(Kind::Card, digits),
            Mode::Mask => masked_pan(digits),
        }
    }

    fn personal(&self, kind: Kind, value: &str) -> String {
        match self.mode {
            Mode::Tokens(key) => key.token(kind, value),
            Mode::Mask => MASKED.to_string(),
        }
    }

    pub fn value<'a>(&mut self, value: Json<'a>, depth: usize) -> Result<Json<'a>, TooDeep> {
        Ok(match value {
            Json::Str(text) => Json::Str(self.text(text)),
            Json::Number(number) => match int_text(&number) {
                Some(digits)
                    if (PAN_MIN_DIGITS..=PAN_MAX_DIGITS).contains(&digits.len())
                        && luhn_valid(&digits) =>
                {
                    self.found.add(Kind::Card);
                    Json::Str(Cow::Owned(self.card(&digits)))
                }
                _ => Json::Number(number),
            },
            Json::Object(members) => Json::Object(self.mapping(members, depth + 1)?),
            Json::Array(items) => {
                if depth >= MAX_DEPTH {
                    return Err(TooDeep);
                }
                let items = items.into_iter().map(|item| self.value(item, depth + 1));
                Json::Array(items.collect::<Result<_, _>>()?)
            }
            other => other,
        })
    }

    /// An identifier holding a card number among other characters (`txn-4111...`)
    /// becomes a token of the whole: masked, two ids that share a BIN and last 4 would
    /// be one (a second event taken for a duplicate, a verdict for another event).
    fn identifier(&mut self, text: &str) -> Option<String> {
        let Mode::Tokens(key) = self.mode else {
            return None;
        };
        let token = identifier_token(text, key)?;
        self.found.add(Kind::Card);
        Some(token)
    }

    fn text<'a>(&mut self, value: Cow<'a, str>) -> Cow<'a, str> {
        // Shorter in bytes is shorter in characters: no PAN (13 ASCII digits) fits.
        if value.len() < PAN_MIN_DIGITS || is_token(&value) {
            return value;
        }
        if let Some(digits) = pan_digits(&value) {
            self.found.add(Kind::Card);
            return Cow::Owned(self.card(&digits));
        }
        match mask_text(&value) {
            Some(masked) => {
                self.found.add(Kind::Card);
                Cow::Owned(masked)
            }
            None => value,
        }
    }

    pub fn mapping<'a>(
        &mut self,
        members: Members<'a>,
        depth: usize,
    ) -> Result<Members<'a>, TooDeep> {
        if depth > MAX_DEPTH {
            return Err(TooDeep);
        }
        let tokens = matches!(self.mode, Mode::Tokens(_));
        let mut out = Ordered::default();
        let mut parts = Ordered::default(); // a card's BIN and last 4: set last, over any sent
        for (key, value) in deduplicated(members) {
            let name = self.text(key);
            let kind = field_kind(&name);
            if kind == Some(Kind::Secret) {
                self.found.add(Kind::Secret);
                continue;
            }
            if kind == Some(Kind::Card) || INSTRUMENT_FIELDS.contains(&&*name) {
                if let Some(digits) = card_field_digits(&value, kind == Some(Kind::Card)) {
                    self.found.add(Kind::Card);
                    if tokens {
                        let stem = name.strip_suffix("_id").unwrap_or(&name);
                        let bin = digits[..BIN_DIGITS].to_string();
                        let last = digits[digits.len() - LAST_DIGITS..].to_string();
                        parts.set(
                            Cow::Owned(format!("{stem}_bin")),
                            Json::Str(Cow::Owned(bin)),
                        );
                        parts.set(
                            Cow::Owned(format!("{stem}_last4")),
                            Json::Str(Cow::Owned(last)),
                        );
                    }
                    let card = self.card(&digits);
                    out.set(name, Json::Str(Cow::Owned(card)));
                    continue;
                }
            }
            if let Some(kind @ (Kind::Phone | Kind::NationalId)) = kind {
                if let Some(text) = personal_text(&value) {
                    self.found.add(kind);
                    out.set(name, Json::Str(Cow::Owned(self.personal(kind, &text))));
                    continue;
                }
            }
            if tokens && is_identifier(&name) {
                if let Json::Str(text) = &value {
                    if let Some(token) = self.identifier(text) {
                        out.set(name, Json::Str(Cow::Owned(token)));
                        continue;
                    }
                }
            }
            let value = self.value(value, depth)?;
            out.set(name, value);
        }
        for (key, value) in parts.members {
            out.set(key, value);
        }
        Ok(out.members)
    }
}
