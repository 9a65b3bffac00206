//! Evaluating a compiled tree: values, and truth where only a boolean operator reads it.

use std::borrow::Cow;

use super::distance::distance_of;
use super::ops::{
    arith, boolean, compare, equal, field_of, has_field, is_container, lookup, Eval, Num,
};
use super::{Ctx, ErrorKind, Fault, Node, FALLBACK, TYPE};
use crate::value::Value;

/// What a result is to a boolean operator, which takes booleans alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Truth {
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
            // `variable.a.b` (`steps.here.lat`), as `eval` reads it, without its calls.
            Node::Select {
                operand,
                field,
                slot,
            } => match &**operand {
                Node::VarField {
                    var,
                    field: first,
                    slot: first_slot,
                } => match lookup(ctx, *var) {
                    Some(value) => field_of(field_of(value, first, *first_slot)?, field, *slot)
                        .map(Cow::Borrowed),
                    None => Err(TYPE),
                },
                _ => self.eval(ctx),
            },
            _ => self.eval(ctx),
        }
    }

    /// The evaluation of a node where only its truth matters (the operand of a boolean
    /// operator, or the result of `test`): the boolean operators without building values.
    pub(super) fn truth<'a>(&'a self, ctx: &Ctx<'a>) -> Result<Truth, Fault> {
        match self {
            Node::And(left, right) => junction(left, right, ctx, Truth::False),
            Node::Or(left, right) => junction(left, right, ctx, Truth::True),
            Node::Not(operand) => match operand.truth(ctx)? {
                Truth::True => Ok(Truth::False),
                Truth::False => Ok(Truth::True),
                Truth::Container | Truth::Scalar => Err(TYPE),
            },
            Node::Cond(condition, if_true, if_false) => match condition.truth(ctx)? {
                Truth::True => if_true.truth(ctx),
                Truth::False => if_false.truth(ctx),
                Truth::Container | Truth::Scalar => Err(TYPE),
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
                    return Ok(Truth::False); // the literals are scalars
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
                Truth::Container | Truth::Scalar => Err(TYPE),
            },
            Node::Neg(operand) => match *operand.operand(ctx)? {
                Value::Float(value) => Ok(Cow::Owned(Value::Float(-value))),
                Value::Int(value) => match value.checked_neg() {
                    Some(negated) => Ok(Cow::Owned(Value::Int(negated))),
                    None => Err(Fault::Error(ErrorKind::Overflow)), // -(int64 min)
                },
                _ => Err(TYPE),
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
                    Value::Str(text) => text.chars().count(), // code points
                    _ => return Err(TYPE),
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
                    return Err(TYPE); // no overload of distance_km takes these
                }
                match distance_of(numbers) {
                    Ok(distance) => Ok(Cow::Owned(Value::Float(distance))),
                    Err(kind) => Err(Fault::Error(kind)),
                }
            }
        }
    }
}

/// `&&` (`decisive` false) and `||` (`decisive` true) as CEL evaluates them: the left
/// side decides alone when it is `decisive`; otherwise the right side's error wins, a
/// decisive right side decides, and both sides agreeing decide; any other pair is the
/// left side's error, or no overload.
#[inline]
fn junction<'a>(
    left: &'a Node,
    right: &'a Node,
    ctx: &Ctx<'a>,
    decisive: Truth,
) -> Result<Truth, Fault> {
    let other = if decisive == Truth::True {
        Truth::False
    } else {
        Truth::True
    };
    let first = match left.truth(ctx) {
        Ok(truth) if truth == decisive => return Ok(truth),
        Ok(truth) => Ok(truth),
        Err(Fault::Fallback) => return Err(FALLBACK), // the interpreter decides the whole
        Err(error) => Err(error),
    };
    match right.truth(ctx)? {
        truth if truth == decisive => Ok(truth),
        truth if truth == other && first == Ok(other) => Ok(other),
        _ => Err(first.err().unwrap_or(TYPE)),
    }
}
