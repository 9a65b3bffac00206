//! The CEL fast path (`riskstream/agents/cep/fastcel/`, the `fast_plain` variant) and
//! the parts of `expressions.py` around it: `Expression.evaluate`, `Expression.test_plain`
//! and `distance_km`.
//!
//! Every value reaching it is plain (null, bool, int64, double, string, lists and
//! string-keyed maps of them), so fastcel's guard is not needed. What fastcel evaluates,
//! this evaluates to the same value or the same Python exception class; where fastcel
//! raises `Fallback` (hand the evaluation to the `cel` package) this gives
//! [`Fault::Fallback`]. Sources fastcel refuses are refused by [`Expr::compile`] (the
//! parser is in `cel_parse.rs`).

mod distance;
mod eval;
mod ops;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

use crate::value::{event_slot, Value};
use eval::Truth;
use ops::is_container;

pub use distance::{distance_km, EARTH_RADIUS_KM};

/// The variables of a rule context, as CEL source names them (`Var::name`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Var {
    Event = 0,
    Entity = 1,
    Agg = 2,
    Steps = 3,
    Profiles = 4,
    Penalties = 5,
    SpentToday = 6,
}

pub const N_VARS: usize = 7;

impl Var {
    pub const ALL: [Var; N_VARS] = [
        Var::Event,
        Var::Entity,
        Var::Agg,
        Var::Steps,
        Var::Profiles,
        Var::Penalties,
        Var::SpentToday,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Var::Event => "event",
            Var::Entity => "entity",
            Var::Agg => "agg",
            Var::Steps => "steps",
            Var::Profiles => "profiles",
            Var::Penalties => "penalties",
            Var::SpentToday => "spent_today",
        }
    }

    pub fn from_name(name: &str) -> Option<Var> {
        Var::ALL.into_iter().find(|var| var.name() == name)
    }
}

/// A context: each variable present or not (a Python context dict without the key).
#[derive(Clone, Copy, Debug, Default)]
pub struct Ctx<'a> {
    pub vars: [Option<&'a Value>; N_VARS],
}

impl<'a> Ctx<'a> {
    pub fn new() -> Ctx<'a> {
        Ctx {
            vars: [None; N_VARS],
        }
    }

    pub fn with(mut self, var: Var, value: &'a Value) -> Ctx<'a> {
        self.vars[var as usize] = Some(value);
        self
    }

    pub fn set(&mut self, var: Var, value: Option<&'a Value>) {
        self.vars[var as usize] = value;
    }

    pub fn get(&self, var: Var) -> Option<&'a Value> {
        self.vars[var as usize]
    }
}

/// The Python exception class an evaluation raises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    Key,
    Type,
    ZeroDivision,
    Overflow,
    Value,
    Runtime,
}

impl ErrorKind {
    pub fn python_name(self) -> &'static str {
        match self {
            ErrorKind::Key => "KeyError",
            ErrorKind::Type => "TypeError",
            ErrorKind::ZeroDivision => "ZeroDivisionError",
            ErrorKind::Overflow => "OverflowError",
            ErrorKind::Value => "ValueError",
            ErrorKind::Runtime => "RuntimeError",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    /// The Python reference raises this exception.
    Error(ErrorKind),
    /// fastcel raises `Fallback` (the `cel` package decides): give up the native run.
    Fallback,
}

const KEY: Fault = Fault::Error(ErrorKind::Key);
/// CEL's "no such overload".
const TYPE: Fault = Fault::Error(ErrorKind::Type);
const FALLBACK: Fault = Fault::Fallback;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
}

/// A compiled expression tree. A variable is `None` when its name is none of [`Var`]:
/// it is never in a context, so it reads as null (`variables.get(name)`).
#[derive(Clone, Debug)]
pub(crate) enum Node {
    Lit(Value),
    Var(Option<Var>),
    /// `variable.field` (fastcel's `variable_field`).
    VarField {
        var: Option<Var>,
        field: Box<str>,
        slot: Option<usize>,
    },
    Select {
        operand: Box<Node>,
        field: Box<str>,
        slot: Option<usize>,
    },
    Has {
        operand: Box<Node>,
        field: Box<str>,
        slot: Option<usize>,
    },
    Not(Box<Node>),
    Neg(Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Cond(Box<Node>, Box<Node>, Box<Node>),
    Cmp(CmpOp, Box<Node>, Box<Node>),
    /// `x in [literals]` (never empty).
    In(Box<Node>, Box<[Value]>),
    Arith(ArithOp, Box<Node>, Box<Node>),
    Size(Box<Node>),
    /// `distance_km(args...)`, any number of arguments as written.
    Distance(Box<[Node]>),
}

impl Node {
    pub(crate) fn select(operand: Node, field: &str) -> Node {
        let slot = event_slot(field);
        let field: Box<str> = field.into();
        match operand {
            Node::Var(var) => Node::VarField { var, field, slot },
            operand => Node::Select {
                operand: Box::new(operand),
                field,
                slot,
            },
        }
    }

    pub(crate) fn depth(&self) -> usize {
        let children: Vec<&Node> = match self {
            Node::Lit(_) | Node::Var(_) | Node::VarField { .. } => vec![],
            Node::Select { operand, .. } | Node::Has { operand, .. } => vec![operand],
            Node::Not(a) | Node::Neg(a) | Node::Size(a) | Node::In(a, _) => vec![a],
            Node::And(a, b) | Node::Or(a, b) | Node::Cmp(_, a, b) | Node::Arith(_, a, b) => {
                vec![a, b]
            }
            Node::Cond(a, b, c) => vec![a, b, c],
            Node::Distance(args) => args.iter().collect(),
        };
        1 + children
            .iter()
            .map(|child| child.depth())
            .max()
            .unwrap_or(0)
    }
}

/// A compiled expression: `compile_expression` with its fast path.
#[derive(Clone, Debug)]
pub struct Expr {
    source: String,
    root: Node,
    /// Set when the source is just `event.<field>`: (field, its slot).
    field_path: Option<(Box<str>, Option<usize>)>,
    variables: Vec<Var>,
    unknown_variables: bool,
    /// Where the engine keeps this expression's result for the event being applied, when
    /// several rules test the same source on the event alone (`plan::share_event_filters`).
    shared_slot: Option<usize>,
}

impl Expr {
    /// Compile; Err(reason) when fastcel refuses the source.
    pub fn compile(source: &str) -> Result<Expr, String> {
        let parsed = crate::cel_parse::parse(source)?;
        let field_path = crate::cel_parse::field_path(source)
            .map(|field| (Box::<str>::from(field), event_slot(field)));
        Ok(Expr {
            source: source.to_string(),
            root: parsed.root,
            field_path,
            variables: parsed.variables,
            unknown_variables: parsed.unknown_variables,
            shared_slot: None,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// `Expression.field_path`: the field when the source is just `event.<field>`.
    pub fn field_path(&self) -> Option<&str> {
        self.field_path.as_ref().map(|(field, _)| &**field)
    }

    /// The variables the expression reads, in order of first use.
    pub fn variables(&self) -> &[Var] {
        &self.variables
    }

    /// Whether it reads the event and nothing else: its value is the event's alone.
    pub fn reads_event_only(&self) -> bool {
        self.variables == [Var::Event] && !self.unknown_variables
    }

    pub fn shared_slot(&self) -> Option<usize> {
        self.shared_slot
    }

    pub fn share_as(&mut self, slot: usize) {
        self.shared_slot = Some(slot);
    }

    /// Whether it names variables none of [`Var`] (always null here, as in Python).
    pub fn reads_unknown_variables(&self) -> bool {
        self.unknown_variables
    }

    /// `Expression.evaluate` on a plain context.
    pub fn evaluate(&self, ctx: &Ctx) -> Result<Value, Fault> {
        if let Some((field, slot)) = &self.field_path {
            return field_path_value(ctx, field, *slot);
        }
        self.fast(ctx).map(Cow::into_owned)
    }

    /// fastcel's `evaluate_plain`: maps and lists as results are handed back.
    fn fast<'a>(&'a self, ctx: &Ctx<'a>) -> Result<Cow<'a, Value>, Fault> {
        let value = self.root.eval(ctx)?;
        if is_container(&value) {
            return Err(FALLBACK);
        }
        Ok(value)
    }

    /// `Expression.test_plain`: true only for a boolean true; evaluation errors are false
    /// (`EVALUATION_ERRORS`); Fallback is returned.
    pub fn test(&self, ctx: &Ctx) -> Result<bool, Fault> {
        let truth = match self.root.truth(ctx) {
            Ok(Truth::Container) => Err(FALLBACK), // as `fast` does
            other => other,
        };
        match truth {
            Ok(truth) => Ok(truth == Truth::True),
            Err(Fault::Error(kind)) => caught(kind),
            Err(Fault::Fallback) => match &self.field_path {
                // `test` then `evaluate`, which takes the field path shortcut.
                Some((field, slot)) => match field_path_value(ctx, field, *slot) {
                    Ok(value) => Ok(matches!(value, Value::Bool(true))),
                    Err(Fault::Error(kind)) => caught(kind),
                    Err(Fault::Fallback) => Err(FALLBACK),
                },
                None => Err(FALLBACK),
            },
        }
    }
}

/// `Expression.test` takes every evaluation error (`EVALUATION_ERRORS`) for "no match".
fn caught(_kind: ErrorKind) -> Result<bool, Fault> {
    Ok(false)
}

/// `variables["event"].get(field)`. Not a map: Python's AttributeError, which nothing
/// catches; the native run gives up (Fallback).
fn field_path_value(ctx: &Ctx, field: &str, slot: Option<usize>) -> Result<Value, Fault> {
    match ctx.get(Var::Event) {
        None => Err(KEY),
        Some(Value::Event(view)) => Ok(slot
            .and_then(|slot| view.get(slot))
            .cloned()
            .unwrap_or(Value::Null)),
        Some(value @ Value::Map(_)) => Ok(value.field(field).cloned().unwrap_or(Value::Null)),
        Some(_) => Err(FALLBACK),
    }
}
