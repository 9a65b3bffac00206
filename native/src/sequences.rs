//! Sequences over an entity's entries (`agents.cep.sequences` in the Python reference).

use std::cell::Cell;
use std::rc::Rc;

use smallvec::SmallVec;

use crate::cel::{Ctx, Fault, Var, N_VARS};
use crate::plan::{RulePlan, StepPlan};
use crate::state::{Entry, State};
use crate::value::Value;
use crate::windows::GiveUp;

const MAX_STARTS: usize = 200;

/// The steps chosen so far, newest last: each extends its predecessor, so a try that
/// fails costs nothing to the ones before it.
struct Chosen {
    step: usize,
    /// Indexes into the candidates.
    picked: SmallVec<[usize; 2]>,
    before: Option<Rc<Chosen>>,
}

type Chain = Option<Rc<Chosen>>;

pub struct Match {
    pub key: String,
    pub members: Vec<Entry>,
    /// (step name, how many entries it took), in step order.
    pub by_step: Vec<(Rc<str>, usize)>,
}

enum Attempt {
    Done(Rc<Chosen>),
    Next,
    Abort,
}

fn give_up(fault: Fault) -> GiveUp {
    GiveUp(format!("a step's expression: {fault:?}"))
}

/// The chain in step order.
fn in_order(chain: &Chain) -> Vec<&Chosen> {
    let mut links = Vec::new();
    let mut link = chain.as_deref();
    while let Some(chosen) = link {
        links.push(chosen);
        link = chosen.before.as_deref();
    }
    links.reverse();
    links
}

struct Search<'a> {
    rule: &'a RulePlan,
    tag: usize,
    candidates: Vec<&'a Entry>,
}

impl Search<'_> {
    fn step(&self, index: usize) -> &StepPlan {
        &self.rule.steps[index]
    }

    fn fits(&self, step: &StepPlan, entry: &Entry, chosen: &Chain) -> Result<bool, GiveUp> {
        fits(self.rule, step, entry, self.tag, chosen, &self.candidates)
    }

    fn complete(
        &self,
        position: usize,
        step_index: usize,
        chosen: Chain,
        deadline_ms: i64,
        last: Option<usize>,
    ) -> Result<Option<Rc<Chosen>>, GiveUp> {
        let steps = &self.rule.steps;
        if step_index == steps.len() {
            return Ok(chosen);
        }
        let step = self.step(step_index);
        if let Some(last) = last {
            if step_index == steps.len() - 1 {
                let final_entry = self.candidates[last];
                if position >= self.candidates.len() || final_entry.ts_ms > deadline_ms {
                    return Ok(None);
                }
                if self.fits(step, final_entry, &chosen)? {
                    return Ok(Some(Rc::new(Chosen {
                        step: step_index,
                        picked: smallvec::smallvec![last],
                        before: chosen,
                    })));
                }
                return Ok(None);
            }
        }
        for index in position..self.candidates.len() {
            if self.candidates[index].ts_ms > deadline_ms {
                return Ok(None);
            }
            match self.attempt(index, step_index, &chosen, deadline_ms, last)? {
                Attempt::Abort => return Ok(None),
                Attempt::Done(found) => return Ok(Some(found)),
                Attempt::Next => {}
            }
        }
        Ok(None)
    }

    fn attempt(
        &self,
        index: usize,
        step_index: usize,
        chosen: &Chain,
        deadline_ms: i64,
        last: Option<usize>,
    ) -> Result<Attempt, GiveUp> {
        let step = self.step(step_index);
        if !self.fits(step, self.candidates[index], chosen)? {
            return Ok(Attempt::Next);
        }
        let mut picked: SmallVec<[usize; 2]> = smallvec::smallvec![index];
        let mut cursor = index + 1;
        while picked.len() < step.times && cursor < self.candidates.len() {
            let more = self.candidates[cursor];
            if more.ts_ms > deadline_ms {
                break;
            }
            if self.fits(step, more, chosen)? {
                picked.push(cursor);
            }
            cursor += 1;
        }
        if picked.len() < step.times {
            return Ok(Attempt::Abort);
        }
        let next = Some(Rc::new(Chosen {
            step: step_index,
            picked,
            before: chosen.clone(),
        }));
        Ok(
            match self.complete(cursor, step_index + 1, next, deadline_ms, last)? {
                Some(found) => Attempt::Done(found),
                None => Attempt::Next,
            },
        )
    }

    /// For each start (in order), what `complete` from it finds ending with the last
    /// candidate.
    fn completions_ending_with(
        &self,
        starts: &[usize],
        last: usize,
    ) -> Result<Vec<Option<Rc<Chosen>>>, GiveUp> {
        let mut results = vec![None; starts.len()];
        let mut following: Option<Rc<Chosen>> = None;
        let first = starts[0] as isize;
        let deadline = self.candidates[last].ts_ms;
        let mut index = self.candidates.len() as isize - 2;
        let mut wanted = starts.iter().enumerate().rev().peekable();
        while index >= first {
            match self.attempt(index as usize, 0, &None, deadline, Some(last))? {
                Attempt::Abort => following = None,
                Attempt::Done(found) => following = Some(found),
                Attempt::Next => {}
            }
            while wanted
                .peek()
                .is_some_and(|(_, start)| **start > index as usize)
            {
                wanted.next();
            }
            if let Some((at, _)) = wanted.peek().filter(|(_, start)| **start == index as usize) {
                results[*at] = following.clone();
            }
            index -= 1;
        }
        Ok(results)
    }
}

type StepItems = Rc<Vec<(Rc<str>, Value)>>;

thread_local! {
    /// The map CEL sees as `steps`, its allocation reused from one test to the next.
    static STEPS_BUFFER: Cell<Option<StepItems>> = const { Cell::new(None) };
}

/// Whether `entry` can be `step`, after `chosen` (`_fits`).
fn fits(
    rule: &RulePlan,
    step: &StepPlan,
    entry: &Entry,
    tag: usize,
    chosen: &Chain,
    candidates: &[&Entry],
) -> Result<bool, GiveUp> {
    if entry.bits(tag) & step.bit == 0 {
        return Ok(false);
    }
    let Some(matcher) = &step.matcher else {
        return Ok(true);
    };
    // `steps`: each chosen step's first entry, in step order (the chain runs backwards).
    let mut buffer = STEPS_BUFFER.take().unwrap_or_default();
    let items = Rc::get_mut(&mut buffer).expect("the buffer is not shared");
    items.clear();
    let mut link = chosen.as_deref();
    while let Some(chosen) = link {
        let first = candidates[chosen.picked[0]].view();
        items.push((rule_step_name(rule, chosen.step), first));
        link = chosen.before.as_deref();
    }
    items.reverse();
    let steps = Value::Map(buffer);
    let view = entry.view();
    let mut vars: [Option<&Value>; N_VARS] = [None; N_VARS];
    vars[Var::Event as usize] = Some(&view);
    vars[Var::Steps as usize] = Some(&steps);
    let result = matcher.test(&Ctx { vars }).map_err(give_up);
    if let Value::Map(mut buffer) = steps {
        // Kept only while nothing else holds it (CEL's results never do), and emptied so
        // that it holds no event.
        if let Some(items) = Rc::get_mut(&mut buffer) {
            items.clear();
            STEPS_BUFFER.set(Some(buffer));
        }
    }
    result
}

fn rule_step_name(rule: &RulePlan, step: usize) -> Rc<str> {
    rule.steps[step].name.clone()
}

fn narrowable(rule: &RulePlan, candidates: &[&Entry], newest: &Entry) -> bool {
    rule.absent.is_none()
        && rule.steps.last().is_some_and(|step| step.times == 1)
        && rule.steps.len() > 1
        && candidates.last().is_some_and(|last| last.same(newest))
}

/// Complete matches among the entries, one per start, earliest start first.
pub fn matches(
    rule: &RulePlan,
    tag: usize,
    state: &State,
    newest: &Entry,
) -> Result<Vec<Match>, GiveUp> {
    let within = rule.within_ms;
    let first = &rule.steps[0];
    let candidates: Vec<&Entry> = state
        .entries
        .iter()
        .filter(|entry| entry.bits(tag) & 1 != 0)
        .collect();
    let mut starts: Vec<usize> = candidates
        .iter()
        .enumerate()
        .filter(|(_, entry)| entry.bits(tag) & first.bit != 0)
        .map(|(index, _)| index)
        .collect();
    let last = if narrowable(rule, &candidates, newest) {
        Some(candidates.len() - 1)
    } else {
        None
    };
    if starts.len() > MAX_STARTS {
        starts.drain(..starts.len() - MAX_STARTS);
    }
    let search = Search {
        rule,
        tag,
        candidates,
    };
    let mut narrowed = Vec::new();
    if let Some(last) = last {
        let final_ts = search.candidates[last].ts_ms;
        starts.retain(|&index| index < last && final_ts <= search.candidates[index].ts_ms + within);
        if !starts.is_empty() {
            narrowed = search.completions_ending_with(&starts, last)?;
        }
    }
    let mut found = Vec::new();
    for (at, &index) in starts.iter().enumerate() {
        let start = search.candidates[index];
        let chosen = if last.is_some() {
            narrowed.get_mut(at).and_then(Option::take)
        } else {
            search.complete(index, 0, None, start.ts_ms + within, None)?
        };
        let Some(chosen) = chosen else { continue };
        let chain = Some(chosen);
        let links = in_order(&chain);
        let mut members: Vec<Entry> = links
            .iter()
            .flat_map(|link| link.picked.iter().map(|at| search.candidates[*at].clone()))
            .collect();
        members.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        if rule.absent.is_some()
            && !absence_holds(
                rule,
                tag,
                state,
                &search.candidates,
                &members,
                &chain,
                within,
            )?
        {
            continue;
        }
        let by_step = links
            .iter()
            .map(|link| (rule_step_name(rule, link.step), link.picked.len()))
            .collect();
        found.push(Match {
            key: format!("q:{}", members[0].event_id),
            members,
            by_step,
        });
    }
    Ok(found)
}

fn absence_holds(
    rule: &RulePlan,
    tag: usize,
    state: &State,
    candidates: &[&Entry],
    members: &[Entry],
    chosen: &Chain,
    within: i64,
) -> Result<bool, GiveUp> {
    let absent = rule.absent.as_ref().expect("an absence rule");
    let last = &members[members.len() - 1];
    if state.watermark_ms < last.ts_ms + within {
        return Ok(false);
    }
    for entry in candidates {
        if last.sort_key() < entry.sort_key()
            && entry.ts_ms <= last.ts_ms + within
            && fits(rule, absent, entry, tag, chosen, candidates)?
        {
            return Ok(false);
        }
    }
    Ok(true)
}
