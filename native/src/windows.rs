//! Windows over an entity's entries and their aggregates (`agents.cep.windows` and
//! `agents.cep.running` in the Python reference): the same windows, the same values.

use std::collections::VecDeque;

use rustc_hash::FxHashMap as HashMap;
use smallvec::SmallVec;
use std::rc::Rc;

use crate::dec::Dec;
use crate::plan::{AggPlan, Func, RulePlan, WindowKind};
use crate::state::{Entry, Shown, State, DAY_MS};
use crate::value::{python_float_repr, Value};

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

fn key_of_value(value: &Value) -> Result<Option<Rc<str>>, GiveUp> {
    Ok(match value {
        Value::Null => None,
        Value::Str(text) => Some(text.clone()),
        Value::Int(number) => Some(Rc::from(number.to_string())),
        Value::Float(number) => Some(Rc::from(python_float_repr(*number))),
        Value::Bool(flag) => Some(Rc::from(if *flag { "True" } else { "False" })),
        _ => return Err(GiveUp("a distinct value that is a list or map".into())),
    })
}

/// The `str()` of an entry's field (as `distinct` counts it), None when absent or null.
fn distinct_key(entry: &Entry, agg: &AggPlan) -> Result<Option<Rc<str>>, GiveUp> {
    if agg.is_amount {
        return Ok(entry.amount_text.clone());
    }
    let mut value = match entry.fields().get_named(&agg.path[0]) {
        Some(value) => value,
        None => return Ok(None),
    };
    for part in &agg.path[1..] {
        match value {
            Value::Map(_) | Value::Event(_) => match value.field(part) {
                Some(inner) => value = inner,
                None => return Ok(None),
            },
            _ => return Ok(None),
        }
    }
    key_of_value(value)
}

pub enum Part {
    Count(i64),
    Distinct(HashMap<Rc<str>, i64>),
    Sum {
        total: Dec,
        n: i64,
    },
    /// Boxed: the other parts are a third of its size, and most windows have none.
    Extreme(Box<Extreme>),
}

pub struct Extreme {
    largest: bool,
    members: VecDeque<Dec>,
    best: Option<Dec>,
}

impl Part {
    fn of(func: Func) -> Part {
        match func {
            Func::Count => Part::Count(0),
            Func::Distinct => Part::Distinct(HashMap::default()),
            Func::Sum => Part::Sum {
                total: Dec::ZERO,
                n: 0,
            },
            Func::Min | Func::Max => Part::Extreme(Box::new(Extreme {
                largest: func == Func::Max,
                members: VecDeque::new(),
                best: None,
            })),
            _ => unreachable!("not a window aggregate"),
        }
    }

    fn apply(&mut self, entry: &Entry, agg: &AggPlan, remove: bool) -> Result<(), GiveUp> {
        match self {
            Part::Count(n) => *n += if remove { -1 } else { 1 },
            Part::Distinct(values) => {
                if let Some(key) = distinct_key(entry, agg)? {
                    if remove {
                        if let Some(count) = values.get_mut(&key) {
                            *count -= 1;
                            if *count == 0 {
                                values.remove(&key);
                            }
                        }
                    } else {
                        *values.entry(key).or_insert(0) += 1;
                    }
                }
            }
            Part::Sum { total, n } => {
                if let Some(amount) = entry.amount {
                    if remove {
                        *total = *total - amount;
                        *n -= 1;
                    } else {
                        *total = *total + amount;
                        *n += 1;
                        if !total.exact() {
                            return Err(GiveUp("a sum beyond 28 digits".into()));
                        }
                    }
                }
            }
            Part::Extreme(extreme) => {
                let Extreme {
                    largest,
                    members,
                    best,
                } = &mut **extreme;
                if let Some(amount) = entry.amount {
                    if remove {
                        let gone = members.pop_front();
                        if gone == *best {
                            let pick = members.iter().copied();
                            *best = if *largest { pick.max() } else { pick.min() };
                        }
                    } else {
                        members.push_back(amount);
                        let better = match best {
                            None => true,
                            Some(known) => {
                                if *largest {
                                    amount > *known
                                } else {
                                    amount < *known
                                }
                            }
                        };
                        if better {
                            *best = Some(amount);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The value as CEL sees it.
    fn value(&self) -> Value {
        match self {
            Part::Count(n) => Value::Int(*n),
            Part::Distinct(values) => Value::Int(values.len() as i64),
            Part::Sum { total, n } => Value::Float(if *n == 0 { 0.0 } else { total.to_f64() }),
            Part::Extreme(extreme) => Value::Float(extreme.best.unwrap_or(Dec::ZERO).to_f64()),
        }
    }

    /// The value as the signal shows it (money as text).
    fn shown(&self) -> Shown {
        match self {
            Part::Count(n) => Shown::Int(*n),
            Part::Distinct(values) => Shown::Int(values.len() as i64),
            Part::Sum { total, n } => Shown::Text(if *n == 0 {
                "0".into()
            } else {
                total.normalized()
            }),
            Part::Extreme(extreme) => Shown::Text(extreme.best.unwrap_or(Dec::ZERO).normalized()),
        }
    }
}

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

    fn get_mut(&mut self, tag: &usize) -> Option<&mut Running> {
        self.0
            .iter_mut()
            .find(|(known, _)| known == tag)
            .map(|(_, window)| window)
    }

    fn insert(&mut self, tag: usize, window: Running) {
        match self.get_mut(&tag) {
            Some(slot) => *slot = window,
            None => {
                self.0.reserve_exact(1); // most entities keep one or two for their life
                self.0.push((tag, window));
            }
        }
    }

    fn remove(&mut self, tag: &usize) {
        self.0.retain(|(known, _)| known != tag);
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }
}

/// One rule's window over an entity's in-order entries, kept current.
pub struct Running {
    start_ms: Option<i64>,
    size: i64,
    pub members: VecDeque<Entry>,
    parts: Vec<(usize, Part)>,
}

impl Running {
    fn new(rule: &RulePlan, size: i64, start_ms: Option<i64>) -> Running {
        Running {
            start_ms,
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
        let bits = entry.bits(tag);
        for (index, part) in self.parts.iter_mut() {
            let agg = &rule.aggs[*index];
            if bits & agg.bit != 0 {
                part.apply(entry, agg, remove)?;
            }
        }
        Ok(())
    }

    fn expire(&mut self, rule: &RulePlan, tag: usize, ts_ms: i64) -> Result<(), GiveUp> {
        let start = ts_ms - self.size + 1;
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

    fn push(&mut self, rule: &RulePlan, tag: usize, entry: Entry) -> Result<(), GiveUp> {
        self.apply(rule, tag, &entry, false)?;
        self.members.push_back(entry);
        Ok(())
    }

    fn results(&self) -> Results {
        self.parts.iter().map(|(_, part)| part.value()).collect()
    }
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
                }]);
            }
        }
        state.running.remove(&tag);
        return Ok(sliding_windows(&state.entries, tag, size, at));
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
    for item in &state.entries[low..=at] {
        if item.bits(tag) & 1 != 0 {
            window.push(rule, tag, item.clone())?;
        }
    }
    let results = window.results();
    state.running.insert(tag, window);
    Ok(Some(results))
}

fn sliding_windows(entries: &[Entry], tag: usize, size: i64, at: usize) -> Windows {
    let ts = entries[at].ts_ms;
    let mut first = at;
    while first > 0 && entries[first - 1].ts_ms >= ts {
        first -= 1;
    }
    let count = entries.len();
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
        let mut low = index;
        while low > 0 && entries[low - 1].ts_ms >= start {
            low -= 1;
        }
        let members = entries[low..stop]
            .iter()
            .filter(|item| item.bits(tag) & 1 != 0)
            .cloned()
            .collect();
        windows.push(Window {
            key: WindowKey::Id('s', end.event_id.clone()),
            start_ms: start,
            end_ms: end.ts_ms,
            members,
            dedupe_by_key: false,
            running: None,
        });
    }
    windows
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
        });
    }
    windows
}

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
