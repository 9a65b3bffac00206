//! The conformance cases (`tests/conformance/`, data that every implementation runs) run
//! against the core's own functions: `cel/*.json` through [`crate::cel::Expr`],
//! `events/*.json` through [`crate::event::parse_strict`] and
//! [`crate::event::from_projection`]. `tests/unit/conformance/test_conformance.py` runs
//! the same files through the Python module; `tests/conformance/README.md` says what a
//! case holds.

mod cel;
mod events;
mod json;
mod tokens;

use std::fs;
use std::path::{Path, PathBuf};

use json::Json;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance")
}

/// The cases of every `*.json` file of `directory` (sorted by name), each with its file's
/// name.
fn files(directory: &str) -> Vec<(String, Vec<Json>)> {
    let path = root().join(directory);
    let mut names: Vec<PathBuf> = fs::read_dir(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|path| {
            let text = fs::read_to_string(&path)
                .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
            let document =
                json::parse(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let cases = document.get("cases").map(Json::as_array).unwrap_or(&[]);
            assert!(!cases.is_empty(), "{}: no cases", path.display());
            (name, cases.to_vec())
        })
        .collect()
}

/// Runs `check` on a thread with a stack for debug builds: the `cel` crate's parser,
/// unoptimised, takes about 100 KiB of stack a level of parentheses, and the cases go to
/// its limit of 96.
pub(crate) fn on_a_large_stack(check: impl FnOnce() + Send + 'static) {
    let thread = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(check)
        .expect("a thread");
    if let Err(panic) = thread.join() {
        std::panic::resume_unwind(panic);
    }
}

/// Failures by case, checked at the end: a case marked `pending` (a known difference of
/// this implementation) must still fail, so that fixing it is noticed.
#[derive(Default)]
struct Report {
    ran: usize,
    failures: Vec<String>,
}

impl Report {
    fn check(&mut self, file: &str, case: &Json, outcome: Result<(), String>) {
        self.ran += 1;
        let name = format!("{file}/{}", case.text("name"));
        match (outcome, case.get("pending")) {
            (Ok(()), None) | (Err(_), Some(_)) => {}
            (Err(problem), None) => self.failures.push(format!("{name}: {problem}")),
            (Ok(()), Some(_)) => self
                .failures
                .push(format!("{name}: passes now, remove its `pending`")),
        }
    }

    fn finish(self, what: &str, at_least: usize) {
        assert!(self.ran >= at_least, "{what}: only {} cases ran", self.ran);
        if !self.failures.is_empty() {
            let shown: Vec<&str> = self.failures.iter().take(40).map(String::as_str).collect();
            panic!(
                "{what}: {} of {} cases fail:\n{}",
                self.failures.len(),
                self.ran,
                shown.join("\n")
            );
        }
    }
}
