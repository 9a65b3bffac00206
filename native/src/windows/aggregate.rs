//! A window's aggregates as CEL and the signal see them, and the daily baselines.

use std::rc::Rc;

use super::parts::Part;
use super::{py_round, GiveUp, Window};
use crate::plan::{AggPlan, Func, RulePlan};
use crate::state::{Entry, Shown, State, DAY_MS};
use crate::value::Value;

/// The window's aggregates for CEL (`windows.aggregate`), into `for_cel`; with `shown`,
/// also as the signal shows them (money as text), which only a firing rule needs.
pub fn aggregate(
    rule: &RulePlan,
    tag: usize,
    state: &State,
    window: &Window,
    entry: &Entry,
    for_cel: &mut Vec<(Rc<str>, Value)>,
    mut shown: Option<&mut Vec<(Rc<str>, Shown)>>,
) -> Result<(), GiveUp> {
    let running_parts = window
        .running
        .as_ref()
        .and_then(|_| state.running.get(&tag));
    let mut running = window.running.as_ref().map(|results| results.iter());
    let mut running_index = 0;
    for (index, agg) in rule.aggs.iter().enumerate() {
        match agg.func {
            Func::Ratio => continue,
            Func::BaselineMean | Func::Deviation => {
                let (mean, days) = baseline_mean(state, tag, index, agg, entry.ts_ms);
                let value = if agg.func == Func::Deviation {
                    match entry.amount {
                        Some(current) if mean > 0.0 => current.to_f64() / mean,
                        _ => 0.0,
                    }
                } else {
                    mean
                };
                for_cel.push((agg.name.clone(), Value::Float(value)));
                for_cel.push((agg.days_name.clone(), Value::Int(days)));
                if let Some(shown) = shown.as_deref_mut() {
                    shown.push((agg.name.clone(), Shown::Float(py_round(value, 6))));
                    shown.push((agg.days_name.clone(), Shown::Int(days)));
                }
                continue;
            }
            _ => {}
        }
        if let Some(results) = running.as_mut() {
            let value = results
                .next()
                .expect("one result per window aggregate")
                .clone();
            for_cel.push((agg.name.clone(), value));
            if let Some(shown) = shown.as_deref_mut() {
                let parts = &running_parts.expect("the running window").parts;
                shown.push((agg.name.clone(), parts[running_index].1.shown()));
            }
            running_index += 1;
            continue;
        }
        let mut part = Part::of(agg.func);
        for member in &window.members {
            if member.bits(tag) & agg.bit != 0 {
                part.apply(member, agg, false)?;
            }
        }
        for_cel.push((agg.name.clone(), part.value()));
        if let Some(shown) = shown.as_deref_mut() {
            shown.push((agg.name.clone(), part.shown()));
        }
    }
    for agg in rule.aggs.iter().filter(|agg| agg.func == Func::Ratio) {
        let (numerator, denominator) = agg.of.expect("a ratio's parts");
        let number = |name: &Rc<str>| -> Result<f64, GiveUp> {
            match for_cel
                .iter()
                .find(|(known, _)| known == name)
                .map(|(_, value)| value)
            {
                Some(Value::Int(n)) => Ok(*n as f64),
                Some(Value::Float(x)) => Ok(*x),
                _ => Err(GiveUp(format!(
                    "ratio {}: a part not computed before it",
                    agg.name
                ))),
            }
        };
        let top = number(&rule.aggs[numerator].name)?;
        let bottom = number(&rule.aggs[denominator].name)?;
        let value = if bottom != 0.0 { top / bottom } else { 0.0 };
        for_cel.push((agg.name.clone(), Value::Float(value)));
        if let Some(shown) = shown.as_deref_mut() {
            shown.push((agg.name.clone(), Shown::Float(py_round(value, 6))));
        }
    }
    Ok(())
}

/// Mean of the amount per event over the horizon's days before the event's day.
fn baseline_mean(state: &State, tag: usize, index: usize, agg: &AggPlan, ts_ms: i64) -> (f64, i64) {
    let today = ts_ms.div_euclid(DAY_MS);
    let (mut count, mut total, mut used) = (0.0, 0.0, 0);
    if let Some(days) = state.baseline_days((tag, index)) {
        for (day, day_count, day_sum) in days {
            if today - agg.horizon_days <= *day && *day < today {
                count += day_count;
                total += day_sum;
                used += 1;
            }
        }
    }
    (if count != 0.0 { total / count } else { 0.0 }, used)
}

pub fn update_baselines(rule: &RulePlan, tag: usize, state: &mut State, entry: &Entry) {
    let bits = entry.bits(tag);
    for (index, agg) in rule.aggs.iter().enumerate() {
        if agg.horizon_days == 0 || bits & agg.bit == 0 {
            continue;
        }
        let Some(amount) = entry.amount else { continue };
        let day = entry.ts_ms.div_euclid(DAY_MS);
        let days = state.baseline_days_mut((tag, index));
        match days.iter_mut().find(|(known, _, _)| *known == day) {
            Some((_, count, sum)) => {
                *count += 1.0;
                *sum += amount.to_f64();
            }
            None => days.push((day, 1.0, amount.to_f64())),
        }
    }
}
