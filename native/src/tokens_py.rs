//! The Python face of `tokens`: `riskstream._core.Tokeniser` (live ingest, `POST
//! /score/`), `mask` (dead letters) and the card-number helpers the rest of the code
//! shares. `riskstream/_core.pyi` types them.

use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::tokens::{self, pans, Key, Kind, Refusal};

create_exception!(riskstream._core, TooDeep, PyValueError);

fn refused(refusal: Refusal) -> PyErr {
    match refusal {
        Refusal::NotJson(why) => PyValueError::new_err(format!("not JSON: {why}")),
        Refusal::TooDeep => {
            TooDeep::new_err(format!("nested deeper than {} levels", tokens::MAX_DEPTH))
        }
    }
}

fn kind_named(name: &str) -> PyResult<Kind> {
    Kind::from_name(name).ok_or_else(|| PyValueError::new_err(format!("no kind {name:?}")))
}

/// Keyed tokens under one secret.
#[pyclass(frozen, module = "riskstream._core")]
pub struct Tokeniser {
    key: Key,
}

#[pymethods]
impl Tokeniser {
    #[new]
    fn new(key: &[u8]) -> Self {
        Tokeniser { key: Key::new(key) }
    }

    /// The message with its sensitive values tokenised, dropped or masked: `message`
    /// itself when it has none. ValueError when it is not JSON, TooDeep when it nests
    /// too deep.
    fn tokenise<'py>(
        &self,
        py: Python<'py>,
        message: Bound<'py, PyBytes>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = message.as_bytes();
        let out = py.allow_threads(|| tokens::tokenise(bytes, &self.key));
        match out.map_err(refused)? {
            Some(out) => Ok(PyBytes::new(py, &out)),
            None => Ok(message),
        }
    }

    /// The token of a value of this kind (`pan`, `phone`, `nid`, `secret`).
    fn token(&self, kind: &str, value: &str) -> PyResult<String> {
        Ok(self.key.token(kind_named(kind)?, value))
    }

    /// An id as the state knows it: a card number asked for is looked up by token.
    fn lookup_id(&self, value: &str) -> String {
        tokens::lookup_id(value, &self.key).into_owned()
    }
}

/// A JSON message with the same values masked (no secret needed), and the names of the
/// kinds found: `message` itself when there were none.
#[pyfunction]
fn mask<'py>(
    py: Python<'py>,
    message: Bound<'py, PyBytes>,
) -> PyResult<(Bound<'py, PyBytes>, Vec<&'static str>)> {
    let (out, kinds) = tokens::mask(message.as_bytes()).map_err(refused)?;
    let names = kinds.iter().map(Kind::name).collect();
    Ok((out.map_or(message, |out| PyBytes::new(py, &out)), names))
}

/// `text` with every card number in it masked.
#[pyfunction]
fn mask_text(text: &str) -> String {
    pans::mask_text(text).unwrap_or_else(|| text.to_string())
}

/// The digits of `value` when the whole of it is one card number.
#[pyfunction]
fn pan_digits(value: &str) -> Option<String> {
    pans::pan_digits(value)
}

/// The kind of sensitive value a field of this name holds, if any.
#[pyfunction]
fn field_kind(name: &str) -> Option<&'static str> {
    tokens::field_kind(name).map(Kind::name)
}

#[pyfunction]
fn is_token(value: &str) -> bool {
    tokens::is_token(value)
}

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("TooDeep", module.py().get_type::<TooDeep>())?;
    module.add_class::<Tokeniser>()?;
    module.add_function(wrap_pyfunction!(mask, module)?)?;
    module.add_function(wrap_pyfunction!(mask_text, module)?)?;
    module.add_function(wrap_pyfunction!(pan_digits, module)?)?;
    module.add_function(wrap_pyfunction!(field_kind, module)?)?;
    module.add_function(wrap_pyfunction!(is_token, module)?)?;
    Ok(())
}
