//! The scorer's functional core for replay: `gather` + `score` of
//! `riskstream/agents/scoring.py`, the `ProfileBook` of `riskstream/tables/books.py`,
//! and `decision_line` of `riskstream/offline/replay.py` as `orjson.dumps` writes it.
//!
//! Replay has no operator entries (its `PenaltyBook` stays empty), so the entries in
//! force are those that rules impose through their signals' `penalty`; they go through
//! the same steps as in the reference (a frozen account or a blocked entity rejects, an
//! allow-listed account accepts, an allow-listed entity is silenced, step-up and review
//! entries raise the decision). The operator limit check reads operator entries only,
//! so it can never fire here.

mod output;
mod profiles;
#[cfg(test)]
mod tests;

use rustc_hash::FxHashSet as HashSet;
use std::rc::Rc;

use crate::cel::{Ctx, Expr, Fault, Var, N_VARS};
use crate::dec::Dec;
use crate::value::{slot, Value};

pub use output::{decision_line, push_json_str};
pub use profiles::{ActiveSignal, ProfileBook};

/// The entities a transaction touches: (entity type, slot of the transaction's field),
/// as `TRANSACTION_ENTITIES`.
pub const TRANSACTION_ENTITIES: [(&str, usize); 6] = [
    ("account", slot::ACCOUNT_ID),
    ("device", slot::DEVICE_ID),
    ("ip", slot::IP),
    ("counterparty", slot::COUNTERPARTY_ID),
    ("merchant", slot::COUNTERPARTY_ID),
    ("instrument", slot::INSTRUMENT_ID),
];

/// A compiled scoring rule (`CompiledScoreRule`); `active` is `mode == "active"`.
pub struct ScoreRule {
    pub id: Rc<str>,
    pub code: Rc<str>,
    pub description: Rc<str>,
    pub points: i64,
    pub active: bool,
    pub when: Expr,
}

/// `DecisionPolicy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    pub review_at: i64,
    pub challenge_at: i64,
    pub reject_at: i64,
    pub unknown: &'static str,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            review_at: 40,
            challenge_at: 60,
            reject_at: 80,
            unknown: "review",
        }
    }
}

impl Policy {
    pub fn decide(&self, score: i64) -> &'static str {
        if score < 0 {
            self.unknown
        } else if score >= self.reject_at {
            "reject"
        } else if score >= self.challenge_at {
            "challenge"
        } else if score >= self.review_at {
            "review"
        } else {
            "accept"
        }
    }
}

fn rank(decision: &str) -> u8 {
    match decision {
        "accept" => 0,
        "review" => 1,
        "challenge" => 2,
        "reject" => 3,
        _ => unreachable!("a decision kind"),
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Reason {
    pub code: Rc<str>,
    pub detail: String,
    pub signal_id: Option<Rc<str>>,
    pub rule_id: Option<Rc<str>>,
}

impl Reason {
    fn plain(code: &str, detail: String) -> Reason {
        Reason {
            code: Rc::from(code),
            detail,
            signal_id: None,
            rule_id: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub score: i64,
    pub decision: &'static str,
    pub reasons: Vec<Reason>,
}

/// `_FLOORS`: (decision, entry kind, reason code).
const FLOORS: [(&str, &str, &str); 2] = [
    ("challenge", "step_up", "STEP_UP_REQUIRED"),
    ("review", "review", "REVIEW_REQUIRED"),
];

/// `Evidence.signals`: entity type -> signals, in insertion order.
type Signals<'a> = Vec<(&'a str, Vec<ActiveSignal>)>;

/// gather + score for one transaction (`gather(...)` then `score(...)`).
///
/// `view`: the transaction's view (`cel_view(project(txn))`, a `Value::Event`), whose
/// slots give the entity ids; `ts_ms`: its event time; `own`: (entity type, signal) of
/// the signals the transaction itself fires on its account's rules, in order;
/// `spent_today`: the account's outgoing total that day before it. `txn_type` and
/// `amount` feed only the operator limit check, which has no entries in replay.
#[allow(clippy::too_many_arguments)]
pub fn decide(
    view: &Value,
    ts_ms: i64,
    txn_type: &str,
    amount: Dec,
    spent_today: Dec,
    own: &[(Rc<str>, ActiveSignal)],
    profiles: &mut ProfileBook,
    rules: &[ScoreRule],
    policy: &Policy,
) -> Result<Decision, Fault> {
    let _ = (txn_type, amount);
    // gather
    let mut signals: Signals = Vec::new();
    for (kind, field) in TRANSACTION_ENTITIES {
        let entity_id = match view.field(crate::value::EVENT_FIELDS[field]) {
            None | Some(Value::Null) => continue,
            Some(Value::Str(text)) => text,
            Some(_) => return Err(Fault::Fallback), // an identifier is a string
        };
        if entity_id.is_empty() {
            continue;
        }
        let live = profiles.active(kind, entity_id, ts_ms);
        if !live.is_empty() {
            signals.push((kind, live));
        }
        // Operator entries (`penalties.for_entity`): none in replay.
    }
    for (entity_type, signal) in own {
        let at = match signals.iter().position(|(kind, _)| *kind == &**entity_type) {
            Some(at) => at,
            None => {
                signals.push((&**entity_type, Vec::new()));
                signals.len() - 1
            }
        };
        let known = &mut signals[at].1;
        if known.iter().all(|item| item.signal_id != signal.signal_id) {
            known.push(signal.clone());
        }
    }
    score(view, &signals, spent_today, rules, policy)
}

/// `_imposed` as (entity type, kind) pairs, distinct, in order of appearance.
fn imposed<'s>(signals: &'s Signals) -> Vec<(&'s str, &'s str)> {
    let mut kinds: Vec<(&str, &str)> = Vec::new();
    for (entity, list) in signals {
        for signal in list {
            if let Some(kind) = signal.imposed_kind() {
                let pair = (*entity, &**kind);
                if !kinds.contains(&pair) {
                    kinds.push(pair);
                }
            }
        }
    }
    kinds
}

/// `_entries_decide`: the decision when entries in force decide alone.
fn entries_decide(kinds: &[(&str, &str)]) -> Option<Decision> {
    if kinds.contains(&("account", "freeze")) {
        let reason = Reason::plain("ACCOUNT_FROZEN", "the account is frozen".into());
        return Some(Decision {
            score: 100,
            decision: "reject",
            reasons: vec![reason],
        });
    }
    let mut blocked: Vec<&str> = kinds
        .iter()
        .filter(|(_, kind)| *kind == "block")
        .map(|(entity, _)| *entity)
        .collect();
    if !blocked.is_empty() {
        blocked.sort_unstable();
        let reason = Reason::plain("ENTITY_BLOCKED", format!("blocked: {}", blocked.join(", ")));
        return Some(Decision {
            score: 100,
            decision: "reject",
            reasons: vec![reason],
        });
    }
    if kinds.contains(&("account", "allow")) {
        let reason = Reason::plain("ALLOW_LISTED", "the account is trusted".into());
        return Some(Decision {
            score: 0,
            decision: "accept",
            reasons: vec![reason],
        });
    }
    // `_limit_exceeded` reads operator entries only: none in replay.
    None
}

fn empty_profile() -> Value {
    Value::map(vec![
        ("count", Value::Int(0)),
        ("max_severity", Value::Int(0)),
        ("patterns", Value::List(Rc::new(Vec::new()))),
    ])
}

/// `Evidence.variables()`'s `profiles`: the entity types with signals in their order,
/// then a default for every other type of `TRANSACTION_ENTITIES`.
fn profiles_value(signals: &Signals) -> Value {
    let mut items: Vec<(Rc<str>, Value)> = Vec::with_capacity(signals.len() + 6);
    for (kind, list) in signals {
        let max_severity = list.iter().map(|signal| signal.severity).max().unwrap_or(0);
        let mut patterns: Vec<&Rc<str>> = list.iter().map(|signal| &signal.pattern).collect();
        patterns.sort_unstable();
        patterns.dedup();
        let patterns = patterns
            .into_iter()
            .map(|pattern| Value::Str(pattern.clone()))
            .collect();
        let profile = Value::map(vec![
            ("count", Value::Int(list.len() as i64)),
            ("max_severity", Value::Int(max_severity)),
            ("patterns", Value::List(Rc::new(patterns))),
        ]);
        items.push((Rc::from(*kind), profile));
    }
    for (kind, _) in TRANSACTION_ENTITIES {
        if !items.iter().any(|(known, _)| &**known == kind) {
            items.push((Rc::from(kind), empty_profile()));
        }
    }
    Value::Map(Rc::new(items))
}

/// `Evidence.variables()`'s `penalties`: the operator entries' kinds by entity type
/// (none in replay: an empty list for every type).
fn penalties_value() -> Value {
    let mut items: Vec<(Rc<str>, Value)> = Vec::with_capacity(6);
    for (kind, _) in TRANSACTION_ENTITIES {
        if !items.iter().any(|(known, _)| &**known == kind) {
            items.push((Rc::from(kind), Value::List(Rc::new(Vec::new()))));
        }
    }
    Value::Map(Rc::new(items))
}

thread_local! {
    static EMPTY_PROFILES: Value = profiles_value(&Vec::new());
    static PENALTIES: Value = penalties_value();
}

/// `score`: the evidence gathered (`signals`) to a decision.
fn score(
    view: &Value,
    signals: &Signals,
    spent_today: Dec,
    rules: &[ScoreRule],
    policy: &Policy,
) -> Result<Decision, Fault> {
    let kinds = imposed(signals);
    if !kinds.is_empty() {
        if let Some(alone) = entries_decide(&kinds) {
            return Ok(alone);
        }
    }
    let allowed: Vec<&str> = kinds
        .iter()
        .filter(|(_, kind)| *kind == "allow")
        .map(|(entity, _)| *entity)
        .collect();
    let mut contributions: Vec<(i64, Reason)> = Vec::new();
    let mut order: Vec<usize> = (0..signals.len()).collect();
    order.sort_by(|a, b| signals[*a].0.cmp(signals[*b].0));
    for index in order {
        let (entity, list) = &signals[index];
        if allowed.contains(entity) {
            continue;
        }
        // Each rule is represented by its first signal in the list (the strongest).
        let mut seen: HashSet<&str> = HashSet::default();
        for signal in list {
            if !seen.insert(&signal.rule_id) {
                continue;
            }
            contributions.push((
                signal.severity,
                Reason {
                    code: Rc::from("SIGNAL"),
                    detail: format!("{} on {}", signal.pattern, entity),
                    signal_id: Some(signal.signal_id.clone()),
                    rule_id: Some(signal.rule_id.clone()),
                },
            ));
        }
    }
    // Most transactions meet no signal: their profiles, like every penalties value in
    // replay, are the same value each time.
    let profiles = if signals.is_empty() {
        EMPTY_PROFILES.with(Value::clone)
    } else {
        profiles_value(signals)
    };
    let penalties = PENALTIES.with(Value::clone);
    let spent = Value::Float(spent_today.to_f64());
    let mut vars: [Option<&Value>; N_VARS] = [None; N_VARS];
    vars[Var::Event as usize] = Some(view);
    vars[Var::Profiles as usize] = Some(&profiles);
    vars[Var::Penalties as usize] = Some(&penalties);
    vars[Var::SpentToday as usize] = Some(&spent);
    let ctx = Ctx { vars };
    for rule in rules {
        if rule.active && rule.when.test(&ctx)? {
            let reason = Reason {
                code: rule.code.clone(),
                detail: rule.description.to_string(),
                signal_id: None,
                rule_id: Some(rule.id.clone()),
            };
            contributions.push((rule.points, reason));
        }
    }
    let (points, mut reasons) = if contributions.is_empty() {
        (0, Vec::new())
    } else {
        let points = combined(contributions.iter().map(|(points, _)| *points));
        (effect_capped(points, &contributions, signals, policy), {
            contributions.sort_by_key(|(points, _)| -points); // stable, as `sorted`
            contributions
                .into_iter()
                .map(|(_, reason)| reason)
                .collect()
        })
    };
    let mut decision = policy.decide(points);
    if !kinds.is_empty() {
        for (floor, kind, code) in FLOORS {
            if kinds.iter().any(|(_, imposed)| *imposed == kind) && rank(decision) < rank(floor) {
                decision = floor;
                reasons.push(Reason::plain(code, format!("a {kind} entry is in force")));
            }
        }
    }
    Ok(Decision {
        score: points,
        decision,
        reasons,
    })
}

/// `_effect_capped`: `points` capped at `review_at - 1` (0 at least) when every
/// contribution is a signal of a `score`-effect rule; any other contribution (a
/// decide-effect signal, a matching scoring rule) leaves them as they are.
fn effect_capped(
    points: i64,
    contributions: &[(i64, Reason)],
    signals: &Signals,
    policy: &Policy,
) -> i64 {
    if points < policy.review_at {
        return points;
    }
    let weak = |id: &Rc<str>| {
        signals
            .iter()
            .flat_map(|(_, list)| list.iter())
            .any(|signal| signal.score_only && signal.signal_id == *id)
    };
    let all_weak = contributions
        .iter()
        .all(|(_, reason)| reason.signal_id.as_ref().is_some_and(weak));
    if all_weak {
        (policy.review_at - 1).max(0)
    } else {
        points
    }
}

/// `round(100 * (1 - prod(1 - p / 100)))` in Python's float arithmetic (`round` of a
/// float is round-half-even).
pub fn combined(points: impl IntoIterator<Item = i64>) -> i64 {
    let mut remaining = 1.0_f64;
    for p in points {
        remaining *= 1.0 - p as f64 / 100.0;
    }
    (100.0 * (1.0 - remaining)).round_ties_even() as i64
}
