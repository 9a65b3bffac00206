//! One entity's rule state, in memory (`codec.rs` writes and reads it as a record).

use std::collections::VecDeque;
use std::rc::Rc;

use rustc_hash::FxHashSet as HashSet;

use crate::dec::Dec;
use crate::value::{EventView, Value};
use crate::windows::Runs;

pub const DAY_MS: i64 = 86_400_000;

/// An event as all its entries share it: its view and the replay's record of it.
pub type Shared = EventView;

/// One event as a key group's rules need it: the event, its time, and where the group's
/// match bits are. Small and cheap to clone, so windows hold copies.
#[derive(Clone)]
pub struct Entry {
    pub ts_ms: i64,
    pub event: Rc<Shared>,
    base: u32,
    rules: u32,
}

impl std::ops::Deref for Entry {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.event
    }
}

impl Entry {
    /// The entry of `event` for the group whose bits start at `base`: the bits are set.
    pub fn new(ts_ms: i64, event: Rc<Shared>, base: usize, bits: &[u32]) -> Entry {
        for (cell, value) in event.flags[base..base + bits.len()].iter().zip(bits) {
            cell.set(*value);
        }
        Entry {
            ts_ms,
            event,
            base: base as u32,
            rules: bits.len() as u32,
        }
    }

    /// Whether both are the entry of one event (within one group's state).
    pub fn same(&self, other: &Entry) -> bool {
        Rc::ptr_eq(&self.event, &other.event)
    }

    pub fn sort_key(&self) -> (i64, &str) {
        (self.ts_ms, &self.event.event_id)
    }

    pub fn fields(&self) -> &EventView {
        &self.event
    }

    /// The event as CEL sees it.
    pub fn view(&self) -> Value {
        Value::Event(self.event.clone())
    }

    pub fn bits(&self, rule: usize) -> u32 {
        self.event.flags[self.base as usize + rule].get()
    }

    /// Whether no rule of the group takes the event.
    pub fn ignored(&self) -> bool {
        let start = self.base as usize;
        let group = &self.event.flags[start..start + self.rules as usize];
        group.iter().all(|bits| bits.get() == 0)
    }
}

/// An aggregate value as the signal shows it.
#[derive(Clone, Debug, PartialEq)]
pub enum Shown {
    Int(i64),
    Float(f64),
    Text(String),
}

/// A signal the engine produced: the Python side dresses it as a `Signal`.
#[derive(Clone, Debug)]
pub struct SignalOut {
    pub group: usize,
    pub rule: usize,
    pub signal_id: Rc<str>,
    pub entity_key: Rc<str>,
    pub evidence: Vec<Rc<str>>,
    pub shown: Vec<(Rc<str>, Shown)>,
    pub trigger_event_id: Rc<str>,
    pub detected_ms: i64,
    pub expires_ms: i64,
}

pub struct Fired {
    pub rule: usize,
    pub emitted_by: Rc<str>,
    pub start_ms: i64,
    pub end_ms: i64,
    pub window_key: Rc<str>,
    pub signal: Rc<SignalOut>,
}

/// Per day, in insertion order: (day number, count, sum) of a baseline aggregate.
pub type BaselineDays = Vec<(i64, f64, f64)>;

pub struct State {
    pub watermark_ms: i64,
    pub entries: Vec<Entry>,
    /// The ids applied that may come again (`Input::repeats`), for finding duplicates.
    pub seen: HashSet<Rc<str>>,
    /// Every id applied (`seen` in the reference), in (time, id) order: events come
    /// mostly in order, so an id usually goes to the end, and the oldest leave from the
    /// front.
    seen_order: VecDeque<(i64, Rc<str>)>,
    pub fired: Vec<Fired>,
    /// (rule, aggregate) -> per day (in insertion order): (day, count, sum).
    pub baselines: Vec<((usize, usize), BaselineDays)>,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    pub events_seen: i64,
    pub late_events: i64,
    /// Whether the group's rules' bits are on every entry (`tags` in the reference).
    pub tagged: bool,
    /// Accounts: the outgoing total per UTC day (the last two days).
    pub spend: Vec<(i64, Dec)>,
    pub running: Runs,
}

impl Default for State {
    /// A new entity: nothing seen yet (times -1, as in the reference).
    fn default() -> State {
        State::new()
    }
}

impl State {
    pub fn new() -> State {
        State {
            watermark_ms: -1,
            entries: Vec::new(),
            seen: HashSet::default(),
            seen_order: VecDeque::new(),
            fired: Vec::new(),
            baselines: Vec::new(),
            first_seen_ms: -1,
            last_seen_ms: -1,
            events_seen: 0,
            late_events: 0,
            tagged: false,
            spend: Vec::new(),
            running: Runs::default(),
        }
    }

    /// Every id applied, as (time, id) in that order.
    pub fn seen_order(&self) -> &VecDeque<(i64, Rc<str>)> {
        &self.seen_order
    }

    /// Record `event_id` (new to the entity) as seen at `ts_ms`.
    pub fn remember(&mut self, event_id: Rc<str>, ts_ms: i64, repeats: bool) {
        if repeats {
            self.seen.insert(event_id.clone());
        }
        let key = (ts_ms, event_id);
        let order = &mut self.seen_order;
        if order.back().is_none_or(|last| *last < key) {
            order.push_back(key);
        } else {
            let at = order.partition_point(|item| *item < key);
            order.insert(at, key);
        }
    }

    fn forget(seen: &mut HashSet<Rc<str>>, id: &Rc<str>) {
        if !seen.is_empty() {
            seen.remove(id);
        }
    }

    /// Insert in event-time order; the entry's index.
    pub fn insert(&mut self, entry: Entry) -> usize {
        let key = (entry.ts_ms, entry.event_id.clone());
        let index = self
            .entries
            .partition_point(|item| (item.ts_ms, &*item.event_id) < (key.0, &*key.1));
        self.entries.insert(index, entry);
        index
    }

    pub fn evict(&mut self, horizon_ms: i64, max_entries: usize, baseline_days: i64) {
        let cutoff = self.watermark_ms - horizon_ms;
        if self
            .entries
            .first()
            .is_some_and(|entry| entry.ts_ms < cutoff)
        {
            let keep_from = self.entries.partition_point(|entry| entry.ts_ms < cutoff);
            self.entries.drain(..keep_from);
        }
        if self.entries.len() > max_entries {
            let excess = self.entries.len() - max_entries;
            self.entries.drain(..excess);
        }
        while self.seen_order.front().is_some_and(|(ts, _)| *ts < cutoff) {
            let (_, id) = self.seen_order.pop_front().expect("an id");
            State::forget(&mut self.seen, &id);
        }
        if self.seen_order.len() > max_entries.saturating_mul(2) {
            // The newest, and every stored entry (so that it is never applied twice).
            let stored: HashSet<&str> = self.entries.iter().map(|entry| &*entry.event_id).collect();
            let excess = self.seen_order.len() - max_entries.saturating_mul(2);
            let mut index = 0;
            let mut visited = 0;
            while visited < excess {
                visited += 1;
                let id = &self.seen_order[index].1;
                if stored.contains(&**id) {
                    index += 1;
                } else {
                    State::forget(&mut self.seen, id);
                    self.seen_order.remove(index);
                }
            }
        }
        if !self.fired.is_empty() {
            self.fired.retain(|record| record.end_ms >= cutoff);
        }
        let oldest_day = self.watermark_ms.div_euclid(DAY_MS) - baseline_days;
        for (_, days) in self.baselines.iter_mut() {
            days.retain(|(day, _, _)| *day >= oldest_day);
        }
    }

    pub fn baseline_days(&self, key: (usize, usize)) -> Option<&BaselineDays> {
        self.baselines
            .iter()
            .find(|(known, _)| *known == key)
            .map(|(_, days)| days)
    }

    pub fn baseline_days_mut(&mut self, key: (usize, usize)) -> &mut BaselineDays {
        let index = match self.baselines.iter().position(|(known, _)| *known == key) {
            Some(index) => index,
            None => {
                self.baselines.push((key, Vec::new()));
                self.baselines.len() - 1
            }
        };
        &mut self.baselines[index].1
    }

    /// `spend.spent_on`: the outgoing total on `now_ms`'s UTC day.
    pub fn spent_on(&self, now_ms: i64) -> Dec {
        let day = now_ms.div_euclid(DAY_MS);
        self.spend
            .iter()
            .find(|(known, _)| *known == day)
            .map(|(_, total)| *total)
            .unwrap_or(Dec::ZERO)
    }

    /// `spend.record_spend`: add an outgoing amount; the last two days are kept.
    pub fn record_spend(&mut self, ts_ms: i64, amount: Dec) -> bool {
        let day = ts_ms.div_euclid(DAY_MS);
        match self.spend.iter_mut().find(|(known, _)| *known == day) {
            Some((_, total)) => *total = *total + amount,
            None => self.spend.push((day, amount)),
        }
        self.spend.retain(|(known, _)| *known >= day - 1);
        self.spend.iter().all(|(_, total)| total.exact())
    }
}
