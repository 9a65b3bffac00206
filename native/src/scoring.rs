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

use std::cmp::Ordering;
use std::collections::BTreeMap;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::rc::Rc;

use crate::cel::{Ctx, Expr, Fault, Var, N_VARS};
use crate::dec::Dec;
use crate::value::{slot, Value};

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

/// An active signal as the profiles keep it (`books.ActiveSignal`).
///
/// `penalty_kind` stands for the reference's `penalty` dict: `Some(str(penalty["kind"]))`
/// when the penalty is a non-empty dict with a truthy `kind`, None otherwise (that is all
/// the scorer reads of it). `Some("")` counts as None.
#[derive(Clone, Debug, PartialEq)]
pub struct ActiveSignal {
    pub signal_id: Rc<str>,
    pub pattern: Rc<str>,
    pub rule_id: Rc<str>,
    pub severity: i64,
    pub detected_ms: i64,
    pub expires_ms: i64,
    pub penalty_kind: Option<Rc<str>>,
    pub trigger_event_id: Rc<str>,
}

impl ActiveSignal {
    fn imposed_kind(&self) -> Option<&Rc<str>> {
        self.penalty_kind.as_ref().filter(|kind| !kind.is_empty())
    }
}

/// The latest verdict on a transaction: its place in the order of arrival (the
/// `OrderedDict`'s), its time, and whether it is `legit`.
#[derive(Clone, Copy, Debug)]
struct Verdict {
    seq: u64,
    occurred_ms: i64,
    legit: bool,
}

/// Rule id -> the kept signals of the rule, both in insertion order (the reference's
/// dicts; the order decides ties in `active`'s stable sort).
type ByRule = Vec<(Rc<str>, Vec<ActiveSignal>)>;

/// `books.ProfileBook`: active signals by entity and rule, each rule kept to its
/// `keep_per_rule` latest signals; expired ones drop out, and those whose triggering
/// transaction has a `legit` verdict stop counting (until a later `fraud` verdict).
#[derive(Debug)]
pub struct ProfileBook {
    /// entity type -> entity id -> signals by rule.
    by_entity: HashMap<Rc<str>, HashMap<Rc<str>, ByRule>>,
    pub keep_per_rule: usize,
    pub applied: u64,
    verdicts: HashMap<Rc<str>, Verdict>,
    /// seq -> transaction id: the `OrderedDict`'s order, oldest first.
    verdict_order: BTreeMap<u64, Rc<str>>,
    next_seq: u64,
    keep_verdicts: usize,
}

impl Default for ProfileBook {
    fn default() -> Self {
        ProfileBook::new(8, 200_000)
    }
}

impl ProfileBook {
    pub fn new(keep_per_rule: usize, keep_verdicts: usize) -> ProfileBook {
        ProfileBook {
            by_entity: HashMap::default(),
            keep_per_rule,
            applied: 0,
            verdicts: HashMap::default(),
            verdict_order: BTreeMap::new(),
            next_seq: 0,
            keep_verdicts,
        }
    }

    /// A feedback event's verdict on `target_event_id` (`apply_verdict`): the latest by
    /// time wins, an older one is ignored; the newest `keep_verdicts` are kept.
    pub fn apply_verdict(&mut self, target_event_id: &str, label: &str, occurred_ms: i64) {
        let legit = label == "legit";
        let seq = self.next_seq;
        match self.verdicts.get_mut(target_event_id) {
            Some(known) => {
                if known.occurred_ms > occurred_ms {
                    return;
                }
                // Assigning keeps the key's place; move_to_end then makes it the newest.
                let key = self
                    .verdict_order
                    .remove(&known.seq)
                    .expect("ordered verdict");
                *known = Verdict {
                    seq,
                    occurred_ms,
                    legit,
                };
                self.verdict_order.insert(seq, key);
            }
            None => {
                let key: Rc<str> = Rc::from(target_event_id);
                self.verdicts.insert(
                    key.clone(),
                    Verdict {
                        seq,
                        occurred_ms,
                        legit,
                    },
                );
                self.verdict_order.insert(seq, key);
            }
        }
        self.next_seq += 1;
        if self.verdicts.len() > self.keep_verdicts {
            if let Some((_, oldest)) = self.verdict_order.pop_first() {
                self.verdicts.remove(&oldest);
            }
        }
    }

    /// The number of verdicts kept.
    pub fn verdict_count(&self) -> usize {
        self.verdicts.len()
    }

    /// A published signal on an entity (`add`).
    pub fn add(&mut self, entity_type: &str, entity_id: &str, signal: ActiveSignal) {
        let ids = match self.by_entity.get_mut(entity_type) {
            Some(ids) => ids,
            None => self.by_entity.entry(Rc::from(entity_type)).or_default(),
        };
        let by_rule = match ids.get_mut(entity_id) {
            Some(by_rule) => by_rule,
            None => ids.entry(Rc::from(entity_id)).or_default(),
        };
        let at = match by_rule
            .iter()
            .position(|(rule_id, _)| *rule_id == signal.rule_id)
        {
            Some(at) => at,
            None => {
                by_rule.push((signal.rule_id.clone(), Vec::new()));
                by_rule.len() - 1
            }
        };
        let kept = &mut by_rule[at].1;
        // `kept[signal_id] = signal`: a known id keeps its place.
        match kept
            .iter()
            .position(|item| item.signal_id == signal.signal_id)
        {
            Some(known) => kept[known] = signal,
            None => kept.push(signal),
        }
        if kept.len() > self.keep_per_rule {
            // `min` by (detected_ms, signal_id): the first of the smallest.
            let mut oldest = 0;
            for (index, item) in kept.iter().enumerate().skip(1) {
                let best = &kept[oldest];
                let order = item
                    .detected_ms
                    .cmp(&best.detected_ms)
                    .then_with(|| item.signal_id.cmp(&best.signal_id));
                if order == Ordering::Less {
                    oldest = index;
                }
            }
            kept.remove(oldest);
        }
        self.applied += 1;
    }

    fn cleared(verdicts: &HashMap<Rc<str>, Verdict>, signal: &ActiveSignal) -> bool {
        verdicts
            .get(&*signal.trigger_event_id)
            .is_some_and(|verdict| verdict.legit)
    }

    /// The live signals on an entity at `now_ms`, strongest first (by `(-severity,
    /// signal_id)`, stable); expired ones are dropped from the book on the way.
    pub fn active(&mut self, entity_type: &str, entity_id: &str, now_ms: i64) -> Vec<ActiveSignal> {
        let Some(ids) = self.by_entity.get_mut(entity_type) else {
            return Vec::new();
        };
        let Some(by_rule) = ids.get_mut(entity_id) else {
            return Vec::new();
        };
        if by_rule.is_empty() {
            return Vec::new();
        }
        let verdicts = &self.verdicts;
        let mut live: Vec<ActiveSignal> = Vec::new();
        by_rule.retain_mut(|(_, kept)| {
            kept.retain(|signal| signal.expires_ms > now_ms);
            live.extend(
                kept.iter()
                    .filter(|signal| !Self::cleared(verdicts, signal))
                    .cloned(),
            );
            !kept.is_empty()
        });
        if by_rule.is_empty() {
            ids.remove(entity_id);
            if ids.is_empty() {
                self.by_entity.remove(entity_type);
            }
        }
        live.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.signal_id.cmp(&b.signal_id))
        });
        live
    }

    /// The number of entities with signals kept (`len(book)`).
    pub fn len(&self) -> usize {
        self.by_entity.values().map(HashMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

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
        (combined(contributions.iter().map(|(points, _)| *points)), {
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

/// `round(100 * (1 - prod(1 - p / 100)))` in Python's float arithmetic (`round` of a
/// float is round-half-even).
pub fn combined(points: impl IntoIterator<Item = i64>) -> i64 {
    let mut remaining = 1.0_f64;
    for p in points {
        remaining *= 1.0 - p as f64 / 100.0;
    }
    (100.0 * (1.0 - remaining)).round_ties_even() as i64
}

/// A string as orjson writes it: UTF-8 kept; `"`, `\` and control characters escaped
/// (`\b \t \n \f \r` short, the others `\u00xx` in lower-case hex).
pub fn push_json_str(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = text.as_bytes();
    let mut start = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        let short: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            0x0c => b"\\f",
            b'\r' => b"\\r",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..index]);
        if short.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[(byte >> 4) as usize]);
            out.push(HEX[(byte & 0xf) as usize]);
        } else {
            out.extend_from_slice(short);
        }
        start = index + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// `orjson.dumps(decision_line(decision))`: `{"event_id","score","decision","reasons":
/// [{"code","detail"(,"signal_id")(,"rule_id")}]}`, None fields left out.
pub fn decision_line(event_id: &str, decision: &Decision) -> Vec<u8> {
    let mut out = Vec::with_capacity(96 + 128 * decision.reasons.len());
    out.extend_from_slice(b"{\"event_id\":");
    push_json_str(&mut out, event_id);
    out.extend_from_slice(b",\"score\":");
    out.extend_from_slice(decision.score.to_string().as_bytes());
    out.extend_from_slice(b",\"decision\":");
    push_json_str(&mut out, decision.decision);
    out.extend_from_slice(b",\"reasons\":[");
    for (index, reason) in decision.reasons.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"code\":");
        push_json_str(&mut out, &reason.code);
        out.extend_from_slice(b",\"detail\":");
        push_json_str(&mut out, &reason.detail);
        if let Some(signal_id) = &reason.signal_id {
            out.extend_from_slice(b",\"signal_id\":");
            push_json_str(&mut out, signal_id);
        }
        if let Some(rule_id) = &reason.rule_id {
            out.extend_from_slice(b",\"rule_id\":");
            push_json_str(&mut out, rule_id);
        }
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{event_slot, EventView};
    use serde_json::Value as Json;

    /// Scenarios run through the Python reference (`gather` + `score` with the real
    /// `ProfileBook`, `orjson.dumps(decision_line(...))`): each step adds a signal to the
    /// profiles, applies a verdict, lists an entity's active signals, counts the book's
    /// entities, or decides a transaction (its `view` is `cel_view(project(txn))`); the
    /// `expect`ed outputs are the reference's.
    const FIXTURE: &str = r###"{"default_rules":[{"id":"score.large_amount","code":"LARGE_AMOUNT","description":"A single outgoing transaction of 20000 or more.","points":25,"mode":"active","when":"event.kind == \"transaction\" && event.type != \"top_up\" && event.type != \"refund\" && event.amount >= 20000.0"},{"id":"score.several_patterns","code":"SEVERAL_PATTERNS","description":"The account shows two or more different risk patterns at once.","points":30,"mode":"active","when":"size(profiles.account.patterns) >= 2"},{"id":"score.risky_counterparty","code":"RISKY_COUNTERPARTY","description":"Money goes to a counterparty (account or merchant) that has an active high-severity signal.","points":35,"mode":"active","when":"profiles.counterparty.max_severity >= 70 || profiles.merchant.max_severity >= 70"}],
"scenarios":[
{"name":"no signals","steps":[{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t1","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t1\",\"score\":0,\"decision\":\"accept\",\"reasons\":[]}"}],"rules":"default"},
{"name":"two signals of 50","steps":[{"add":["account","acc1",{"signal_id":"s1","pattern":"burst","rule_id":"r.burst","severity":50,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["device","dev1",{"signal_id":"s2","pattern":"shared_device","rule_id":"r.dev","severity":50,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t1","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t1\",\"score\":75,\"decision\":\"challenge\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"burst on account\",\"signal_id\":\"s1\",\"rule_id\":\"r.burst\"},{\"code\":\"SIGNAL\",\"detail\":\"shared_device on device\",\"signal_id\":\"s2\",\"rule_id\":\"r.dev\"}]}"}],"rules":"default"},
{"name":"large amount","steps":[{"txn":{"ts_ms":1700000000000,"amount":"25000.00","view":{"event_id":"t1","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":25000.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t1\",\"score\":25,\"decision\":\"accept\",\"reasons\":[{\"code\":\"LARGE_AMOUNT\",\"detail\":\"A single outgoing transaction of 20000 or more.\",\"rule_id\":\"score.large_amount\"}]}"},{"txn":{"ts_ms":1700000000000,"amount":"25000","view":{"event_id":"t2","type":"top_up","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":25000.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t2\",\"score\":0,\"decision\":\"accept\",\"reasons\":[]}"},{"txn":{"ts_ms":1700000000000,"amount":"19999.99999999","view":{"event_id":"t3","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":19999.99999999,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t3\",\"score\":0,\"decision\":\"accept\",\"reasons\":[]}"}],"rules":"default"},
{"name":"several patterns","steps":[{"add":["account","acc1",{"signal_id":"s1","pattern":"burst","rule_id":"r.burst","severity":20,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s2","pattern":"takeover","rule_id":"r.takeover","severity":30,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s3","pattern":"burst","rule_id":"r.burst","severity":25,"detected_ms":1699992800000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t1","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t1\",\"score\":63,\"decision\":\"challenge\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"takeover on account\",\"signal_id\":\"s2\",\"rule_id\":\"r.takeover\"},{\"code\":\"SEVERAL_PATTERNS\",\"detail\":\"The account shows two or more different risk patterns at once.\",\"rule_id\":\"score.several_patterns\"},{\"code\":\"SIGNAL\",\"detail\":\"burst on account\",\"signal_id\":\"s3\",\"rule_id\":\"r.burst\"}]}"}],"rules":"default"},
{"name":"risky counterparty","steps":[{"add":["counterparty","cp1",{"signal_id":"s1","pattern":"mule","rule_id":"r.mule","severity":70,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t1","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t1\",\"score\":80,\"decision\":\"reject\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"mule on counterparty\",\"signal_id\":\"s1\",\"rule_id\":\"r.mule\"},{\"code\":\"RISKY_COUNTERPARTY\",\"detail\":\"Money goes to a counterparty (account or merchant) that has an active high-severity signal.\",\"rule_id\":\"score.risky_counterparty\"}]}"},{"add":["merchant","cp2",{"signal_id":"s2","pattern":"bad_merchant","rule_id":"r.merchant","severity":75,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t2","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp2","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t2\",\"score\":84,\"decision\":\"reject\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"bad_merchant on merchant\",\"signal_id\":\"s2\",\"rule_id\":\"r.merchant\"},{\"code\":\"RISKY_COUNTERPARTY\",\"detail\":\"Money goes to a counterparty (account or merchant) that has an active high-severity signal.\",\"rule_id\":\"score.risky_counterparty\"}]}"},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t3","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":null,"amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t3\",\"score\":0,\"decision\":\"accept\",\"reasons\":[]}"}],"rules":"default"},
{"name":"all three rules","steps":[{"add":["account","acc1",{"signal_id":"s1","pattern":"burst","rule_id":"r.burst","severity":40,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s2","pattern":"takeover","rule_id":"r.takeover","severity":10,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["counterparty","cp1",{"signal_id":"s3","pattern":"mule","rule_id":"r.mule","severity":90,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"50000","view":{"event_id":"t1","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":50000.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t1\",\"score\":98,\"decision\":\"reject\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"mule on counterparty\",\"signal_id\":\"s3\",\"rule_id\":\"r.mule\"},{\"code\":\"SIGNAL\",\"detail\":\"burst on account\",\"signal_id\":\"s1\",\"rule_id\":\"r.burst\"},{\"code\":\"RISKY_COUNTERPARTY\",\"detail\":\"Money goes to a counterparty (account or merchant) that has an active high-severity signal.\",\"rule_id\":\"score.risky_counterparty\"},{\"code\":\"SEVERAL_PATTERNS\",\"detail\":\"The account shows two or more different risk patterns at once.\",\"rule_id\":\"score.several_patterns\"},{\"code\":\"LARGE_AMOUNT\",\"detail\":\"A single outgoing transaction of 20000 or more.\",\"rule_id\":\"score.large_amount\"},{\"code\":\"SIGNAL\",\"detail\":\"takeover on account\",\"signal_id\":\"s2\",\"rule_id\":\"r.takeover\"}]}"}],"rules":"default"},
{"name":"freeze via signal","steps":[{"add":["device","dev1",{"signal_id":"s0","pattern":"frozen_device","rule_id":"r.fd","severity":20,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":{"kind":"freeze"},"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t0","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t0\",\"score\":20,\"decision\":\"accept\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"frozen_device on device\",\"signal_id\":\"s0\",\"rule_id\":\"r.fd\"}]}"},{"add":["account","acc1",{"signal_id":"s1","pattern":"takeover","rule_id":"r.takeover","severity":20,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":{"kind":"freeze"},"trigger_event_id":""}]},{"add":["device","dev1",{"signal_id":"s2","pattern":"bad_device","rule_id":"r.dev","severity":30,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":{"kind":"block"},"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t1","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t1\",\"score\":100,\"decision\":\"reject\",\"reasons\":[{\"code\":\"ACCOUNT_FROZEN\",\"detail\":\"the account is frozen\"}]}"}],"rules":"default"},
{"name":"block via signals","steps":[{"add":["ip","10.1.2.3",{"signal_id":"s1","pattern":"bad_ip","rule_id":"r.ip","severity":20,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":{"kind":"block"},"trigger_event_id":""}]},{"add":["device","dev1",{"signal_id":"s2","pattern":"bad_device","rule_id":"r.dev","severity":30,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":{"kind":"block"},"trigger_event_id":""}]},{"add":["instrument","card9",{"signal_id":"s3","pattern":"bad_card","rule_id":"r.card","severity":30,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":{"kind":"block"},"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t1","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t1\",\"score\":100,\"decision\":\"reject\",\"reasons\":[{\"code\":\"ENTITY_BLOCKED\",\"detail\":\"blocked: device, ip\"}]}"},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t2","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":"card9","status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t2\",\"score\":100,\"decision\":\"reject\",\"reasons\":[{\"code\":\"ENTITY_BLOCKED\",\"detail\":\"blocked: device, instrument, ip\"}]}"}],"rules":"default"},
{"name":"allow","steps":[{"add":["device","dev1",{"signal_id":"s1","pattern":"trusted_device","rule_id":"r.trust","severity":0,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":{"kind":"allow"},"trigger_event_id":""}]},{"add":["device","dev1",{"signal_id":"s2","pattern":"shared_device","rule_id":"r.dev","severity":60,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["ip","10.1.2.3",{"signal_id":"s3","pattern":"proxy","rule_id":"r.proxy","severity":45,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t1","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t1\",\"score\":45,\"decision\":\"review\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"proxy on ip\",\"signal_id\":\"s3\",\"rule_id\":\"r.proxy\"}]}"},{"add":["account","acc1",{"signal_id":"s4","pattern":"vip","rule_id":"r.vip","severity":0,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":{"kind":"allow"},"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t2","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t2\",\"score\":0,\"decision\":\"accept\",\"reasons\":[{\"code\":\"ALLOW_LISTED\",\"detail\":\"the account is trusted\"}]}"}],"rules":"default"},
{"name":"floors","steps":[{"add":["account","acc1",{"signal_id":"s1","pattern":"odd_login","rule_id":"r.login","severity":10,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":{"kind":"step_up"},"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t1","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t1\",\"score\":10,\"decision\":\"challenge\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"odd_login on account\",\"signal_id\":\"s1\",\"rule_id\":\"r.login\"},{\"code\":\"STEP_UP_REQUIRED\",\"detail\":\"a step_up entry is in force\"}]}"},{"add":["device","dev1",{"signal_id":"s2","pattern":"new_device","rule_id":"r.newdev","severity":5,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":{"kind":"review"},"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t2","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t2\",\"score\":15,\"decision\":\"challenge\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"odd_login on account\",\"signal_id\":\"s1\",\"rule_id\":\"r.login\"},{\"code\":\"SIGNAL\",\"detail\":\"new_device on device\",\"signal_id\":\"s2\",\"rule_id\":\"r.newdev\"},{\"code\":\"STEP_UP_REQUIRED\",\"detail\":\"a step_up entry is in force\"}]}"},{"add":["ip","10.1.2.3",{"signal_id":"s3","pattern":"tor","rule_id":"r.tor","severity":90,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":{"kind":"limit"},"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t3","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t3\",\"score\":91,\"decision\":\"reject\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"tor on ip\",\"signal_id\":\"s3\",\"rule_id\":\"r.tor\"},{\"code\":\"SIGNAL\",\"detail\":\"odd_login on account\",\"signal_id\":\"s1\",\"rule_id\":\"r.login\"},{\"code\":\"SIGNAL\",\"detail\":\"new_device on device\",\"signal_id\":\"s2\",\"rule_id\":\"r.newdev\"}]}"},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t4","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev2","ip":"10.9.9.9","ip_prefix":"10.9.9.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t4\",\"score\":10,\"decision\":\"challenge\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"odd_login on account\",\"signal_id\":\"s1\",\"rule_id\":\"r.login\"},{\"code\":\"STEP_UP_REQUIRED\",\"detail\":\"a step_up entry is in force\"}]}"},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t5","type":"payment","account_id":"acc2","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.9.9.9","ip_prefix":"10.9.9.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t5\",\"score\":5,\"decision\":\"review\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"new_device on device\",\"signal_id\":\"s2\",\"rule_id\":\"r.newdev\"},{\"code\":\"REVIEW_REQUIRED\",\"detail\":\"a review entry is in force\"}]}"}],"rules":"default"},
{"name":"verdicts","steps":[{"add":["account","acc1",{"signal_id":"s1","pattern":"burst","rule_id":"r.burst","severity":50,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":"tx9"}]},{"add":["account","acc1",{"signal_id":"s2","pattern":"takeover","rule_id":"r.takeover","severity":30,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":"tx8"}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t1","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t1\",\"score\":76,\"decision\":\"challenge\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"burst on account\",\"signal_id\":\"s1\",\"rule_id\":\"r.burst\"},{\"code\":\"SIGNAL\",\"detail\":\"takeover on account\",\"signal_id\":\"s2\",\"rule_id\":\"r.takeover\"},{\"code\":\"SEVERAL_PATTERNS\",\"detail\":\"The account shows two or more different risk patterns at once.\",\"rule_id\":\"score.several_patterns\"}]}"},{"verdict":["tx9","legit",1700000000010]},{"txn":{"ts_ms":1700000000020,"amount":"10.00","view":{"event_id":"t2","type":"payment","account_id":"acc1","ts":1700000000.02,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t2\",\"score\":30,\"decision\":\"accept\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"takeover on account\",\"signal_id\":\"s2\",\"rule_id\":\"r.takeover\"}]}"},{"verdict":["tx9","fraud",1700000000005]},{"txn":{"ts_ms":1700000000030,"amount":"10.00","view":{"event_id":"t3","type":"payment","account_id":"acc1","ts":1700000000.03,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t3\",\"score\":30,\"decision\":\"accept\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"takeover on account\",\"signal_id\":\"s2\",\"rule_id\":\"r.takeover\"}]}"},{"verdict":["tx9","fraud",1700000000040]},{"txn":{"ts_ms":1700000000050,"amount":"10.00","view":{"event_id":"t4","type":"payment","account_id":"acc1","ts":1700000000.05,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t4\",\"score\":76,\"decision\":\"challenge\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"burst on account\",\"signal_id\":\"s1\",\"rule_id\":\"r.burst\"},{\"code\":\"SIGNAL\",\"detail\":\"takeover on account\",\"signal_id\":\"s2\",\"rule_id\":\"r.takeover\"},{\"code\":\"SEVERAL_PATTERNS\",\"detail\":\"The account shows two or more different risk patterns at once.\",\"rule_id\":\"score.several_patterns\"}]}"},{"verdict":["tx8","legit",1700000000060]},{"active":["account","acc1",1700000000070],"expect":["s1"]},{"verdict":["tx9","legit",1700000000060]},{"txn":{"ts_ms":1700000000080,"amount":"10.00","view":{"event_id":"t5","type":"payment","account_id":"acc1","ts":1700000000.08,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t5\",\"score\":0,\"decision\":\"accept\",\"reasons\":[]}"},{"len":null,"expect":1}],"rules":"default"},
{"name":"keep per rule","steps":[{"add":["account","acc1",{"signal_id":"s0","pattern":"burst","rule_id":"r.burst","severity":10,"detected_ms":1699999980000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s1","pattern":"burst","rule_id":"r.burst","severity":11,"detected_ms":1699999981000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s2","pattern":"burst","rule_id":"r.burst","severity":12,"detected_ms":1699999982000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s3","pattern":"burst","rule_id":"r.burst","severity":13,"detected_ms":1699999983000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s4","pattern":"burst","rule_id":"r.burst","severity":14,"detected_ms":1699999984000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s5","pattern":"burst","rule_id":"r.burst","severity":15,"detected_ms":1699999985000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s6","pattern":"burst","rule_id":"r.burst","severity":16,"detected_ms":1699999986000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s7","pattern":"burst","rule_id":"r.burst","severity":17,"detected_ms":1699999987000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s8","pattern":"burst","rule_id":"r.burst","severity":18,"detected_ms":1699999988000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s9","pattern":"burst","rule_id":"r.burst","severity":19,"detected_ms":1699999989000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s0b","pattern":"burst","rule_id":"r.burst","severity":99,"detected_ms":1699999900000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s5","pattern":"burst","rule_id":"r.burst","severity":3,"detected_ms":1699999985000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"active":["account","acc1",1700000000000],"expect":["s9","s8","s7","s6","s4","s3","s2","s5"]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t1","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t1\",\"score\":19,\"decision\":\"accept\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"burst on account\",\"signal_id\":\"s9\",\"rule_id\":\"r.burst\"}]}"}],"rules":"default"},
{"name":"expiry","steps":[{"add":["account","acc1",{"signal_id":"s1","pattern":"burst","rule_id":"r.burst","severity":50,"detected_ms":1699996400000,"expires_ms":1700000000100,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s2","pattern":"takeover","rule_id":"r.takeover","severity":40,"detected_ms":1699996400000,"expires_ms":1700000000200,"penalty":null,"trigger_event_id":""}]},{"add":["device","dev1",{"signal_id":"s3","pattern":"shared","rule_id":"r.dev","severity":40,"detected_ms":1699996400000,"expires_ms":1700000000100,"penalty":null,"trigger_event_id":""}]},{"active":["account","acc1",1700000000099],"expect":["s1","s2"]},{"txn":{"ts_ms":1700000000100,"amount":"10.00","view":{"event_id":"t1","type":"payment","account_id":"acc1","ts":1700000000.1,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t1\",\"score\":40,\"decision\":\"review\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"takeover on account\",\"signal_id\":\"s2\",\"rule_id\":\"r.takeover\"}]}"},{"len":null,"expect":1},{"active":["account","acc1",1700000000100],"expect":["s2"]},{"txn":{"ts_ms":1700000000200,"amount":"10.00","view":{"event_id":"t2","type":"payment","account_id":"acc1","ts":1700000000.2,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t2\",\"score\":0,\"decision\":\"accept\",\"reasons\":[]}"},{"len":null,"expect":0},{"active":["account","acc1",1700000000300],"expect":[]}],"rules":"default"},
{"name":"own signals","steps":[{"add":["account","acc1",{"signal_id":"s1","pattern":"burst","rule_id":"r.burst","severity":30,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s0","pattern":"takeover","rule_id":"r.takeover","severity":30,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","own":[["account",{"signal_id":"s9","pattern":"burst","rule_id":"r.burst","severity":60,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":"none"}],["account",{"signal_id":"s1","pattern":"burst","rule_id":"r.burst","severity":30,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":"none"}],["counterparty",{"signal_id":"s8","pattern":"mule","rule_id":"r.mule","severity":70,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":"none"}],["counterparty",{"signal_id":"s8","pattern":"mule","rule_id":"r.mule","severity":70,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":"none"}],["counterparty",{"signal_id":"s7","pattern":"mule","rule_id":"r.mule","severity":80,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":{"kind":"step_up"},"trigger_event_id":"none"}]],"view":{"event_id":"t1","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t1\",\"score\":93,\"decision\":\"reject\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"mule on counterparty\",\"signal_id\":\"s8\",\"rule_id\":\"r.mule\"},{\"code\":\"RISKY_COUNTERPARTY\",\"detail\":\"Money goes to a counterparty (account or merchant) that has an active high-severity signal.\",\"rule_id\":\"score.risky_counterparty\"},{\"code\":\"SIGNAL\",\"detail\":\"takeover on account\",\"signal_id\":\"s0\",\"rule_id\":\"r.takeover\"},{\"code\":\"SIGNAL\",\"detail\":\"burst on account\",\"signal_id\":\"s1\",\"rule_id\":\"r.burst\"},{\"code\":\"SEVERAL_PATTERNS\",\"detail\":\"The account shows two or more different risk patterns at once.\",\"rule_id\":\"score.several_patterns\"}]}"},{"txn":{"ts_ms":1700000000000,"amount":"10.00","own":[["device",{"signal_id":"s6","pattern":"x","rule_id":"r.x","severity":35,"detected_ms":1699996400000,"expires_ms":1699999999999,"penalty":null,"trigger_event_id":"none"}]],"view":{"event_id":"t2","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t2\",\"score\":78,\"decision\":\"challenge\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"x on device\",\"signal_id\":\"s6\",\"rule_id\":\"r.x\"},{\"code\":\"SIGNAL\",\"detail\":\"takeover on account\",\"signal_id\":\"s0\",\"rule_id\":\"r.takeover\"},{\"code\":\"SIGNAL\",\"detail\":\"burst on account\",\"signal_id\":\"s1\",\"rule_id\":\"r.burst\"},{\"code\":\"SEVERAL_PATTERNS\",\"detail\":\"The account shows two or more different risk patterns at once.\",\"rule_id\":\"score.several_patterns\"}]}"}],"rules":"default"},
{"name":"ordering and escaping","steps":[{"add":["ip","10.1.2.3",{"signal_id":"s1","pattern":"p\"q\\r\n\u0001\u001f é 漢 😀","rule_id":"r.a","severity":20,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["device","dev1",{"signal_id":"s2","pattern":"b","rule_id":"r.b","severity":20,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s3","pattern":"c","rule_id":"r.c","severity":20,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s4","pattern":"d","rule_id":"r.d","severity":20,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"add":["account","acc1",{"signal_id":"s5","pattern":"e\t\b\f","rule_id":"r.e","severity":20,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t\"1","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t\\\"1\",\"score\":77,\"decision\":\"challenge\",\"reasons\":[{\"code\":\"SEVERAL_PATTERNS\",\"detail\":\"The account shows two or more different risk patterns at once.\",\"rule_id\":\"score.several_patterns\"},{\"code\":\"SIGNAL\",\"detail\":\"c on account\",\"signal_id\":\"s3\",\"rule_id\":\"r.c\"},{\"code\":\"SIGNAL\",\"detail\":\"d on account\",\"signal_id\":\"s4\",\"rule_id\":\"r.d\"},{\"code\":\"SIGNAL\",\"detail\":\"e\\t\\b\\f on account\",\"signal_id\":\"s5\",\"rule_id\":\"r.e\"},{\"code\":\"SIGNAL\",\"detail\":\"b on device\",\"signal_id\":\"s2\",\"rule_id\":\"r.b\"},{\"code\":\"SIGNAL\",\"detail\":\"p\\\"q\\\\r\\n\\u0001\\u001f é 漢 😀 on ip\",\"signal_id\":\"s1\",\"rule_id\":\"r.a\"}]}"}],"rules":"default"},
{"name":"custom rules","steps":[{"txn":{"ts_ms":1700000000000,"amount":"10.00","spent_today":"1000.5","view":{"event_id":"t1","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t1\",\"score\":20,\"decision\":\"accept\",\"reasons\":[{\"code\":\"SPENT\",\"detail\":\"Spent \\\"a lot\\\" today\\n(ü).\",\"rule_id\":\"score.spent\"}]}"},{"txn":{"ts_ms":1700000000000,"amount":"10.00","spent_today":"1000.49999999","view":{"event_id":"t2","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t2\",\"score\":0,\"decision\":\"accept\",\"reasons\":[]}"},{"add":["account","acc1",{"signal_id":"s1","pattern":"burst","rule_id":"r.burst","severity":20,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"30000","spent_today":"123456789.12345678","view":{"event_id":"t3","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":30000.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t3\",\"score\":62,\"decision\":\"challenge\",\"reasons\":[{\"code\":\"LARGE_AMOUNT\",\"detail\":\"A single outgoing transaction of 20000 or more.\",\"rule_id\":\"score.large_amount\"},{\"code\":\"SIGNAL\",\"detail\":\"burst on account\",\"signal_id\":\"s1\",\"rule_id\":\"r.burst\"},{\"code\":\"SPENT\",\"detail\":\"Spent \\\"a lot\\\" today\\n(ü).\",\"rule_id\":\"score.spent\"},{\"code\":\"EQUAL\",\"detail\":\"Equal points.\",\"rule_id\":\"score.equal\"}]}"}],"extra_rules":[{"id":"score.spent","code":"SPENT","description":"Spent \"a lot\" today\n(ü).","points":20,"mode":"active","when":"spent_today >= 1000.5 && size(penalties.account) == 0"},{"id":"score.shadow","code":"SHADOW","description":"Shadow.","points":50,"mode":"shadow","when":"true"},{"id":"score.disabled","code":"OFF","description":"Off.","points":50,"mode":"disabled","when":"true"},{"id":"score.error","code":"ERRS","description":"Errs.","points":50,"mode":"active","when":"profiles.nothing.count > 0"},{"id":"score.equal","code":"EQUAL","description":"Equal points.","points":20,"mode":"active","when":"profiles.account.count >= 1"}]},
{"name":"policy","steps":[{"add":["account","acc1",{"signal_id":"s1","pattern":"burst","rule_id":"r.burst","severity":50,"detected_ms":1699996400000,"expires_ms":1700003600000,"penalty":null,"trigger_event_id":""}]},{"txn":{"ts_ms":1700000000000,"amount":"10.00","view":{"event_id":"t1","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":10.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t1\",\"score\":50,\"decision\":\"challenge\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"burst on account\",\"signal_id\":\"s1\",\"rule_id\":\"r.burst\"}]}"},{"txn":{"ts_ms":1700000000000,"amount":"20000","view":{"event_id":"t2","type":"payment","account_id":"acc1","ts":1700000000.0,"hour":22,"kind":"transaction","counterparty_id":"cp1","amount":20000.0,"currency":"EUR","channel":null,"device_id":"dev1","ip":"10.1.2.3","ip_prefix":"10.1.2.0/24","instrument_id":null,"status":"succeeded","country":null,"lat":null,"lon":null}},"expect":"{\"event_id\":\"t2\",\"score\":62,\"decision\":\"reject\",\"reasons\":[{\"code\":\"SIGNAL\",\"detail\":\"burst on account\",\"signal_id\":\"s1\",\"rule_id\":\"r.burst\"},{\"code\":\"LARGE_AMOUNT\",\"detail\":\"A single outgoing transaction of 20000 or more.\",\"rule_id\":\"score.large_amount\"}]}"}],"rules":"default","policy":{"review_at":10,"challenge_at":50,"reject_at":60,"unknown":"challenge"}}
]}"###;

    fn to_value(json: &Json) -> Value {
        match json {
            Json::Null => Value::Null,
            Json::Bool(flag) => Value::Bool(*flag),
            Json::Number(number) => match number.as_i64() {
                Some(int) if !number.is_f64() => Value::Int(int),
                _ => Value::Float(number.as_f64().unwrap()),
            },
            Json::String(text) => Value::str(text),
            Json::Array(items) => Value::List(Rc::new(items.iter().map(to_value).collect())),
            Json::Object(items) => Value::Map(Rc::new(
                items
                    .iter()
                    .map(|(key, item)| (Rc::from(key.as_str()), to_value(item)))
                    .collect(),
            )),
        }
    }

    fn view_of(json: &Json) -> Value {
        let mut view = EventView::default();
        for (name, item) in json.as_object().unwrap() {
            view.slots[event_slot(name).expect("an event field")] = Some(to_value(item));
        }
        Value::Event(Rc::new(view))
    }

    fn text(json: &Json) -> Rc<str> {
        Rc::from(json.as_str().unwrap())
    }

    fn signal_of(json: &Json) -> ActiveSignal {
        ActiveSignal {
            signal_id: text(&json["signal_id"]),
            pattern: text(&json["pattern"]),
            rule_id: text(&json["rule_id"]),
            severity: json["severity"].as_i64().unwrap(),
            detected_ms: json["detected_ms"].as_i64().unwrap(),
            expires_ms: json["expires_ms"].as_i64().unwrap(),
            penalty_kind: json["penalty"].get("kind").map(text),
            trigger_event_id: text(&json["trigger_event_id"]),
        }
    }

    fn rule_of(json: &Json) -> ScoreRule {
        ScoreRule {
            id: text(&json["id"]),
            code: text(&json["code"]),
            description: text(&json["description"]),
            points: json["points"].as_i64().unwrap(),
            active: json["mode"] == "active",
            when: Expr::compile(json["when"].as_str().unwrap()).expect("the rule compiles"),
        }
    }

    fn policy_of(json: &Json) -> Policy {
        let unknown = match json["unknown"].as_str().unwrap() {
            "accept" => "accept",
            "review" => "review",
            "challenge" => "challenge",
            _ => "reject",
        };
        let at = |name: &str| json[name].as_i64().unwrap();
        Policy {
            review_at: at("review_at"),
            challenge_at: at("challenge_at"),
            reject_at: at("reject_at"),
            unknown,
        }
    }

    /// Runs the fixture's scenario `name` and returns how many outputs it compared.
    fn run(name: &str) -> usize {
        let fixture: Json = serde_json::from_str(FIXTURE).expect("the fixture reads");
        let scenario = fixture["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .find(|scenario| scenario["name"] == name)
            .unwrap_or_else(|| panic!("no scenario {name}"));
        let mut rules: Vec<ScoreRule> = fixture["default_rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(rule_of)
            .collect();
        if let Some(extra) = scenario.get("extra_rules") {
            rules.extend(extra.as_array().unwrap().iter().map(rule_of));
        }
        let policy = scenario.get("policy").map(policy_of).unwrap_or_default();
        let mut book = ProfileBook::default();
        let mut compared = 0;
        for (index, step) in scenario["steps"].as_array().unwrap().iter().enumerate() {
            let at = format!("{name}, step {index}");
            if let Some(add) = step.get("add") {
                let (kind, id) = (add[0].as_str().unwrap(), add[1].as_str().unwrap());
                book.add(kind, id, signal_of(&add[2]));
            } else if let Some(verdict) = step.get("verdict") {
                let (target, label) = (verdict[0].as_str().unwrap(), verdict[1].as_str().unwrap());
                book.apply_verdict(target, label, verdict[2].as_i64().unwrap());
            } else if let Some(active) = step.get("active") {
                let (kind, id) = (active[0].as_str().unwrap(), active[1].as_str().unwrap());
                let ids: Vec<String> = book
                    .active(kind, id, active[2].as_i64().unwrap())
                    .iter()
                    .map(|signal| signal.signal_id.to_string())
                    .collect();
                let expected: Vec<String> = serde_json::from_value(step["expect"].clone()).unwrap();
                assert_eq!(ids, expected, "{at}");
                compared += 1;
            } else if step.get("len").is_some() {
                assert_eq!(book.len() as u64, step["expect"].as_u64().unwrap(), "{at}");
                compared += 1;
            } else {
                let txn = &step["txn"];
                let view = view_of(&txn["view"]);
                let own: Vec<(Rc<str>, ActiveSignal)> = txn
                    .get("own")
                    .map(|own| {
                        own.as_array()
                            .unwrap()
                            .iter()
                            .map(|pair| (text(&pair[0]), signal_of(&pair[1])))
                            .collect()
                    })
                    .unwrap_or_default();
                let spent = txn
                    .get("spent_today")
                    .map_or("0", |spent| spent.as_str().unwrap());
                let event_id = txn["view"]["event_id"].as_str().unwrap();
                let decision = decide(
                    &view,
                    txn["ts_ms"].as_i64().unwrap(),
                    txn["view"]["type"].as_str().unwrap(),
                    Dec::parse(txn["amount"].as_str().unwrap()).unwrap(),
                    Dec::parse(spent).unwrap(),
                    &own,
                    &mut book,
                    &rules,
                    &policy,
                )
                .unwrap_or_else(|_| panic!("{at}: the native run gave up"));
                let line = String::from_utf8(decision_line(event_id, &decision)).unwrap();
                assert_eq!(line, step["expect"].as_str().unwrap(), "{at}");
                compared += 1;
            }
        }
        compared
    }

    #[test]
    fn no_signals_accepts_with_score_zero() {
        assert_eq!(run("no signals"), 1);
        let view = Value::Event(Rc::new(EventView::default()));
        let mut book = ProfileBook::default();
        let policy = Policy::default();
        let decision = decide(
            &view,
            0,
            "payment",
            Dec::ZERO,
            Dec::ZERO,
            &[],
            &mut book,
            &[],
            &policy,
        );
        let decision = decision.unwrap_or_else(|_| panic!("decides"));
        assert_eq!(
            decision,
            Decision {
                score: 0,
                decision: "accept",
                reasons: vec![]
            }
        );
    }

    #[test]
    fn two_signals_of_fifty_give_seventy_five() {
        assert_eq!(run("two signals of 50"), 1);
    }

    #[test]
    fn large_amount_rule() {
        assert_eq!(run("large amount"), 3);
    }

    #[test]
    fn several_patterns_rule() {
        assert_eq!(run("several patterns"), 1);
    }

    #[test]
    fn risky_counterparty_rule() {
        assert_eq!(run("risky counterparty"), 3);
    }

    #[test]
    fn all_three_rules() {
        assert_eq!(run("all three rules"), 1);
    }

    #[test]
    fn freeze_via_signal_rejects() {
        assert_eq!(run("freeze via signal"), 2);
    }

    #[test]
    fn block_via_signals_rejects() {
        assert_eq!(run("block via signals"), 2);
    }

    #[test]
    fn allow_listing() {
        assert_eq!(run("allow"), 2);
    }

    #[test]
    fn step_up_and_review_floors() {
        assert_eq!(run("floors"), 5);
    }

    #[test]
    fn verdicts_clear_and_restore_signals() {
        assert_eq!(run("verdicts"), 7);
    }

    #[test]
    fn keep_per_rule_prunes_the_oldest() {
        assert_eq!(run("keep per rule"), 2);
        let mut book = ProfileBook::new(2, 10);
        let signal = |id: &str, detected_ms: i64| ActiveSignal {
            signal_id: Rc::from(id),
            pattern: Rc::from("p"),
            rule_id: Rc::from("r"),
            severity: 10,
            detected_ms,
            expires_ms: 1_000,
            penalty_kind: None,
            trigger_event_id: Rc::from(""),
        };
        book.add("account", "a", signal("b", 5));
        book.add("account", "a", signal("a", 5));
        book.add("account", "a", signal("c", 1)); // the oldest: dropped at once
        let ids: Vec<String> = book
            .active("account", "a", 0)
            .iter()
            .map(|s| s.signal_id.to_string())
            .collect();
        assert_eq!(ids, ["a", "b"]);
        book.add("account", "a", signal("d", 6)); // (5, "a") goes
        let ids: Vec<String> = book
            .active("account", "a", 0)
            .iter()
            .map(|s| s.signal_id.to_string())
            .collect();
        assert_eq!(ids, ["b", "d"]);
        assert_eq!(book.applied, 4);
    }

    #[test]
    fn expired_signals_drop_out() {
        assert_eq!(run("expiry"), 7);
    }

    #[test]
    fn own_signals_are_appended_unsorted() {
        assert_eq!(run("own signals"), 2);
    }

    #[test]
    fn reasons_order_and_json_escaping() {
        assert_eq!(run("ordering and escaping"), 1);
    }

    #[test]
    fn custom_rules_see_penalties_and_spent_today() {
        assert_eq!(run("custom rules"), 3);
    }

    #[test]
    fn policy_thresholds() {
        assert_eq!(run("policy"), 2);
    }

    #[test]
    fn verdicts_keep_the_newest() {
        let mut book = ProfileBook::new(8, 2);
        book.apply_verdict("a", "legit", 1);
        book.apply_verdict("b", "legit", 1);
        book.apply_verdict("a", "fraud", 2); // a is now the newest
        book.apply_verdict("c", "legit", 1); // b, the oldest, goes
        assert_eq!(book.verdict_count(), 2);
        assert!(book.verdicts.contains_key("a") && book.verdicts.contains_key("c"));
        book.apply_verdict("a", "legit", 1); // older than the known one: ignored
        assert!(!book.verdicts["a"].legit);
        let mut none = ProfileBook::new(8, 0);
        none.apply_verdict("a", "legit", 1);
        assert_eq!(none.verdict_count(), 0);
    }

    /// Python: over every pair (a, b) in 0..=100, and over triples on a grid,
    /// `tot = (tot * 31 + round(100 * (1 - r))) % 1000000007`.
    #[test]
    fn combined_matches_python_floats_and_rounding() {
        assert_eq!(combined([50, 50]), 75);
        assert_eq!(combined([1, 50]), 50); // 50.5 -> 50
        assert_eq!(combined([2, 75]), 76); // 75.5 -> 76
        assert_eq!(combined([29]), 29);
        let mut total: i64 = 0;
        for a in 0..=100 {
            for b in 0..=100 {
                total = (total * 31 + combined([a, b])) % 1_000_000_007;
            }
        }
        assert_eq!(total, 365070347);
        let mut total: i64 = 0;
        for a in (0..=100).step_by(3) {
            for b in (0..=100).step_by(7) {
                for c in (0..=100).step_by(5) {
                    total = (total * 31 + combined([a, b, c])) % 1_000_000_007;
                }
            }
        }
        assert_eq!(total, 685324350);
    }

    #[test]
    fn json_strings_as_orjson_writes_them() {
        // orjson.dumps("".join(map(chr, range(0x21))) + '"\\/\x7f\u2028é😀')
        let text: String =
            (0u8..0x21).map(char::from).collect::<String>() + "\"\\/\u{7f}\u{2028}é😀";
        let mut out = Vec::new();
        push_json_str(&mut out, &text);
        let expected =
            "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\
            \\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\
            \\u001a\\u001b\\u001c\\u001d\\u001e\\u001f \\\"\\\\/\u{7f}\u{2028}é😀\"";
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }
}
