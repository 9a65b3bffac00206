//! The Python face: `riskstream._core.Replay`, driven by `riskstream.offline.native`,
//! and the test hooks (`_parse_line`, `_from_projection`, `_field_path`, `_evaluate`)
//! through which the conformance tests (`tests/unit/conformance`) run the event reader
//! and CEL case by case. `riskstream/_core.pyi` types them all; `live_py.rs` holds the
//! live engine.

use std::fs;
use std::io::{BufRead, BufReader};
use std::rc::Rc;

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use pyo3::IntoPyObjectExt;
use rustc_hash::FxHashMap;

use crate::cel::{Ctx, Expr, Fault, Var, N_VARS};
use crate::event::{from_projection, parse_strict, projection_json, Event, Interner};
use crate::ip::ipv4_prefix;
use crate::plan::Plan;
use crate::replay::Replay as Core;
use crate::state::{Shown, SignalOut};
use crate::tokens::{may_hold_sensitive, tokenise, Key};
use crate::value::{event_slot, slot, EventView, Value};

create_exception!(riskstream._core, Unsupported, PyException);

/// Bytes Python's `bytes.strip()` removes.
fn is_space(byte: &u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')
}

fn strip(line: &[u8]) -> &[u8] {
    let start = line.iter().position(|b| !is_space(b)).unwrap_or(line.len());
    let end = line
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(start, |at| at + 1);
    &line[start..end.max(start)]
}

#[pyclass(unsendable, module = "riskstream._core")]
pub struct Replay {
    core: Core,
    ip_prefix: PyObject,
    ip_cache: FxHashMap<String, Option<Rc<str>>>,
    /// Tokenises every line first, as live ingest does (`tokens`).
    key: Key,
}

/// Python's `ip_prefix(ip)`; an exception it raises is kept in `failure` (the first one)
/// and the prefix taken as None meanwhile.
fn python_prefix(
    py: Python<'_>,
    ip_prefix: &PyObject,
    ip: &str,
    failure: &mut Option<PyErr>,
) -> Option<Rc<str>> {
    let answer = ip_prefix
        .call1(py, (ip,))
        .and_then(|value| value.extract::<Option<String>>(py));
    match answer {
        Ok(text) => text.map(Rc::from),
        Err(error) => {
            failure.get_or_insert(error);
            None
        }
    }
}

pub(crate) fn signal_tuple<'py>(
    py: Python<'py>,
    signal: &SignalOut,
) -> PyResult<Bound<'py, PyTuple>> {
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
    /// `_ip_prefix` (str -> str | None); `token_key`: the secret live ingest tokenises
    /// under. Raises Unsupported for a rule set not modelled here.
    #[new]
    fn new(plan: &[u8], ip_prefix: PyObject, token_key: &[u8]) -> PyResult<Self> {
        let mut plan = Plan::from_json(plan).map_err(Unsupported::new_err)?;
        let score_rules = std::mem::take(&mut plan.score_rules);
        let policy = plan.policy;
        Ok(Replay {
            core: Core::new(plan, score_rules, policy),
            ip_prefix,
            ip_cache: FxHashMap::default(),
            key: Key::new(token_key),
        })
    }

    /// Read a JSONL file, each line tokenised as live ingest does; every line the strict
    /// reader is not sure of comes back as (line number, bytes as read) for Python to
    /// tokenise and validate as live does (and `add_projection` if valid).
    fn load<'py>(
        &mut self,
        py: Python<'py>,
        path: &str,
        max_bytes: usize,
    ) -> PyResult<Vec<(u64, Bound<'py, PyBytes>)>> {
        let file =
            fs::File::open(path).map_err(|error| PyValueError::new_err(error.to_string()))?;
        // Line by line: the file is never whole in memory, only the events read from it.
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let mut raw = Vec::new();
        let mut unsure = Vec::new();
        let mut failure: Option<PyErr> = None;
        let mut ids = Interner::default();
        for index in 0u64.. {
            raw.clear();
            let read = reader
                .read_until(b'\n', &mut raw)
                .map_err(|error| PyValueError::new_err(error.to_string()))?;
            if read == 0 {
                break;
            }
            let line = strip(&raw);
            if line.is_empty() {
                continue;
            }
            let number = index + 1;
            // A line too long, not JSON, or nested too deep is Python's to refuse.
            let tokenised = if line.len() > max_bytes {
                None
            } else if may_hold_sensitive(line) {
                tokenise(line, &self.key).ok()
            } else {
                Some(None) // nothing the tokeniser would change
            };
            let parsed = if let Some(tokenised) = &tokenised {
                let read = tokenised.as_deref().unwrap_or(line);
                let cache = &mut self.ip_cache;
                let callback = &self.ip_prefix;
                let mut lookup = |ip: &str| -> Option<Rc<str>> {
                    if let Some(known) = cache.get(ip) {
                        return known.clone();
                    }
                    if let Some(prefix) = ipv4_prefix(ip) {
                        let prefix: Rc<str> = Rc::from(prefix);
                        cache.insert(ip.to_string(), Some(prefix.clone()));
                        return Some(prefix);
                    }
                    let answer = python_prefix(py, callback, ip, &mut failure);
                    cache.insert(ip.to_string(), answer.clone());
                    answer
                };
                parse_strict(read, &mut lookup, &mut ids)
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
    /// detected_ms, expires_ms). Raises Unsupported where the run meets something the
    /// core cannot compute (a sum beyond 28 digits, say).
    fn run<'py>(
        &mut self,
        py: Python<'py>,
        count: usize,
    ) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyList>, Bound<'py, PyList>)> {
        let produced = self
            .core
            .run(count)
            .map_err(|give_up| Unsupported::new_err(give_up.0))?;
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
        for (name, value) in [
            ("applied", counts.applied),
            ("duplicate", counts.duplicate),
            ("late", counts.late),
        ] {
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

// --- test hooks -------------------------------------------------------------------------
//
// Not used by replay: they expose the event reader and CEL one call at a time, so that
// the conformance cases (`tests/conformance/`) run through Python too.

/// An event as the hooks hand it over: (occurred_ms, `projection_json`, the amount as
/// the CEL view holds it, a double, or None without an amount).
type EventOut = (i64, String, Option<f64>);

fn event_out(event: &Event) -> EventOut {
    let amount = match event.view.get(slot::AMOUNT) {
        Some(Value::Float(amount)) => Some(*amount),
        _ => None,
    };
    (event.ts_ms, projection_json(event), amount)
}

/// `event::parse_strict` on one line: None when the strict reader is unsure, else the
/// event. `ip_prefix` (str -> str | None) is called as `Replay.load` calls it; an
/// exception it raises is raised here.
#[pyfunction]
fn _parse_line(py: Python<'_>, line: &[u8], ip_prefix: PyObject) -> PyResult<Option<EventOut>> {
    let mut failure: Option<PyErr> = None;
    let mut lookup = |ip: &str| python_prefix(py, &ip_prefix, ip, &mut failure);
    let parsed = parse_strict(line, &mut lookup, &mut Interner::default());
    if let Some(error) = failure {
        return Err(error);
    }
    Ok(parsed.as_ref().map(event_out))
}

/// `event::from_projection` (what `Replay.add_projection` reads): ValueError with the
/// reason when it refuses the projection.
#[pyfunction]
fn _from_projection(projection: &[u8]) -> PyResult<EventOut> {
    from_projection(projection)
        .map(|event| event_out(&event))
        .map_err(PyValueError::new_err)
}

fn compile(source: &str) -> PyResult<Expr> {
    Expr::compile(source).map_err(|reason| PyValueError::new_err(format!("refused: {reason}")))
}

/// Why the core refuses an expression (not CEL, nested too deep, too costly); None
/// when it compiles it.
#[pyfunction]
fn expression_refusal(source: &str) -> Option<String> {
    Expr::compile(source).err()
}

/// `Expr::field_path` of a source (`Expression.field_path`); ValueError if refused.
#[pyfunction]
fn _field_path(source: &str) -> PyResult<Option<String>> {
    Ok(compile(source)?.field_path().map(str::to_string))
}

const MAX_NESTING: usize = 64;

/// A plain Python value (None, bool, int64, float, str, list, dict with str keys; exact
/// types only) as a `Value`; TypeError or ValueError for anything else.
pub(crate) fn to_value(object: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    if depth > MAX_NESTING {
        return Err(PyValueError::new_err("nested too deeply"));
    }
    if object.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(flag) = object.downcast_exact::<PyBool>() {
        return Ok(Value::Bool(flag.is_true()));
    }
    if object.downcast_exact::<PyInt>().is_ok() {
        return object
            .extract::<i64>()
            .map(Value::Int)
            .map_err(|_| PyValueError::new_err("an int beyond int64 is not plain"));
    }
    if let Ok(number) = object.downcast_exact::<PyFloat>() {
        return Ok(Value::Float(number.value()));
    }
    if let Ok(text) = object.downcast_exact::<PyString>() {
        return Ok(Value::Str(Rc::from(text.to_str()?)));
    }
    if let Ok(items) = object.downcast_exact::<PyList>() {
        let values = items
            .iter()
            .map(|item| to_value(&item, depth + 1))
            .collect::<PyResult<Vec<_>>>()?;
        return Ok(Value::List(Rc::new(values)));
    }
    if let Ok(items) = object.downcast_exact::<PyDict>() {
        let mut values = Vec::with_capacity(items.len());
        for (key, item) in items.iter() {
            let Ok(key) = key.downcast_exact::<PyString>() else {
                return Err(PyTypeError::new_err("a map key is not a str"));
            };
            values.push((Rc::from(key.to_str()?), to_value(&item, depth + 1)?));
        }
        return Ok(Value::Map(Rc::new(values)));
    }
    let kind = object.get_type().name()?;
    Err(PyTypeError::new_err(format!("{kind} is not a plain value")))
}

/// An event view as the engine passes it: a `Value::Event` when `object` is a dict whose
/// keys are all event fields (the fields it lacks are absent), else as `to_value`.
fn to_event(object: &Bound<'_, PyAny>) -> PyResult<Value> {
    if let Ok(items) = object.downcast_exact::<PyDict>() {
        let mut view = EventView::default();
        let mut all_fields = true;
        for (key, item) in items.iter() {
            let slot = match key.downcast_exact::<PyString>() {
                Ok(key) => event_slot(key.to_str()?),
                Err(_) => None,
            };
            match slot {
                Some(slot) => view.slots[slot] = Some(to_value(&item, 1)?),
                None => {
                    all_fields = false;
                    break;
                }
            }
        }
        if all_fields {
            return Ok(Value::Event(Rc::new(view)));
        }
    }
    to_value(object, 0)
}

/// `steps`: a dict of event views becomes a map of `Value::Event`s (see `to_event`).
fn to_steps(object: &Bound<'_, PyAny>) -> PyResult<Value> {
    let Ok(items) = object.downcast_exact::<PyDict>() else {
        return to_value(object, 0);
    };
    let mut values = Vec::with_capacity(items.len());
    for (key, item) in items.iter() {
        let Ok(key) = key.downcast_exact::<PyString>() else {
            return Err(PyTypeError::new_err("a map key is not a str"));
        };
        values.push((Rc::from(key.to_str()?), to_event(&item)?));
    }
    Ok(Value::Map(Rc::new(values)))
}

fn to_python(py: Python<'_>, value: &Value) -> PyResult<PyObject> {
    Ok(match value {
        Value::Null => py.None(),
        Value::Bool(flag) => flag.into_py_any(py)?,
        Value::Int(number) => number.into_py_any(py)?,
        Value::Float(number) => number.into_py_any(py)?,
        Value::Str(text) => (&**text).into_py_any(py)?,
        Value::List(items) => {
            let list = PyList::empty(py);
            for item in items.iter() {
                list.append(to_python(py, item)?)?;
            }
            list.into_py_any(py)?
        }
        Value::Map(items) => {
            let dict = PyDict::new(py);
            for (key, item) in items.iter() {
                dict.set_item(&**key, to_python(py, item)?)?;
            }
            dict.into_py_any(py)?
        }
        Value::Event(view) => {
            let dict = PyDict::new(py);
            for (name, item) in view.present() {
                dict.set_item(name, to_python(py, item)?)?;
            }
            dict.into_py_any(py)?
        }
    })
}

/// ("value", v), ("error", "<Python exception class>") or ("fallback", None).
type Outcome = (&'static str, PyObject);

fn outcome(py: Python<'_>, result: Result<PyObject, Fault>) -> PyResult<Outcome> {
    Ok(match result {
        Ok(value) => ("value", value),
        Err(Fault::Error(kind)) => ("error", kind.python_name().into_py_any(py)?),
        Err(Fault::Fallback) => ("fallback", py.None()),
    })
}

/// `Expr::evaluate` and `Expr::test` of `source` over `variables`: a dict from variable
/// names (`event`, `entity`, `agg`, `steps`, `profiles`, `penalties`, `spent_today`) to
/// plain values. With `event_views`, `event` and the entries of `steps` are
/// `Value::Event`s as the engine passes them when they are dicts of event fields only;
/// without it, maps. Returns (evaluate's outcome, test's outcome), each ("value", v),
/// ("error", "KeyError" ...) or ("fallback", None). ValueError when the source is
/// refused or a variable is unknown; TypeError/ValueError for a value that is not plain.
#[pyfunction]
#[pyo3(signature = (source, variables, event_views = true))]
fn _evaluate(
    py: Python<'_>,
    source: &str,
    variables: &Bound<'_, PyDict>,
    event_views: bool,
) -> PyResult<(Outcome, Outcome)> {
    let expr = compile(source)?;
    let mut values: [Option<Value>; N_VARS] = Default::default();
    for (name, object) in variables.iter() {
        let name: String = name.extract()?;
        let var = Var::from_name(&name)
            .ok_or_else(|| PyValueError::new_err(format!("unknown variable {name:?}")))?;
        values[var as usize] = Some(match var {
            Var::Event if event_views => to_event(&object)?,
            Var::Steps if event_views => to_steps(&object)?,
            _ => to_value(&object, 0)?,
        });
    }
    let mut ctx = Ctx::new();
    for var in Var::ALL {
        ctx.set(var, values[var as usize].as_ref());
    }
    let evaluated = match expr.evaluate(&ctx) {
        Ok(value) => Ok(to_python(py, &value)?),
        Err(fault) => Err(fault),
    };
    let tested = match expr.test(&ctx) {
        Ok(truth) => Ok(truth.into_py_any(py)?),
        Err(fault) => Err(fault),
    };
    Ok((outcome(py, evaluated)?, outcome(py, tested)?))
}

#[pymodule]
#[pyo3(name = "_core")]
fn riskstream_native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<Replay>()?;
    module.add_class::<crate::live_py::LiveEngine>()?;
    module.add_function(wrap_pyfunction!(crate::live_py::state_last_seen, module)?)?;
    module.add("Unsupported", module.py().get_type::<Unsupported>())?;
    module.add_function(wrap_pyfunction!(_parse_line, module)?)?;
    module.add_function(wrap_pyfunction!(_from_projection, module)?)?;
    module.add_function(wrap_pyfunction!(_field_path, module)?)?;
    module.add_function(wrap_pyfunction!(expression_refusal, module)?)?;
    module.add_function(wrap_pyfunction!(_evaluate, module)?)?;
    crate::tokens_py::register(module)?;
    module.add_class::<crate::conditions_py::Condition>()?;
    module.add_class::<crate::conditions_py::CelContext>()?;
    Ok(())
}
