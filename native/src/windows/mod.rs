//! Windows over an entity's entries and their aggregates (`agents.cep.windows` and
//! `agents.cep.running` in the Python reference): the same windows, the same values.

mod aggregate;
mod parts;
mod running;

use smallvec::SmallVec;
use std::rc::Rc;

use crate::plan::{RulePlan, WindowKind};
use crate::state::{Entry, State};
use crate::value::Value;

pub use aggregate::{aggregate, update_baselines};
use parts::Part;
use running::Running;
pub use running::Runs;

/// Why the native run gives up: the reference would compute something not modelled here.
#[derive(Debug)]
pub struct GiveUp(pub String);

/// A window's name in its signal id, made into text only when needed.
pub enum WindowKey {
    Id(char, Rc<str>),
    Start(char, i64),
}

impl WindowKey {
    pub fn text(&self) -> String {
        match self {
            WindowKey::Id(letter, id) => format!("{letter}:{id}"),
            WindowKey::Start(letter, start) => format!("{letter}:{start}"),
        }
    }
}

/// The windows holding an entry: one, but for entries out of order.
pub type Windows = SmallVec<[Window; 1]>;
/// A running window's results, in the order of the rule's window aggregates.
pub type Results = SmallVec<[Value; 4]>;

pub struct Window {
    pub key: WindowKey,
    pub start_ms: i64,
    pub end_ms: i64,
    /// Empty for a running window: its members are the running window's.
    pub members: Vec<Entry>,
    pub dedupe_by_key: bool,
    /// The running window's results, in the order of the rule's window aggregates.
    pub running: Option<Results>,
    /// Results taken from the running window for a window it does not hold whole (see
    /// `displaced`): its members are the entries in this range that the rule takes, read
    /// only if it fires.
    pub span: Option<(usize, usize)>,
}

impl Window {
    /// The window with its members read out, for a firing rule's evidence and figures.
    pub fn materialized(mut self, entries: &[Entry], tag: usize) -> Window {
        if let Some((low, stop)) = self.span.take() {
            self.members = entries[low..stop]
                .iter()
                .filter(|item| item.bits(tag) & 1 != 0)
                .cloned()
                .collect();
            self.running = None;
        }
        self
    }
}

/// `round(x, digits)` of a double, as Python rounds (the exact value, ties to even).
pub fn py_round(value: f64, digits: usize) -> f64 {
    if !value.is_finite() {
        return value;
    }
    format!("{value:.digits$}")
        .parse()
        .expect("a formatted double reads back")
}

fn position(entries: &[Entry], entry: &Entry) -> usize {
    if entries.last().is_some_and(|last| last.same(entry)) {
        return entries.len() - 1;
    }
    let key = entry.sort_key();
    let mut index = entries.partition_point(|item| item.sort_key() < key);
    while !entries[index].same(entry) {
        index += 1;
    }
    index
}

/// The windows that contain `entry`, earliest first (`windows.windows_for`); `tag` is the
/// rule's index in its group.
pub fn windows_for(
    rule: &RulePlan,
    tag: usize,
    state: &mut State,
    entry: &Entry,
) -> Result<Windows, GiveUp> {
    let (kind, size, hop) = rule.window.expect("a window rule");
    let at = position(&state.entries, entry);
    if kind == WindowKind::Count {
        return Ok(count_windows(&state.entries, tag, at, size as usize));
    }
    let ts = entry.ts_ms;
    let last = at == state.entries.len() - 1;
    if kind == WindowKind::Sliding {
        if last && (at == 0 || state.entries[at - 1].ts_ms < ts) {
            let results = running(rule, tag, state, entry, at, None)?;
            if let Some(results) = results {
                return Ok(smallvec::smallvec![Window {
                    key: WindowKey::Id('s', entry.event_id.clone()),
                    start_ms: ts - size + 1,
                    end_ms: ts,
                    members: Vec::new(),
                    dedupe_by_key: false,
                    running: Some(results),
                    span: None,
                }]);
            }
        }
        if let Some(windows) = displaced(rule, tag, state, entry, at, size)? {
            return Ok(windows);
        }
        // An entry older than the running window's start leaves it as it is; any other
        // entry it did not take in leaves it wrong.
        let older = state
            .running
            .get(&tag)
            .is_some_and(|window| window.start_ms.is_none() && entry.ts_ms < window.low_ms);
        if !older {
            state.running.remove(&tag);
        }
        return sliding_windows(rule, &state.entries, tag, size, at);
    }
    if kind == WindowKind::Tumbling && last {
        let start = ts.div_euclid(hop) * hop;
        if let Some(results) = running(rule, tag, state, entry, at, Some(start))? {
            return Ok(smallvec::smallvec![Window {
                key: WindowKey::Start('t', start),
                start_ms: start,
                end_ms: start + size - 1,
                members: Vec::new(),
                dedupe_by_key: true,
                running: Some(results),
                span: None,
            }]);
        }
    }
    state.running.remove(&tag);
    Ok(aligned_windows(&state.entries, tag, kind, size, hop, at))
}

fn running(
    rule: &RulePlan,
    tag: usize,
    state: &mut State,
    entry: &Entry,
    at: usize,
    aligned: Option<i64>,
) -> Result<Option<Results>, GiveUp> {
    let size = rule.window.expect("a window rule").1;
    if let Some(window) = state.running.get_mut(&tag) {
        if window.start_ms == aligned {
            if aligned.is_none() {
                window.expire(rule, tag, entry.ts_ms)?;
            }
            let fits = match window.members.front() {
                None => true,
                Some(first) => state.entries[0].sort_key() <= first.sort_key(),
            };
            if fits {
                window.push(rule, tag, entry.clone())?;
                return Ok(Some(window.results()));
            }
        }
    }
    let start = match aligned {
        None => entry.ts_ms - size + 1,
        Some(start) => start,
    };
    let low = state.entries[..at].partition_point(|item| item.ts_ms < start);
    let mut window = Running::new(rule, size, aligned);
    if aligned.is_none() {
        window.set_low(start);
    }
    for item in &state.entries[low..=at] {
        if item.bits(tag) & 1 != 0 {
            window.push(rule, tag, item.clone())?;
        }
    }
    let results = window.results();
    state.running.insert(tag, window);
    Ok(Some(results))
}

/// The sliding windows of an entry that came out of order, or at the time of the last
/// one, taken from the rule's running window rather than read entry by entry.
///
/// These are the windows `sliding_windows` gives: one ending at each entry from the
/// entry's time on. The running window holds every entry the rule takes from its start
/// on, so the one ending at a given entry is the running window less its entries after
/// that end, plus the older entries its start reaches back to: a few entries each for an
/// entry a little out of order, where reading every member cost a busy entity's whole
/// window per event. Counts, sums and distinct counts can be taken back out this way;
/// a rule with a min or max, or an entry older than the running window's start, is left
/// to `sliding_windows`.
fn displaced(
    rule: &RulePlan,
    tag: usize,
    state: &mut State,
    entry: &Entry,
    at: usize,
    size: i64,
) -> Result<Option<Windows>, GiveUp> {
    let State {
        running, entries, ..
    } = state;
    let Some(window) = running.get_mut(&tag) else {
        return Ok(None);
    };
    let whole = match window.members.front() {
        None => true,
        Some(first) => entries[0].sort_key() <= first.sort_key(),
    };
    if window.start_ms.is_some() || entry.ts_ms < window.low_ms || !whole {
        return Ok(None);
    }
    if !window.invertible() {
        return Ok(None);
    }
    if entry.bits(tag) & 1 != 0 {
        window.insert(rule, tag, entry.clone())?;
    }
    let mut parts = window.invertible_parts().expect("checked above");
    let ts = entry.ts_ms;
    let mut first = at;
    while first > 0 && entries[first - 1].ts_ms >= ts {
        first -= 1;
    }
    let count = entries.len();
    let mut stop = first;
    while stop < count && entries[stop].ts_ms < ts + size {
        stop += 1;
    }
    // From the last window back to the first: each ends earlier and starts earlier than
    // the one after it, so entries only leave at the top and join at the bottom.
    let members = &window.members;
    let mut top = members.len();
    let mut bottom = entries.partition_point(|item| item.ts_ms < window.low_ms);
    let mut found = Vec::new();
    for index in (first..stop).rev() {
        let end = &entries[index];
        if end.bits(tag) & 1 == 0 {
            continue;
        }
        while top > 0 && members[top - 1].sort_key() > end.sort_key() {
            top -= 1;
            running::apply_parts(&mut parts, rule, tag, &members[top], true)?;
        }
        let start = end.ts_ms - size + 1;
        while bottom > 0 && entries[bottom - 1].ts_ms >= start {
            bottom -= 1;
            if entries[bottom].bits(tag) & 1 != 0 {
                running::apply_parts(&mut parts, rule, tag, &entries[bottom], false)?;
            }
        }
        let mut last = index + 1;
        while last < count && entries[last].sort_key() <= end.sort_key() {
            last += 1;
        }
        found.push(spanned(end, size, &parts, (bottom, last)));
    }
    found.reverse();
    Ok(Some(found.into_iter().collect()))
}

/// The sliding window ending at `end`, its results from `parts`, its members the
/// entries of `span` the rule takes.
fn spanned(end: &Entry, size: i64, parts: &[(usize, Part)], span: (usize, usize)) -> Window {
    Window {
        key: WindowKey::Id('s', end.event_id.clone()),
        start_ms: end.ts_ms - size + 1,
        end_ms: end.ts_ms,
        members: Vec::new(),
        dedupe_by_key: false,
        running: Some(parts.iter().map(|(_, part)| part.value()).collect()),
        span: Some(span),
    }
}

/// The sliding windows of an entry: one ending at each entry from the entry's time on,
/// within the window's size. Their aggregates come from one pass over the entries in
/// order, each entry added once when a window's end reaches it and taken out once when
/// a start passes it (the oldest first, as min and max need): the cost is the entries
/// the windows span, not the windows times their members. Members are read out only
/// for a window that fires (`Window::materialized`).
fn sliding_windows(
    rule: &RulePlan,
    entries: &[Entry],
    tag: usize,
    size: i64,
    at: usize,
) -> Result<Windows, GiveUp> {
    let ts = entries[at].ts_ms;
    let mut first = at;
    while first > 0 && entries[first - 1].ts_ms >= ts {
        first -= 1;
    }
    let count = entries.len();
    let mut parts = running::fresh_parts(rule);
    let mut low = entries.partition_point(|item| item.ts_ms < entries[first].ts_ms - size + 1);
    let mut high = low;
    let mut windows = Windows::new();
    for index in first..count {
        let end = &entries[index];
        if end.ts_ms >= ts + size {
            break;
        }
        if end.bits(tag) & 1 == 0 {
            continue;
        }
        let start = end.ts_ms - size + 1;
        let mut stop = index + 1;
        while stop < count && entries[stop].sort_key() <= end.sort_key() {
            stop += 1;
        }
        while high < stop {
            if entries[high].bits(tag) & 1 != 0 {
                running::apply_parts(&mut parts, rule, tag, &entries[high], false)?;
            }
            high += 1;
        }
        while low < high && entries[low].ts_ms < start {
            if entries[low].bits(tag) & 1 != 0 {
                running::apply_parts(&mut parts, rule, tag, &entries[low], true)?;
            }
            low += 1;
        }
        windows.push(spanned(end, size, &parts, (low, stop)));
    }
    Ok(windows)
}

fn aligned_windows(
    entries: &[Entry],
    tag: usize,
    kind: WindowKind,
    size: i64,
    hop: i64,
    at: usize,
) -> Windows {
    let ts = entries[at].ts_ms;
    let mut starts = Vec::new();
    let mut start = ts.div_euclid(hop) * hop;
    while start > ts - size {
        starts.push(start);
        start -= hop;
    }
    let letter = if kind == WindowKind::Tumbling {
        't'
    } else {
        'h'
    };
    starts
        .into_iter()
        .rev()
        .map(|start| {
            let mut low = at;
            while low > 0 && entries[low - 1].ts_ms >= start {
                low -= 1;
            }
            let mut high = at + 1;
            while high < entries.len() && entries[high].ts_ms < start + size {
                high += 1;
            }
            let members = entries[low..high]
                .iter()
                .filter(|item| item.bits(tag) & 1 != 0)
                .cloned()
                .collect();
            Window {
                key: WindowKey::Start(letter, start),
                start_ms: start,
                end_ms: start + size - 1,
                members,
                dedupe_by_key: true,
                running: None,
                span: None,
            }
        })
        .collect()
}

fn count_windows(entries: &[Entry], tag: usize, at: usize, size: usize) -> Windows {
    let mut before = Vec::new();
    let mut index = at as isize - 1;
    while before.len() < size - 1 && index >= 0 {
        if entries[index as usize].bits(tag) & 1 != 0 {
            before.push(entries[index as usize].clone());
        }
        index -= 1;
    }
    let mut after = Vec::new();
    let mut index = at + 1;
    while after.len() < size - 1 && index < entries.len() {
        if entries[index].bits(tag) & 1 != 0 {
            after.push(entries[index].clone());
        }
        index += 1;
    }
    let own = before.len();
    let mut taken: Vec<Entry> = before.into_iter().rev().collect();
    taken.push(entries[at].clone());
    taken.extend(after);
    let mut windows = Windows::new();
    for end in own..taken.len().min(own + size) {
        let from = (end + 1).saturating_sub(size);
        let members: Vec<Entry> = taken[from..=end].to_vec();
        if members.len() < size {
            continue;
        }
        windows.push(Window {
            key: WindowKey::Id('c', taken[end].event_id.clone()),
            start_ms: members[0].ts_ms,
            end_ms: members[members.len() - 1].ts_ms,
            members,
            dedupe_by_key: false,
            running: None,
            span: None,
        });
    }
    windows
}
