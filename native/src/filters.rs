//! An entry's match bits: a rule's filters (`when`, each `where`, each step's `when`)
//! on an event, the filters several rules share tested once per event.

use std::cell::Cell;

use crate::cel::{Ctx, Expr, Fault, Var, N_VARS};
use crate::plan::RulePlan;
use crate::value::Value;
use crate::windows::GiveUp;

pub(crate) fn fault(what: &str, error: Fault) -> GiveUp {
    GiveUp(format!("{what}: {error:?}"))
}

pub(crate) fn test(
    expr: &Expr,
    vars: [Option<&Value>; N_VARS],
    what: &str,
) -> Result<bool, GiveUp> {
    expr.test(&Ctx { vars }).map_err(|error| fault(what, error))
}

/// The results of the filters rules share (`plan::share_event_filters`) for the event
/// being applied: each is tested once per event, not once per rule.
pub(crate) struct SharedFilters {
    /// Counts the events applied; a result holds `event << 1 | result`.
    pub(crate) event: Cell<u64>,
    results: Box<[Cell<u64>]>,
}

impl SharedFilters {
    pub(crate) fn new(slots: usize) -> SharedFilters {
        SharedFilters {
            event: Cell::new(1), // the results' zeros are no event's
            results: (0..slots).map(|_| Cell::new(0)).collect(),
        }
    }

    fn test(
        &self,
        expr: &Expr,
        vars: [Option<&Value>; N_VARS],
        what: &str,
    ) -> Result<bool, GiveUp> {
        let Some(slot) = expr.shared_slot() else {
            return test(expr, vars, what);
        };
        let event = self.event.get();
        let known = self.results[slot].get();
        if known >> 1 == event {
            return Ok(known & 1 == 1);
        }
        let result = test(expr, vars, what)?;
        self.results[slot].set(event << 1 | u64::from(result));
        Ok(result)
    }
}

/// `CompiledRule.flags`: the entry's match bits for the rule (0: it ignores the event).
pub(crate) fn flags(
    rule: &RulePlan,
    event_mask: u32,
    event: &Value,
    entity: &Value,
    shared: &SharedFilters,
) -> Result<u32, GiveUp> {
    if !rule.takes(event_mask) {
        return Ok(0);
    }
    let mut vars: [Option<&Value>; N_VARS] = [None; N_VARS];
    vars[Var::Event as usize] = Some(event);
    vars[Var::Entity as usize] = Some(entity);
    if let Some(when) = &rule.when {
        if !shared.test(when, vars, "when")? {
            return Ok(0);
        }
    }
    let mut bits = rule.unfiltered_bits;
    for agg in &rule.aggs {
        if let Some(filter) = &agg.filter {
            if shared.test(filter, vars, "where")? {
                bits |= agg.bit;
            }
        }
    }
    for step in rule.steps.iter().chain(rule.absent.iter()) {
        if shared.test(&step.when, vars, "step when")? {
            bits |= step.bit;
        }
    }
    Ok(bits)
}
