//! `tests/conformance/cel/*.json`: each case's `expr` over its variables, through
//! `Expr::evaluate` and `Expr::test`, with events as event views and as plain maps, and
//! again by the `cel` crate's interpreter alone.

use std::rc::Rc;

use super::json::Json;
use super::{files, on_a_large_stack, Report};
use crate::cel::{Ctx, ErrorKind, Expr, Fault, Var, N_VARS};
use crate::value::{event_slot, EventView, Value};

/// The error kinds of the cases, by the core's error kind.
fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Key => "no_such_key",
        ErrorKind::Type => "no_such_overload",
        ErrorKind::ZeroDivision => "division_by_zero",
        ErrorKind::Overflow => "overflow",
        ErrorKind::Value => "invalid_argument",
        ErrorKind::Runtime => "runtime_error",
    }
}

/// `{"$double": "NaN" | "Infinity" | "-Infinity"}`: a double JSON cannot write.
fn special_double(json: &Json) -> Option<f64> {
    match json {
        Json::Object(members) if members.len() == 1 && members[0].0 == "$double" => {
            match members[0].1.as_str()? {
                "NaN" => Some(f64::NAN),
                "Infinity" => Some(f64::INFINITY),
                "-Infinity" => Some(f64::NEG_INFINITY),
                _ => None,
            }
        }
        _ => None,
    }
}

fn value(json: &Json) -> Result<Value, String> {
    if let Some(number) = special_double(json) {
        return Ok(Value::Float(number));
    }
    Ok(match json {
        Json::Null => Value::Null,
        Json::Bool(flag) => Value::Bool(*flag),
        Json::Int(number) => Value::Int(*number),
        Json::BigInt(text) => return Err(format!("{text} is beyond int64")),
        Json::Float(number) => Value::Float(*number),
        Json::Str(text) => Value::str(text),
        Json::Array(items) => {
            Value::List(Rc::new(items.iter().map(value).collect::<Result<_, _>>()?))
        }
        Json::Object(members) => Value::Map(Rc::new(
            members
                .iter()
                .map(|(key, item)| Ok((Rc::from(key.as_str()), value(item)?)))
                .collect::<Result<_, String>>()?,
        )),
    })
}

/// An event as the engine passes it: an event view (fields it lacks absent) when `views`
/// and the object's keys are all event fields; else a plain value.
fn event(json: &Json, views: bool) -> Result<Value, String> {
    if let (true, Json::Object(members), None) = (views, json, special_double(json)) {
        if members.iter().all(|(key, _)| event_slot(key).is_some()) {
            let mut view = EventView::default();
            for (key, item) in members {
                view.slots[event_slot(key).expect("an event field")] = Some(value(item)?);
            }
            return Ok(Value::Event(Rc::new(view)));
        }
    }
    value(json)
}

/// `steps`: a map of events.
fn steps(json: &Json, views: bool) -> Result<Value, String> {
    match (json, special_double(json)) {
        (Json::Object(members), None) => Ok(Value::Map(Rc::new(
            members
                .iter()
                .map(|(key, item)| Ok((Rc::from(key.as_str()), event(item, views)?)))
                .collect::<Result<_, String>>()?,
        ))),
        _ => value(json),
    }
}

/// Whether the core's result is the case's value: same types, doubles bit for bit, map
/// entries in any order.
fn matches(expected: &Json, got: &Value) -> bool {
    if let Some(number) = special_double(expected) {
        return matches!(got, Value::Float(x) if x.to_bits() == number.to_bits() || (x.is_nan() && number.is_nan()));
    }
    match (expected, got) {
        (Json::Null, Value::Null) => true,
        (Json::Bool(a), Value::Bool(b)) => a == b,
        (Json::Int(a), Value::Int(b)) => a == b,
        (Json::Float(a), Value::Float(b)) => a.to_bits() == b.to_bits(),
        (Json::Str(a), Value::Str(b)) => **a == **b,
        (Json::Array(a), Value::List(b)) => {
            a.len() == b.len() && a.iter().zip(b.iter()).all(|(a, b)| matches(a, b))
        }
        (Json::Object(a), Value::Map(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, a)| b.iter().any(|(l, b)| k.as_str() == &**l && matches(a, b)))
        }
        (Json::Object(a), Value::Event(view)) => {
            a.len() == view.present().count()
                && a.iter()
                    .all(|(k, a)| view.get_named(k).is_some_and(|b| matches(a, b)))
        }
        _ => false,
    }
}

fn run(case: &Json, views: bool) -> Result<(), String> {
    let source = case.text("expr");
    let expr = Expr::compile(source).map_err(|reason| format!("refused: {reason}"))?;
    let mut values: [Option<Value>; N_VARS] = Default::default();
    for var in Var::ALL {
        if let Some(json) = case.get(var.name()) {
            values[var as usize] = Some(match var {
                Var::Event => event(json, views)?,
                Var::Steps => steps(json, views)?,
                _ => value(json)?,
            });
        }
    }
    let mut ctx = Ctx::new();
    for var in Var::ALL {
        ctx.set(var, values[var as usize].as_ref());
    }
    check(case, &expr, &ctx).map_err(|problem| format!("{problem} (event views: {views})"))?;
    // The interpreter alone gives the same, but for the `event.<field>` shortcut, which
    // reads an absent field as null where CEL has no such key.
    if expr.field_path().is_none() {
        check(case, &expr.interpreted(), &ctx)
            .map_err(|problem| format!("{problem} by the interpreter (event views: {views})"))?;
    }
    Ok(())
}

/// `evaluate` gives the case's value or error, and `test` is true only for a value true.
fn check(case: &Json, expr: &Expr, ctx: &Ctx) -> Result<(), String> {
    let evaluated = expr.evaluate(ctx);
    let good = match (&evaluated, case.get("value"), case.get("error")) {
        (Ok(got), Some(expected), None) => matches(expected, got),
        (Err(Fault::Error(kind)), None, Some(expected)) => {
            expected.as_str() == Some(kind_name(*kind))
        }
        _ => false,
    };
    if !good {
        return Err(format!("evaluate gives {evaluated:?}"));
    }
    let expected_test = Ok(matches!(evaluated, Ok(Value::Bool(true))));
    let tested = expr.test(ctx);
    if tested != expected_test {
        return Err(format!("test gives {tested:?}, not {expected_test:?}"));
    }
    Ok(())
}

#[test]
fn cel_cases() {
    on_a_large_stack(cel_cases_run);
}

fn cel_cases_run() {
    let mut report = Report::default();
    for (file, cases) in files("cel") {
        if file == "compile" {
            continue;
        }
        for case in &cases {
            let outcome = run(case, true).and_then(|()| run(case, false));
            report.check(&file, case, outcome);
        }
    }
    report.finish("cel", 1000);
}

#[test]
fn cel_compile_cases() {
    on_a_large_stack(cel_compile_cases_run);
}

fn cel_compile_cases_run() {
    let mut report = Report::default();
    for (file, cases) in files("cel") {
        if file != "compile" {
            continue;
        }
        for case in &cases {
            let compiled = Expr::compile(case.text("expr"));
            let outcome = match (&compiled, case.get("refused")) {
                (Err(_), Some(Json::Bool(true))) => Ok(()),
                (Err(reason), _) => Err(format!("refused: {reason}")),
                (Ok(_), Some(Json::Bool(true))) => Err("accepted".to_string()),
                (Ok(expr), _) => {
                    let expected = case.get("field_path").and_then(Json::as_str);
                    if expr.field_path() == expected {
                        Ok(())
                    } else {
                        Err(format!("field path {:?}", expr.field_path()))
                    }
                }
            };
            report.check(&file, case, outcome);
        }
    }
    report.finish("cel compile", 100);
}
