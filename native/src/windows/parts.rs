//! An aggregate's running part (count, distinct, sum, min/max) and what a window shows of it.

use std::collections::VecDeque;

use rustc_hash::FxHashMap as HashMap;
use std::rc::Rc;

use super::GiveUp;
use crate::dec::Dec;
use crate::heap_size::{chunk, table_bytes, HeapSize};
use crate::plan::{AggPlan, Func};
use crate::state::{Entry, Shown};
use crate::value::{python_float_repr, Value};

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
    /// Counts what the part holds on the heap.
    pub(super) fn heap_size(&self, size: &mut HeapSize) {
        match self {
            Part::Distinct(values) => {
                size.bytes += table_bytes::<(Rc<str>, i64)>(values.capacity());
                values.keys().for_each(|key| size.text(key));
            }
            Part::Extreme(extreme) => {
                size.bytes += chunk(std::mem::size_of::<Extreme>());
                size.deque(&extreme.members);
            }
            Part::Count(_) | Part::Sum { .. } => {}
        }
    }

    pub(super) fn of(func: Func) -> Part {
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

    pub(super) fn apply(
        &mut self,
        entry: &Entry,
        agg: &AggPlan,
        remove: bool,
    ) -> Result<(), GiveUp> {
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

    pub(super) fn invertible(&self) -> bool {
        !matches!(self, Part::Extreme(_))
    }

    /// A copy, for the parts that can take out any entry (not only the oldest): all but
    /// min and max. A distinct part's copy costs its distinct values, not its entries.
    pub(super) fn invertible_copy(&self) -> Option<Part> {
        match self {
            Part::Count(n) => Some(Part::Count(*n)),
            Part::Sum { total, n } => Some(Part::Sum {
                total: *total,
                n: *n,
            }),
            Part::Distinct(values) => Some(Part::Distinct(values.clone())),
            Part::Extreme(_) => None,
        }
    }

    /// The value as CEL sees it.
    pub(super) fn value(&self) -> Value {
        match self {
            Part::Count(n) => Value::Int(*n),
            Part::Distinct(values) => Value::Int(values.len() as i64),
            Part::Sum { total, n } => Value::Float(if *n == 0 { 0.0 } else { total.to_f64() }),
            Part::Extreme(extreme) => Value::Float(extreme.best.unwrap_or(Dec::ZERO).to_f64()),
        }
    }

    /// The value as the signal shows it (money as text).
    pub(super) fn shown(&self) -> Shown {
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
