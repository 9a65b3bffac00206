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

mod checks;
pub(crate) mod json;
mod projection;
mod strict;
#[cfg(test)]
mod tests;

use std::rc::Rc;

use crate::dec::Dec;
use crate::value::EventView;

pub use checks::Interner;
pub use projection::{from_projection, projection_json};
pub use strict::parse_strict;

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
