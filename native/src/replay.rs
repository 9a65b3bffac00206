//! Replay (`riskstream replay`, `offline.native`): events in event-time
//! order through the engine, every transaction decided from the state before it.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::rc::Rc;

use smallvec::SmallVec;

use crate::dec::Dec;
use crate::engine::{key_value, Engine, Input, Outcome, Status};
use crate::event::{Event, Kind};
use crate::plan::Plan;
use crate::scoring::{decide, decision_line, ActiveSignal, Policy, ProfileBook, ScoreRule};
use crate::state::{Shared, SignalOut, State};
use crate::value::{slot, Value};
use crate::windows::GiveUp;

const OUTGOING: [&str; 4] = ["payment", "transfer", "red_packet", "withdrawal"];

pub struct Loaded {
    pub line: u64,
    pub kind: Kind,
    pub input: Input,
}

#[derive(Default)]
pub struct Counts {
    pub events: u64,
    pub transactions: u64,
    pub applied: u64,
    pub duplicate: u64,
    pub late: u64,
    pub decisions: HashMap<&'static str, u64>,
}

/// What a run of events produced, in order.
#[derive(Default)]
pub struct Produced {
    pub decisions: Vec<u8>,
    pub signals: Vec<Rc<SignalOut>>,
    pub shadow: Vec<Rc<SignalOut>>,
}

/// (group index, key): a state, as `Replay::states` keys it.
type StateKey = (usize, Rc<str>);

/// (time, id, line): where an event falls in the order `sort` gives.
type Place = (i64, Rc<str>, u64);

/// (event index, group index, key): a state and the last event that touches it.
type Finished = (usize, usize, Rc<str>);

pub struct Replay {
    plan: Plan,
    engine: Engine,
    score_rules: Vec<ScoreRule>,
    policy: Policy,
    /// (group index, key) -> state; the account group is index 0. Boxed: a state is ten
    /// times the size of its key, and the map keeps a third of its slots free.
    states: HashMap<StateKey, Box<State>>,
    pub events: Vec<Loaded>,
    pub cursor: usize,
    profiles: ProfileBook,
    /// The decision lines of transactions whose id comes more than once.
    decided: HashMap<Rc<str>, Rc<(Vec<u8>, &'static str)>>,
    emitted: HashSet<Rc<str>>,
    pub counts: Counts,
    /// What a processed event's place holds (see `run`).
    released: Rc<Shared>,
    /// By event index: the states no event after that one touches (see `sort`).
    finished: Vec<Finished>,
    finished_at: usize,
    /// Gathered by `add`, while each event is fresh in memory: every state's last event
    /// as (time, line), whether some key could not be told (then nothing is released
    /// early), and the event ids seen and seen again.
    touched: HashMap<StateKey, Place>,
    untold: bool,
    ids: HashSet<Rc<str>>,
    repeated: HashSet<Rc<str>>,
}

fn str_slot(view: &Value, index: usize) -> Option<&str> {
    match view {
        Value::Event(view) => view.get(index).and_then(Value::as_str),
        _ => None,
    }
}

/// The states an event touches, in the order `Replay::process` applies it to them: the
/// account's, then the key of every other group with a rule that takes it.
fn route(plan: &Plan, input: &Input) -> Result<SmallVec<[StateKey; 6]>, GiveUp> {
    let Some(account) = Replay::account_key(&input.event) else {
        return Err(GiveUp("an event without an account".into()));
    };
    let mut keys: SmallVec<[StateKey; 6]> = smallvec::smallvec![account];
    let view = Value::Event(input.event.clone());
    for (group_index, group) in plan.groups.iter().enumerate().skip(1) {
        if !group.rules.iter().any(|rule| rule.takes(input.mask)) {
            continue;
        }
        if let Some(key) = key_value(group, &view)? {
            keys.push((group_index, key));
        }
    }
    Ok(keys)
}

impl Replay {
    pub fn new(plan: Plan, score_rules: Vec<ScoreRule>, policy: Policy) -> Replay {
        Replay {
            engine: Engine::new(plan.max_entries, plan.shared_filters),
            plan,
            score_rules,
            policy,
            states: HashMap::default(),
            events: Vec::new(),
            cursor: 0,
            profiles: ProfileBook::default(),
            decided: HashMap::default(),
            emitted: HashSet::default(),
            counts: Counts::default(),
            released: Rc::new(Shared::default()),
            finished: Vec::new(),
            finished_at: 0,
            touched: HashMap::default(),
            untold: false,
            ids: HashSet::default(),
            repeated: HashSet::default(),
        }
    }

    pub fn add(&mut self, line: u64, event: Event) {
        let kind = event.kind;
        // Any id may come again until `sort` knows better.
        let input = Input::of(event, self.plan.rules, true);
        self.events.push(Loaded { line, kind, input });
        let loaded = self.events.last().expect("just added");
        let at: Place = (
            loaded.input.ts_ms,
            loaded.input.event_id.clone(),
            loaded.line,
        );
        match route(&self.plan, &loaded.input) {
            Ok(keys) => {
                for key in keys {
                    let last = self.touched.entry(key).or_insert_with(|| at.clone());
                    if at > *last {
                        *last = at.clone();
                    }
                }
            }
            Err(_) => self.untold = true, // the run meets the same error and declines
        }
        let id = &loaded.input.event_id;
        if !self.ids.insert(id.clone()) {
            self.repeated.insert(id.clone());
        }
    }

    /// Event-time order, then by id, as the live worker applies events once their time
    /// is final; copies of one event keep their order in the file.
    pub fn sort(&mut self) {
        self.events.sort_by(|a, b| {
            (a.input.ts_ms, &*a.input.event_id, a.line).cmp(&(
                b.input.ts_ms,
                &*b.input.event_id,
                b.line,
            ))
        });
        // Which ids come more than once: only their events can be duplicates, so only
        // they are looked up and remembered as seen, and only their decisions are kept.
        let repeated = &self.repeated;
        for loaded in self.events.iter_mut() {
            loaded.input.repeats =
                !repeated.is_empty() && repeated.contains(&loaded.input.event_id);
        }
        self.ids = HashSet::default();
        self.finished = self.last_touches();
        self.finished_at = 0;
    }

    /// For every state, the index of the last event that touches it, as `process` routes
    /// events; none when some key could not be told.
    fn last_touches(&mut self) -> Vec<Finished> {
        let touched = std::mem::take(&mut self.touched);
        if self.untold {
            return Vec::new();
        }
        let events = &self.events;
        let mut finished: Vec<Finished> = touched
            .into_iter()
            .map(|((group, key), at)| {
                // The last event at or before (time, id, line): that event itself.
                let (ts_ms, id, line) = at;
                let after = events.partition_point(|item| {
                    (item.input.ts_ms, &*item.input.event_id, item.line) <= (ts_ms, &*id, line)
                });
                (after - 1, group, key)
            })
            .collect();
        finished.sort_unstable_by_key(|(index, _, _)| *index);
        finished
    }

    /// The next `count` events; what they produced.
    pub fn run(&mut self, count: usize) -> Result<Produced, GiveUp> {
        let mut produced = Produced::default();
        let end = (self.cursor + count).min(self.events.len());
        // Room for every decision line at once: the pages a generous guess leaves unused
        // are never touched, and growing by doubling would touch each size on the way.
        let transactions = self.events[self.cursor..end]
            .iter()
            .filter(|loaded| loaded.kind == Kind::Transaction)
            .count();
        produced.decisions.reserve(transactions * 96);
        while self.cursor < end {
            let index = self.cursor;
            self.cursor += 1;
            self.step(index, &mut produced)?;
            // Done with: its view lives on only in the entries that keep it, so memory
            // follows the windows' state, not the file's length.
            self.events[index].input.event = self.released.clone();
            // The states no later event reads go now: their memory serves the states
            // still growing, and there is less to free at the end.
            while let Some((at, group, key)) = self.finished.get(self.finished_at) {
                if *at != index {
                    break;
                }
                self.states.remove(&(*group, key.clone()));
                self.finished_at += 1;
            }
        }
        Ok(produced)
    }

    fn process(&mut self, index: usize) -> Result<Vec<Outcome>, GiveUp> {
        let input = &self.events[index].input;
        let keys = route(&self.plan, input)?;
        self.engine.next_event();
        let mut outcomes = Vec::with_capacity(keys.len());
        for (group_index, key) in keys {
            let state = self.states.entry((group_index, key.clone())).or_default();
            let group = &self.plan.groups[group_index];
            outcomes.push(
                self.engine
                    .process(state, input, group, group_index, &key)?,
            );
        }
        Ok(outcomes)
    }

    /// The account of an event, as the states are keyed.
    fn account_key(event: &Shared) -> Option<StateKey> {
        match event.get(slot::ACCOUNT_ID) {
            Some(Value::Str(id)) => Some((0, id.clone())),
            _ => None,
        }
    }

    fn account_state(&self, event: &Shared) -> Option<&State> {
        Self::account_key(event)
            .and_then(|key| self.states.get(&key))
            .map(|state| &**state)
    }

    fn account_state_mut(&mut self, event: &Shared) -> Option<&mut State> {
        Self::account_key(event)
            .and_then(|key| self.states.get_mut(&key))
            .map(|state| &mut **state)
    }

    fn active_signal(&self, signal: &SignalOut) -> (Rc<str>, ActiveSignal) {
        let rule = &self.plan.groups[signal.group].rules[signal.rule];
        (
            rule.entity.clone(),
            ActiveSignal {
                signal_id: signal.signal_id.clone(),
                pattern: rule.pattern.clone(),
                rule_id: rule.id.clone(),
                severity: rule.severity,
                detected_ms: signal.detected_ms,
                expires_ms: signal.expires_ms,
                penalty_kind: rule.penalty.clone(),
                trigger_event_id: signal.trigger_event_id.clone(),
                score_only: rule.score_only,
            },
        )
    }

    fn step(&mut self, index: usize, produced: &mut Produced) -> Result<(), GiveUp> {
        self.counts.events += 1;
        let outcomes = self.process(index)?;
        let status = outcomes[0].status;
        let (kind, ts_ms) = (self.events[index].kind, self.events[index].input.ts_ms);
        // The event's own record, so that nothing is copied out of it per event.
        let event = self.events[index].input.event.clone();
        let view = &Value::Event(event.clone());
        let type_name = str_slot(view, slot::TYPE).unwrap_or("");
        if kind == Kind::Transaction {
            self.counts.transactions += 1;
            let repeated = self.events[index].input.repeats;
            let known = if repeated {
                self.decided.get(&event.event_id).cloned()
            } else {
                None
            };
            let line = match known {
                Some(known) => known,
                None => {
                    let own: Vec<(Rc<str>, ActiveSignal)> = outcomes[0]
                        .signals
                        .iter()
                        .map(|signal| self.active_signal(signal))
                        .collect();
                    let spent = self
                        .account_state(&event)
                        .map(|state| state.spent_on(ts_ms))
                        .unwrap_or(Dec::ZERO);
                    let amount = event.amount.unwrap_or(Dec::ZERO);
                    let decision = decide(
                        view,
                        ts_ms,
                        type_name,
                        amount,
                        spent,
                        &own,
                        &mut self.profiles,
                        &self.score_rules,
                        &self.policy,
                    )
                    .map_err(|fault| GiveUp(format!("a scoring rule: {fault:?}")))?;
                    *self.counts.decisions.entry(decision.decision).or_insert(0) += 1;
                    let line = decision_line(&event.event_id, &decision);
                    let known = Rc::new((line, decision.decision));
                    if repeated {
                        self.decided.insert(event.event_id.clone(), known.clone());
                    }
                    known
                }
            };
            produced.decisions.extend_from_slice(&line.0);
            produced.decisions.push(b'\n');
        }
        match status {
            Status::Applied => self.counts.applied += 1,
            Status::Duplicate => self.counts.duplicate += 1,
            Status::Late => self.counts.late += 1,
        }
        let spend = status == Status::Applied
            && kind == Kind::Transaction
            && OUTGOING.contains(&type_name)
            && str_slot(view, slot::STATUS) != Some("failed");
        if spend {
            let amount = event.amount.expect("a transaction's amount");
            let state = self.account_state_mut(&event).expect("the account's state");
            if !state.record_spend(ts_ms, amount) {
                return Err(GiveUp("a daily total beyond 28 digits".into()));
            }
        }
        if kind == Kind::Feedback {
            let target = str_slot(view, slot::TARGET_EVENT_ID).unwrap_or("");
            let label = str_slot(view, slot::LABEL).unwrap_or("");
            self.profiles.apply_verdict(target, label, ts_ms);
        }
        for outcome in &outcomes {
            for signal in &outcome.signals {
                if self.emitted.insert(signal.signal_id.clone()) {
                    let (entity, active) = self.active_signal(signal);
                    self.profiles.add(&entity, &signal.entity_key, active);
                    produced.signals.push(signal.clone());
                }
            }
        }
        for outcome in &outcomes {
            for signal in &outcome.shadow {
                if self.emitted.insert(signal.signal_id.clone()) {
                    produced.shadow.push(signal.clone());
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::event::{parse_strict, Interner};

    /// A velocity rule on accounts and one on devices: three payments in 10 minutes.
    const PLAN: &str = r#"{"groups": [
        {"key": "event.account_id", "account": true, "rules": [RULE("t.account", "account")]},
        {"key": "event.device_id", "account": false, "rules": [RULE("t.device", "device")]}],
      "min_horizon_ms": 1800000, "max_entries": 5000, "score_rules": [],
      "policy": {"review_at": 40, "challenge_at": 60, "reject_at": 80, "unknown": "review"}}"#;
    const RULE: &str = r#"{"id": "ID", "version": 1, "active": true, "entity": "ENTITY",
        "ttl_ms": 86400000, "pattern": "ID", "severity": 60, "penalty": null,
        "events": ["payment"], "when": null,
        "window": {"type": "sliding", "size": 600000, "hop": 600000},
        "aggregates": [{"name": "n", "fn": "count", "path": [""], "where": null, "bit": 2,
                        "of": null, "horizon_days": 0}],
        "condition": "agg.n >= 3", "steps": [], "absent": null, "within_ms": 0,
        "horizon_ms": 1200000, "baseline_days": 0, "unfiltered_bits": 3}"#;

    pub(crate) fn plan() -> Plan {
        let rule = |id: &str, entity: &str| RULE.replace("ID", id).replace("ENTITY", entity);
        let json = PLAN
            .replace(
                r#"RULE("t.account", "account")"#,
                &rule("t.account", "account"),
            )
            .replace(r#"RULE("t.device", "device")"#, &rule("t.device", "device"));
        Plan::from_json(json.as_bytes()).expect("a plan")
    }

    pub(crate) fn payment(id: &str, minute: u32, account: &str, device: &str) -> String {
        format!(
            r#"{{"event_id": "{id}", "type": "payment", "occurred_at": "2026-11-02T10:{minute:02}:00Z", "account_id": "{account}", "device_id": "{device}", "amount": "10.00", "currency": "CNY"}}"#
        )
    }

    fn replay(lines: &[String]) -> Replay {
        let mut plan = plan();
        let rules = std::mem::take(&mut plan.score_rules);
        let policy = plan.policy;
        let mut replay = Replay::new(plan, rules, policy);
        let mut ids = Interner::default();
        for (index, line) in lines.iter().enumerate() {
            let event = parse_strict(line.as_bytes(), &mut |_| None, &mut ids).expect("strict");
            replay.add(index as u64 + 1, event);
        }
        replay.sort();
        replay
    }

    #[test]
    fn a_filter_rules_share_is_tested_once_per_event_and_anew_for_the_next() {
        let json = PLAN
            .replace(
                r#"RULE("t.account", "account")"#,
                &RULE.replace("ID", "t.account"),
            )
            .replace(
                r#"RULE("t.device", "device")"#,
                &RULE.replace("ID", "t.device"),
            )
            .replace(r#""when": null"#, r#""when": "event.amount >= 50.0""#);
        let mut plan = Plan::from_json(json.as_bytes()).expect("a plan");
        assert_eq!(plan.shared_filters, 1, "one spelling, two rules");
        let slots: Vec<Option<usize>> = plan
            .groups
            .iter()
            .map(|group| {
                group.rules[0]
                    .when
                    .as_ref()
                    .and_then(|when| when.shared_slot())
            })
            .collect();
        assert_eq!(slots, [Some(0), Some(0)]);
        let rules = std::mem::take(&mut plan.score_rules);
        let policy = plan.policy;
        let mut replay = Replay::new(plan, rules, policy);
        let mut ids = Interner::default();
        // Were the first payment's result kept for the second, the small one would count
        // and both rules would fire on the third payment, not on the fourth.
        for (index, (id, amount)) in [
            ("e1", "60.00"),
            ("e2", "10.00"),
            ("e3", "60.00"),
            ("e4", "60.00"),
        ]
        .iter()
        .enumerate()
        {
            let line = payment(id, index as u32, "acc-a", "dev-1").replace("10.00", amount);
            let event = parse_strict(line.as_bytes(), &mut |_| None, &mut ids).expect("strict");
            replay.add(index as u64 + 1, event);
        }
        replay.sort();
        let produced = replay.run(10).expect("a run");
        assert_eq!(produced.signals.len(), 2);
        for signal in &produced.signals {
            assert_eq!(&*signal.trigger_event_id, "e4");
            let evidence: Vec<&str> = signal.evidence.iter().map(|id| &**id).collect();
            assert_eq!(evidence, ["e1", "e3", "e4"]);
        }
    }

    #[test]
    fn a_state_goes_after_the_last_event_that_touches_it() {
        let lines = vec![
            payment("a1", 0, "acc-a", "dev-1"),
            payment("b1", 1, "acc-b", "dev-1"),
            payment("a2", 2, "acc-a", "dev-2"),
            payment("b2", 3, "acc-b", "dev-1"),
            payment("b3", 4, "acc-b", "dev-1"),
        ];
        let mut replay = replay(&lines);
        let state = |replay: &Replay, group: usize, key: &str| {
            replay.states.contains_key(&(group, Rc::from(key)))
        };
        let first = replay.run(3).expect("a run");
        assert!(!state(&replay, 0, "acc-a"), "acc-a has no event after a2");
        assert!(!state(&replay, 1, "dev-2"), "dev-2 has no event after a2");
        assert!(state(&replay, 0, "acc-b") && state(&replay, 1, "dev-1"));
        let rest = replay.run(10).expect("a run");
        assert!(replay.states.is_empty(), "every state had a last event");

        let mut keeping = self::replay(&lines);
        keeping.finished.clear();
        let all = keeping.run(13).expect("a run");
        assert_eq!(keeping.states.len(), 4, "nothing released");
        let ids = |signals: &[Rc<SignalOut>]| -> Vec<Rc<str>> {
            signals
                .iter()
                .map(|signal| signal.signal_id.clone())
                .collect()
        };
        let released = [ids(&first.signals), ids(&rest.signals)].concat();
        assert_eq!(released, ids(&all.signals));
        assert_eq!(released.len(), 2, "dev-1 at b2, acc-b at b3");
        assert_eq!([first.decisions, rest.decisions].concat(), all.decisions);
    }

    #[test]
    fn a_repeated_id_keeps_its_state_until_the_repeat() {
        let lines = vec![
            payment("a1", 0, "acc-a", "dev-1"),
            payment("b1", 1, "acc-b", "dev-2"),
            payment("a1", 2, "acc-a", "dev-1"), // delivered again, later
        ];
        let mut replay = replay(&lines);
        replay.run(2).expect("a run");
        assert!(replay.states.contains_key(&(0, Rc::from("acc-a"))));
        replay.run(1).expect("a run");
        assert_eq!(
            replay.counts.duplicate, 1,
            "the repeat is known as a duplicate"
        );
    }
}
