//! The whole language: the `cel` crate (cel-rust, the interpreter the Python `cel`
//! package wraps) compiles every source, decides what the fast path does not take, and
//! evaluates what the fast path gives up on.
//!
//! A context's values cross as CEL values (an event view as the map of its present
//! fields) and the result comes back as a [`Value`]; the functions rules have
//! (`distance_km`) are registered with it once per thread.

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::{Arc, LazyLock};
use std::time::Instant;

use cel::common::ast::{EntryExpr, Expr as Ast, IdedExpr};
use cel::extractors::Arguments;
use cel::objects::{Key, Map};
use cel::{Context, Env, ExecutionError, Value as CelValue};

use super::cost::{cost_bound, MAX_COST};
use super::depth::{depth_bound, MAX_DEPTH};
use super::distance::distance_of;
use super::ops::Num;
use super::{Ctx, ErrorKind, Fault, Var};
use crate::value::Value;

/// The standard environment: CEL's types, functions and macros.
static ENV: LazyLock<Arc<Env>> = LazyLock::new(|| Arc::new(Env::stdlib()));

thread_local! {
    /// The root of every evaluation's context: the environment and our functions.
    static ROOT: Context<'static, 'static> = root();
}

fn root() -> Context<'static, 'static> {
    let mut root = Context::with_env(Arc::clone(&ENV));
    root.add_function("distance_km", distance_km)
        .expect("the standard library has no distance_km");
    root.add_function("matches", super::patterns::matches)
        .expect("the crate's own matches is not built");
    root
}

/// A source as the `cel` crate compiled it.
#[derive(Debug)]
pub(crate) struct Program {
    program: cel::Program,
    /// The names it reads from outside (comprehension variables and type names
    /// excluded), each bound on evaluation: a [`Var`] to the context's value, any other
    /// name, or a variable the context lacks, to null (as the fast path reads them).
    names: Vec<Name>,
    /// The longest evaluation since [`Program::take_slowest_us`] last asked, in
    /// microseconds: the cost bound is an estimate, and the engine disables a rule whose
    /// evaluations still run too long.
    slowest_us: Cell<u64>,
}

#[derive(Debug)]
struct Name {
    name: Box<str>,
    var: Option<Var>,
    /// The fields the source selects of it, when it does nothing else with it: only
    /// these cross (an event view has 22).
    fields: Option<Vec<Box<str>>>,
}

impl Program {
    /// Err(the reason) when CEL refuses the source, or it is too deep or too costly to
    /// evaluate.
    pub(crate) fn compile(source: &str) -> Result<Program, String> {
        if depth_bound(source) > MAX_DEPTH {
            return Err("nested too deep".to_string());
        }
        let program = ENV.compile(source).map_err(|errors| errors.to_string())?;
        let cost = cost_bound(program.expression());
        if cost > MAX_COST {
            return Err(format!(
                "too costly: an evaluation may cost {} units, the limit is {MAX_COST:.0}",
                if cost.is_finite() {
                    format!("{cost:.0}")
                } else {
                    "unbounded".to_string()
                }
            ));
        }
        let mut names = Vec::new();
        free_names(program.expression(), &mut Vec::new(), &mut names);
        Ok(Program {
            program,
            names,
            slowest_us: Cell::new(0),
        })
    }

    /// The variables it reads, in order of first use, and whether it reads any other
    /// name (always null).
    pub(crate) fn variables(&self) -> (Vec<Var>, bool) {
        let mut variables = Vec::new();
        let mut unknown = false;
        for name in &self.names {
            match name.var {
                Some(var) if !variables.contains(&var) => variables.push(var),
                Some(_) => {}
                None => unknown = true,
            }
        }
        (variables, unknown)
    }

    /// The longest evaluation since the last call, in microseconds; 0 when none.
    pub(crate) fn take_slowest_us(&self) -> u64 {
        self.slowest_us.replace(0)
    }

    pub(crate) fn evaluate(&self, ctx: &Ctx) -> Result<Value, Fault> {
        // Tens of nanoseconds, against the microseconds an interpreted evaluation takes.
        let started = Instant::now();
        let result = ROOT.with(|root| {
            let mut scope = root.new_inner_scope();
            for name in &self.names {
                let value = match (name.var.and_then(|var| ctx.get(var)), &name.fields) {
                    (None, _) => CelValue::Null,
                    (Some(value @ (Value::Map(_) | Value::Event(_))), Some(fields)) => map(fields
                        .iter()
                        .filter_map(|field| Some((&**field, value.field(field)?)))),
                    (Some(value), _) => to_cel(value),
                };
                scope.add_variable_from_value(&*name.name, value);
            }
            self.program.execute(&scope)
        });
        let took = started.elapsed().as_micros().try_into().unwrap_or(u64::MAX);
        if took > self.slowest_us.get() {
            self.slowest_us.set(took);
        }
        match result {
            Ok(value) => from_cel(value),
            Err(error) => Err(Fault::Error(kind_of(&error))),
        }
    }
}

/// The names `expr` reads that are not bound inside it (by a comprehension), in order
/// of first use, with the fields it selects of each; names of types (`int`,
/// `google.protobuf.Timestamp`) are not variables.
fn free_names(expr: &IdedExpr, bound: &mut Vec<String>, found: &mut Vec<Name>) {
    match &expr.expr {
        Ast::Unspecified | Ast::Literal(_) => {}
        Ast::Ident(name) => read(name, None, bound, found),
        Ast::Select(select) => {
            if !select.test && names_a_type(expr) {
                return;
            }
            match &select.operand.expr {
                Ast::Ident(name) => read(name, Some(&select.field), bound, found),
                _ => free_names(&select.operand, bound, found),
            }
        }
        Ast::Call(call) => {
            if let Some(target) = &call.target {
                free_names(target, bound, found);
            }
            for argument in &call.args {
                free_names(argument, bound, found);
            }
        }
        Ast::List(list) => {
            for element in &list.elements {
                free_names(element, bound, found);
            }
        }
        Ast::Map(map) => entries(&map.entries, bound, found),
        Ast::Struct(object) => entries(&object.entries, bound, found),
        Ast::Comprehension(comprehension) => {
            free_names(&comprehension.iter_range, bound, found);
            free_names(&comprehension.accu_init, bound, found);
            let depth = bound.len();
            bound.push(comprehension.iter_var.clone());
            bound.extend(comprehension.iter_var2.iter().cloned());
            bound.push(comprehension.accu_var.clone());
            free_names(&comprehension.loop_cond, bound, found);
            free_names(&comprehension.loop_step, bound, found);
            // The result sees the accumulator, not the iteration variables.
            bound.truncate(depth);
            bound.push(comprehension.accu_var.clone());
            free_names(&comprehension.result, bound, found);
            bound.truncate(depth);
        }
    }
}

/// A read of `name`: of one of its fields, or (None) of the whole value.
fn read(name: &str, field: Option<&str>, bound: &[String], found: &mut Vec<Name>) {
    if bound.iter().any(|known| known == name) || ENV.types().find_type(name).is_some() {
        return;
    }
    let at = match found.iter().position(|known| &*known.name == name) {
        Some(at) => at,
        None => {
            found.push(Name {
                name: name.into(),
                var: Var::from_name(name),
                fields: Some(Vec::new()),
            });
            found.len() - 1
        }
    };
    let known = &mut found[at];
    match (field, &mut known.fields) {
        (Some(field), Some(fields)) if !fields.iter().any(|known| &**known == field) => {
            fields.push(field.into())
        }
        (Some(_), _) => {}
        (None, fields) => *fields = None,
    }
}

fn entries(
    entries: &[cel::common::ast::IdedEntryExpr],
    bound: &mut Vec<String>,
    found: &mut Vec<Name>,
) {
    for entry in entries {
        match &entry.expr {
            EntryExpr::StructField(field) => free_names(&field.value, bound, found),
            EntryExpr::MapEntry(entry) => {
                free_names(&entry.key, bound, found);
                free_names(&entry.value, bound, found);
            }
        }
    }
}

/// Whether a chain of selections on an identifier (`a.b.c`) spells a type's name.
fn names_a_type(expr: &IdedExpr) -> bool {
    let mut segments = Vec::new();
    let mut at = expr;
    loop {
        match &at.expr {
            Ast::Select(select) if !select.test => {
                segments.push(select.field.as_str());
                at = &select.operand;
            }
            Ast::Ident(name) => {
                segments.push(name);
                break;
            }
            _ => return false,
        }
    }
    segments.reverse();
    ENV.types().find_type(&segments.join(".")).is_some()
}

/// A value as CEL holds it; an event view is the map of its present fields.
fn to_cel(value: &Value) -> CelValue {
    match value {
        Value::Null => CelValue::Null,
        Value::Bool(flag) => CelValue::Bool(*flag),
        Value::Int(number) => CelValue::Int(*number),
        Value::Float(number) => CelValue::Float(*number),
        Value::Str(text) => CelValue::String(Arc::new(text.to_string())),
        Value::List(items) => CelValue::List(Arc::new(items.iter().map(to_cel).collect())),
        Value::Map(items) => map(items.iter().map(|(key, item)| (&**key, item))),
        Value::Event(view) => map(view.present()),
    }
}

fn map<'k, 'v>(items: impl Iterator<Item = (&'k str, &'v Value)>) -> CelValue {
    let entries: HashMap<Key, CelValue> = items
        .map(|(key, item)| (Key::from(key), to_cel(item)))
        .collect();
    CelValue::Map(Map {
        map: Arc::new(entries),
    })
}

/// A result as a [`Value`]. CEL's types without a counterpart: a uint is an int (a
/// double beyond int64), bytes the text they encode (invalid UTF-8 replaced), a
/// timestamp or a duration its `string()`, a map key its text, maps in key order; an
/// optional, a struct or a function is no value a rule can use (no_such_overload).
fn from_cel(value: CelValue) -> Result<Value, Fault> {
    Ok(match value {
        CelValue::Null => Value::Null,
        CelValue::Bool(flag) => Value::Bool(flag),
        CelValue::Int(number) => Value::Int(number),
        CelValue::UInt(number) => match i64::try_from(number) {
            Ok(number) => Value::Int(number),
            Err(_) => Value::Float(number as f64),
        },
        CelValue::Float(number) => Value::Float(number),
        CelValue::String(text) => Value::str(&text),
        CelValue::Bytes(bytes) => Value::str(&String::from_utf8_lossy(&bytes)),
        CelValue::List(items) => Value::List(Rc::new(
            items
                .iter()
                .map(|item| from_cel(item.clone()))
                .collect::<Result<_, _>>()?,
        )),
        CelValue::Map(items) => {
            let mut entries = items
                .map
                .iter()
                .map(|(key, item)| Ok((Rc::from(key.to_string()), from_cel(item.clone())?)))
                .collect::<Result<Vec<(Rc<str>, Value)>, Fault>>()?;
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Map(Rc::new(entries))
        }
        value @ (CelValue::Duration(_) | CelValue::Timestamp(_)) => string_of(value)?,
        CelValue::Function(..) | CelValue::Opaque(_) | CelValue::Struct(_) => {
            return Err(Fault::Error(ErrorKind::Type))
        }
    })
}

/// CEL's `string(value)`.
fn string_of(value: CelValue) -> Result<Value, Fault> {
    thread_local! {
        static STRING: cel::Program = ENV.compile("string(value)").expect("a valid source");
    }
    let result = ROOT.with(|root| {
        let mut scope = root.new_inner_scope();
        scope.add_variable_from_value("value", value);
        STRING.with(|program| program.execute(&scope))
    });
    match result {
        Ok(CelValue::String(text)) => Ok(Value::str(&text)),
        Ok(_) => Err(Fault::Error(ErrorKind::Type)),
        Err(error) => Err(Fault::Error(kind_of(&error))),
    }
}

/// CEL's error as the kind of our evaluation errors.
fn kind_of(error: &ExecutionError) -> ErrorKind {
    match error {
        ExecutionError::NoSuchKey(_) => ErrorKind::Key,
        ExecutionError::DivisionByZero(_) | ExecutionError::RemainderByZero(_) => {
            ErrorKind::ZeroDivision
        }
        ExecutionError::Overflow(..) => ErrorKind::Overflow,
        // A function refused its argument (`int('x')`, a bad pattern, a bad timestamp),
        // or an index is out of range.
        ExecutionError::FunctionError { .. } | ExecutionError::IndexOutOfBounds(_) => {
            ErrorKind::Value
        }
        ExecutionError::InternalError(_) => ErrorKind::Runtime,
        // No overload, values of the wrong type, an unknown function.
        _ => ErrorKind::Type,
    }
}

/// `distance_km(lat1, lon1, lat2, lon2)` over ints, uints and doubles, as the fast path
/// computes it (`Node::Distance`).
fn distance_km(Arguments(arguments): Arguments) -> Result<CelValue, ExecutionError> {
    let numbers: Option<Vec<Num>> = arguments
        .iter()
        .map(|argument| match argument {
            CelValue::Int(number) => Some(Num::Int(*number)),
            CelValue::UInt(number) => Some(match i64::try_from(*number) {
                Ok(number) => Num::Int(number),
                Err(_) => Num::Float(*number as f64),
            }),
            CelValue::Float(number) => Some(Num::Float(*number)),
            _ => None,
        })
        .collect();
    let numbers: Option<[Num; 4]> = numbers.and_then(|numbers| numbers.try_into().ok());
    let Some(numbers) = numbers else {
        let types = arguments
            .iter()
            .map(|argument| argument.type_of().to_string())
            .collect();
        return Err(ExecutionError::no_such_overload("distance_km", types));
    };
    match distance_of(numbers) {
        Ok(distance) => Ok(CelValue::Float(distance)),
        Err(ErrorKind::Overflow) => Err(ExecutionError::Overflow(
            "distance_km",
            CelValue::Null,
            CelValue::Null,
        )),
        Err(_) => Err(ExecutionError::function_error(
            "distance_km",
            "math domain error",
        )),
    }
}
