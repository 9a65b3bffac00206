//! The live pipeline's engine: batches of one entity's events applied to its record.
//!
//! The Faust worker reads an entity's record from its table, hands it here with the
//! entity's events of one micro-batch, and writes back the one record this returns.
//! Decoded states are kept in a cache bounded in bytes: a record whose stored bytes
//! are still those last written is not decoded again (anything else that wrote it —
//! a changelog recovery, the janitor — changes the bytes, and the cache is bypassed).

use std::rc::Rc;

use rustc_hash::FxHashMap as HashMap;

use crate::codec;
use crate::dec::Dec;
use crate::engine::{key_value, Engine, Input, Outcome, Status};
use crate::event::{Event, Kind};
use crate::heap_size::{chunk, state_heap_bytes};
use crate::plan::{event_mask, Plan};
use crate::state::{SignalOut, State};
use crate::value::{slot, Value};
use crate::windows::GiveUp;

const OUTGOING: [&str; 4] = ["payment", "transfer", "red_packet", "withdrawal"];
/// What a cache slot takes besides its state's heap: its bucket in the map (between 7/16
/// and 7/8 of the buckets are full, each with a control byte). A state used to be
/// counted as 24 times its record's bytes, right on average but short of a busy entity's
/// (thousands of entries): the cache took 311 MiB where it counted 238 (issue #15). Each
/// state is now counted at its measured heap size (`heap_size`), its record and key too.
const SLOT_OVERHEAD: usize = (std::mem::size_of::<((usize, Rc<str>), Cached)>() + 1) * 16 / 7;
/// The allocator's own share, in 16ths of what it hands out (its partly filled pages, its
/// page records): a simulated day's decoded states took 3-4% more than their blocks.
const ALLOCATOR_SIXTEENTHS: usize = 17;

/// One entity's events of a micro-batch, in the order they are to be applied.
pub struct Batch {
    pub group: usize,
    pub key: Rc<str>,
    /// The record as the table holds it now, if any.
    pub stored: Option<Vec<u8>>,
    pub events: Vec<Event>,
}

/// What a batch left: the record to write back and each event's outcome (Err: why the
/// event could not be evaluated; the state keeps what was applied of it).
pub struct BatchOut {
    pub record: Vec<u8>,
    pub outcomes: Vec<Result<Outcome, String>>,
    /// Why the stored record could not be read (the entity started afresh).
    pub unreadable: Option<String>,
}

struct Cached {
    record: Vec<u8>,
    state: Box<State>,
    used: u64,
    /// The bytes the slot takes, as `Cache::cost` estimated them when it was put.
    cost: usize,
}

/// Decoded states by (group, key), least recently used first out past `budget` bytes.
struct Cache {
    slots: HashMap<(usize, Rc<str>), Cached>,
    bytes: usize,
    budget: usize,
    clock: u64,
    pub hits: u64,
    pub misses: u64,
}

impl Cache {
    fn take(&mut self, key: &(usize, Rc<str>), stored: Option<&[u8]>) -> Option<Box<State>> {
        let Some(slot) = self.slots.remove(key) else {
            self.misses += 1;
            return None;
        };
        self.bytes -= slot.cost;
        if stored == Some(&slot.record[..]) {
            self.hits += 1;
            Some(slot.state)
        } else {
            self.misses += 1;
            None
        }
    }

    /// What a slot takes: the state's heap (measured, not guessed from the record: a
    /// busy entity's state is many more times its record than a quiet one's), the record,
    /// the key and the slot itself.
    fn cost(key: &(usize, Rc<str>), record: &[u8], state: &State) -> usize {
        let blocks = state_heap_bytes(state)
            + chunk(record.len())
            + chunk(2 * std::mem::size_of::<usize>() + key.1.len());
        blocks * ALLOCATOR_SIXTEENTHS / 16 + SLOT_OVERHEAD
    }

    fn put(&mut self, key: (usize, Rc<str>), record: Vec<u8>, state: Box<State>) {
        if self.budget == 0 {
            return;
        }
        let cost = Cache::cost(&key, &record, &state);
        if cost > self.budget {
            return;
        }
        self.clock += 1;
        self.bytes += cost;
        let used = self.clock;
        self.slots.insert(
            key,
            Cached {
                record,
                state,
                used,
                cost,
            },
        );
        if self.bytes > self.budget {
            // Down to 3/4 of the budget at once, so that this runs now and then only.
            let mut ages: Vec<(u64, usize)> = self
                .slots
                .values()
                .map(|slot| (slot.used, slot.cost))
                .collect();
            ages.sort_unstable();
            let mut cutoff = 0;
            for (age, cost) in ages {
                if self.bytes <= self.budget / 4 * 3 {
                    break;
                }
                cutoff = age;
                self.bytes -= cost;
            }
            self.slots.retain(|_, slot| slot.used > cutoff);
        }
    }
}

pub struct Live {
    pub plan: Plan,
    engine: Engine,
    cache: Cache,
}

fn str_slot(event: &Event, index: usize) -> &str {
    event.view.get(index).and_then(Value::as_str).unwrap_or("")
}

impl Live {
    /// `cache_bytes`: the memory decoded states may take (roughly).
    pub fn new(plan: Plan, cache_bytes: usize) -> Live {
        Live {
            engine: Engine::new(plan.max_entries, plan.shared_filters),
            plan,
            cache: Cache {
                slots: HashMap::default(),
                bytes: 0,
                budget: cache_bytes,
                clock: 0,
                hits: 0,
                misses: 0,
            },
        }
    }

    /// The state cache: (hits, misses, states kept, bytes they take, roughly).
    pub fn cache_stats(&self) -> (u64, u64, usize, usize) {
        let cache = &self.cache;
        (cache.hits, cache.misses, cache.slots.len(), cache.bytes)
    }

    /// The group whose key expression is spelled `source`.
    pub fn group_of(&self, source: &str) -> Option<usize> {
        self.plan
            .groups
            .iter()
            .position(|group| group.key.source() == source)
    }

    /// The engine's input for an event just read: live, any id may come again.
    pub fn input(&self, event: Event) -> Input {
        Input::of(event, self.plan.rules, true)
    }

    /// The other groups' entities of an event (group index, key), in plan order: the
    /// groups with a rule that takes it and a key it has.
    pub fn routes(&self, event: &Event) -> Result<Vec<(usize, Rc<str>)>, GiveUp> {
        let mask = event_mask(event.kind.name(), str_slot(event, slot::TYPE));
        let view = Value::Event(event.view.clone());
        let mut routes = Vec::new();
        for (index, group) in self.plan.groups.iter().enumerate() {
            if group.account || !group.rules.iter().any(|rule| rule.takes(mask)) {
                continue;
            }
            if let Some(key) = key_value(group, &view)? {
                routes.push((index, key));
            }
        }
        Ok(routes)
    }

    fn load(&self, group: usize, stored: Option<&[u8]>) -> (State, Option<String>) {
        match stored {
            None => (State::new(), None),
            Some(record) => {
                match codec::decode(record, &self.plan, group, &self.engine.shared_filters) {
                    Ok(state) => (state, None),
                    Err(reason) => (State::new(), Some(reason)),
                }
            }
        }
    }

    fn step(
        &self,
        state: &mut State,
        group: usize,
        key: &Rc<str>,
        event: Event,
    ) -> Result<Outcome, String> {
        let (kind, type_name) = (event.kind, str_slot(&event, slot::TYPE).to_string());
        let failed = str_slot(&event, slot::STATUS) == "failed";
        let input = self.input(event);
        self.engine.next_event();
        let plan = &self.plan.groups[group];
        let outcome = self
            .engine
            .process(state, &input, plan, group, key)
            .map_err(|give_up| give_up.0)?;
        let spend = plan.account
            && outcome.status == Status::Applied
            && kind == Kind::Transaction
            && OUTGOING.contains(&type_name.as_str())
            && !failed;
        if spend {
            let amount = input.event.amount.unwrap_or(Dec::ZERO);
            if !state.record_spend(input.ts_ms, amount) {
                return Err("a daily total beyond 28 digits".into());
            }
        }
        Ok(outcome)
    }

    /// Apply a batch; the record to write back and what each event did.
    pub fn apply(&mut self, batch: Batch) -> BatchOut {
        let cache_key = (batch.group, batch.key.clone());
        let stored = batch.stored.as_deref();
        let (mut state, unreadable) = match self.cache.take(&cache_key, stored) {
            Some(state) => (*state, None),
            None => self.load(batch.group, stored),
        };
        // In event-time order, as replay applies them (ties keep their arrival order): a
        // batch gathers an entity's events from several input partitions, and an event
        // older than the last one applied makes the running windows start over.
        let mut events = batch.events;
        let mut order: Vec<usize> = (0..events.len()).collect();
        order.sort_by_key(|index| events[*index].ts_ms);
        let mut outcomes: Vec<Option<Result<Outcome, String>>> =
            (0..events.len()).map(|_| None).collect();
        let mut taken: Vec<Option<Event>> = events.drain(..).map(Some).collect();
        for index in order {
            let event = taken[index].take().expect("each event once");
            outcomes[index] = Some(self.step(&mut state, batch.group, &batch.key, event));
        }
        let outcomes: Vec<Result<Outcome, String>> = outcomes
            .into_iter()
            .map(|outcome| outcome.expect("every event applied"))
            .collect();
        let record = codec::encode(&state, &self.plan.groups[batch.group]);
        self.cache.put(cache_key, record.clone(), Box::new(state));
        BatchOut {
            record,
            outcomes,
            unreadable,
        }
    }

    /// The record of a state given as JSON (`import`): a record of the previous format,
    /// converted.
    pub fn import(&self, group: usize, json: &[u8]) -> Result<Vec<u8>, String> {
        let state = crate::import::import(json, &self.plan, group, &self.engine.shared_filters)?;
        Ok(codec::encode(&state, &self.plan.groups[group]))
    }

    /// The account rules' signals were `event` applied now to the stored account record,
    /// which stays as it is (the scorer's what-if).
    pub fn what_if(
        &self,
        stored: Option<&[u8]>,
        key: &Rc<str>,
        event: Event,
    ) -> Result<Vec<Rc<SignalOut>>, String> {
        let (mut state, _) = self.load(0, stored);
        if self.plan.groups.is_empty() {
            return Ok(Vec::new());
        }
        let outcome = self.step(&mut state, 0, key, event)?;
        Ok(outcome.signals)
    }

    /// The outgoing total of an account record on `now_ms`'s UTC day.
    pub fn spent_on(&self, stored: Option<&[u8]>, now_ms: i64) -> Dec {
        if self.plan.groups.is_empty() {
            return Dec::ZERO;
        }
        self.load(0, stored).0.spent_on(now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{parse_strict, Interner};
    use crate::replay::tests::{payment, plan};
    use crate::replay::Replay;

    fn events(lines: &[String]) -> Vec<Event> {
        let mut ids = Interner::default();
        lines
            .iter()
            .map(|line| parse_strict(line.as_bytes(), &mut |_| None, &mut ids).expect("strict"))
            .collect()
    }

    fn lines() -> Vec<String> {
        (0..12)
            .map(|minute| {
                let account = ["acc-a", "acc-b", "acc-c"][minute as usize % 3];
                let device = ["dev-1", "dev-2"][minute as usize % 2];
                payment(&format!("e{minute}"), minute, account, device)
            })
            .collect()
    }

    type Table = HashMap<(usize, Rc<str>), Vec<u8>>;

    /// Every event as its own batch, the records kept in a map as a table keeps them.
    fn run_live(live: &mut Live, lines: &[String]) -> (Vec<Rc<str>>, Table) {
        let mut table = Table::default();
        let mut signals = Vec::new();
        for event in events(lines) {
            let account: Rc<str> = Rc::from(str_slot(&event, slot::ACCOUNT_ID));
            let mut targets = vec![(0, account)];
            targets.extend(live.routes(&event).expect("routes"));
            for (group, key) in targets {
                let stored = table.get(&(group, key.clone())).cloned();
                let out = live.apply(Batch {
                    group,
                    key: key.clone(),
                    stored,
                    events: vec![event.clone()],
                });
                assert!(out.unreadable.is_none());
                for outcome in out.outcomes {
                    let outcome = outcome.expect("applied");
                    signals.extend(
                        outcome
                            .signals
                            .iter()
                            .map(|signal| signal.signal_id.clone()),
                    );
                }
                table.insert((group, key), out.record);
            }
        }
        signals.sort();
        (signals, table)
    }

    #[test]
    fn live_batches_give_the_replays_signals_with_or_without_the_cache() {
        let lines = lines();
        let mut replay_plan = plan();
        let rules = std::mem::take(&mut replay_plan.score_rules);
        let policy = replay_plan.policy;
        let mut replay = Replay::new(replay_plan, rules, policy);
        for (index, event) in events(&lines).into_iter().enumerate() {
            replay.add(index as u64 + 1, event);
        }
        replay.sort();
        let mut expected: Vec<Rc<str>> = replay
            .run(100)
            .expect("a run")
            .signals
            .iter()
            .map(|signal| signal.signal_id.clone())
            .collect();
        expected.sort();
        assert!(expected.len() >= 3, "the story fires: {expected:?}");
        let (cached, cached_table) = run_live(&mut Live::new(plan(), 1 << 20), &lines);
        let (decoded, decoded_table) = run_live(&mut Live::new(plan(), 0), &lines);
        assert_eq!(cached, expected);
        assert_eq!(decoded, expected);
        assert_eq!(
            cached_table, decoded_table,
            "a record reads back as it was written"
        );
    }

    #[test]
    fn a_repeat_is_a_duplicate_after_a_round_trip_and_brings_nothing_again() {
        let lines = lines();
        let mut live = Live::new(plan(), 0);
        let (_, table) = run_live(&mut live, &lines);
        // e5 is dev-2's third payment in ten minutes: it fired.
        let last = events(&lines[5..6]).remove(0);
        let stored = table.get(&(1, Rc::from("dev-2"))).cloned();
        let first = live.apply(Batch {
            group: 1,
            key: Rc::from("dev-2"),
            stored,
            events: vec![last.clone(), last],
        });
        for outcome in &first.outcomes {
            assert_eq!(outcome.as_ref().expect("applied").status, Status::Duplicate);
        }
        assert!(
            first.outcomes[0].as_ref().unwrap().signals.is_empty(),
            "its signal was published when it was applied"
        );
    }

    #[test]
    fn damaged_records_are_refused_with_a_reason() {
        let lines = lines();
        let (_, table) = run_live(&mut Live::new(plan(), 0), &lines);
        let record = table.get(&(0, Rc::from("acc-a"))).expect("a record");
        let live = Live::new(plan(), 0);
        for cut in [0, 1, 5, record.len() / 2, record.len() - 1] {
            let shared = &live.engine.shared_filters;
            assert!(
                codec::decode(&record[..cut], &live.plan, 0, shared).is_err(),
                "cut at {cut}"
            );
        }
        let mut longer = record.clone();
        longer.push(0);
        assert!(codec::decode(&longer, &live.plan, 0, &live.engine.shared_filters).is_err());
        assert_eq!(
            codec::last_seen(b"{\"w\": 1}"),
            None,
            "the old JSON form is not this one"
        );
    }
}

#[cfg(test)]
mod cap_tests {
    use super::*;
    use crate::event::{parse_strict, Interner};
    use crate::replay::tests::{payment, plan};

    fn entries_kept(max_entries: usize) -> usize {
        let mut plan = plan();
        plan.max_entries = max_entries;
        let mut live = Live::new(plan, 0);
        let mut ids = Interner::default();
        let events: Vec<Event> = (0..60)
            .map(|n| {
                let line = payment(&format!("e{n}"), n / 2, "acc-a", "dev-1");
                parse_strict(line.as_bytes(), &mut |_| None, &mut ids).expect("strict")
            })
            .collect();
        let out = live.apply(Batch {
            group: 1,
            key: Rc::from("dev-1"),
            stored: None,
            events,
        });
        let shared = &live.engine.shared_filters;
        let state = codec::decode(&out.record, &live.plan, 1, shared).expect("a record");
        state.entries.len()
    }

    #[test]
    fn without_a_cap_an_entity_keeps_every_entry_of_its_horizon() {
        assert_eq!(entries_kept(20), 20, "a cap keeps the newest");
        assert_eq!(
            entries_kept(usize::MAX),
            60,
            "no cap keeps all the horizon holds"
        );
        let json = br#"{"groups": [], "min_horizon_ms": 0, "score_rules": [],
            "policy": {"review_at": 40, "challenge_at": 60, "reject_at": 80, "unknown": "review"}}"#;
        let plan = Plan::from_json(json).expect("a plan");
        assert_eq!(plan.max_entries, usize::MAX, "no max_entries: no cap");
    }
}

#[cfg(test)]
#[path = "live_cache_tests.rs"]
mod cache_tests;
