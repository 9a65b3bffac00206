//! The Python face: `riskstream_native.Replay`, driven by `riskstream.offline.native`.

use std::collections::HashMap;
use std::fs;
use std::rc::Rc;

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};

use crate::event::{from_projection, parse_strict};
use crate::plan::Plan;
use crate::replay::Replay as Core;
use crate::state::{Shown, SignalOut};

create_exception!(riskstream_native, Unsupported, PyException);

/// Bytes Python's `bytes.strip()` removes.
fn is_space(byte: &u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')
}

fn strip(line: &[u8]) -> &[u8] {
    let start = line.iter().position(|b| !is_space(b)).unwrap_or(line.len());
    let end = line.iter().rposition(|b| !is_space(b)).map_or(start, |at| at + 1);
    &line[start..end.max(start)]
}

#[pyclass(unsendable, module = "riskstream_native")]
pub struct Replay {
    core: Core,
    ip_prefix: PyObject,
    ip_cache: HashMap<String, Option<Rc<str>>>,
}

fn signal_tuple<'py>(py: Python<'py>, signal: &SignalOut) -> PyResult<Bound<'py, PyTuple>> {
    let shown = PyDict::new(py);
    for (name, value) in &signal.shown {
        match value {
            Shown::Int(number) => shown.set_item(&**name, number)?,
            Shown::Float(number) => shown.set_item(&**name, number)?,
            Shown::Text(text) => shown.set_item(&**name, text)?,
        }
    }
    let evidence: Vec<&str> = signal.evidence.iter().map(|id| &**id).collect();
    PyTuple::new(
        py,
        [
            signal.group.into_pyobject(py)?.into_any(),
            signal.rule.into_pyobject(py)?.into_any(),
            (&*signal.signal_id).into_pyobject(py)?.into_any(),
            (&*signal.entity_key).into_pyobject(py)?.into_any(),
            PyTuple::new(py, evidence)?.into_any(),
            shown.into_any(),
            (&*signal.trigger_event_id).into_pyobject(py)?.into_any(),
            signal.detected_ms.into_pyobject(py)?.into_any(),
            signal.expires_ms.into_pyobject(py)?.into_any(),
        ],
    )
}

#[pymethods]
impl Replay {
    /// `plan`: the JSON of `riskstream.offline.native.plan_of`; `ip_prefix`: Python's own
    /// `_ip_prefix` (str -> str | None). Raises Unsupported for a rule set not modelled here.
    #[new]
    fn new(plan: &[u8], ip_prefix: PyObject) -> PyResult<Self> {
        let mut plan = Plan::from_json(plan).map_err(Unsupported::new_err)?;
        let score_rules = std::mem::take(&mut plan.score_rules);
        let policy = plan.policy;
        Ok(Replay { core: Core::new(plan, score_rules, policy), ip_prefix, ip_cache: HashMap::new() })
    }

    /// Read a JSONL file; every line the strict reader is not sure of comes back as
    /// (line number, bytes) for Python to validate (and `add_projection` if valid).
    fn load<'py>(
        &mut self,
        py: Python<'py>,
        path: &str,
        max_bytes: usize,
    ) -> PyResult<Vec<(u64, Bound<'py, PyBytes>)>> {
        let data = fs::read(path).map_err(|error| PyValueError::new_err(error.to_string()))?;
        let mut unsure = Vec::new();
        let mut failure: Option<PyErr> = None;
        for (index, raw) in data.split_inclusive(|byte| *byte == b'\n').enumerate() {
            let line = strip(raw);
            if line.is_empty() {
                continue;
            }
            let number = index as u64 + 1;
            let parsed = if line.len() <= max_bytes {
                let cache = &mut self.ip_cache;
                let callback = &self.ip_prefix;
                let mut lookup = |ip: &str| -> Option<Rc<str>> {
                    if let Some(known) = cache.get(ip) {
                        return known.clone();
                    }
                    let answer = match callback.call1(py, (ip,)) {
                        Ok(value) if value.is_none(py) => None,
                        Ok(value) => match value.extract::<String>(py) {
                            Ok(text) => Some(Rc::from(text)),
                            Err(error) => {
                                failure.get_or_insert(error);
                                None
                            }
                        },
                        Err(error) => {
                            failure.get_or_insert(error);
                            None
                        }
                    };
                    cache.insert(ip.to_string(), answer.clone());
                    answer
                };
                parse_strict(line, &mut lookup)
            } else {
                None
            };
            match parsed {
                Some(event) => self.core.add(number, event),
                None => unsure.push((number, PyBytes::new(py, line))),
            }
        }
        if let Some(error) = failure {
            return Err(error);
        }
        Ok(unsure)
    }

    /// An event Python validated: `{"ms": occurred_ms, "fields": project(event)}`.
    fn add_projection(&mut self, line: u64, projection: &[u8]) -> PyResult<()> {
        let event = from_projection(projection).map_err(Unsupported::new_err)?;
        self.core.add(line, event);
        Ok(())
    }

    fn sort(&mut self) {
        self.core.sort();
    }

    fn __len__(&self) -> usize {
        self.core.events.len()
    }

    /// The next `count` events: (decision lines, signals, shadow signals); a signal is
    /// (group, rule, signal_id, entity_id, evidence, aggregates, trigger_event_id,
    /// detected_ms, expires_ms). Raises Unsupported where the reference would compute
    /// something not modelled here (the caller starts over with the reference).
    fn run<'py>(
        &mut self,
        py: Python<'py>,
        count: usize,
    ) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyList>, Bound<'py, PyList>)> {
        let produced = self.core.run(count).map_err(|give_up| Unsupported::new_err(give_up.0))?;
        let signals = PyList::empty(py);
        for signal in &produced.signals {
            signals.append(signal_tuple(py, signal)?)?;
        }
        let shadow = PyList::empty(py);
        for signal in &produced.shadow {
            shadow.append(signal_tuple(py, signal)?)?;
        }
        Ok((PyBytes::new(py, &produced.decisions), signals, shadow))
    }

    /// Counters: events, transactions, statuses of the account outcome, decisions.
    fn counts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let counts = &self.core.counts;
        let result = PyDict::new(py);
        result.set_item("events", counts.events)?;
        result.set_item("transactions", counts.transactions)?;
        let statuses = PyDict::new(py);
        for (name, value) in
            [("applied", counts.applied), ("duplicate", counts.duplicate), ("late", counts.late)]
        {
            if value > 0 {
                statuses.set_item(name, value)?;
            }
        }
        result.set_item("statuses", statuses)?;
        let decisions = PyDict::new(py);
        for (name, value) in &counts.decisions {
            decisions.set_item(*name, value)?;
        }
        result.set_item("decisions", decisions)?;
        Ok(result)
    }
}

#[pymodule]
fn riskstream_native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<Replay>()?;
    module.add("Unsupported", module.py().get_type::<Unsupported>())?;
    Ok(())
}
