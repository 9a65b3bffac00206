//! Values under CEL's operators: field access, equality, order and arithmetic.

use std::borrow::Cow;
use std::rc::Rc;

use super::{ArithOp, CmpOp, Ctx, ErrorKind, Fault, Var, FALLBACK, KEY, TYPE};
use crate::value::Value;

pub(super) type Eval<'a> = Result<Cow<'a, Value>, Fault>;

#[inline]
pub(super) fn is_container(value: &Value) -> bool {
    matches!(value, Value::List(_) | Value::Map(_) | Value::Event(_))
}

pub(super) fn boolean<'a>(value: bool) -> Eval<'a> {
    Ok(Cow::Owned(Value::Bool(value)))
}

#[inline]
pub(super) fn lookup<'a>(ctx: &Ctx<'a>, var: Option<Var>) -> Option<&'a Value> {
    var.and_then(|var| ctx.vars[var as usize])
}

/// A field: a map's key (no_such_key when missing), no overload on anything else.
#[inline]
pub(super) fn field_of<'v>(
    value: &'v Value,
    field: &str,
    slot: Option<usize>,
) -> Result<&'v Value, Fault> {
    match value {
        Value::Event(view) => slot.and_then(|slot| view.get(slot)).ok_or(KEY),
        Value::Map(items) => items
            .iter()
            .find(|(key, _)| **key == *field)
            .map(|(_, item)| item)
            .ok_or(KEY),
        _ => Err(TYPE),
    }
}

#[inline]
pub(super) fn has_field(value: &Value, field: &str, slot: Option<usize>) -> Result<bool, Fault> {
    match value {
        Value::Event(view) => Ok(slot.is_some_and(|slot| view.get(slot).is_some())),
        Value::Map(items) => Ok(items.iter().any(|(key, _)| **key == *field)),
        _ => Err(TYPE),
    }
}

#[inline]
pub(super) fn compare(op: CmpOp, left: &Value, right: &Value) -> Result<bool, Fault> {
    match op {
        CmpOp::Eq => equal(left, right),
        CmpOp::Ne => equal(left, right).map(|same| !same),
        _ => order(op, left, right),
    }
}

/// `==`: numbers as numbers, other types apart; two lists or maps (element by element)
/// are the interpreter's.
#[inline]
pub(super) fn equal(left: &Value, right: &Value) -> Result<bool, Fault> {
    Ok(match (left, right) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Int(a), Value::Int(b)) => a == b,
        (Value::Float(a), Value::Float(b)) => a == b,
        (Value::Str(a), Value::Str(b)) => a == b,
        (Value::Int(a), Value::Float(b)) => *a as f64 == *b,
        (Value::Float(a), Value::Int(b)) => *a == *b as f64,
        // lists and maps, element by element: the interpreter decides
        _ if is_container(left) && is_container(right) => return Err(FALLBACK),
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

/// `<`, `<=`, `>`, `>=`: ints, doubles (and one against the other), strings, booleans.
#[inline]
fn order(op: CmpOp, left: &Value, right: &Value) -> Result<bool, Fault> {
    let ordering = match (left, right) {
        (Value::Int(a), Value::Int(b)) => a.cmp(b),
        (Value::Str(a), Value::Str(b)) => (**a).cmp(&**b), // UTF-8 order is code point order
        (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
        (Value::Float(a), Value::Float(b)) => return float_order(op, *a, *b),
        (Value::Int(a), Value::Float(b)) => return float_order(op, *a as f64, *b),
        (Value::Float(a), Value::Int(b)) => return float_order(op, *a, *b as f64),
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
                Ok(a / b) // truncates toward zero
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

pub(super) fn arith(op: ArithOp, left: &Value, right: &Value) -> Result<Value, Fault> {
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
        (Value::List(a), Value::List(b)) if op == ArithOp::Add => Ok(Value::List(Rc::new(
            a.iter().chain(b.iter()).cloned().collect(),
        ))),
        _ => Err(TYPE),
    }
}

#[derive(Clone, Copy)]
pub(super) enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    pub(super) fn float(self) -> f64 {
        match self {
            Num::Int(value) => value as f64, // correctly rounded, as Python's float(int)
            Num::Float(value) => value,
        }
    }
}
