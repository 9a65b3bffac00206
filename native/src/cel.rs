//! The CEL fast path (`riskstream/agents/cep/fastcel.py`, the `fast_plain` variant) and
//! the parts of `expressions.py` around it: `Expression.evaluate`, `Expression.test_plain`
//! and `distance_km`.
//!
//! Every value reaching it is plain (null, bool, int64, double, string, lists and
//! string-keyed maps of them), so fastcel's guard is not needed. What fastcel evaluates,
//! this evaluates to the same value or the same Python exception class; where fastcel
//! raises `Fallback` (hand the evaluation to the `cel` package) this gives
//! [`Fault::Fallback`]. Sources fastcel refuses are refused by [`Expr::compile`] (the
//! parser is in `cel_parse.rs`).

use std::borrow::Cow;
use std::cell::Cell;
use std::rc::Rc;

use crate::value::{event_slot, Value};

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

// --- evaluation --------------------------------------------------------------------------

type Eval<'a> = Result<Cow<'a, Value>, Fault>;

#[inline]
fn is_container(value: &Value) -> bool {
    matches!(value, Value::List(_) | Value::Map(_) | Value::Event(_))
}

fn boolean<'a>(value: bool) -> Eval<'a> {
    Ok(Cow::Owned(Value::Bool(value)))
}

#[inline]
fn lookup<'a>(ctx: &Ctx<'a>, var: Option<Var>) -> Option<&'a Value> {
    var.and_then(|var| ctx.vars[var as usize])
}

/// `_field_of`: a map's key (KeyError when missing), no overload on a scalar.
#[inline]
fn field_of<'v>(value: &'v Value, field: &str, slot: Option<usize>) -> Result<&'v Value, Fault> {
    match value {
        Value::Event(view) => slot.and_then(|slot| view.get(slot)).ok_or(KEY),
        Value::Map(items) => items
            .iter()
            .find(|(key, _)| **key == *field)
            .map(|(_, item)| item)
            .ok_or(KEY),
        Value::List(_) => Err(FALLBACK),
        _ => Err(TYPE),
    }
}

#[inline]
fn has_field(value: &Value, field: &str, slot: Option<usize>) -> Result<bool, Fault> {
    match value {
        Value::Event(view) => Ok(slot.is_some_and(|slot| view.get(slot).is_some())),
        Value::Map(items) => Ok(items.iter().any(|(key, _)| **key == *field)),
        Value::List(_) => Err(FALLBACK),
        _ => Err(TYPE),
    }
}

#[inline]
fn compare(op: CmpOp, left: &Value, right: &Value) -> Result<bool, Fault> {
    match op {
        CmpOp::Eq => equal(left, right),
        CmpOp::Ne => equal(left, right).map(|same| !same),
        _ => order(op, left, right),
    }
}

/// fastcel's `equal`.
#[inline]
fn equal(left: &Value, right: &Value) -> Result<bool, Fault> {
    Ok(match (left, right) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Int(a), Value::Int(b)) => a == b,
        (Value::Float(a), Value::Float(b)) => a == b,
        (Value::Str(a), Value::Str(b)) => a == b,
        (Value::Int(a), Value::Float(b)) => *a as f64 == *b,
        (Value::Float(a), Value::Int(b)) => *a == *b as f64,
        _ if is_container(left) || is_container(right) => return Err(FALLBACK),
        _ => false,
    })
}

#[inline]
fn float_order(op: CmpOp, a: f64, b: f64) -> Result<bool, Fault> {
    if a.is_nan() || b.is_nan() {
        return Err(TYPE); // CEL has no order for NaN
    }
    Ok(match op {
        CmpOp::Lt => a < b,
        CmpOp::Le => a <= b,
        CmpOp::Gt => a > b,
        CmpOp::Ge => a >= b,
        CmpOp::Eq | CmpOp::Ne => unreachable!("not an ordering"),
    })
}

/// fastcel's `_ordered` and the comparison itself.
#[inline]
fn order(op: CmpOp, left: &Value, right: &Value) -> Result<bool, Fault> {
    let ordering = match (left, right) {
        (Value::Int(a), Value::Int(b)) => a.cmp(b),
        (Value::Str(a), Value::Str(b)) => (**a).cmp(&**b), // UTF-8 order is code point order
        (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
        (Value::Float(a), Value::Float(b)) => return float_order(op, *a, *b),
        (Value::Int(a), Value::Float(b)) => return float_order(op, *a as f64, *b),
        (Value::Float(a), Value::Int(b)) => return float_order(op, *a, *b as f64),
        _ if is_container(left) || is_container(right) => return Err(FALLBACK),
        _ => return Err(TYPE),
    };
    Ok(match op {
        CmpOp::Lt => ordering.is_lt(),
        CmpOp::Le => ordering.is_le(),
        CmpOp::Gt => ordering.is_gt(),
        CmpOp::Ge => ordering.is_ge(),
        CmpOp::Eq | CmpOp::Ne => unreachable!("not an ordering"),
    })
}

fn int_arith(op: ArithOp, a: i64, b: i64) -> Result<i64, Fault> {
    const OVERFLOW: Fault = Fault::Error(ErrorKind::Overflow);
    match op {
        ArithOp::Add => a.checked_add(b).ok_or(OVERFLOW),
        ArithOp::Sub => a.checked_sub(b).ok_or(OVERFLOW),
        ArithOp::Mul => a.checked_mul(b).ok_or(OVERFLOW),
        ArithOp::Div => {
            if b == 0 {
                Err(Fault::Error(ErrorKind::ZeroDivision))
            } else if a == i64::MIN && b == -1 {
                Err(OVERFLOW)
            } else {
                Ok(a / b) // truncates toward zero, as fastcel's divide
            }
        }
    }
}

fn float_arith(op: ArithOp, a: f64, b: f64) -> f64 {
    match op {
        ArithOp::Add => a + b,
        ArithOp::Sub => a - b,
        ArithOp::Mul => a * b,
        ArithOp::Div => {
            if b == 0.0 {
                if a.is_nan() || a == 0.0 {
                    f64::NAN
                } else {
                    f64::INFINITY.copysign(a) * 1.0f64.copysign(b)
                }
            } else {
                a / b
            }
        }
    }
}

fn arith(op: ArithOp, left: &Value, right: &Value) -> Result<Value, Fault> {
    match (left, right) {
        (Value::Int(a), Value::Int(b)) => int_arith(op, *a, *b).map(Value::Int),
        (Value::Float(a), Value::Float(b)) => Ok(Value::Float(float_arith(op, *a, *b))),
        (Value::Str(a), Value::Str(b)) => {
            if op != ArithOp::Add {
                return Err(TYPE);
            }
            let mut text = String::with_capacity(a.len() + b.len());
            text.push_str(a);
            text.push_str(b);
            Ok(Value::Str(Rc::from(text)))
        }
        _ if is_container(left) || is_container(right) => Err(FALLBACK),
        _ => Err(TYPE),
    }
}

#[derive(Clone, Copy)]
enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    fn float(self) -> f64 {
        match self {
            Num::Int(value) => value as f64, // correctly rounded, as Python's float(int)
            Num::Float(value) => value,
        }
    }
}

/// What a result is to a boolean operator: fastcel compares results with `is True` and
/// `is False`, and hands containers back where it checks for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Truth {
    True,
    False,
    Scalar,
    Container,
}

impl Truth {
    fn of(value: &Value) -> Truth {
        match value {
            Value::Bool(true) => Truth::True,
            Value::Bool(false) => Truth::False,
            Value::List(_) | Value::Map(_) | Value::Event(_) => Truth::Container,
            _ => Truth::Scalar,
        }
    }

    fn from_bool(value: bool) -> Truth {
        if value {
            Truth::True
        } else {
            Truth::False
        }
    }
}

impl Node {
    /// The value of an operand; leaves without a call.
    #[inline(always)]
    fn operand<'a>(&'a self, ctx: &Ctx<'a>) -> Eval<'a> {
        match self {
            Node::Lit(value) => Ok(Cow::Borrowed(value)),
            Node::VarField { var, field, slot } => match lookup(ctx, *var) {
                Some(value) => field_of(value, field, *slot).map(Cow::Borrowed),
                None => Err(TYPE), // null.field
            },
            _ => self.eval(ctx),
        }
    }

    /// The evaluation of a node where only its truth matters (the operand of a boolean
    /// operator, or the result of `test`): the boolean operators without building values.
    fn truth<'a>(&'a self, ctx: &Ctx<'a>) -> Result<Truth, Fault> {
        match self {
            Node::And(left, right) => {
                let first = match left.truth(ctx) {
                    Ok(Truth::False) => return Ok(Truth::False),
                    Ok(truth) => Ok(truth),
                    Err(Fault::Fallback) => return Err(FALLBACK),
                    Err(error) => Err(error),
                };
                match right.truth(ctx)? {
                    // its error wins
                    Truth::False => Ok(Truth::False),
                    Truth::True if first == Ok(Truth::True) => Ok(Truth::True),
                    _ => Err(first.err().unwrap_or(TYPE)),
                }
            }
            Node::Or(left, right) => {
                let first = match left.truth(ctx) {
                    Ok(Truth::True) => return Ok(Truth::True),
                    Ok(truth) => Ok(truth),
                    Err(Fault::Fallback) => return Err(FALLBACK),
                    Err(error) => Err(error),
                };
                match right.truth(ctx)? {
                    Truth::True => Ok(Truth::True),
                    Truth::False if first == Ok(Truth::False) => Ok(Truth::False),
                    _ => Err(first.err().unwrap_or(TYPE)),
                }
            }
            Node::Not(operand) => match operand.truth(ctx)? {
                Truth::True => Ok(Truth::False),
                Truth::False => Ok(Truth::True),
                Truth::Container => Err(FALLBACK),
                Truth::Scalar => Err(TYPE),
            },
            Node::Cond(condition, if_true, if_false) => match condition.truth(ctx)? {
                Truth::True => if_true.truth(ctx),
                Truth::False => if_false.truth(ctx),
                Truth::Container => Err(FALLBACK),
                Truth::Scalar => Err(TYPE),
            },
            Node::Cmp(op, left, right) => {
                // The common `variable.field <op> literal`, without building operands.
                if let (Node::VarField { var, field, slot }, Node::Lit(literal)) =
                    (&**left, &**right)
                {
                    let value = match lookup(ctx, *var) {
                        Some(value) => field_of(value, field, *slot)?,
                        None => return Err(TYPE), // null.field
                    };
                    return compare(*op, value, literal).map(Truth::from_bool);
                }
                let left = left.operand(ctx)?;
                let right = right.operand(ctx)?;
                compare(*op, &left, &right).map(Truth::from_bool)
            }
            Node::In(operand, items) => {
                let value = operand.operand(ctx)?;
                if is_container(&value) {
                    return Err(FALLBACK);
                }
                let found = items
                    .iter()
                    .any(|item| matches!(equal(&value, item), Ok(true)));
                Ok(Truth::from_bool(found))
            }
            Node::Has {
                operand,
                field,
                slot,
            } => Ok(Truth::from_bool(has_field(
                &*operand.operand(ctx)?,
                field,
                *slot,
            )?)),
            _ => Ok(Truth::of(&*self.eval(ctx)?)),
        }
    }

    pub(crate) fn eval<'a>(&'a self, ctx: &Ctx<'a>) -> Eval<'a> {
        match self {
            Node::Lit(value) => Ok(Cow::Borrowed(value)),
            Node::Var(var) => Ok(match lookup(ctx, *var) {
                Some(value) => Cow::Borrowed(value),
                None => Cow::Owned(Value::Null),
            }),
            Node::VarField { var, field, slot } => match lookup(ctx, *var) {
                Some(value) => field_of(value, field, *slot).map(Cow::Borrowed),
                None => Err(TYPE), // null.field
            },
            Node::Select {
                operand,
                field,
                slot,
            } => match operand.operand(ctx)? {
                Cow::Borrowed(value) => field_of(value, field, *slot).map(Cow::Borrowed),
                Cow::Owned(value) => field_of(&value, field, *slot).map(|v| Cow::Owned(v.clone())),
            },
            Node::Has { .. }
            | Node::Not(_)
            | Node::And(..)
            | Node::Or(..)
            | Node::Cmp(..)
            | Node::In(..) => match self.truth(ctx)? {
                Truth::True => boolean(true),
                Truth::False => boolean(false),
                _ => unreachable!("boolean operators give booleans"),
            },
            Node::Cond(condition, if_true, if_false) => match condition.truth(ctx)? {
                Truth::True => if_true.eval(ctx),
                Truth::False => if_false.eval(ctx),
                Truth::Container => Err(FALLBACK),
                Truth::Scalar => Err(TYPE),
            },
            Node::Neg(operand) => match *operand.operand(ctx)? {
                Value::Float(value) => Ok(Cow::Owned(Value::Float(-value))),
                Value::Int(value) if value != i64::MIN => Ok(Cow::Owned(Value::Int(-value))),
                Value::Null | Value::Str(_) => Err(TYPE),
                _ => Err(FALLBACK), // CEL's own quirks: -true, -(int64 min), maps, lists
            },
            Node::Arith(op, left, right) => {
                let left = left.operand(ctx)?;
                let right = right.operand(ctx)?;
                arith(*op, &left, &right).map(Cow::Owned)
            }
            Node::Size(operand) => {
                let size = match &*operand.operand(ctx)? {
                    Value::List(items) => items.len(),
                    Value::Map(items) => items.len(),
                    Value::Event(view) => view.present().count(),
                    Value::Str(text) if text.is_ascii() => text.len(),
                    // the cel package sizes other strings its own way; other types fail there
                    _ => return Err(FALLBACK),
                };
                Ok(Cow::Owned(Value::Int(size as i64)))
            }
            Node::Distance(arguments) => {
                let mut numbers = [Num::Int(0); 4];
                let mut numeric = true;
                for (index, argument) in arguments.iter().enumerate() {
                    let number = match *argument.operand(ctx)? {
                        Value::Int(value) => Num::Int(value),
                        Value::Float(value) => Num::Float(value),
                        _ => {
                            numeric = false;
                            continue;
                        }
                    };
                    if index < 4 {
                        numbers[index] = number;
                    }
                }
                if !numeric || arguments.len() != 4 {
                    return Err(FALLBACK); // CEL's own wording of a failed call
                }
                let [lat1, lon1, lat2, lon2] = numbers;
                let dlon = match (lon2, lon1) {
                    (Num::Int(a), Num::Int(b)) => (a as i128 - b as i128) as f64,
                    _ => lon2.float() - lon1.float(),
                };
                match remembered_haversine(lat1.float(), lat2.float(), dlon) {
                    Ok(distance) => Ok(Cow::Owned(Value::Float(distance))),
                    Err(_) => Err(FALLBACK),
                }
            }
        }
    }
}

// --- distance_km -------------------------------------------------------------------------

pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// CPython's `math.radians`: `x * degToRad`, degToRad = Py_MATH_PI / 180.0.
fn radians(x: f64) -> f64 {
    const DEG_TO_RAD: f64 = std::f64::consts::PI / 180.0;
    x * DEG_TO_RAD
}

/// CPython's `math_1` checks: a NaN from a non-NaN, or an infinity from a finite
/// argument, is a ValueError (none of sin, cos, asin, sqrt can overflow).
fn math_1(x: f64, result: f64) -> Result<f64, ErrorKind> {
    if (result.is_nan() && !x.is_nan()) || (result.is_infinite() && x.is_finite()) {
        return Err(ErrorKind::Value);
    }
    Ok(result)
}

fn sin(x: f64) -> Result<f64, ErrorKind> {
    math_1(x, x.sin())
}

fn cos(x: f64) -> Result<f64, ErrorKind> {
    math_1(x, x.cos())
}

/// Python's `x ** 2` on a float: libm's `pow(x, 2.0)`, which is not always `x * x`
/// (the exponent is hidden from the optimiser, which would rewrite the call so).
fn square(x: f64) -> Result<f64, ErrorKind> {
    if x.is_nan() {
        return Ok(x);
    }
    if x == 0.0 {
        return Ok(0.0);
    }
    let result = x.powf(std::hint::black_box(2.0));
    if result.is_infinite() && x.is_finite() {
        return Err(ErrorKind::Overflow);
    }
    Ok(result)
}

fn haversine(lat1: f64, lat2: f64, dlon: f64) -> Result<f64, ErrorKind> {
    let (phi1, phi2) = (radians(lat1), radians(lat2));
    let (dphi, dlmb) = (phi2 - phi1, radians(dlon));
    let a = square(sin(dphi / 2.0)?)? + cos(phi1)? * cos(phi2)? * square(sin(dlmb / 2.0)?)?;
    let root = math_1(a, a.sqrt())?;
    let clamped = if root < 1.0 { root } else { 1.0 }; // min(1.0, root): NaN gives 1.0
    Ok(2.0 * EARTH_RADIUS_KM * math_1(clamped, clamped.asin())?)
}

/// A call's arguments (as bits) and its result.
type HaversineCall = ([u64; 3], Result<f64, ErrorKind>);

thread_local! {
    static LAST_HAVERSINE: Cell<Option<HaversineCall>> = const { Cell::new(None) };
}

/// `haversine`, remembering its last call: rules write the same distance twice in one
/// condition (`distance_km(...) > 500.0 && distance_km(...) > ...`). A pure function of
/// its arguments' bits, so the memo changes no result.
fn remembered_haversine(lat1: f64, lat2: f64, dlon: f64) -> Result<f64, ErrorKind> {
    let key = [lat1.to_bits(), lat2.to_bits(), dlon.to_bits()];
    LAST_HAVERSINE.with(|last| {
        if let Some((known, result)) = last.get() {
            if known == key {
                return result;
            }
        }
        let result = haversine(lat1, lat2, dlon);
        last.set(Some((key, result)));
        result
    })
}

/// `expressions.distance_km` with float arguments: the great-circle distance in km, or
/// the error Python's math module raises (a ValueError for infinite coordinates).
pub fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> Result<f64, ErrorKind> {
    haversine(lat1, lat2, lon2 - lon1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::EventView;

    const KEY_ERROR: Fault = Fault::Error(ErrorKind::Key);
    const TYPE_ERROR: Fault = Fault::Error(ErrorKind::Type);
    const ZERO_DIVISION: Fault = Fault::Error(ErrorKind::ZeroDivision);
    const OVERFLOW: Fault = Fault::Error(ErrorKind::Overflow);

    /// Every `key`, `when`, `where`, `condition` and step `when`/`match` of the shipped
    /// pack and scoring rules (`pack_expressions()` of test_fastcel.py).
    const PACK: &[&str] = &[
        r#"!has(event.channel) || event.channel != "pos""#,
        "agg.accounts >= 10",
        "agg.accounts >= 5",
        "agg.activity_days == 0 && entity.age_seconds >= 7776000.0 && (agg.largest > 1000.0 || agg.outflow > 3000.0)",
        "agg.fraud >= 3 && agg.rate >= 0.05",
        "agg.n > 10 || (agg.total > 5000.0 && agg.n >= 3)",
        "agg.n > 20",
        "agg.n > 30",
        "agg.n >= 10 && agg.recipients <= 3 && agg.total >= 1000.0",
        "agg.n >= 3",
        "agg.payees >= 10 && agg.total >= 5000.0",
        "agg.payers >= 5 && agg.inflow >= 5000.0 && agg.outflow >= 0.5 * agg.inflow",
        "distance_km(steps.here.lat, steps.here.lon, event.lat, event.lon) > 500.0 && distance_km(steps.here.lat, steps.here.lon, event.lat, event.lon)\n   > 900.0 * (event.ts - steps.here.ts) / 3600.0",
        "event.account_id",
        "event.amount < 10.0",
        "event.amount > 500.0",
        "event.amount >= 0.8 * steps.topup.amount && !(event.instrument_id != null && event.instrument_id == steps.topup.instrument_id)",
        r#"event.channel != "pos""#,
        "event.counterparty_id",
        "event.device_id",
        "event.instrument_id",
        "event.ip",
        r#"event.kind == "transaction" && event.type != "top_up" && event.type != "refund" && event.amount >= 20000.0"#,
        "event.lat != null && event.lon != null",
        r#"event.status != "failed""#,
        r#"event.status != "failed" && event.amount >= 1000.0 && agg.spike >= 10.0 && agg.spike_days >= 5"#,
        r#"event.status != "failed" && event.amount >= 9000.0 && event.amount < 10000.0"#,
        r#"event.status != "failed" && event.counterparty_id != null"#,
        r#"event.status != "failed" && event.type in ["payment", "transfer", "red_packet", "withdrawal"]"#,
        r#"event.type != "withdrawal""#,
        r#"event.type == "feedback" && event.label == "fraud""#,
        r#"event.type == "login""#,
        r#"event.type == "login_failed""#,
        r#"event.type == "password_change" || event.type == "device_bound""#,
        r#"event.type == "payment" && event.status != "failed""#,
        r#"event.type == "top_up" && event.status != "failed" && event.amount >= 1000.0"#,
        r#"event.type == "withdrawal""#,
        r#"event.type == "withdrawal" && event.status != "failed""#,
        r#"event.type == "withdrawal" && event.status != "failed" && event.amount > 500.0"#,
        r#"event.type == "withdrawal" ? event.account_id : event.counterparty_id"#,
        "profiles.counterparty.max_severity >= 70 || profiles.merchant.max_severity >= 70",
        "size(profiles.account.patterns) >= 2",
    ];

    /// test_fastcel.py's TRICKY: all on the fast path.
    const TRICKY: &[&str] = &[
        "event.a && event.b",
        "event.a || event.b",
        "!event.a",
        "!(!event.a)",
        "-(-event.a)",
        "!(event.a)",
        "event.a && event.b && event.c",
        "event.a || event.b || event.c",
        "event.a && (event.b || event.c)",
        "(event.a || event.b) && !event.c",
        "event.a && (event.b && event.c)",
        "event.a || (event.b || event.c)",
        "event.a ? event.b : event.c",
        "event.a ? event.b : event.c ? event.d : null",
        "(event.a ? event.b : event.c) == 1",
        "event.a > 1 && false",
        "event.a > 1 || true",
        "false && event.a / event.b > 1",
        "event.a / event.b > 1 || event.c",
        "event.c || event.a / event.b > 1",
        "true && 1 == 1",
        "1 == 1 && event.a",
        "event.a == event.b",
        "event.a != event.b",
        "event.a < event.b",
        "event.a <= event.b",
        "event.a > event.b",
        "event.a >= event.b",
        "event.a == null",
        "event == null",
        "agg != null && agg.n > 1",
        "event.a != null && event.a >= 5",
        "event.a < 1",
        "event.a > 1.5",
        "event.a == 1",
        "event.a == 1.0",
        "event.a == 'x'",
        "event.a == true",
        "event.a < 'b'",
        "event.a >= false",
        r#"event.a in ["x", "y", "withdrawal"]"#,
        "event.a in [1, 2.5, 'x', null, true]",
        "event.a in [1]",
        "event.a in [null]",
        "!(event.a in ['x'])",
        "event.a + event.b",
        "event.a - event.b",
        "event.a * event.b",
        "event.a / event.b",
        "event.a + event.b > 10.0",
        "-event.a",
        "-event.a < 0",
        "event.a * 2.0 > event.b",
        "0.8 * event.a <= event.b",
        "event.a + 1",
        "event.a - 1 == event.b",
        "event.a * 3 / 2",
        "event.a + '|' + event.b",
        "1e3 < event.a",
        "2.5E-1 == event.a",
        "event.a / 0",
        "event.a / 0.0",
        "has(event.a)",
        "!has(event.a) || event.a != 'pos'",
        "has(event.m.k)",
        "event.m.k == 'x'",
        "event.m.k > 1",
        "has(steps.first.a)",
        "steps.first.a == event.a",
        "event.a >= 0.8 * steps.first.b",
        "steps.first.a != null && steps.first.a == event.b",
        "agg.n > 10 || agg.total > 5000.0",
        "agg.n >= 3 && entity.age_seconds >= 7776000.0",
        "agg.x_days == 0 && (agg.a > 1000.0 || agg.b > 3000.0)",
        "entity.idle_seconds > 60.0 ? agg.n > 1 : agg.n > 5",
        "distance_km(event.a, event.b, event.c, event.d) > 500.0",
        "distance_km(steps.first.a, steps.first.b, event.c, event.d) > 900.0 * event.a / 3600.0",
        "size(event.a) > 1",
        "size(event.a)",
        "size(event.a) == size(event.b)",
        "size(event.a.b) >= 2",
        "event.a + '|' + event.b",
        "event.type == 'withdrawal' ? event.a : event.b",
        // more of the subset
        "event.a in [1,]",
        "has(foo.x)",
        "1 - -1",
    ];

    /// test_fastcel.py's REFUSED, and more the fast path leaves to the cel package.
    const REFUSED: &[&str] = &[
        "event.a % 2 == 0",
        "event.a == \"x\\n\"",
        "event.a == r'x'",
        "event.a == b'x'",
        "event.a == 1u",
        "event.a == 0x10",
        "event.a == \"\"\"x\"\"\"",
        "event['a'] == 1",
        "event.a.startsWith('x')",
        "event.a in event.b",
        "event.a in []",
        "[1, 2] == event.a",
        "{'a': 1} == event.a",
        "1 < 2 < 3",
        "double(event.a) > 1.0",
        "event.a > 1 // a comment",
        "event.a == 007",
        "event.a.exists(x, x > 1)",
        "!!event.a",
        "--event.a",
        "event.a == 1.",
        "event.a == 1.5e",
        "event.a == 00.5",
        "event.a == 'x''y'",
        "event.a == 9223372036854775808",
        "event.a in [-1]",
        "event.a in [event.b]",
        "event.a == 1 == true",
        "has(event)",
        "has(1.x)",
        "size(1, 2)",
        "event.a[0]",
        "event.a()",
        "!-event.a",
        "event.a = 1",
        "event.a & 1",
        "",
        "event.a ? 1",
        "int(1)",
        "as == 1",
    ];

    fn event(fields: &[(&str, Value)]) -> Value {
        let mut view = EventView::default();
        for (name, value) in fields {
            let slot = event_slot(name).expect("an event field");
            view.slots[slot] = Some(value.clone());
        }
        Value::Event(Rc::new(view))
    }

    fn s(text: &str) -> Value {
        Value::str(text)
    }

    fn eval(source: &str, ctx: &Ctx) -> Result<Value, Fault> {
        Expr::compile(source)
            .unwrap_or_else(|e| panic!("{source:?}: {e}"))
            .evaluate(ctx)
    }

    fn test(source: &str, ctx: &Ctx) -> Result<bool, Fault> {
        Expr::compile(source)
            .unwrap_or_else(|e| panic!("{source:?}: {e}"))
            .test(ctx)
    }

    fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Float(x), Value::Float(y)) => {
                x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
            }
            (Value::Int(x), Value::Int(y)) => x == y,
            (Value::List(x), Value::List(y)) => {
                x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| same(a, b))
            }
            (Value::Map(x), Value::Map(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .zip(y.iter())
                        .all(|((k, a), (l, b))| k == l && same(a, b))
            }
            (Value::Event(x), Value::Event(y)) => {
                x.slots
                    .iter()
                    .zip(y.slots.iter())
                    .all(|(a, b)| match (a, b) {
                        (None, None) => true,
                        (Some(a), Some(b)) => same(a, b),
                        _ => false,
                    })
            }
            (Value::Int(_), _)
            | (Value::Float(_), _)
            | (_, Value::Int(_))
            | (_, Value::Float(_)) => false,
            _ => a == b,
        }
    }

    fn assert_value(source: &str, ctx: &Ctx, expected: Value) {
        let got = eval(source, ctx);
        assert!(
            matches!(&got, Ok(v) if same(v, &expected)),
            "{source:?}: {got:?} != {expected:?}"
        );
    }

    #[test]
    fn cel_pack_expressions_compile() {
        for source in PACK {
            let expr = Expr::compile(source).unwrap_or_else(|e| panic!("{source:?}: {e}"));
            assert_eq!(expr.source(), *source);
        }
    }

    #[test]
    fn cel_tricky_expressions_compile() {
        for source in TRICKY {
            Expr::compile(source).unwrap_or_else(|e| panic!("{source:?}: {e}"));
        }
    }

    #[test]
    fn cel_refused_sources() {
        for source in REFUSED {
            assert!(
                Expr::compile(source).is_err(),
                "{source:?} should be refused"
            );
        }
    }

    #[test]
    fn cel_deep_nesting_is_refused() {
        let deep = format!("{}1{}", "(".repeat(100), ")".repeat(100));
        assert!(Expr::compile(&deep).is_err());
        let fine = format!("{}1{}", "(".repeat(20), ")".repeat(20));
        assert!(Expr::compile(&fine).is_ok());
        let chain = vec!["event.a"; 500].join(" && ");
        assert!(Expr::compile(&chain).is_err());
    }

    #[test]
    fn cel_field_path() {
        let cases = [
            ("event.account_id", Some("account_id")),
            ("  event.x_1\n", Some("x_1")),
            ("event . a", None),
            ("event.a.b", None),
            ("event.a == 1", None),
            ("agg.n", None),
        ];
        for (source, expected) in cases {
            assert_eq!(
                Expr::compile(source).unwrap().field_path(),
                expected,
                "{source:?}"
            );
        }
    }

    #[test]
    fn cel_variables() {
        let expr = Expr::compile("agg.n > 1 && event.a == steps.x.a || foo").unwrap();
        assert_eq!(expr.variables(), &[Var::Agg, Var::Event, Var::Steps]);
        assert!(expr.reads_unknown_variables());
        assert_eq!(Var::from_name("spent_today"), Some(Var::SpentToday));
        assert!(Var::ALL
            .iter()
            .enumerate()
            .all(|(index, var)| *var as usize == index));
    }

    #[test]
    fn cel_pack_results() {
        let withdrawal = event(&[
            ("type", s("withdrawal")),
            ("status", s("ok")),
            ("amount", Value::Float(600.0)),
            ("account_id", s("acc-1")),
            ("counterparty_id", Value::Null),
            ("kind", s("transaction")),
            ("lat", Value::Float(31.2)),
            ("lon", Value::Float(121.5)),
            ("ts", Value::Float(1000.0)),
        ]);
        let here = event(&[
            ("lat", Value::Float(1.35)),
            ("lon", Value::Float(103.8198)),
            ("ts", Value::Float(0.0)),
        ]);
        let steps = Value::map(vec![
            ("here", here),
            ("topup", event(&[("amount", Value::Float(700.0))])),
        ]);
        let agg = Value::map(vec![("n", Value::Int(12)), ("total", Value::Float(10.0))]);
        let ctx = Ctx::new()
            .with(Var::Event, &withdrawal)
            .with(Var::Steps, &steps)
            .with(Var::Agg, &agg);
        let yes = |source: &str| assert_eq!(test(source, &ctx), Ok(true), "{source:?}");
        let no = |source: &str| assert_eq!(test(source, &ctx), Ok(false), "{source:?}");
        yes(r#"event.type == "withdrawal" && event.status != "failed" && event.amount > 500.0"#);
        yes(
            r#"event.status != "failed" && event.type in ["payment", "transfer", "red_packet", "withdrawal"]"#,
        );
        no(r#"event.type == "feedback" && event.label == "fraud""#); // label absent: false first
        no(r#"event.status != "failed" && event.counterparty_id != null"#);
        yes("agg.n > 10 || (agg.total > 5000.0 && agg.n >= 3)");
        no("agg.fraud >= 3 && agg.rate >= 0.05"); // KeyError
        yes(r#"!has(event.channel) || event.channel != "pos""#);
        yes("event.lat != null && event.lon != null");
        no("event.amount >= 0.8 * steps.topup.amount && !(event.instrument_id != null && event.instrument_id == steps.topup.instrument_id)");
        // 3804.455858092412 km in 1000 s
        yes(PACK[12]);
        assert_value(
            "distance_km(steps.here.lat, steps.here.lon, event.lat, event.lon)",
            &ctx,
            Value::Float(3804.455858092412),
        );
        assert_value(
            r#"event.type == "withdrawal" ? event.account_id : event.counterparty_id"#,
            &ctx,
            s("acc-1"),
        );
        assert_value("event.account_id", &ctx, s("acc-1"));
        assert_value("event.device_id", &ctx, Value::Null); // the field path reads a missing field as null
        assert_eq!(test("event.device_id", &ctx), Ok(false));
        let profiles = Value::map(vec![(
            "account",
            Value::map(vec![(
                "patterns",
                Value::List(Rc::new(vec![s("a"), s("b")])),
            )]),
        )]);
        let scoring = Ctx::new()
            .with(Var::Event, &withdrawal)
            .with(Var::Profiles, &profiles);
        assert_eq!(
            test("size(profiles.account.patterns) >= 2", &scoring),
            Ok(true)
        );
        assert_eq!(
            test(
                "profiles.counterparty.max_severity >= 70 || profiles.merchant.max_severity >= 70",
                &scoring
            ),
            Ok(false)
        );
    }

    #[test]
    fn cel_errors_have_the_types_cel_gives() {
        let empty = event(&[]);
        let ctx = Ctx::new().with(Var::Event, &empty);
        assert_eq!(eval("event.amount > 1", &ctx), Err(KEY_ERROR));
        assert_eq!(test("event.amount > 1", &ctx), Ok(false));
        let text = event(&[("amount", s("x"))]);
        let ctx = Ctx::new().with(Var::Event, &text);
        assert_eq!(eval("event.amount > 1", &ctx), Err(TYPE_ERROR));
        let map = Value::map(vec![
            ("a", Value::Int(1)),
            ("b", Value::Int(0)),
            ("big", Value::Int(i64::MAX)),
        ]);
        let ctx = Ctx::new().with(Var::Event, &map);
        assert_eq!(eval("event.a / event.b", &ctx), Err(ZERO_DIVISION));
        assert_eq!(test("event.a / event.b > 1", &ctx), Ok(false)); // no match, no crash
        assert_eq!(eval("event.big * 2", &ctx), Err(OVERFLOW));
        assert_eq!(test("event.big + 1 > 0", &ctx), Ok(false));
        assert_eq!(
            eval("event.missing > 1 && false", &ctx),
            Ok(Value::Bool(false))
        );
        // && and || absorb errors on either side (never Fallback)
        assert_eq!(
            eval("false && event.a / event.b > 1", &ctx),
            Ok(Value::Bool(false))
        );
        assert_eq!(
            eval("event.a / event.b > 1 && false", &ctx),
            Ok(Value::Bool(false))
        );
        assert_eq!(
            eval("event.a / event.b > 1 || true", &ctx),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            eval("event.a / event.b > 1 || false", &ctx),
            Err(ZERO_DIVISION)
        );
        assert_eq!(
            eval("event.missing || event.a / event.b > 1", &ctx),
            Err(ZERO_DIVISION)
        ); // the right side's
        assert_eq!(eval("event.missing && true", &ctx), Err(KEY_ERROR));
        assert_eq!(eval("event.a && true", &ctx), Err(TYPE_ERROR)); // not a boolean
        assert_eq!(eval("event.a || false", &ctx), Err(TYPE_ERROR));
        assert_eq!(eval("true && true", &ctx), Ok(Value::Bool(true)));
        assert_eq!(
            eval("event.missing || event.a == 1", &ctx),
            Ok(Value::Bool(true))
        );
        // a missing context variable is null; an unknown name too
        let none = Ctx::new();
        assert_eq!(eval("event.a > 1", &none), Err(TYPE_ERROR));
        assert_eq!(eval("foo == null", &none), Ok(Value::Bool(true)));
        assert_eq!(eval("foo.x", &none), Err(TYPE_ERROR));
        assert_eq!(eval("has(agg.x)", &none), Err(TYPE_ERROR));
        // but the field path shortcut subscripts the context
        assert_eq!(eval("event.a", &none), Err(KEY_ERROR));
        assert_eq!(test("event.a", &none), Ok(false));
    }

    #[test]
    fn cel_arithmetic() {
        let ctx = Ctx::new();
        assert_value("1 + 2", &ctx, Value::Int(3));
        assert_value("-1 / 2", &ctx, Value::Int(0));
        assert_value("7 / -2", &ctx, Value::Int(-3));
        assert_value("-7 / 2", &ctx, Value::Int(-3));
        assert_value("7.0 / 2.0", &ctx, Value::Float(3.5));
        assert_value("-1.0 / 0.0", &ctx, Value::Float(f64::NEG_INFINITY));
        assert_value("1.0 / -0.0", &ctx, Value::Float(f64::NEG_INFINITY));
        assert_value("0.0 / 0.0", &ctx, Value::Float(f64::NAN));
        assert_value("-0.0", &ctx, Value::Float(-0.0));
        assert_value("1.5e308 * 10.0", &ctx, Value::Float(f64::INFINITY));
        assert_value("1e400", &ctx, Value::Float(f64::INFINITY));
        assert_value("0.1 + 0.2", &ctx, Value::Float(0.1 + 0.2));
        assert_value("'a' + 'b'", &ctx, s("ab"));
        assert_value("-9223372036854775807 - 1", &ctx, Value::Int(i64::MIN));
        assert_eq!(eval("-9223372036854775807 - 2", &ctx), Err(OVERFLOW));
        assert_eq!(eval("9223372036854775807 + 1", &ctx), Err(OVERFLOW));
        assert_eq!(eval("4611686018427387904 * 2", &ctx), Err(OVERFLOW));
        assert_eq!(eval("(-9223372036854775807 - 1) / -1", &ctx), Err(OVERFLOW));
        assert_eq!(
            eval("-(-9223372036854775807 - 1)", &ctx),
            Err(Fault::Fallback)
        );
        assert_eq!(eval("1 / 0", &ctx), Err(ZERO_DIVISION));
        assert_eq!(eval("1 + 1.0", &ctx), Err(TYPE_ERROR)); // no mixed arithmetic
        assert_eq!(eval("'a' - 'b'", &ctx), Err(TYPE_ERROR));
        assert_eq!(eval("'a' * 2", &ctx), Err(TYPE_ERROR));
        assert_eq!(eval("-'x'", &ctx), Err(TYPE_ERROR));
        assert_eq!(eval("-null", &ctx), Err(TYPE_ERROR));
        assert_eq!(eval("-true", &ctx), Err(Fault::Fallback));
        let list = Value::List(Rc::new(vec![Value::Int(1)]));
        let ctx = Ctx::new().with(Var::Agg, &list);
        assert_eq!(eval("agg + agg", &ctx), Err(Fault::Fallback));
        assert_eq!(eval("agg + 1", &ctx), Err(Fault::Fallback));
    }

    #[test]
    fn cel_comparisons() {
        let ctx = Ctx::new();
        let yes =
            |source: &str| assert_eq!(eval(source, &ctx), Ok(Value::Bool(true)), "{source:?}");
        let no =
            |source: &str| assert_eq!(eval(source, &ctx), Ok(Value::Bool(false)), "{source:?}");
        yes("1 == 1.0");
        yes("1 < 1.5");
        no("true < false");
        yes("null == null");
        no("1 == true");
        no("'1' == 1");
        yes("'ab' < 'b'");
        yes("'é' > 'z'");
        yes("9007199254740993 == 9007199254740992.0"); // compared as doubles
        no("0.0 / 0.0 == 0.0 / 0.0");
        yes("1 in [1, 2.5, 'x', null, true]");
        yes("2.5 in [1, 2.5]");
        yes("null in [null]");
        no("true in [1]");
        yes("'x' in ['x', 'y']");
        no("1 in ['1']");
        assert_eq!(eval("null < null", &ctx), Err(TYPE_ERROR));
        assert_eq!(eval("1 < 'a'", &ctx), Err(TYPE_ERROR));
        assert_eq!(eval("0.0 / 0.0 < 1", &ctx), Err(TYPE_ERROR));
        let list = Value::List(Rc::new(vec![]));
        let map = Value::map(vec![]);
        let ctx = Ctx::new().with(Var::Agg, &list).with(Var::Entity, &map);
        for source in [
            "agg == agg",
            "agg != 1",
            "agg < 1",
            "entity == entity",
            "entity < 1",
            "agg in [1]",
        ] {
            assert_eq!(eval(source, &ctx), Err(Fault::Fallback), "{source:?}");
        }
        assert_eq!(eval("agg in ['x']", &ctx), Err(Fault::Fallback));
    }

    #[test]
    fn cel_logic_selection_and_size() {
        let attributes = Value::map(vec![("k", s("x"))]);
        let ev = event(&[
            ("type", s("withdrawal")),
            ("attributes", attributes),
            ("amount", Value::Float(5.0)),
            ("label", Value::Null),
        ]);
        let ctx = Ctx::new().with(Var::Event, &ev);
        assert_value("!true", &ctx, Value::Bool(false));
        assert_eq!(eval("!null", &ctx), Err(TYPE_ERROR));
        assert_eq!(eval("!event", &ctx), Err(Fault::Fallback));
        assert_value("true ? 1 : 2", &ctx, Value::Int(1));
        assert_eq!(eval("1 ? 2 : 3", &ctx), Err(TYPE_ERROR));
        assert_eq!(eval("event ? 2 : 3", &ctx), Err(Fault::Fallback));
        assert_value(
            "event.type == 'withdrawal' ? event.amount : 0.0",
            &ctx,
            Value::Float(5.0),
        );
        assert_value("event.attributes.k", &ctx, s("x"));
        assert_value("has(event.attributes.k)", &ctx, Value::Bool(true));
        assert_value("has(event.attributes.z)", &ctx, Value::Bool(false));
        assert_value("has(event.label)", &ctx, Value::Bool(true)); // present and null
        assert_value("has(event.ip)", &ctx, Value::Bool(false)); // absent
        assert_value("has(event.not_a_field)", &ctx, Value::Bool(false));
        assert_eq!(eval("event.not_a_field", &ctx), Ok(Value::Null));
        assert_eq!(eval("event.ip == null", &ctx), Err(KEY_ERROR));
        assert_eq!(eval("event.type.x", &ctx), Err(TYPE_ERROR));
        assert_eq!(eval("has(event.type.x)", &ctx), Err(TYPE_ERROR));
        assert_eq!(eval("has(event.label.x)", &ctx), Err(TYPE_ERROR));
        assert_value("size(event.type)", &ctx, Value::Int(10));
        assert_value("size(event.attributes)", &ctx, Value::Int(1));
        assert_value("size(event)", &ctx, Value::Int(4));
        assert_eq!(eval("size('é')", &ctx), Err(Fault::Fallback)); // not ASCII
        assert_eq!(eval("size(1)", &ctx), Err(Fault::Fallback));
        // results that are maps or lists are handed back, except by the field path
        assert_eq!(
            eval("true ? event.attributes : 1", &ctx),
            Err(Fault::Fallback)
        );
        assert_eq!(
            test("true ? event.attributes : 1", &ctx),
            Err(Fault::Fallback)
        );
        assert!(matches!(eval("event.attributes", &ctx), Ok(Value::Map(_))));
        assert_eq!(test("event.attributes", &ctx), Ok(false));
        let list = Value::List(Rc::new(vec![Value::Int(1)]));
        let ctx = Ctx::new().with(Var::Agg, &list);
        assert_eq!(eval("agg.x", &ctx), Err(Fault::Fallback));
        assert_eq!(eval("has(agg.x)", &ctx), Err(Fault::Fallback));
        assert_eq!(eval("-agg", &ctx), Err(Fault::Fallback));
        assert_eq!(eval("size(agg)", &ctx), Ok(Value::Int(1)));
        // the field path shortcut on a non-map: Python's AttributeError
        assert_eq!(
            Expr::compile("event.x")
                .unwrap()
                .evaluate(&Ctx::new().with(Var::Event, &list)),
            Err(Fault::Fallback)
        );
    }

    #[test]
    fn cel_distance_km_is_pythons() {
        let cases: [((f64, f64, f64, f64), f64); 9] = [
            ((1.0, 2.0, 3.0, 4.0), 314.4033852954768),
            ((31.2, 121.5, 1.35, 103.8198), 3804.455858092412),
            ((0.0, 0.0, 0.0, 0.0), 0.0),
            ((-45.0, 179.9, 45.0, -179.9), 10007.576628200877),
            // where libm's pow(x, 2.0) differs from x * x
            ((16.9128, 117.4664, -7.9803, -28.1674), 16160.468783974677),
            ((-79.9727, 149.785, -84.1102, -2.3169), 1721.0056660615787),
            ((-60.0889, 121.1833, 78.7287, -8.194), 17321.02122255013),
            ((-50.5731, 66.9446, 23.5557, -164.9298), 14669.110838699546),
            ((f64::NAN, 1.0, 2.0, 3.0), 20015.114442035923),
        ];
        for ((lat1, lon1, lat2, lon2), expected) in cases {
            let got = distance_km(lat1, lon1, lat2, lon2).unwrap();
            assert_eq!(
                got.to_bits(),
                expected.to_bits(),
                "{lat1} {lon1} {lat2} {lon2}: {got}"
            );
        }
        assert_eq!(
            distance_km(f64::INFINITY, 0.0, 0.0, 0.0),
            Err(ErrorKind::Value)
        );
        let ctx = Ctx::new();
        assert_value(
            "distance_km(1, 2, 3, 4)",
            &ctx,
            Value::Float(314.4033852954768),
        );
        assert_value(
            "distance_km(1, 2, 3, 4.0)",
            &ctx,
            Value::Float(314.4033852954768),
        );
        // int longitudes are subtracted exactly before the conversion
        assert_value(
            "distance_km(807, -9223372036854775807 - 1, 3, 9223372036854775807)",
            &ctx,
            Value::Float(9530.00271153235),
        );
        assert_eq!(eval("distance_km(1, 2, 3)", &ctx), Err(Fault::Fallback));
        assert_eq!(
            eval("distance_km(1, 2, 3, 4,)", &ctx),
            Ok(Value::Float(314.4033852954768))
        ); // a trailing comma
        assert_eq!(
            eval("distance_km(1, 2, 3, 'x')", &ctx),
            Err(Fault::Fallback)
        );
        assert_eq!(
            eval("distance_km(1, 2, 3, true)", &ctx),
            Err(Fault::Fallback)
        );
        assert_eq!(
            eval("distance_km(1e308 * 10.0, 2, 3, 4.0)", &ctx),
            Err(Fault::Fallback)
        );
        assert_eq!(
            eval("distance_km(1, 2, 3, 4, event.x)", &ctx),
            Err(TYPE_ERROR)
        ); // arguments first
    }
}
