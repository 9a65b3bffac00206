//! The scoring rules' conditions on the core's CEL: `riskstream._core.Condition`, tested
//! in a `CelContext` built once per decision. The detection rules, replay's scorer and
//! the live scorer's scoring rules all evaluate here: one CEL for the engine.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::cel::{Ctx, Expr, Var, N_VARS};
use crate::event::from_projection;
use crate::lib_py::to_value;
// Touched only holding the GIL, which no method here releases, and no `Rc` inside
// leaves them: one thread at a time.
use crate::live_py::Confined;
use crate::value::Value;

/// A compiled condition (a scoring rule's `when`).
#[pyclass(module = "riskstream._core")]
pub struct Condition {
    expr: Confined<Expr>,
}

#[pymethods]
impl Condition {
    /// ValueError ("refused: <reason>") for a source the core does not compile.
    #[new]
    fn new(source: &str) -> PyResult<Self> {
        Expr::compile(source)
            .map(|expr| Condition {
                expr: Confined(expr),
            })
            .map_err(|reason| PyValueError::new_err(format!("refused: {reason}")))
    }

    /// Whether it holds in `context`: true only for a boolean true; an evaluation error
    /// (a missing value, no overload) is false, as for every rule condition.
    fn test(&mut self, context: PyRef<'_, CelContext>) -> bool {
        let values = &context.values.0;
        let mut ctx = Ctx::new();
        for var in Var::ALL {
            ctx.set(var, values[var as usize].as_ref());
        }
        self.expr.0.test(&ctx).unwrap_or(false)
    }
}

/// The variables a decision's conditions read, converted once.
#[pyclass(module = "riskstream._core")]
pub struct CelContext {
    values: Confined<[Option<Value>; N_VARS]>,
}

#[pymethods]
impl CelContext {
    /// `projection`: the event as the core reads it (`{"ms": ..., "fields": ...}`),
    /// which becomes `event`; `variables`: the others by name (`profiles`, `penalties`,
    /// `spent_today`), plain values. ValueError for an unknown name or a projection
    /// the core does not read; TypeError or ValueError for a value that is not plain.
    #[new]
    fn new(projection: &[u8], variables: &Bound<'_, PyDict>) -> PyResult<Self> {
        let event = from_projection(projection)
            .map_err(|reason| PyValueError::new_err(format!("projection: {reason}")))?;
        let mut values: [Option<Value>; N_VARS] = Default::default();
        values[Var::Event as usize] = Some(Value::Event(event.view));
        for (name, object) in variables.iter() {
            let name: String = name.extract()?;
            let var = Var::from_name(&name)
                .filter(|var| *var != Var::Event)
                .ok_or_else(|| PyValueError::new_err(format!("unknown variable {name:?}")))?;
            values[var as usize] = Some(to_value(&object, 0)?);
        }
        Ok(CelContext {
            values: Confined(values),
        })
    }
}
