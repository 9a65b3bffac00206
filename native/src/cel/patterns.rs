//! `matches`, with each pattern compiled once: the `cel` crate's own compiled its
//! pattern on every call, so the core builds the crate without it and registers this
//! one ([`super::full`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use cel::extractors::This;
use cel::{ExecutionError, Value as CelValue};
use regex::Regex;

thread_local! {
    /// The patterns of `matches`, each compiled once (per thread).
    static PATTERNS: RefCell<HashMap<String, Regex>> = RefCell::new(HashMap::new());
}

/// Patterns kept compiled; past it the cache starts afresh (rules spell a few).
const MAX_PATTERNS: usize = 1024;

/// `text.matches(pattern)` and `matches(text, pattern)`: RE2 syntax, as CEL's; the
/// pattern compiled on its first use only.
pub(super) fn matches(
    This(text): This<Arc<String>>,
    pattern: Arc<String>,
) -> Result<CelValue, ExecutionError> {
    PATTERNS.with(|patterns| {
        let mut patterns = patterns.borrow_mut();
        if let Some(compiled) = patterns.get(pattern.as_str()) {
            return Ok(CelValue::Bool(compiled.is_match(&text)));
        }
        let compiled = Regex::new(&pattern).map_err(|error| ExecutionError::FunctionError {
            function: "matches".to_string(),
            message: format!("'{pattern}' not a valid regex:\n{error}"),
        })?;
        let found = compiled.is_match(&text);
        if patterns.len() >= MAX_PATTERNS {
            patterns.clear();
        }
        patterns.insert(pattern.to_string(), compiled);
        Ok(CelValue::Bool(found))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cel::Ctx;
    use crate::value::Value;

    #[test]
    fn a_pattern_is_compiled_once_per_thread() {
        let program = crate::cel::full::Program::compile(
            "'xyz'.matches('^x+y') && matches('abc', '^x+y') == false",
        )
        .expect("CEL");
        for _ in 0..3 {
            assert_eq!(program.evaluate(&Ctx::new()), Ok(Value::Bool(true)));
        }
        PATTERNS.with(|patterns| assert_eq!(patterns.borrow().len(), 1));
    }
}
