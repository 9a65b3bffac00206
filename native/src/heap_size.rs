//! What a decoded state takes on the heap, estimated by walking it: the cache counts
//! this against its budget (issue #15: a fixed multiple of the record's bytes undercounted
//! busy entities).
//!
//! Every allocation is counted at its capacity, rounded up to the allocator's size class
//! (`chunk`); a hash table with its control bytes. An `Rc` reached twice within the
//! state is counted once; one shared with other states (an event in two groups' states)
//! is counted in each, which over-estimates: the safe side for a bound.

use std::collections::VecDeque;
use std::mem::size_of;
use std::rc::Rc;

use rustc_hash::FxHashSet as HashSet;

use crate::state::{Fired, Shown, SignalOut, State};
use crate::value::{EventView, Value};

/// What the allocator takes for `bytes`: mimalloc (the crate's global allocator) rounds a
/// request up to its size class, whole words up to 8 and then 4 classes per power of two.
pub fn chunk(bytes: usize) -> usize {
    const WORD: usize = size_of::<usize>();
    let words = bytes.div_ceil(WORD);
    if words <= 8 {
        return words * WORD;
    }
    let below = words - 1;
    let shift = below.ilog2() - 2;
    (((below >> shift) + 1) << shift) * WORD
}

/// The bytes of a hash table of `capacity` items of `T` (hashbrown's layout: a power of
/// two of buckets at most 7/8 full, one control byte each plus a group's worth).
pub fn table_bytes<T>(capacity: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    let buckets = if capacity < 8 {
        capacity + 1
    } else {
        capacity / 7 * 8
    };
    let data = (buckets * size_of::<T>()).next_multiple_of(16);
    chunk(data + buckets + 16)
}

/// The heap of one state, its `Rc`s counted once each.
#[derive(Default)]
pub struct HeapSize {
    pub bytes: usize,
    /// The `Rc` allocations counted so far, by address.
    counted: HashSet<usize>,
}

impl HeapSize {
    fn first<T: ?Sized>(&mut self, rc: &Rc<T>) -> bool {
        self.counted.insert(Rc::as_ptr(rc) as *const u8 as usize)
    }

    pub fn vec<T>(&mut self, items: &Vec<T>) {
        self.bytes += chunk(items.capacity() * size_of::<T>());
    }

    pub fn deque<T>(&mut self, items: &VecDeque<T>) {
        self.bytes += chunk(items.capacity() * size_of::<T>());
    }

    /// An `Rc<str>`: its counts and text.
    pub fn text(&mut self, text: &Rc<str>) {
        if self.first(text) {
            self.bytes += chunk(2 * size_of::<usize>() + text.len());
        }
    }

    pub fn value(&mut self, value: &Value) {
        match value {
            Value::Str(text) => self.text(text),
            Value::List(items) => {
                if self.first(items) {
                    self.bytes += chunk(size_of::<Rc<Vec<Value>>>() + size_of::<Vec<Value>>());
                    self.vec(items);
                    items.iter().for_each(|item| self.value(item));
                }
            }
            Value::Map(items) => {
                if self.first(items) {
                    self.bytes += chunk(2 * size_of::<usize>() + size_of::<Vec<Value>>());
                    self.vec(items);
                    for (key, item) in items.iter() {
                        self.text(key);
                        self.value(item);
                    }
                }
            }
            Value::Event(view) => self.event(view),
            Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => {}
        }
    }

    /// An event's view: its fields, and its match bits once they outgrow the inline ones.
    pub fn event(&mut self, view: &Rc<EventView>) {
        if !self.first(view) {
            return;
        }
        self.bytes += chunk(2 * size_of::<usize>() + size_of::<EventView>());
        view.slots
            .iter()
            .flatten()
            .for_each(|value| self.value(value));
        self.text(&view.event_id);
        if let Some(text) = &view.amount_text {
            self.text(text);
        }
        if view.flags.spilled() {
            self.bytes += chunk(view.flags.capacity() * size_of::<u32>());
        }
    }

    fn fired(&mut self, fired: &Fired) {
        self.text(&fired.emitted_by);
        self.text(&fired.window_key);
        if self.first(&fired.signal) {
            self.bytes += chunk(2 * size_of::<usize>() + size_of::<SignalOut>());
            let signal = &fired.signal;
            for text in [
                &signal.signal_id,
                &signal.entity_key,
                &signal.trigger_event_id,
            ] {
                self.text(text);
            }
            self.vec(&signal.evidence);
            signal.evidence.iter().for_each(|id| self.text(id));
            self.vec(&signal.shown);
            for (name, shown) in &signal.shown {
                self.text(name);
                if let Shown::Text(text) = shown {
                    self.bytes += chunk(text.capacity());
                }
            }
        }
    }

    /// Every allocation a state holds (not the `State` itself: see [`state_heap_bytes`]).
    pub fn state(&mut self, state: &State) {
        self.vec(&state.entries);
        state
            .entries
            .iter()
            .for_each(|entry| self.event(&entry.event));
        self.bytes += table_bytes::<Rc<str>>(state.seen.capacity());
        state.seen.iter().for_each(|id| self.text(id));
        self.deque(state.seen_order());
        state.seen_order().iter().for_each(|(_, id)| self.text(id));
        self.vec(&state.fired);
        state.fired.iter().for_each(|fired| self.fired(fired));
        self.vec(&state.baselines);
        state.baselines.iter().for_each(|(_, days)| self.vec(days));
        self.vec(&state.spend);
        state.running.heap_size(self);
    }
}

/// The heap a boxed state takes: the box and all it holds.
pub fn state_heap_bytes(state: &State) -> usize {
    let mut size = HeapSize::default();
    size.bytes += chunk(size_of::<State>());
    size.state(state);
    size.bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec;
    use crate::event::{parse_strict, Event, Interner};
    use crate::live::{Batch, Live};
    use crate::replay::tests::{payment, plan};

    /// A device's state after `count` payments within a quarter of an hour.
    fn state_of(count: u32) -> State {
        let mut live = Live::new(plan(), 0);
        let mut ids = Interner::default();
        let events: Vec<Event> = (0..count)
            .map(|n| {
                let line = payment(&format!("e{n}"), n * 15 / count, "acc-a", "dev-1");
                parse_strict(line.as_bytes(), &mut |_| None, &mut ids).expect("strict")
            })
            .collect();
        let out = live.apply(Batch {
            group: 1,
            key: Rc::from("dev-1"),
            stored: None,
            events,
        });
        let filters = crate::filters::SharedFilters::new(live.plan.shared_filters);
        let state = codec::decode(&out.record, &live.plan, 1, &filters).expect("a record");
        assert_eq!(state.entries.len(), count as usize);
        state
    }

    #[test]
    fn blocks_and_tables_are_what_mimalloc_and_hashbrown_take() {
        assert_eq!(chunk(0), 0);
        assert_eq!(chunk(1), 8);
        assert_eq!(chunk(64), 64);
        assert_eq!(chunk(65), 80);
        assert_eq!(chunk(736), 768);
        assert_eq!(chunk(1 << 20), 1 << 20);
        assert_eq!(table_bytes::<u64>(0), 0);
        // 3 items: 4 buckets of 8 bytes, 4 + 16 control bytes.
        assert_eq!(table_bytes::<u64>(3), chunk(32 + 20));
        // 14 items: 16 buckets.
        assert_eq!(table_bytes::<u64>(14), chunk(128 + 32));
    }

    #[test]
    fn a_state_counts_about_linearly_in_its_entries() {
        let small = state_heap_bytes(&state_of(20));
        let large = state_heap_bytes(&state_of(200));
        let ratio = large as f64 / small as f64;
        assert!((8.0..=12.0).contains(&ratio), "{small} -> {large}: {ratio}");
        // Each entry holds an event's whole view: far more than its record's bytes.
        assert!(small > 20 * size_of::<EventView>(), "{small}");
    }

    #[test]
    fn an_rc_reached_twice_in_a_state_is_counted_once() {
        let state = state_of(20);
        let mut once = HeapSize::default();
        once.state(&state);
        let before = once.bytes;
        state
            .entries
            .iter()
            .for_each(|entry| once.event(&entry.event));
        state.seen_order().iter().for_each(|(_, id)| once.text(id));
        assert_eq!(once.bytes, before);
    }
}
