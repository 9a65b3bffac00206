//! The profiles of active signals by entity (`ProfileBook` of `tables/books.py`).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use rustc_hash::FxHashMap as HashMap;
use std::rc::Rc;

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
    /// The signal's rule has `effect: score` (`ActiveSignal.effect == "score"`).
    pub score_only: bool,
}

impl ActiveSignal {
    pub(super) fn imposed_kind(&self) -> Option<&Rc<str>> {
        self.penalty_kind.as_ref().filter(|kind| !kind.is_empty())
    }
}

/// The latest verdict on a transaction: its place in the order of arrival (the
/// `OrderedDict`'s), its time, and whether it is `legit`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Verdict {
    seq: u64,
    occurred_ms: i64,
    pub(super) legit: bool,
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
    pub(super) verdicts: HashMap<Rc<str>, Verdict>,
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
