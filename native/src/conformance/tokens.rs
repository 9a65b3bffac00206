//! `tests/conformance/tokens/*.json`: each message through [`crate::tokens::tokenise`]
//! under the file's `key` and through [`crate::tokens::mask`], read back as orjson reads
//! it (an integer beyond uint64 or below int64 is a double).

use std::fs;

use super::json::{self, same, Json};
use super::{root, Report};
use crate::tokens::{mask, may_hold_sensitive, tokenise, Key, Refusal};

/// The value as Python's `orjson.loads` holds it.
fn as_orjson(value: Json) -> Json {
    match value {
        Json::BigInt(text) if text.parse::<u64>().is_err() => {
            Json::Float(text.parse().expect("an integer literal"))
        }
        Json::Array(items) => Json::Array(items.into_iter().map(as_orjson).collect()),
        Json::Object(members) => Json::Object(
            members
                .into_iter()
                .map(|(key, value)| (key, as_orjson(value)))
                .collect(),
        ),
        other => other,
    }
}

/// The outcome against the case's `{"output": ...}` or `{"refused": ...}`.
fn check(line: &str, got: Result<Option<Vec<u8>>, Refusal>, expected: &Json) -> Result<(), String> {
    let output = match got {
        Ok(output) => output,
        Err(refusal) => {
            let reason = match refusal {
                Refusal::NotJson(_) => "not_json",
                Refusal::TooDeep => "too_deep",
            };
            return match expected.get("refused").and_then(Json::as_str) {
                Some(wanted) if wanted == reason => Ok(()),
                _ => Err(format!("refused: {reason}")),
            };
        }
    };
    let text = match &output {
        Some(bytes) => std::str::from_utf8(bytes).map_err(|error| error.to_string())?,
        None => line,
    };
    let got = as_orjson(json::parse(text)?);
    let wanted = expected.get("output").ok_or("no output expected")?;
    if same(&got, &as_orjson(wanted.clone())) {
        Ok(())
    } else {
        Err(format!("gives {text}"))
    }
}

fn run(case: &Json, key: &Key) -> Result<(), String> {
    let line = case.text("line");
    let tokenised = case.get("tokenised").ok_or("no tokenised")?;
    check(line, tokenise(line.as_bytes(), key), tokenised)
        .map_err(|why| format!("tokenised {why}"))?;
    // The replay's quick look may pass a line by only when the walk changes nothing.
    if !may_hold_sensitive(line.as_bytes()) {
        if let (Ok(input), Some(output)) = (json::parse(line), tokenised.get("output")) {
            if !same(&as_orjson(input), &as_orjson(output.clone())) {
                return Err("may_hold_sensitive passes it by, but the walk changes it".into());
            }
        }
    }
    let masked = case.get("masked").ok_or("no masked")?;
    let got = mask(line.as_bytes());
    let kinds = got.as_ref().ok().map(|(_, kinds)| {
        let mut names: Vec<&str> = kinds.iter().map(|kind| kind.name()).collect();
        names.sort_unstable();
        names
    });
    check(line, got.map(|(bytes, _)| bytes), masked).map_err(|why| format!("masked {why}"))?;
    if let Some(names) = kinds {
        let wanted: Vec<&str> = masked
            .get("found")
            .map(Json::as_array)
            .unwrap_or(&[])
            .iter()
            .filter_map(Json::as_str)
            .collect();
        if names != wanted {
            return Err(format!("masked found {names:?}"));
        }
    }
    Ok(())
}

#[test]
fn token_cases() {
    let path = root().join("tokens/tokens.json");
    let text =
        fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let document = json::parse(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let key = Key::new(document.text("key").as_bytes());
    let mut report = Report::default();
    for case in document.get("cases").map(Json::as_array).unwrap_or(&[]) {
        report.check("tokens", case, run(case, &key));
    }
    report.finish("tokens", 100);
}
