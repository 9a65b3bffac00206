//! Rule expressions in CEL: a fast path for the subset rules mostly use, and the `cel`
//! crate's interpreter for the whole language.
//!
//! [`Expr::compile`] takes a source when CEL does (the `cel` crate's parser decides):
//! the fast path (`cel_parse.rs`, a tree evaluated over our values in place) takes the
//! sources of its subset, the interpreter ([`full`]) the rest. Where the fast path meets
//! a case it does not decide (two lists or maps compared), the interpreter evaluates the
//! source instead, and the two agree on every conformance case: an evaluation always
//! gives a value or an evaluation error, never [`Fault::Fallback`]. `distance_km` is the
//! one function rules have beyond CEL's standard library.

mod cost;
mod depth;
mod distance;
mod eval;
mod full;
mod ops;
mod patterns;
#[cfg(test)]
mod tests;

use std::rc::Rc;

use crate::value::{event_slot, Value};
use eval::Truth;

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

/// A context: each variable present or not (an absent one reads as null).
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

/// The kind of an evaluation error, by the Python exception class that stood for it.
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
    /// An evaluation error (CEL's no_such_key, no_such_overload, ...).
    Error(ErrorKind),
    /// The core does not decide: give up the native run. Expressions never give it (the
    /// interpreter decides what the fast path does not); the engine's own checks do.
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
    /// `variable.field`.
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

/// A compiled expression.
#[derive(Clone, Debug)]
pub struct Expr {
    source: String,
    /// The fast path's tree, when the source is in its subset.
    root: Option<Node>,
    /// The `cel` crate's program: the source when it is not in the subset, and the
    /// fast path's fallback when it is.
    full: Rc<full::Program>,
    /// Set when the source is just `event.<field>`: (field, its slot).
    field_path: Option<(Box<str>, Option<usize>)>,
    variables: Vec<Var>,
    unknown_variables: bool,
    /// Where the engine keeps this expression's result for the event being applied, when
    /// several rules test the same source on the event alone (`plan::share_event_filters`).
    shared_slot: Option<usize>,
}

impl Expr {
    /// Compile; Err(reason) when the source is not CEL.
    pub fn compile(source: &str) -> Result<Expr, String> {
        let full = full::Program::compile(source)?;
        let field_path = crate::cel_parse::field_path(source)
            .map(|field| (Box::<str>::from(field), event_slot(field)));
        let (root, variables, unknown_variables) = match crate::cel_parse::parse(source) {
            Ok(parsed) => (
                Some(parsed.root),
                parsed.variables,
                parsed.unknown_variables,
            ),
            Err(_) => {
                let (variables, unknown) = full.variables();
                (None, variables, unknown)
            }
        };
        Ok(Expr {
            source: source.to_string(),
            root,
            full: Rc::new(full),
            field_path,
            variables,
            unknown_variables,
            shared_slot: None,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// The field when the source is just `event.<field>`.
    pub fn field_path(&self) -> Option<&str> {
        self.field_path.as_ref().map(|(field, _)| &**field)
    }

    /// Whether the fast path evaluates it (else the `cel` crate's interpreter).
    pub fn is_fast(&self) -> bool {
        self.root.is_some()
    }

    /// The same expression with the interpreter alone, to hold the two to each other.
    #[cfg(test)]
    pub(crate) fn interpreted(mut self) -> Expr {
        self.root = None;
        self.field_path = None;
        self
    }

    /// The longest evaluation by the interpreter since the last call, in microseconds
    /// (the fast path's trees are evaluated in time bounded by their size).
    pub fn take_slowest_us(&self) -> u64 {
        self.full.take_slowest_us()
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

    /// Whether it names variables none of [`Var`] (always null).
    pub fn reads_unknown_variables(&self) -> bool {
        self.unknown_variables
    }

    /// The expression's value, or its evaluation error.
    pub fn evaluate(&self, ctx: &Ctx) -> Result<Value, Fault> {
        if let Some((field, slot)) = &self.field_path {
            if let Some(value) = field_path_value(ctx, field, *slot) {
                return value;
            }
        }
        let Some(root) = &self.root else {
            return self.full.evaluate(ctx);
        };
        match root.eval(ctx) {
            Ok(value) => Ok(value.into_owned()),
            Err(Fault::Fallback) => self.full.evaluate(ctx),
            Err(error) => Err(error),
        }
    }

    /// Whether a rule condition holds: true only for a boolean true; an evaluation
    /// error is false.
    pub fn test(&self, ctx: &Ctx) -> Result<bool, Fault> {
        let Some(root) = &self.root else {
            return Ok(holds(self.full.evaluate(ctx)));
        };
        match root.truth(ctx) {
            Ok(truth) => Ok(truth == Truth::True),
            Err(Fault::Error(_)) => Ok(false),
            Err(Fault::Fallback) => Ok(holds(self.evaluate(ctx))),
        }
    }
}

fn holds(result: Result<Value, Fault>) -> bool {
    matches!(result, Ok(Value::Bool(true)))
}

/// `event.<field>` over an event or a map: the field, null when it is absent; over no
/// event, no_such_key. None over anything else (the tree decides).
fn field_path_value(ctx: &Ctx, field: &str, slot: Option<usize>) -> Option<Result<Value, Fault>> {
    match ctx.get(Var::Event) {
        None => Some(Err(KEY)),
        Some(Value::Event(view)) => Some(Ok(slot
            .and_then(|slot| view.get(slot))
            .cloned()
            .unwrap_or(Value::Null))),
        Some(value @ Value::Map(_)) => Some(Ok(value.field(field).cloned().unwrap_or(Value::Null))),
        Some(_) => None,
    }
}
