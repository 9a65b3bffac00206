//! The rule runtime: an event and one entity's state in, signals out, each event applied
//! once.

use std::cell::Cell;
use std::rc::Rc;

use smallvec::SmallVec;

use blake2::digest::{Update, VariableOutput};
use blake2::Blake2bVar;

use crate::cel::{Ctx, ErrorKind, Fault, Var, N_VARS};
use crate::filters::{fault, flags, test, SharedFilters};
use crate::plan::event_mask;
use crate::plan::{GroupPlan, RulePlan};
use crate::sequences::matches;
use crate::state::{Entry, Fired, Shared, Shown, SignalOut, State};
use crate::value::{slot, Value};
use crate::windows::{aggregate, update_baselines, windows_for, GiveUp};

pub const MAX_EVIDENCE: usize = 50;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Applied,
    Duplicate,
    Late,
}

pub struct Outcome {
    pub status: Status,
    pub signals: Vec<Rc<SignalOut>>,
    pub shadow: Vec<Rc<SignalOut>>,
}

/// `deterministic_id`: blake2b-128 of the parts joined by the unit separator.
pub fn deterministic_id(parts: &[&str]) -> String {
    let mut hasher = Blake2bVar::new(16).expect("a 16-byte digest");
    hasher.update(parts.join("\x1f").as_bytes());
    let mut digest = [0u8; 16];
    hasher.finalize_variable(&mut digest).expect("16 bytes");
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("sig_{hex}")
}

/// An event as the engine takes it: the event (its view and exact amount) and the bits
/// of its type and kind (`plan::event_mask`).
pub struct Input {
    pub ts_ms: i64,
    pub mask: u32,
    pub event: Rc<Shared>,
    /// Whether another event may carry the same id. When none can, its id cannot be a
    /// duplicate and need not be looked up or remembered (the replay knows all ids).
    pub repeats: bool,
}

impl Input {
    /// The engine's input for an event just read, its view given room for the match bits
    /// of a plan's `rules`; `repeats` as the caller knows it.
    pub fn of(event: crate::event::Event, rules: usize, repeats: bool) -> Input {
        let type_name = event
            .view
            .get(slot::TYPE)
            .and_then(Value::as_str)
            .unwrap_or("");
        let mask = event_mask(event.kind.name(), type_name);
        let mut view = event.view;
        let fields = Rc::make_mut(&mut view); // a view just read: not shared
        fields.event_id = match fields.get(slot::EVENT_ID) {
            Some(Value::Str(id)) => id.clone(),
            _ => Rc::from(""),
        };
        fields.amount = event.amount;
        fields.amount_text = event.amount_text;
        fields.flags = smallvec::smallvec![Cell::new(0); rules];
        fields.mask = mask;
        Input {
            ts_ms: event.ts_ms,
            mask,
            event: view,
            repeats,
        }
    }
}

impl std::ops::Deref for Input {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.event
    }
}

/// The aggregates of a window as CEL's `agg` map holds them.
type AggItems = Rc<Vec<(Rc<str>, Value)>>;

pub struct Engine {
    pub max_entries: usize,
    /// The names of `entity`'s fields, made once.
    entity_keys: [Rc<str>; 3],
    agg_buffer: Cell<Option<AggItems>>,    // see `evaluate`
    entity_buffer: Cell<Option<AggItems>>, // see `process`
    pub(crate) shared_filters: SharedFilters,
}

impl Engine {
    /// `shared_filters`: `Plan::shared_filters`.
    pub fn new(max_entries: usize, shared_filters: usize) -> Engine {
        Engine {
            max_entries,
            entity_keys: [
                Rc::from("idle_seconds"),
                Rc::from("events_seen"),
                Rc::from("age_seconds"),
            ],
            agg_buffer: Cell::new(None),
            entity_buffer: Cell::new(None),
            shared_filters: SharedFilters::new(shared_filters),
        }
    }

    /// Before the first `process` of each event: the shared filters' results are the
    /// previous event's.
    pub fn next_event(&self) {
        let event = &self.shared_filters.event;
        event.set(event.get() + 1);
    }

    /// Apply `event` to `state` under the group's rules (`RuleEngine.process`); `next_event`
    /// first for each new event.
    pub fn process(
        &self,
        state: &mut State,
        event: &Input,
        group: &GroupPlan,
        group_index: usize,
        entity_key: &Rc<str>,
    ) -> Result<Outcome, GiveUp> {
        let event_id = event.event_id.clone();
        if event.repeats && state.seen.contains(&event_id) {
            // Nothing again, signals included: the worker publishes a batch's signals
            // before it writes the batch's state, so an event the state knows was
            // published with its signals.
            return Ok(Outcome {
                status: Status::Duplicate,
                signals: Vec::new(),
                shadow: Vec::new(),
            });
        }
        let ts_ms = event.ts_ms;
        let horizon = group.horizon_ms;
        if state.watermark_ms >= 0 && ts_ms < state.watermark_ms - horizon {
            state.late_events += 1;
            return Ok(Outcome {
                status: Status::Late,
                signals: Vec::new(),
                shadow: Vec::new(),
            });
        }
        let idle = if 0 <= state.last_seen_ms && state.last_seen_ms < ts_ms {
            (ts_ms - state.last_seen_ms) as f64 / 1000.0
        } else {
            0.0
        };
        let age = if state.first_seen_ms >= 0 {
            (ts_ms - state.first_seen_ms) as f64 / 1000.0
        } else {
            0.0
        };
        let entity = if group.reads_entity {
            // Its allocation reused from one event to the next, as `agg`'s is.
            let [idle_key, seen_key, age_key] = &self.entity_keys;
            let mut buffer = self.entity_buffer.take().unwrap_or_default();
            let items = Rc::get_mut(&mut buffer).expect("the buffer is not shared");
            items.clear();
            items.extend([
                (idle_key.clone(), Value::Float(idle)),
                (seen_key.clone(), Value::Int(state.events_seen)),
                (age_key.clone(), Value::Float(age)),
            ]);
            Value::Map(buffer)
        } else {
            Value::Null // no expression of the group reads it
        };
        let view = Value::Event(event.event.clone()); // as CEL sees the event
        let rules = &group.rules;
        let mut entry_flags: SmallVec<[u32; 16]> = smallvec::smallvec![0u32; rules.len()];
        for (index, rule) in rules.iter().enumerate() {
            entry_flags[index] = flags(rule, event.mask, &view, &entity, &self.shared_filters)?;
        }
        let any = entry_flags.iter().any(|bits| *bits != 0);
        // The reference's entries keep only the fields the group's rules read of stored
        // events (`CompiledRule.stored`); here they share the event's whole view. No
        // expression can tell: every field an expression reads of a stored entry (its
        // when, where, step when and match, its aggregates' fields) is among the kept
        // ones, and one reading the event whole keeps every field.

        if !state.tagged {
            // The reference gives the entities' first entry the bits of every rule version
            // anew, with an empty entity (`_refresh_flags`); the bits can differ only for
            // rules whose expressions read `entity`.
            if any {
                let empty = Value::Map(Rc::new(Vec::new()));
                for (index, rule) in rules.iter().enumerate() {
                    if entry_flags[index] == 0 {
                        entry_flags[index] =
                            flags(rule, event.mask, &view, &empty, &self.shared_filters)?;
                    }
                }
            }
            state.tagged = true;
        }
        let any = entry_flags.iter().any(|bits| *bits != 0);
        let entry = Entry::new(ts_ms, event.event.clone(), group.base, &entry_flags);
        state.remember(event_id, ts_ms, event.repeats);
        state.watermark_ms = state.watermark_ms.max(ts_ms);
        if any {
            let index = state.insert(entry.clone());
            if index != state.entries.len() - 1 {
                state.running.clear();
            }
        }
        state.events_seen += 1;
        if state.first_seen_ms < 0 || ts_ms < state.first_seen_ms {
            state.first_seen_ms = ts_ms;
        }
        state.last_seen_ms = state.last_seen_ms.max(ts_ms);
        let mut signals = Vec::new();
        let mut shadow = Vec::new();
        for (tag, rule) in rules.iter().enumerate() {
            if entry.bits(tag) == 0 && rule.absent.is_none() {
                continue;
            }
            let fired = self.evaluate(
                state,
                rule,
                tag,
                group_index,
                &entry,
                &view,
                &entity,
                entity_key,
            )?;
            if let Some(signal) = fired {
                if rule.active {
                    signals.push(signal);
                } else {
                    shadow.push(signal);
                }
            }
            if rule.has_baselines {
                update_baselines(rule, tag, state, &entry);
            }
        }
        state.evict(horizon, self.max_entries, group.baseline_days);
        if let Value::Map(mut buffer) = entity {
            if Rc::get_mut(&mut buffer).is_some() {
                self.entity_buffer.set(Some(buffer));
            }
        }
        Ok(Outcome {
            status: Status::Applied,
            signals,
            shadow,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn evaluate(
        &self,
        state: &mut State,
        rule: &RulePlan,
        tag: usize,
        group_index: usize,
        entry: &Entry,
        event: &Value,
        entity: &Value,
        entity_key: &Rc<str>,
    ) -> Result<Option<Rc<SignalOut>>, GiveUp> {
        if rule.window.is_some() {
            // An entry that was never inserted (no rule took it) has no windows.
            if entry.ignored() {
                return Ok(None);
            }
            let fired_here = state.fired.iter().any(|record| record.rule == tag);
            for window in windows_for(rule, tag, state, entry)? {
                let key = if fired_here {
                    Some(window.key.text())
                } else {
                    None
                };
                if let Some(key) = &key {
                    if suppressed(
                        state,
                        tag,
                        key,
                        window.start_ms,
                        window.end_ms,
                        window.dedupe_by_key,
                    ) {
                        continue;
                    }
                }
                // The map CEL sees as `agg`, its allocation reused from one window to the next.
                let mut buffer = self.agg_buffer.take().unwrap_or_default();
                let items = Rc::get_mut(&mut buffer).expect("the buffer is not shared");
                items.clear();
                aggregate(rule, tag, state, &window, entry, items, None)?;
                let values = Value::Map(buffer);
                let condition = rule.condition.as_ref().expect("a window rule's condition");
                let mut vars: [Option<&Value>; N_VARS] = [None; N_VARS];
                vars[Var::Event as usize] = Some(event);
                vars[Var::Entity as usize] = Some(entity);
                vars[Var::Agg as usize] = Some(&values);
                let fires = test(condition, vars, "condition")?;
                if let Value::Map(mut buffer) = values {
                    if Rc::get_mut(&mut buffer).is_some() {
                        self.agg_buffer.set(Some(buffer));
                    }
                }
                if fires {
                    let window = window.materialized(&state.entries, tag);
                    let mut shown = Vec::new();
                    aggregate(
                        rule,
                        tag,
                        state,
                        &window,
                        entry,
                        &mut Vec::new(),
                        Some(&mut shown),
                    )?;
                    let running = if window.running.is_some() {
                        state.running.get(&tag)
                    } else {
                        None
                    };
                    let members: Vec<Entry> = match running {
                        Some(running) => running.members.iter().cloned().collect(),
                        None => window.members,
                    };
                    let key = key.unwrap_or_else(|| window.key.text());
                    return Ok(Some(fire(
                        state,
                        rule,
                        tag,
                        group_index,
                        entity_key,
                        &key,
                        &members,
                        shown,
                        entry,
                        window.start_ms,
                        window.end_ms,
                    )));
                }
            }
            return Ok(None);
        }
        for found in matches(rule, tag, state, entry)? {
            let start = found.members[0].ts_ms;
            let end = found.members[found.members.len() - 1].ts_ms;
            if suppressed(state, tag, &found.key, start, end, false) {
                continue;
            }
            let mut shown: Vec<(Rc<str>, Shown)> = found
                .by_step
                .iter()
                .map(|(name, count)| (name.clone(), Shown::Int(*count as i64)))
                .collect();
            shown.push((
                Rc::from("span_seconds"),
                Shown::Float((end - start) as f64 / 1000.0),
            ));
            return Ok(Some(fire(
                state,
                rule,
                tag,
                group_index,
                entity_key,
                &found.key,
                &found.members,
                shown,
                entry,
                start,
                end,
            )));
        }
        Ok(None)
    }
}

fn suppressed(
    state: &State,
    tag: usize,
    key: &str,
    start_ms: i64,
    end_ms: i64,
    by_key: bool,
) -> bool {
    state
        .fired
        .iter()
        .filter(|record| record.rule == tag)
        .any(|record| {
            &*record.window_key == key
                || (!by_key && record.start_ms <= end_ms && start_ms <= record.end_ms)
        })
}

#[allow(clippy::too_many_arguments)]
fn fire(
    state: &mut State,
    rule: &RulePlan,
    tag: usize,
    group_index: usize,
    entity_key: &Rc<str>,
    window_key: &str,
    members: &[Entry],
    shown: Vec<(Rc<str>, Shown)>,
    emitted_by: &Entry,
    start_ms: i64,
    end_ms: i64,
) -> Rc<SignalOut> {
    let last = members.last().unwrap_or(emitted_by);
    let version = rule.version.to_string();
    let signal_id = deterministic_id(&[&rule.id, &version, &rule.entity, entity_key, window_key]);
    let from = members.len().saturating_sub(MAX_EVIDENCE);
    let signal = Rc::new(SignalOut {
        group: group_index,
        rule: tag,
        signal_id: Rc::from(signal_id),
        entity_key: entity_key.clone(),
        evidence: members[from..]
            .iter()
            .map(|item| item.event_id.clone())
            .collect(),
        shown,
        trigger_event_id: last.event_id.clone(),
        detected_ms: last.ts_ms,
        expires_ms: last.ts_ms + rule.ttl_ms,
    });
    state.fired.push(Fired {
        rule: tag,
        emitted_by: emitted_by.event_id.clone(),
        start_ms,
        end_ms,
        window_key: Rc::from(window_key),
        signal: signal.clone(),
    });
    signal
}

/// The entity key of an event under a key expression (`runner._key_in_view`).
pub fn key_value(group: &GroupPlan, event: &Value) -> Result<Option<Rc<str>>, GiveUp> {
    let mut vars: [Option<&Value>; N_VARS] = [None; N_VARS];
    vars[Var::Event as usize] = Some(event);
    let value = match group.key.evaluate(&Ctx { vars }) {
        Ok(value) => value,
        Err(Fault::Error(kind)) if swallowed(kind) => return Ok(None),
        Err(error) => return Err(fault("key", error)),
    };
    Ok(match value {
        Value::Null => None,
        Value::Str(text) if text.is_empty() => None,
        Value::Str(text) => Some(text),
        Value::Int(number) => Some(Rc::from(number.to_string())),
        Value::Float(number) => Some(Rc::from(crate::value::python_float_repr(number))),
        Value::Bool(flag) => Some(Rc::from(if flag { "True" } else { "False" })),
        Value::Map(_) | Value::List(_) | Value::Event(_) => None,
    })
}

/// The errors the key lookup treats as "no key": all of them (`EVALUATION_ERRORS`).
pub fn swallowed(_kind: ErrorKind) -> bool {
    true
}
