//! Running windows: one rule's window over an entity's in-order entries, kept current
//! as entries arrive and expire.

use std::collections::VecDeque;

use super::parts::Part;
use super::{GiveUp, Results};
use crate::heap_size::HeapSize;
use crate::plan::{AggPlan, Func, RulePlan};
use crate::state::Entry;

fn is_window_agg(agg: &AggPlan) -> bool {
    !matches!(agg.func, Func::Ratio | Func::BaselineMean | Func::Deviation)
}

/// The running windows of an entity, by rule index: only the rules that have one (most
/// entities have one or two of their group's rules running).
#[derive(Default)]
pub struct Runs(Vec<(usize, Running)>);

impl Runs {
    pub fn get(&self, tag: &usize) -> Option<&Running> {
        self.0
            .iter()
            .find(|(known, _)| known == tag)
            .map(|(_, window)| window)
    }

    pub(super) fn get_mut(&mut self, tag: &usize) -> Option<&mut Running> {
        self.0
            .iter_mut()
            .find(|(known, _)| known == tag)
            .map(|(_, window)| window)
    }

    pub(super) fn insert(&mut self, tag: usize, window: Running) {
        match self.get_mut(&tag) {
            Some(slot) => *slot = window,
            None => {
                self.0.reserve_exact(1); // most entities keep one or two for their life
                self.0.push((tag, window));
            }
        }
    }

    pub(super) fn remove(&mut self, tag: &usize) {
        self.0.retain(|(known, _)| known != tag);
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// Counts the windows' heap (their members' events, if not counted yet).
    pub fn heap_size(&self, size: &mut HeapSize) {
        size.vec(&self.0);
        for (_, window) in &self.0 {
            size.deque(&window.members);
            window
                .members
                .iter()
                .for_each(|member| size.event(&member.event));
            size.vec(&window.parts);
            window
                .parts
                .iter()
                .for_each(|(_, part)| part.heap_size(size));
        }
    }
}

/// One rule's window over an entity's in-order entries, kept current.
pub struct Running {
    pub(super) start_ms: Option<i64>,
    /// A sliding window's start: it holds every entry of the rule from here on.
    pub(super) low_ms: i64,
    size: i64,
    pub members: VecDeque<Entry>,
    pub(super) parts: Vec<(usize, Part)>,
}

impl Running {
    pub(super) fn new(rule: &RulePlan, size: i64, start_ms: Option<i64>) -> Running {
        Running {
            start_ms,
            low_ms: i64::MIN,
            size,
            members: VecDeque::new(),
            parts: {
                // Exactly sized: an entity keeps its running windows for as long as it lives.
                let count = rule.aggs.iter().filter(|agg| is_window_agg(agg)).count();
                let mut parts = Vec::with_capacity(count);
                parts.extend(
                    rule.aggs
                        .iter()
                        .enumerate()
                        .filter(|(_, agg)| is_window_agg(agg))
                        .map(|(index, agg)| (index, Part::of(agg.func))),
                );
                parts
            },
        }
    }

    fn apply(
        &mut self,
        rule: &RulePlan,
        tag: usize,
        entry: &Entry,
        remove: bool,
    ) -> Result<(), GiveUp> {
        apply_parts(&mut self.parts, rule, tag, entry, remove)
    }

    /// Whether each part can take an entry back out wherever it stands (all but min
    /// and max).
    pub(super) fn invertible(&self) -> bool {
        self.parts.iter().all(|(_, part)| part.invertible())
    }

    /// A copy of the parts if each can take an entry back out wherever it stands, for
    /// the windows a displaced entry changes.
    pub(super) fn invertible_parts(&self) -> Option<Vec<(usize, Part)>> {
        self.parts
            .iter()
            .map(|(index, part)| part.invertible_copy().map(|copy| (*index, copy)))
            .collect()
    }

    /// Takes in an entry out of order (at or after the window's start), in its place.
    pub(super) fn insert(
        &mut self,
        rule: &RulePlan,
        tag: usize,
        entry: Entry,
    ) -> Result<(), GiveUp> {
        self.apply(rule, tag, &entry, false)?;
        let mut at = self.members.len();
        while at > 0 && self.members[at - 1].sort_key() > entry.sort_key() {
            at -= 1;
        }
        self.members.insert(at, entry);
        Ok(())
    }

    pub(super) fn expire(&mut self, rule: &RulePlan, tag: usize, ts_ms: i64) -> Result<(), GiveUp> {
        let start = ts_ms - self.size + 1;
        self.low_ms = self.low_ms.max(start);
        while self
            .members
            .front()
            .is_some_and(|member| member.ts_ms < start)
        {
            let gone = self.members.pop_front().expect("a member");
            self.apply(rule, tag, &gone, true)?;
        }
        Ok(())
    }

    pub(super) fn push(&mut self, rule: &RulePlan, tag: usize, entry: Entry) -> Result<(), GiveUp> {
        self.apply(rule, tag, &entry, false)?;
        self.members.push_back(entry);
        Ok(())
    }

    pub(super) fn set_low(&mut self, low_ms: i64) {
        self.low_ms = low_ms;
    }

    pub(super) fn results(&self) -> Results {
        self.parts.iter().map(|(_, part)| part.value()).collect()
    }
}

/// Adds an entry to (or takes it out of) the parts of the aggregates whose filter it
/// passes.
pub(super) fn apply_parts(
    parts: &mut [(usize, Part)],
    rule: &RulePlan,
    tag: usize,
    entry: &Entry,
    remove: bool,
) -> Result<(), GiveUp> {
    let bits = entry.bits(tag);
    for (index, part) in parts.iter_mut() {
        let agg = &rule.aggs[*index];
        if bits & agg.bit != 0 {
            part.apply(entry, agg, remove)?;
        }
    }
    Ok(())
}

/// New parts for a rule's window aggregates, in the rule's order.
pub(super) fn fresh_parts(rule: &RulePlan) -> Vec<(usize, Part)> {
    rule.aggs
        .iter()
        .enumerate()
        .filter(|(_, agg)| is_window_agg(agg))
        .map(|(index, agg)| (index, Part::of(agg.func)))
        .collect()
}
