//! The versioned, compact byte form of one entity's [`State`]: what a Faust table holds.
//!
//! A record names the rule versions its match bits, fired signals and baselines belong
//! to, so a record written under one rule set is read under another: bits of rules that
//! are gone are dropped, a new rule version's bits are computed from the stored fields
//! (as the engine gives an entity's first entry its bits, with an empty `entity`), and
//! entries no rule takes any more go. Strings are written once per record and referred
//! to by number after that (a merchant's entries repeat currencies, types, accounts).
//!
//! Layout, version 1: `MAGIC`, `VERSION`, `last_seen_ms` as 8 little-endian bytes (read
//! alone by [`last_seen`], for the janitor), then varints (`zigzag` for signed values).

use std::cell::Cell;
use std::rc::Rc;

use rustc_hash::FxHashMap as HashMap;

use crate::dec::Dec;
use crate::filters::{flags, SharedFilters};
use crate::plan::{name_bit, GroupPlan, Plan};
use crate::state::{Entry, Fired, Shown, SignalOut, State};
use crate::value::{slot, EventView, Value, N_FIELDS};

pub const MAGIC: u8 = 0xA7;
pub const VERSION: u8 = 1;
const HEADER: usize = 10;

/// The tag that names a rule version inside records.
pub fn rule_tag(id: &str, version: i64) -> String {
    format!("{id}@{version}")
}

/// FNV-1a, 32 bits: a rule id as records name it (with the version beside it). Stable
/// across builds and machines; two ids of one group that collide would share bits, a
/// chance of about one in 10^8 for a group of ten rules.
pub fn id_hash(id: &str) -> u32 {
    id.bytes().fold(0x811c_9dc5u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    })
}

/// Bits of an entry's `present` word beyond the field slots: a field not written
/// because the entry's time or its event mask gives it back.
const TS_FROM_TIME: u32 = 1 << 24;
const TYPE_FROM_MASK: u32 = 1 << 25;
const KIND_FROM_MASK: u32 = 1 << 26;

/// The type and kind an event mask names (`plan::event_mask`), when it names one each.
fn names_of(mask: u32) -> Option<(&'static str, &'static str)> {
    use crate::value::EVENT_NAMES;
    let kind = if mask & name_bit("transaction") != 0 {
        "transaction"
    } else if mask & name_bit("account_event") != 0 {
        "account_event"
    } else {
        "feedback"
    };
    let types = mask & !(name_bit("transaction") | name_bit("account_event"));
    if types.count_ones() != 1 {
        return None;
    }
    Some((EVENT_NAMES[types.trailing_zeros() as usize], kind))
}

fn ts_of(ts_ms: i64) -> f64 {
    ts_ms as f64 / 1000.0 // `occurred_ms / 1000` as Python computes `project`'s ts
}

/// `last_seen_ms` of a record (-1 for a new entity), without reading the rest; None when
/// the bytes are not a record of this format.
pub fn last_seen(record: &[u8]) -> Option<i64> {
    if record.len() < HEADER || record[0] != MAGIC || record[1] != VERSION {
        return None;
    }
    let bytes: [u8; 8] = record[2..HEADER].try_into().ok()?;
    Some(i64::from_le_bytes(bytes))
}

// --- writing ----------------------------------------------------------------------------

struct Writer<'a> {
    out: Vec<u8>,
    strings: HashMap<&'a str, u32>,
}

impl<'a> Writer<'a> {
    fn uint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.out.push((value as u8) | 0x80);
            value >>= 7;
        }
        self.out.push(value as u8);
    }

    fn int(&mut self, value: i64) {
        self.uint(((value << 1) ^ (value >> 63)) as u64);
    }

    fn float(&mut self, value: f64) {
        self.out.extend_from_slice(&value.to_le_bytes());
    }

    /// A string: its number + 1 when written before, else 0, its length and its bytes.
    fn text(&mut self, text: &'a str) {
        if let Some(index) = self.strings.get(text) {
            self.uint(u64::from(*index) + 1);
            return;
        }
        let next = self.strings.len() as u32;
        self.strings.insert(text, next);
        self.uint(0);
        self.uint(text.len() as u64);
        self.out.extend_from_slice(text.as_bytes());
    }

    fn value(&mut self, value: &'a Value) {
        match value {
            Value::Null => self.out.push(0),
            Value::Bool(false) => self.out.push(1),
            Value::Bool(true) => self.out.push(2),
            Value::Int(number) => {
                self.out.push(3);
                self.int(*number);
            }
            Value::Float(number) => {
                self.out.push(4);
                self.float(*number);
            }
            Value::Str(text) => {
                self.out.push(5);
                self.text(text);
            }
            Value::List(items) => {
                self.out.push(6);
                self.uint(items.len() as u64);
                for item in items.iter() {
                    self.value(item);
                }
            }
            Value::Map(items) => {
                self.out.push(7);
                self.uint(items.len() as u64);
                for (key, item) in items.iter() {
                    self.text(key);
                    self.value(item);
                }
            }
            // A stored field never holds a whole event (`project` gives plain values).
            Value::Event(_) => self.out.push(0),
        }
    }
}

/// The record of `state` under `group` of the plan; `stored`: the slots entries keep
/// (the fields the group's rules read of stored entries), all when None.
pub fn encode(state: &State, group: &GroupPlan) -> Vec<u8> {
    let mut writer = Writer {
        out: Vec::with_capacity(64 + state.entries.len() * 48),
        strings: HashMap::default(),
    };
    writer.out.push(MAGIC);
    writer.out.push(VERSION);
    writer
        .out
        .extend_from_slice(&state.last_seen_ms.to_le_bytes());
    writer.int(state.watermark_ms);
    writer.int(state.first_seen_ms);
    writer.int(state.events_seen);
    writer.int(state.late_events);
    writer.out.push(u8::from(state.tagged));
    writer.uint(group.rules.len() as u64);
    for rule in &group.rules {
        writer
            .out
            .extend_from_slice(&id_hash(&rule.id).to_le_bytes());
        writer.int(rule.version);
    }
    let keep = group.stored.unwrap_or(u32::MAX);
    writer.uint(state.entries.len() as u64);
    let mut previous = 0i64;
    for entry in &state.entries {
        writer.int(entry.ts_ms - previous);
        previous = entry.ts_ms;
        writer.uint(u64::from(entry.event.mask));
        writer.text(&entry.event.event_id);
        let view = &entry.event;
        let mut present = 0u32;
        for (index, value) in view.slots.iter().enumerate() {
            if value.is_some() && keep & (1 << index) != 0 {
                present |= 1 << index;
            }
        }
        let text = |index: usize| view.get(index).and_then(Value::as_str);
        if let Some((type_name, kind)) = names_of(view.mask) {
            if present & (1 << slot::TYPE) != 0 && text(slot::TYPE) == Some(type_name) {
                present ^= (1 << slot::TYPE) | TYPE_FROM_MASK;
            }
            if present & (1 << slot::KIND) != 0 && text(slot::KIND) == Some(kind) {
                present ^= (1 << slot::KIND) | KIND_FROM_MASK;
            }
        }
        if present & (1 << slot::TS) != 0 {
            if let Some(Value::Float(ts)) = view.get(slot::TS) {
                if ts.to_bits() == ts_of(entry.ts_ms).to_bits() {
                    present ^= (1 << slot::TS) | TS_FROM_TIME;
                }
            }
        }
        writer.uint(u64::from(present));
        for (index, value) in view.slots.iter().enumerate() {
            if present & (1 << index) == 0 {
                continue;
            }
            match (index, &view.amount_text) {
                (slot::AMOUNT, Some(text)) => {
                    writer.out.push(8);
                    writer.text(text);
                }
                _ => writer.value(value.as_ref().expect("a present slot")),
            }
        }
        // Most rules ignore most events: which rules have bits, then their bits.
        let mut nonzero = 0u64;
        for index in 0..group.rules.len() {
            if entry.bits(index) != 0 {
                nonzero |= 1 << index;
            }
        }
        writer.uint(nonzero);
        for index in 0..group.rules.len() {
            if nonzero & (1 << index) != 0 {
                writer.uint(u64::from(entry.bits(index)));
            }
        }
    }
    let order = state.seen_order();
    writer.uint(order.len() as u64);
    let mut previous = 0i64;
    for (ts_ms, id) in order {
        writer.int(ts_ms - previous);
        previous = *ts_ms;
        writer.text(id);
    }
    writer.uint(state.fired.len() as u64);
    for record in &state.fired {
        writer.uint(record.rule as u64);
        writer.text(&record.emitted_by);
        writer.int(record.start_ms);
        writer.int(record.end_ms);
        writer.text(&record.window_key);
        let signal = &record.signal;
        writer.text(&signal.signal_id);
        writer.text(&signal.entity_key);
        writer.uint(signal.evidence.len() as u64);
        for id in &signal.evidence {
            writer.text(id);
        }
        writer.uint(signal.shown.len() as u64);
        for (name, value) in &signal.shown {
            writer.text(name);
            match value {
                Shown::Int(number) => {
                    writer.out.push(0);
                    writer.int(*number);
                }
                Shown::Float(number) => {
                    writer.out.push(1);
                    writer.float(*number);
                }
                Shown::Text(text) => {
                    writer.out.push(2);
                    writer.text(text);
                }
            }
        }
        writer.text(&signal.trigger_event_id);
        writer.int(signal.detected_ms);
        writer.int(signal.expires_ms);
    }
    writer.uint(state.baselines.len() as u64);
    for ((rule, agg), days) in &state.baselines {
        writer.uint(*rule as u64);
        writer.text(&group.rules[*rule].aggs[*agg].name);
        writer.uint(days.len() as u64);
        for (day, count, sum) in days {
            writer.int(*day);
            writer.float(*count);
            writer.float(*sum);
        }
    }
    writer.uint(state.spend.len() as u64);
    for (day, total) in &state.spend {
        writer.int(*day);
        writer.out.extend_from_slice(&total.units.to_le_bytes());
    }
    writer.out
}

// --- reading ----------------------------------------------------------------------------

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    strings: Vec<Rc<str>>,
}

type Read<T> = Result<T, String>;

impl Reader<'_> {
    fn byte(&mut self) -> Read<u8> {
        let byte = *self.bytes.get(self.at).ok_or("the record ends early")?;
        self.at += 1;
        Ok(byte)
    }

    fn take(&mut self, count: usize) -> Read<&[u8]> {
        let end = self.at.checked_add(count).ok_or("a length overflows")?;
        let slice = self
            .bytes
            .get(self.at..end)
            .ok_or("the record ends early")?;
        self.at = end;
        Ok(slice)
    }

    fn uint(&mut self) -> Read<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7F) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("a varint longer than 64 bits".into())
    }

    /// A count of items that each take at least one byte: never more than what is left.
    fn count(&mut self) -> Read<usize> {
        let count = self.uint()? as usize;
        if count > self.bytes.len() - self.at {
            return Err("a count beyond the record".into());
        }
        Ok(count)
    }

    fn int(&mut self) -> Read<i64> {
        let raw = self.uint()?;
        Ok(((raw >> 1) as i64) ^ -((raw & 1) as i64))
    }

    fn float(&mut self) -> Read<f64> {
        let bytes: [u8; 8] = self.take(8)?.try_into().expect("8 bytes");
        Ok(f64::from_le_bytes(bytes))
    }

    fn raw_text(&mut self) -> Read<String> {
        let length = self.count()?;
        let bytes = self.take(length)?;
        Ok(std::str::from_utf8(bytes)
            .map_err(|_| "a string that is not UTF-8")?
            .to_string())
    }

    fn text(&mut self) -> Read<Rc<str>> {
        let reference = self.uint()? as usize;
        if reference > 0 {
            return self
                .strings
                .get(reference - 1)
                .cloned()
                .ok_or_else(|| "a reference to an unknown string".into());
        }
        let text: Rc<str> = Rc::from(self.raw_text()?);
        self.strings.push(text.clone());
        Ok(text)
    }

    fn value(&mut self, depth: usize) -> Read<Value> {
        if depth > 64 {
            return Err("values nested too deep".into());
        }
        Ok(match self.byte()? {
            0 => Value::Null,
            1 => Value::Bool(false),
            2 => Value::Bool(true),
            3 => Value::Int(self.int()?),
            4 => Value::Float(self.float()?),
            5 => Value::Str(self.text()?),
            6 => {
                let count = self.count()?;
                let mut items = Vec::with_capacity(count);
                for _ in 0..count {
                    items.push(self.value(depth + 1)?);
                }
                Value::List(Rc::new(items))
            }
            7 => {
                let count = self.count()?;
                let mut items = Vec::with_capacity(count);
                for _ in 0..count {
                    items.push((self.text()?, self.value(depth + 1)?));
                }
                Value::Map(Rc::new(items))
            }
            other => return Err(format!("unknown value tag {other}")),
        })
    }
}

/// Where a stored rule (id hash, version) went in the current group: its index, and
/// whether the version is the same (bits carry over only then).
fn place_of(stored: (u32, i64), current: &[(u32, i64)]) -> Option<(usize, bool)> {
    if let Some(index) = current.iter().position(|known| *known == stored) {
        return Some((index, true));
    }
    current
        .iter()
        .position(|(id, _)| *id == stored.0)
        .map(|index| (index, false))
}

/// The state a record holds, under group `group_index` of `plan` (see the module's doc
/// for rule sets that changed). Err for bytes that are not a record of this format.
pub(crate) fn decode(
    record: &[u8],
    plan: &Plan,
    group_index: usize,
    shared: &SharedFilters,
) -> Result<State, String> {
    if last_seen(record).is_none() {
        return Err("not a state record of this version".into());
    }
    let group = &plan.groups[group_index];
    let mut reader = Reader {
        bytes: record,
        at: HEADER,
        strings: Vec::new(),
    };
    let mut state = State::new();
    state.last_seen_ms = last_seen(record).expect("checked");
    state.watermark_ms = reader.int()?;
    state.first_seen_ms = reader.int()?;
    state.events_seen = reader.int()?;
    state.late_events = reader.int()?;
    state.tagged = reader.byte()? != 0;
    let current: Vec<(u32, i64)> = group
        .rules
        .iter()
        .map(|rule| (id_hash(&rule.id), rule.version))
        .collect();
    let stored_count = reader.count()?;
    if stored_count > 64 {
        return Err("more than 64 rules in a group".into());
    }
    let mut places = Vec::with_capacity(stored_count);
    for _ in 0..stored_count {
        let hash: [u8; 4] = reader.take(4)?.try_into().expect("4 bytes");
        let version = reader.int()?;
        places.push(place_of((u32::from_le_bytes(hash), version), &current));
    }
    // Current rules whose bits the record does not carry are computed from the fields.
    let carried = (0..current.len()).all(|index| places.contains(&Some((index, true))));
    if !carried || places.iter().any(Option::is_none) {
        state.tagged = false;
    }
    let entries = reader.count()?;
    let mut previous = 0i64;
    for _ in 0..entries {
        let ts_ms = previous + reader.int()?;
        previous = ts_ms;
        let mask = reader.uint()? as u32;
        let mut view = EventView {
            event_id: reader.text()?,
            mask,
            flags: smallvec::smallvec![Cell::new(0); plan.rules],
            ..EventView::default()
        };
        let present = reader.uint()? as u32;
        if present & TS_FROM_TIME != 0 {
            view.slots[slot::TS] = Some(Value::Float(ts_of(ts_ms)));
        }
        if present & (TYPE_FROM_MASK | KIND_FROM_MASK) != 0 {
            let (type_name, kind) = names_of(mask).ok_or("an event mask without its names")?;
            if present & TYPE_FROM_MASK != 0 {
                view.slots[slot::TYPE] = Some(Value::str(type_name));
            }
            if present & KIND_FROM_MASK != 0 {
                view.slots[slot::KIND] = Some(Value::str(kind));
            }
        }
        for index in 0..N_FIELDS {
            if present & (1 << index) == 0 {
                continue;
            }
            let value = if reader.bytes.get(reader.at) == Some(&8) {
                reader.at += 1;
                let text = reader.text()?;
                let dec = Dec::parse(&text).ok_or("a stored amount is not exact")?;
                view.amount = Some(dec);
                let float: f64 = text.parse().map_err(|_| "a stored amount is no number")?;
                view.amount_text = Some(text);
                Value::Float(float)
            } else {
                reader.value(0)?
            };
            view.slots[index] = Some(value);
        }
        let mut known = vec![None; current.len()];
        for (at, _) in places.iter().flatten().filter(|(_, same)| *same) {
            known[*at] = Some(0);
        }
        let nonzero = reader.uint()?;
        for (index, place) in places.iter().enumerate() {
            if nonzero & (1 << index) == 0 {
                continue;
            }
            let value = reader.uint()? as u32;
            if let Some((at, true)) = place {
                known[*at] = Some(value);
            }
        }
        admit(&mut state, group, shared, ts_ms, Rc::new(view), known)?;
    }
    let seen = reader.count()?;
    let mut previous = 0i64;
    for _ in 0..seen {
        let ts_ms = previous + reader.int()?;
        previous = ts_ms;
        let id = reader.text()?;
        state.remember(id, ts_ms, true);
    }
    let fired = reader.count()?;
    for _ in 0..fired {
        let stored_rule = reader.uint()? as usize;
        let place = places
            .get(stored_rule)
            .ok_or("a fired record of an unknown rule")?;
        let emitted_by = reader.text()?;
        let start_ms = reader.int()?;
        let end_ms = reader.int()?;
        let window_key = reader.text()?;
        let signal_id = reader.text()?;
        let entity_key = reader.text()?;
        let count = reader.count()?;
        let mut evidence = Vec::with_capacity(count);
        for _ in 0..count {
            evidence.push(reader.text()?);
        }
        let count = reader.count()?;
        let mut shown = Vec::with_capacity(count);
        for _ in 0..count {
            let name = reader.text()?;
            let value = match reader.byte()? {
                0 => Shown::Int(reader.int()?),
                1 => Shown::Float(reader.float()?),
                2 => Shown::Text(reader.text()?.to_string()),
                other => return Err(format!("unknown shown tag {other}")),
            };
            shown.push((name, value));
        }
        let trigger_event_id = reader.text()?;
        let detected_ms = reader.int()?;
        let expires_ms = reader.int()?;
        // Kept for the rule's later versions too (suppression reads them by rule).
        let Some((rule, _)) = place else { continue };
        state.fired.push(Fired {
            rule: *rule,
            emitted_by,
            start_ms,
            end_ms,
            window_key,
            signal: Rc::new(SignalOut {
                group: group_index,
                rule: *rule,
                signal_id,
                entity_key,
                evidence,
                shown,
                trigger_event_id,
                detected_ms,
                expires_ms,
            }),
        });
    }
    let baselines = reader.count()?;
    for _ in 0..baselines {
        let stored_rule = reader.uint()? as usize;
        let name = reader.text()?;
        let count = reader.count()?;
        let mut days = Vec::with_capacity(count);
        for _ in 0..count {
            days.push((reader.int()?, reader.float()?, reader.float()?));
        }
        let place = places
            .get(stored_rule)
            .ok_or("a baseline of an unknown rule")?;
        let Some((rule, _)) = place else { continue };
        let aggs = &group.rules[*rule].aggs;
        if let Some(agg) = aggs.iter().position(|agg| agg.name == name) {
            state.baselines.push(((*rule, agg), days));
        }
    }
    let spend = reader.count()?;
    for _ in 0..spend {
        let day = reader.int()?;
        let bytes: [u8; 16] = reader.take(16)?.try_into().expect("16 bytes");
        state.spend.push((
            day,
            Dec {
                units: i128::from_le_bytes(bytes),
            },
        ));
    }
    if reader.at != record.len() {
        return Err("trailing bytes after the record".into());
    }
    Ok(state)
}

/// Add a stored entry to `state`: `known` holds the bits of each of the group's rules
/// the record carried; the others are computed from the stored fields, as the engine
/// gives an entity's first entry its bits (an empty `entity`). An entry no rule takes
/// any more is left out.
pub(crate) fn admit(
    state: &mut State,
    group: &GroupPlan,
    shared: &SharedFilters,
    ts_ms: i64,
    event: Rc<EventView>,
    known: Vec<Option<u32>>,
) -> Result<(), String> {
    let mut bits = Vec::with_capacity(known.len());
    let seen_as = Value::Event(event.clone());
    let empty_entity = Value::Map(Rc::new(Vec::new()));
    shared.event.set(shared.event.get() + 1);
    for (index, value) in known.into_iter().enumerate() {
        bits.push(match value {
            Some(value) => value,
            None => flags(
                &group.rules[index],
                event.mask,
                &seen_as,
                &empty_entity,
                shared,
            )
            .map_err(|give_up| give_up.0)?,
        });
    }
    if bits.iter().any(|value| *value != 0) {
        state
            .entries
            .push(Entry::new(ts_ms, event, group.base, &bits));
    }
    Ok(())
}
