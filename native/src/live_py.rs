//! The Python face of the live engine: `riskstream._core.LiveEngine`, driven by the
//! Faust agents through `riskstream.core`.

use std::rc::Rc;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

use crate::codec;
use crate::engine::Status;
use crate::event::{from_projection, Event};
use crate::lib_py::{signal_tuple, Unsupported};
use crate::live::{Batch, BatchOut, Live};
use crate::plan::Plan;

/// A value of `Rc`s held by a Python object, touched by one thread at a time. `Live` is
/// confined to whichever thread holds the object's mutable borrow: every method takes
/// `&mut self`, so PyO3's borrow flag refuses a second caller, and no `Rc` of its
/// states leaves it (outcomes are turned into Python objects before returning). Other
/// users say why the same holds for them.
pub(crate) struct Confined<T>(pub(crate) T);
// SAFETY: see above; the values are only ever touched by one thread at a time.
unsafe impl<T> Send for Confined<T> {}
unsafe impl<T> Sync for Confined<T> {}

#[pyclass(module = "riskstream._core")]
pub struct LiveEngine {
    live: Confined<Live>,
}

/// As Python passes a batch: bytes objects are read as slices (PyO3 would extract a
/// `Vec<u8>` element by element).
type BatchArg<'py> = (
    usize,
    String,
    Option<Bound<'py, PyBytes>>,
    Vec<Bound<'py, PyBytes>>,
);
type BatchIn = (usize, String, Option<Vec<u8>>, Vec<Vec<u8>>);

fn event_of(projection: &[u8]) -> PyResult<Event> {
    from_projection(projection)
        .map_err(|reason| PyValueError::new_err(format!("projection: {reason}")))
}

fn status_name(status: Status) -> &'static str {
    match status {
        Status::Applied => "applied",
        Status::Duplicate => "duplicate",
        Status::Late => "late",
    }
}

#[pymethods]
impl LiveEngine {
    /// `plan`: the JSON of `riskstream.core.plan_of`; `cache_bytes`: the memory decoded
    /// states may take. Raises Unsupported for a rule set the core cannot run.
    #[new]
    fn new(plan: &[u8], cache_bytes: usize) -> PyResult<Self> {
        let plan = Plan::from_json(plan).map_err(Unsupported::new_err)?;
        Ok(LiveEngine {
            live: Confined(Live::new(plan, cache_bytes)),
        })
    }

    /// The rules (group, rule index, microseconds) one of whose expressions took longer
    /// than `budget_us` in one evaluation since the last call.
    fn slow_rules(&mut self, budget_us: u64) -> Vec<(usize, usize, u64)> {
        self.live.0.plan.slow_rules(budget_us)
    }

    /// The state cache: (hits, misses, states kept, bytes they take, roughly).
    fn cache_stats(&mut self) -> (u64, u64, usize, usize) {
        self.live.0.cache_stats()
    }

    /// The index of the group whose key expression is spelled `source`.
    fn group_of(&mut self, source: &str) -> Option<usize> {
        self.live.0.group_of(source)
    }

    /// The other groups' entities of an event (its projection JSON): (group, key).
    fn routes(&mut self, projection: &[u8]) -> PyResult<Vec<(usize, String)>> {
        let event = event_of(projection)?;
        let routes = self
            .live
            .0
            .routes(&event)
            .map_err(|give_up| PyValueError::new_err(give_up.0))?;
        Ok(routes
            .into_iter()
            .map(|(group, key)| (group, key.to_string()))
            .collect())
    }

    /// Apply batches of (group, key, stored record or None, [projection JSON ...]), the
    /// GIL released meanwhile. Per batch: (record to write, [(status or "error", signals,
    /// shadow signals, error or None) per event], why the stored record was unreadable,
    /// and with `routes` each event's other entities as `routes` gives them, or why not).
    #[allow(clippy::type_complexity)]
    #[pyo3(signature = (batches, routes = false))]
    fn apply<'py>(
        &mut self,
        py: Python<'py>,
        batches: Vec<BatchArg<'py>>,
        routes: bool,
    ) -> PyResult<
        Vec<(
            Bound<'py, PyBytes>,
            Bound<'py, PyList>,
            Option<String>,
            Bound<'py, PyList>,
        )>,
    > {
        let groups = self.live.0.plan.groups.len();
        if let Some((group, ..)) = batches.iter().find(|(group, ..)| *group >= groups) {
            return Err(PyValueError::new_err(format!("no group {group}")));
        }
        let batches: Vec<BatchIn> = batches
            .into_iter()
            .map(|(group, key, stored, events)| {
                let stored = stored.map(|record| record.as_bytes().to_vec());
                let events = events
                    .iter()
                    .map(|event| event.as_bytes().to_vec())
                    .collect();
                (group, key, stored, events)
            })
            .collect();
        let batches = Confined(batches);
        let live = &mut self.live;
        type Routes = Vec<Result<Vec<(usize, Rc<str>)>, String>>;
        let outs: Confined<Result<Vec<(BatchOut, Routes)>, String>> = py.allow_threads(move || {
            let mut outs = Vec::with_capacity(batches.0.len());
            for (group, key, stored, projections) in batches.0 {
                let mut events = Vec::with_capacity(projections.len());
                let mut found = Vec::new();
                for projection in &projections {
                    let event = match from_projection(projection) {
                        Ok(event) => event,
                        Err(reason) => return Confined(Err(format!("projection: {reason}"))),
                    };
                    if routes {
                        found.push(live.0.routes(&event).map_err(|give_up| give_up.0));
                    }
                    events.push(event);
                }
                let out = live.0.apply(Batch {
                    group,
                    key: Rc::from(key),
                    stored,
                    events,
                });
                outs.push((out, found));
            }
            Confined(Ok(outs))
        });
        let outs = outs.0.map_err(PyValueError::new_err)?;
        let mut result = Vec::with_capacity(outs.len());
        for (out, found) in outs {
            let outcomes = PyList::empty(py);
            for outcome in &out.outcomes {
                let item = match outcome {
                    Ok(outcome) => {
                        let signals = PyList::empty(py);
                        for signal in &outcome.signals {
                            signals.append(signal_tuple(py, signal)?)?;
                        }
                        let shadow = PyList::empty(py);
                        for signal in &outcome.shadow {
                            shadow.append(signal_tuple(py, signal)?)?;
                        }
                        (status_name(outcome.status), signals, shadow, None)
                    }
                    Err(reason) => (
                        "error",
                        PyList::empty(py),
                        PyList::empty(py),
                        Some(reason.clone()),
                    ),
                };
                outcomes.append(item)?;
            }
            let routes = PyList::empty(py);
            for entities in found {
                match entities {
                    Ok(entities) => {
                        let pairs: Vec<(usize, &str)> = entities
                            .iter()
                            .map(|(group, key)| (*group, &**key))
                            .collect();
                        routes.append(pairs)?;
                    }
                    Err(reason) => routes.append(reason)?,
                }
            }
            result.push((
                PyBytes::new(py, &out.record),
                outcomes,
                out.unreadable,
                routes,
            ));
        }
        Ok(result)
    }

    /// The record of a state given as JSON (a record of the previous format, converted
    /// by `riskstream.tables.legacy`). ValueError when the JSON is not such a state.
    fn import_state<'py>(
        &mut self,
        py: Python<'py>,
        group: usize,
        json: &[u8],
    ) -> PyResult<Bound<'py, PyBytes>> {
        if group >= self.live.0.plan.groups.len() {
            return Err(PyValueError::new_err(format!("no group {group}")));
        }
        let record = self
            .live
            .0
            .import(group, json)
            .map_err(PyValueError::new_err)?;
        Ok(PyBytes::new(py, &record))
    }

    /// The account rules' active signals were the event applied now to `stored`, which
    /// is left as it is (the scorer's what-if).
    #[pyo3(signature = (stored, key, projection))]
    fn what_if<'py>(
        &mut self,
        py: Python<'py>,
        stored: Option<&[u8]>,
        key: &str,
        projection: &[u8],
    ) -> PyResult<Bound<'py, PyList>> {
        let event = event_of(projection)?;
        let signals = self
            .live
            .0
            .what_if(stored, &Rc::from(key), event)
            .map_err(PyValueError::new_err)?;
        let out = PyList::empty(py);
        for signal in &signals {
            out.append(signal_tuple(py, signal)?)?;
        }
        Ok(out)
    }

    /// An account record's outgoing total on `now_ms`'s UTC day, as a decimal string.
    #[pyo3(signature = (stored, now_ms))]
    fn spent_on(&mut self, stored: Option<&[u8]>, now_ms: i64) -> String {
        self.live.0.spent_on(stored, now_ms).normalized()
    }
}

/// A record's `last_seen_ms` (-1: never), None when it is not a record of this format.
#[pyfunction]
pub fn state_last_seen(record: &[u8]) -> Option<i64> {
    codec::last_seen(record)
}
