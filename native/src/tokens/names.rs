//! What a field's name says it holds, and the keyed token of a sensitive value.

use std::sync::LazyLock;

use hmac::{Hmac, Mac};
use regex::bytes::Regex;
use rustc_hash::FxHashMap;
use sha2::Sha256;

use super::pans::PAN_MIN_DIGITS;

/// What a sensitive value is; `name()` names it in tokens and in dead letters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Card verification or PIN data: never kept.
    Secret,
    Card,
    Phone,
    NationalId,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Secret, Kind::Card, Kind::Phone, Kind::NationalId];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Secret => "secret",
            Kind::Card => "pan",
            Kind::Phone => "phone",
            Kind::NationalId => "nid",
        }
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// A set of kinds (those a walk replaced).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Kinds(u8);

impl Kinds {
    pub fn add(&mut self, kind: Kind) {
        self.0 |= kind.bit();
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Kind> {
        Kind::ALL
            .into_iter()
            .filter(move |kind| self.0 & kind.bit() != 0)
    }
}

/// The longest sensitive name, normalised, is 22 characters: a longer one is none.
const NAME_MAX: usize = 24;

/// The kind of sensitive value a field of this name holds, if any: the name lower-cased
/// (as Python's `str.lower`) with everything but ASCII letters and digits removed.
pub fn field_kind(name: &str) -> Option<Kind> {
    // Every event has a dozen names: read without allocating.
    let mut buffer = [0u8; NAME_MAX];
    let mut length = 0;
    let mut keep = |byte: u8| -> bool {
        if length == NAME_MAX {
            return false;
        }
        buffer[length] = byte;
        length += 1;
        true
    };
    if name.is_ascii() {
        for byte in name.bytes().filter(u8::is_ascii_alphanumeric) {
            if !keep(byte.to_ascii_lowercase()) {
                return None;
            }
        }
    } else {
        let lower = name.to_lowercase();
        for byte in lower
            .bytes()
            .filter(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            if !keep(byte) {
                return None;
            }
        }
    }
    let plain = std::str::from_utf8(&buffer[..length]).expect("ASCII");
    KIND_BY_NAME.get(plain).copied()
}

/// Field names, lower-cased with everything but letters and digits removed.
const NAMES: [(Kind, &str); 4] = [
    (
        Kind::Secret,
        "cvv cvv2 cvc cvc2 cid csc cav2 cvn securitycode cardsecuritycode \
         cardverificationvalue cardverificationcode pin pincode pinblock track1 track2 \
         trackdata magstripe",
    ),
    (
        Kind::Card,
        "pan cardnumber cardno cardnum primaryaccountnumber ccnumber creditcard \
         creditcardnumber debitcardnumber bankcardnumber",
    ),
    (
        Kind::Phone,
        "phone phonenumber phoneno mobile mobilenumber mobilephone msisdn tel telephone \
         cellphone",
    ),
    (
        Kind::NationalId,
        "nationalid nationalidnumber nationalidentitynumber idnumber idno idcard \
         idcardnumber identitycard identitynumber residentid residentidnumber citizenid ssn \
         socialsecuritynumber passport passportnumber taxid",
    ),
];

fn names() -> impl Iterator<Item = (Kind, &'static str)> {
    NAMES
        .into_iter()
        .flat_map(|(kind, spaced)| spaced.split_whitespace().map(move |name| (kind, name)))
}

static KIND_BY_NAME: LazyLock<FxHashMap<&'static str, Kind>> =
    LazyLock::new(|| names().map(|(kind, name)| (name, kind)).collect());

/// Any sensitive name within a text of lower-case letters and digits.
static ANY_NAME: LazyLock<Regex> = LazyLock::new(|| {
    let names: Vec<&str> = names().map(|(_, name)| name).collect();
    Regex::new(&names.join("|")).expect("literal names")
});

/// Whether `tokenise` may change a raw line; false only when it cannot: ASCII without
/// escapes (every string as written), no run of digit groups long enough for a card
/// number (or a card-long integer), and no string whose letters and digits hold a
/// sensitive name. A quick look that spares the replay's reader the walk of most lines.
pub fn may_hold_sensitive(line: &[u8]) -> bool {
    // One pass, nothing allocated: every line of a replay goes through it.
    let mut plain = [0u8; QUICK_LOOK_BYTES];
    if line.len() > QUICK_LOOK_BYTES {
        return true; // rare: the walk decides
    }
    let mut length = 0;
    let mut digits = 0; // in the current run of digit groups
    let mut previous_digit = false;
    for (at, &byte) in line.iter().enumerate() {
        let kept = match byte {
            b'0'..=b'9' => {
                digits += 1;
                if digits >= PAN_MIN_DIGITS {
                    return true;
                }
                plain[length] = byte;
                length += 1;
                previous_digit = true;
                continue;
            }
            b'\\' | 0x80..=0xff => return true,
            b'a'..=b'z' | b'"' => Some(byte),
            b'A'..=b'Z' => Some(byte.to_ascii_lowercase()),
            _ => None,
        };
        if let Some(kept) = kept {
            plain[length] = kept;
            length += 1;
        }
        // A run of digit groups goes on over one space or dash between two digits.
        let joins = previous_digit
            && (byte == b' ' || byte == b'-')
            && line.get(at + 1).is_some_and(u8::is_ascii_digit);
        if !joins {
            digits = 0;
        }
        previous_digit = false;
    }
    // Strings are kept apart by their `"`: no name is found across two of them.
    ANY_NAME.is_match(&plain[..length])
}

/// Longer lines are left to the walk.
const QUICK_LOOK_BYTES: usize = 4096;

const TOKEN_HEX_DIGITS: usize = 32;

/// `tok_(pan|phone|nid)_` and 32 lower-case hex digits.
pub fn is_token(value: &str) -> bool {
    let Some(rest) = value.strip_prefix("tok_") else {
        return false;
    };
    let hex = ["pan_", "phone_", "nid_"]
        .iter()
        .find_map(|prefix| rest.strip_prefix(prefix));
    hex.is_some_and(|hex| {
        hex.len() == TOKEN_HEX_DIGITS && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

/// Keyed tokens: HMAC-SHA256 of the kind and the normalised value under a secret key.
#[derive(Clone)]
pub struct Key {
    mac: Hmac<Sha256>,
}

impl Key {
    pub fn new(secret: &[u8]) -> Key {
        Key {
            mac: Hmac::new_from_slice(secret).expect("HMAC takes a key of any length"),
        }
    }

    /// `tok_<kind>_<32 hex>`. The kind is hashed too: a phone and a card of the same digits
    /// differ.
    pub fn token(&self, kind: Kind, value: &str) -> String {
        self.hashed(kind, kind.name(), &normalised(kind, value))
    }

    /// The token of an identifier with `kind` inside, over its whole text as written:
    /// `txn-4111...` and `ord-4111...` differ, and neither is the card's own token.
    pub fn identifier_token(&self, kind: Kind, text: &str) -> String {
        self.hashed(kind, "id", text)
    }

    fn hashed(&self, kind: Kind, domain: &str, value: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(domain.as_bytes());
        mac.update(b":");
        mac.update(value.as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut out = format!("tok_{}_", kind.name());
        for byte in &digest[..TOKEN_HEX_DIGITS / 2] {
            out.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
            out.push(char::from(b"0123456789abcdef"[usize::from(byte & 15)]));
        }
        out
    }
}

/// National ids: upper-cased (as Python's `str.upper`), ASCII letters and digits alone;
/// cards and phones: the digits alone.
fn normalised(kind: Kind, value: &str) -> String {
    if kind == Kind::NationalId {
        value
            .to_uppercase()
            .chars()
            .filter(|char| char.is_ascii_uppercase() || char.is_ascii_digit())
            .collect()
    } else {
        value.chars().filter(char::is_ascii_digit).collect()
    }
}
