//! The rule set as the Python side compiled it (`riskstream.native.plan`), read from JSON:
//! every duration already in milliseconds, every bit already assigned, expressions as
//! CEL source compiled here (the fast path, else the full language through the `cel` crate).

use std::rc::Rc;

use rustc_hash::FxHashMap as HashMap;
use serde::Deserialize;

use crate::cel::{Expr, Var};
use crate::scoring::{Policy, ScoreRule};
use crate::value::EVENT_NAMES;

#[derive(Deserialize)]
struct PlanDoc {
    groups: Vec<GroupDoc>,
    min_horizon_ms: i64,
    /// At most this many entries per entity, the oldest going first; no cap when absent
    /// or null (a busy merchant's week counts every event).
    #[serde(default)]
    max_entries: Option<usize>,
    score_rules: Vec<ScoreRuleDoc>,
    policy: PolicyDoc,
}

#[derive(Deserialize)]
struct GroupDoc {
    key: String,
    account: bool,
    /// The fields the group's rules read of stored entries; all when absent or null.
    #[serde(default)]
    stored: Option<Vec<String>>,
    rules: Vec<RuleDoc>,
}

#[derive(Deserialize)]
struct RuleDoc {
    id: String,
    version: i64,
    active: bool,
    entity: String,
    ttl_ms: i64,
    pattern: String,
    severity: i64,
    penalty: Option<String>,
    /// `decide` (the default, also when absent) or `score`.
    #[serde(default)]
    effect: Option<String>,
    events: Vec<String>,
    when: Option<String>,
    window: Option<WindowDoc>,
    aggregates: Vec<AggDoc>,
    condition: Option<String>,
    steps: Vec<StepDoc>,
    absent: Option<StepDoc>,
    within_ms: i64,
    horizon_ms: i64,
    baseline_days: i64,
    unfiltered_bits: u32,
}

#[derive(Deserialize)]
struct WindowDoc {
    #[serde(rename = "type")]
    kind: String,
    size: i64,
    hop: i64,
}

#[derive(Deserialize)]
struct AggDoc {
    name: String,
    #[serde(rename = "fn")]
    func: String,
    path: Vec<String>,
    #[serde(rename = "where")]
    filter: Option<String>,
    bit: u32,
    of: Option<(String, String)>,
    horizon_days: i64,
}

#[derive(Deserialize)]
struct StepDoc {
    name: String,
    when: String,
    #[serde(rename = "match")]
    matcher: Option<String>,
    times: usize,
    bit: u32,
}

#[derive(Deserialize)]
struct ScoreRuleDoc {
    id: String,
    code: String,
    description: String,
    points: i64,
    active: bool,
    when: String,
}

#[derive(Deserialize)]
struct PolicyDoc {
    review_at: i64,
    challenge_at: i64,
    reject_at: i64,
    unknown: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    Count,
    Sum,
    Min,
    Max,
    Distinct,
    Ratio,
    BaselineMean,
    Deviation,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowKind {
    Sliding,
    Tumbling,
    Hopping,
    Count,
}

pub struct AggPlan {
    pub name: Rc<str>,
    pub days_name: Rc<str>,
    pub func: Func,
    pub path: Vec<String>,
    /// The path reads the exact money (`amount`).
    pub is_amount: bool,
    pub filter: Option<Expr>,
    pub bit: u32,
    pub of: Option<(usize, usize)>,
    pub horizon_days: i64,
}

pub struct StepPlan {
    pub name: Rc<str>,
    pub when: Expr,
    pub matcher: Option<Expr>,
    pub times: usize,
    pub bit: u32,
}

pub struct RulePlan {
    pub id: Rc<str>,
    pub version: i64,
    pub active: bool,
    pub entity: Rc<str>,
    pub ttl_ms: i64,
    pub pattern: Rc<str>,
    pub severity: i64,
    pub penalty: Option<Rc<str>>,
    /// `effect: score`: the rule's signals only add to the score (`scoring::score`).
    pub score_only: bool,
    pub takes_all: bool,
    /// `events` as bits (see `event_mask`).
    pub takes_mask: u32,
    pub when: Option<Expr>,
    pub window: Option<(WindowKind, i64, i64)>,
    pub aggs: Vec<AggPlan>,
    pub condition: Option<Expr>,
    pub steps: Vec<StepPlan>,
    pub absent: Option<StepPlan>,
    pub within_ms: i64,
    pub horizon_ms: i64,
    pub baseline_days: i64,
    pub unfiltered_bits: u32,
    pub has_baselines: bool,
}

/// The bit of an event type or kind (0 for a name no rule can take).
pub fn name_bit(name: &str) -> u32 {
    EVENT_NAMES
        .iter()
        .position(|known| *known == name)
        .map_or(0, |index| 1 << index)
}

/// An event's type and kind as bits, for `RulePlan::takes`.
pub fn event_mask(kind: &str, type_name: &str) -> u32 {
    // "feedback" is both a type and a kind: one bit serves both.
    name_bit(kind) | name_bit(type_name)
}

impl RulePlan {
    /// The expressions that decide an entry's bits: `when`, each `where`, each step's
    /// `when` (the absent step's too).
    fn filters_mut(&mut self) -> impl Iterator<Item = &mut Expr> {
        self.when
            .iter_mut()
            .chain(self.aggs.iter_mut().filter_map(|agg| agg.filter.as_mut()))
            .chain(
                self.steps
                    .iter_mut()
                    .chain(self.absent.iter_mut())
                    .map(|step| &mut step.when),
            )
    }

    /// `CompiledRule.takes`: the event's type or kind is among the rule's events.
    pub fn takes(&self, event_mask: u32) -> bool {
        self.takes_all || self.takes_mask & event_mask != 0
    }
}

pub struct GroupPlan {
    pub key: Expr,
    pub account: bool,
    pub rules: Vec<RulePlan>,
    pub horizon_ms: i64,
    pub baseline_days: i64,
    /// Whether any rule of the group reads `entity` (else it is never made).
    pub reads_entity: bool,
    /// Where the group's rules' match bits start in an event's (`Shared::flags`).
    pub base: usize,
    /// The slots a stored entry keeps (a bit per `EVENT_FIELDS` index); all when None.
    pub stored: Option<u32>,
}

impl RulePlan {
    fn expressions(&self) -> impl Iterator<Item = &Expr> {
        let steps = self.steps.iter().chain(self.absent.iter());
        self.when
            .iter()
            .chain(self.condition.iter())
            .chain(self.aggs.iter().filter_map(|agg| agg.filter.as_ref()))
            .chain(steps.flat_map(|step| std::iter::once(&step.when).chain(step.matcher.iter())))
    }

    fn reads_entity(&self) -> bool {
        self.expressions()
            .any(|expr| expr.variables().contains(&Var::Entity))
    }
}

pub struct Plan {
    pub groups: Vec<GroupPlan>,
    /// How many rules all groups have: the match bits an event carries.
    pub rules: usize,
    pub max_entries: usize,
    pub score_rules: Vec<ScoreRule>,
    pub policy: Policy,
    /// How many filters rules share (see `share_event_filters`).
    pub shared_filters: usize,
}

impl Plan {
    /// The rules (group, rule index, microseconds) one of whose expressions took longer
    /// than `budget_us` in one evaluation since the last call; every expression's record
    /// starts afresh.
    pub fn slow_rules(&self, budget_us: u64) -> Vec<(usize, usize, u64)> {
        let mut slow = Vec::new();
        for (group_index, group) in self.groups.iter().enumerate() {
            for (rule_index, rule) in group.rules.iter().enumerate() {
                let slowest = rule
                    .expressions()
                    .map(Expr::take_slowest_us)
                    .fold(0, u64::max);
                if slowest > budget_us {
                    slow.push((group_index, rule_index, slowest));
                }
            }
        }
        slow
    }
}

/// Number the filters (`when`, `where`, step `when`) that read the event alone and that
/// more than one of them spell the same: the engine tests each once per event. The pack
/// tests `event.status != "failed"` in four rules; a tested event's fields never change.
fn share_event_filters(groups: &mut [GroupPlan]) -> usize {
    let mut filters: Vec<&mut Expr> = groups
        .iter_mut()
        .flat_map(|group| group.rules.iter_mut())
        .flat_map(RulePlan::filters_mut)
        .filter(|expr| expr.reads_event_only())
        .collect();
    let mut spellings: HashMap<String, (usize, Option<usize>)> = HashMap::default();
    for expr in &filters {
        spellings.entry(expr.source().to_string()).or_default().0 += 1;
    }
    let mut slots = 0;
    for expr in &mut filters {
        let (count, slot) = spellings
            .get_mut(expr.source())
            .expect("every filter was counted");
        if *count > 1 {
            let slot = *slot.get_or_insert_with(|| {
                slots += 1;
                slots - 1
            });
            expr.share_as(slot);
        }
    }
    slots
}

fn compile(source: &str, what: &str) -> Result<Expr, String> {
    Expr::compile(source).map_err(|reason| format!("{what}: {reason}"))
}

fn step(doc: StepDoc, rule: &str) -> Result<StepPlan, String> {
    let what = format!("rule {rule} step {}", doc.name);
    Ok(StepPlan {
        when: compile(&doc.when, &what)?,
        matcher: doc
            .matcher
            .as_deref()
            .map(|source| compile(source, &what))
            .transpose()?,
        name: Rc::from(doc.name),
        times: doc.times,
        bit: doc.bit,
    })
}

fn rule(doc: RuleDoc) -> Result<RulePlan, String> {
    let id = doc.id.clone();
    let window = match &doc.window {
        None => None,
        Some(window) => {
            let kind = match window.kind.as_str() {
                "sliding" => WindowKind::Sliding,
                "tumbling" => WindowKind::Tumbling,
                "hopping" => WindowKind::Hopping,
                "count" => WindowKind::Count,
                other => return Err(format!("rule {id}: window type {other}")),
            };
            let aligned = matches!(kind, WindowKind::Tumbling | WindowKind::Hopping);
            if window.size < 1 || (aligned && window.hop < 1) {
                return Err(format!("rule {id}: a window shorter than 1ms"));
            }
            Some((kind, window.size, window.hop))
        }
    };
    let names: Vec<String> = doc.aggregates.iter().map(|agg| agg.name.clone()).collect();
    let mut aggs = Vec::new();
    for agg in doc.aggregates {
        let func = match agg.func.as_str() {
            "count" => Func::Count,
            "sum" => Func::Sum,
            "min" => Func::Min,
            "max" => Func::Max,
            "distinct" => Func::Distinct,
            "ratio" => Func::Ratio,
            "baseline_mean" => Func::BaselineMean,
            "deviation" => Func::Deviation,
            // mean divides in Decimal's 28-digit context: not modelled here
            other => return Err(format!("rule {id}: aggregate function {other}")),
        };
        let is_amount = agg.path.len() == 1 && agg.path[0] == "amount";
        let numeric = matches!(
            func,
            Func::Sum | Func::Min | Func::Max | Func::BaselineMean | Func::Deviation
        );
        if numeric && !is_amount {
            // Decimal(str(x)) of other fields (floats, ints, strings) is not modelled
            return Err(format!(
                "rule {id}: {} of a field other than amount",
                agg.func
            ));
        }
        let of = match agg.of {
            None => None,
            Some((numerator, denominator)) => {
                let find = |name: &str| names.iter().position(|known| known == name);
                Some((
                    find(&numerator).ok_or("unknown ratio part")?,
                    find(&denominator).ok_or("unknown ratio part")?,
                ))
            }
        };
        aggs.push(AggPlan {
            days_name: Rc::from(format!("{}_days", agg.name)),
            filter: agg
                .filter
                .as_deref()
                .map(|source| compile(source, &format!("rule {id} aggregate {}", agg.name)))
                .transpose()?,
            name: Rc::from(agg.name),
            func,
            path: agg.path,
            is_amount,
            bit: agg.bit,
            of,
            horizon_days: agg.horizon_days,
        });
    }
    let has_baselines = aggs.iter().any(|agg| agg.horizon_days > 0);
    let mut steps = Vec::new();
    for doc_step in doc.steps {
        steps.push(step(doc_step, &id)?);
    }
    let score_only = match doc.effect.as_deref() {
        None | Some("decide") => false,
        Some("score") => true,
        Some(other) => return Err(format!("rule {id}: unknown effect {other}")),
    };
    Ok(RulePlan {
        score_only,
        when: doc
            .when
            .as_deref()
            .map(|source| compile(source, &format!("rule {id} when")))
            .transpose()?,
        condition: doc
            .condition
            .as_deref()
            .map(|source| compile(source, &format!("rule {id} condition")))
            .transpose()?,
        absent: doc.absent.map(|absent| step(absent, &id)).transpose()?,
        takes_all: doc.events.iter().any(|name| name == "*"),
        takes_mask: doc
            .events
            .iter()
            .fold(0, |mask, name| mask | name_bit(name)),
        id: Rc::from(doc.id),
        version: doc.version,
        active: doc.active,
        entity: Rc::from(doc.entity),
        ttl_ms: doc.ttl_ms,
        pattern: Rc::from(doc.pattern),
        severity: doc.severity,
        penalty: doc.penalty.map(Rc::from),
        window,
        aggs,
        steps,
        within_ms: doc.within_ms,
        horizon_ms: doc.horizon_ms,
        baseline_days: doc.baseline_days,
        unfiltered_bits: doc.unfiltered_bits,
        has_baselines,
    })
}

impl Plan {
    pub fn from_json(json: &[u8]) -> Result<Plan, String> {
        let doc: PlanDoc = serde_json::from_slice(json).map_err(|error| error.to_string())?;
        let mut groups = Vec::new();
        for group in doc.groups {
            let key = compile(&group.key, "key")?;
            let mut horizon = doc.min_horizon_ms;
            let mut baseline_days = 0;
            let mut rules = Vec::new();
            for rule_doc in group.rules {
                horizon = horizon.max(rule_doc.horizon_ms);
                baseline_days = baseline_days.max(rule_doc.baseline_days);
                rules.push(rule(rule_doc)?);
            }
            if rules.len() > 64 {
                return Err(format!("key {}: more than 64 rules on one key", group.key));
            }
            let reads_entity = rules.iter().any(RulePlan::reads_entity);
            let base = groups
                .iter()
                .map(|group: &GroupPlan| group.rules.len())
                .sum();
            let stored = match &group.stored {
                None => None,
                Some(names) => {
                    // A name no event has (a rule may read one) keeps nothing.
                    let slots = names
                        .iter()
                        .filter_map(|name| crate::value::event_slot(name));
                    Some(slots.fold(0u32, |mask, slot| mask | 1 << slot))
                }
            };
            groups.push(GroupPlan {
                stored,
                base,
                reads_entity,
                key,
                account: group.account,
                rules,
                horizon_ms: horizon,
                baseline_days,
            });
        }
        let shared_filters = share_event_filters(&mut groups);
        let mut score_rules = Vec::new();
        for rule_doc in doc.score_rules {
            score_rules.push(ScoreRule {
                when: compile(&rule_doc.when, &format!("score rule {}", rule_doc.id))?,
                id: Rc::from(rule_doc.id),
                code: Rc::from(rule_doc.code),
                description: Rc::from(rule_doc.description),
                points: rule_doc.points,
                active: rule_doc.active,
            });
        }
        Ok(Plan {
            rules: groups.iter().map(|group| group.rules.len()).sum(),
            groups,
            max_entries: doc.max_entries.unwrap_or(usize::MAX),
            shared_filters,
            score_rules,
            policy: Policy {
                review_at: doc.policy.review_at,
                challenge_at: doc.policy.challenge_at,
                reject_at: doc.policy.reject_at,
                unknown: match doc.policy.unknown.as_str() {
                    "accept" => "accept",
                    "review" => "review",
                    "challenge" => "challenge",
                    "reject" => "reject",
                    other => return Err(format!("policy: unknown decision {other}")),
                },
            },
        })
    }
}
