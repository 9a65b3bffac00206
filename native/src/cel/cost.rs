//! A bound of what one evaluation of a source can cost, read from its tree: the core's
//! counterpart of cel-go's cost limit.
//!
//! Rules come from a topic anyone allowed to write it fills, and CEL's macros nest: a
//! few hundred characters of comprehensions inside comprehensions run for seconds on
//! every event. [`full::Program::compile`] refuses a source whose bound exceeds
//! [`MAX_COST`]. A unit is about one node of the tree evaluated; work linear in a
//! string's or a list's length costs [`TRAVERSAL`] a character or element (cel-go's
//! factor). Values from outside the expression are taken at their largest
//! ([`INPUT_ITEMS`], [`INPUT_SIZE`]); a comprehension costs its range's length times its
//! step, and its accumulator grows by what one step adds, each iteration.
//!
//! [`full::Program::compile`]: super::full::Program::compile

use cel::common::ast::{EntryExpr, Expr as Ast, IdedEntryExpr, IdedExpr, LiteralValue};

/// About a tenth of a second of one core at worst; the shipped rules cost under 200.
pub(crate) const MAX_COST: f64 = 1_000_000.0;
/// Elements of a list or map the context holds: a profile's patterns (one a rule, at
/// most 500 rules), an event's fields, a sequence's steps all hold fewer.
pub(crate) const INPUT_ITEMS: f64 = 512.0;
/// Characters or elements of any value the context holds, nested ones included: an
/// event's text field holds at most 4,096 characters.
pub(crate) const INPUT_SIZE: f64 = 4096.0;
/// The cost of a character or an element walked by a function or an operator.
const TRAVERSAL: f64 = 0.1;
/// `matches`: the core compiles each pattern once, but the `cel` package, which
/// evaluates the scoring rules, compiles it on every call.
const PATTERN: f64 = 1000.0;
/// Nodes the estimate may visit: each comprehension's step is read twice, so a source
/// of comprehensions nested beyond any rule's needs is refused, not estimated.
const MAX_VISITS: usize = 100_000;

/// A value's bounds: `items`, the elements at its top level (what a comprehension
/// iterates); `size`, its characters and elements at every level.
#[derive(Clone, Copy, Debug)]
struct Bound {
    cost: f64,
    items: f64,
    size: f64,
}

impl Bound {
    fn scalar(cost: f64) -> Bound {
        Bound {
            cost,
            items: 0.0,
            size: 0.0,
        }
    }
}

/// The bound of the cost of one evaluation of `expr`; infinite when it cannot be told
/// within [`MAX_VISITS`].
pub(crate) fn cost_bound(expr: &IdedExpr) -> f64 {
    let mut estimate = Estimate {
        scope: Vec::new(),
        visits: 0,
    };
    let bound = estimate.of(expr).cost;
    if estimate.visits > MAX_VISITS {
        f64::INFINITY
    } else {
        bound
    }
}

struct Estimate {
    /// Names bound by the comprehensions around the node, with their values' bounds.
    scope: Vec<(String, Bound)>,
    visits: usize,
}

impl Estimate {
    fn of(&mut self, expr: &IdedExpr) -> Bound {
        self.visits += 1;
        if self.visits > MAX_VISITS {
            return Bound::scalar(f64::INFINITY);
        }
        match &expr.expr {
            Ast::Unspecified => Bound::scalar(1.0),
            Ast::Literal(literal) => {
                let size = match literal {
                    LiteralValue::String(text) => text.inner().chars().count() as f64,
                    LiteralValue::Bytes(bytes) => bytes.inner().len() as f64,
                    _ => 0.0,
                };
                Bound {
                    cost: 1.0,
                    items: size,
                    size,
                }
            }
            Ast::Ident(name) => match self.scope.iter().rev().find(|(bound, _)| bound == name) {
                Some((_, value)) => Bound {
                    cost: 1.0,
                    ..*value
                },
                None => input(1.0),
            },
            Ast::Select(select) => {
                let operand = self.of(&select.operand);
                Bound {
                    cost: operand.cost + 1.0,
                    ..operand
                }
            }
            Ast::List(list) => self.collection(list.elements.iter()),
            Ast::Map(map) => self.collection(entries(&map.entries)),
            Ast::Struct(object) => self.collection(entries(&object.entries)),
            Ast::Call(call) => {
                let arguments: Vec<Bound> = call
                    .target
                    .iter()
                    .map(|target| &**target)
                    .chain(&call.args)
                    .map(|argument| self.of(argument))
                    .collect();
                self.call(&call.func_name, &arguments)
            }
            Ast::Comprehension(comprehension) => {
                let range = self.of(&comprehension.iter_range);
                let init = self.of(&comprehension.accu_init);
                let element = Bound {
                    cost: 1.0,
                    items: range.size,
                    size: range.size,
                };
                let outer = self.scope.len();
                self.scope.push((comprehension.iter_var.clone(), element));
                if let Some(second) = &comprehension.iter_var2 {
                    self.scope.push((second.clone(), element));
                }
                self.scope.push((comprehension.accu_var.clone(), init));
                // What one step adds to the accumulator, it adds on every iteration.
                let first = self.of(&comprehension.loop_step);
                let iterations = range.items;
                let accumulated = Bound {
                    cost: 1.0,
                    items: init.items + iterations * (first.items - init.items).max(0.0),
                    size: init.size + iterations * (first.size - init.size).max(0.0),
                };
                self.scope.last_mut().expect("the accumulator").1 = accumulated;
                let step = self.of(&comprehension.loop_step);
                let condition = self.of(&comprehension.loop_cond);
                self.scope.truncate(outer);
                self.scope
                    .push((comprehension.accu_var.clone(), accumulated));
                let result = self.of(&comprehension.result);
                self.scope.truncate(outer);
                Bound {
                    cost: range.cost
                        + init.cost
                        + iterations * (step.cost + condition.cost)
                        + result.cost,
                    ..result
                }
            }
        }
    }

    fn collection<'e>(&mut self, elements: impl Iterator<Item = &'e IdedExpr>) -> Bound {
        let mut total = Bound::scalar(1.0);
        for element in elements {
            let bound = self.of(element);
            total.cost += bound.cost;
            total.items += 1.0;
            total.size += 1.0 + bound.size;
        }
        total
    }

    fn call(&self, function: &str, arguments: &[Bound]) -> Bound {
        let cost: f64 = 1.0 + arguments.iter().map(|argument| argument.cost).sum::<f64>();
        let sizes = arguments.iter().map(|argument| argument.size);
        let largest = sizes.clone().fold(0.0, f64::max);
        let walked: f64 = sizes.clone().sum();
        match function {
            // A conditional evaluates one branch; its value is either's.
            "_?_:_" if arguments.len() == 3 => {
                let (yes, no) = (arguments[1], arguments[2]);
                Bound {
                    cost: 1.0 + arguments[0].cost + yes.cost.max(no.cost),
                    items: yes.items.max(no.items),
                    size: yes.size.max(no.size),
                }
            }
            // A concatenation copies both operands into a value as large as both.
            "_+_" => Bound {
                cost: cost + walked * TRAVERSAL,
                items: arguments.iter().map(|argument| argument.items).sum(),
                size: walked,
            },
            // A comparison stops at the shorter operand's end.
            "_==_" | "_!=_" | "_<_" | "_<=_" | "_>_" | "_>=_" => {
                Bound::scalar(cost + sizes.fold(f64::INFINITY, f64::min) * TRAVERSAL)
            }
            // Membership walks the container, each comparison stopping at the shorter.
            "@in" if arguments.len() == 2 => Bound::scalar(cost + arguments[1].size * TRAVERSAL),
            "matches" => Bound::scalar(cost + PATTERN + walked * TRAVERSAL),
            // Logic and arithmetic: booleans and numbers, no walk.
            "_&&_"
            | "_||_"
            | "!_"
            | "@not_strictly_false"
            | "-_"
            | "_-_"
            | "_*_"
            | "_/_"
            | "_%_" => Bound::scalar(cost),
            // Sizes, searches and conversions: a walk over the operands at most.
            "size" | "contains" | "startsWith" | "endsWith" | "int" | "uint" | "double"
            | "bool" => Bound::scalar(cost + walked * TRAVERSAL),
            // Indexing, conversions and anything else: a value no larger than the
            // largest operand.
            _ => Bound {
                cost: cost + walked * TRAVERSAL,
                items: largest,
                size: largest,
            },
        }
    }
}

/// A value from outside the expression, at its largest.
fn input(cost: f64) -> Bound {
    Bound {
        cost,
        items: INPUT_ITEMS,
        size: INPUT_SIZE,
    }
}

/// A map's or a struct's entries, keys and values alike.
fn entries(entries: &[IdedEntryExpr]) -> impl Iterator<Item = &IdedExpr> {
    entries.iter().flat_map(|entry| match &entry.expr {
        EntryExpr::StructField(field) => vec![&field.value],
        EntryExpr::MapEntry(entry) => vec![&entry.key, &entry.value],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cel::Env;

    fn cost(source: &str) -> f64 {
        let program = Env::stdlib().compile(source).expect("CEL");
        cost_bound(program.expression())
    }

    #[test]
    fn plain_conditions_cost_a_few_units() {
        assert!(cost("event.amount > 100.0 && event.type == 'payment'") < 50.0);
        assert!(cost("agg.n > 3 && entity.age_days < 30") < 50.0);
        assert!(cost("event.type in ['payment', 'transfer', 'withdrawal']") < 50.0);
    }

    #[test]
    fn a_comprehension_over_the_context_is_allowed() {
        let one = cost("profiles.account.patterns.exists(p, p.startsWith('velocity'))");
        assert!(one > INPUT_ITEMS && one < MAX_COST, "{one}");
    }

    #[test]
    fn nested_comprehensions_multiply() {
        let list = format!(
            "[{}]",
            (0..10).map(|n| n.to_string()).collect::<Vec<_>>().join(",")
        );
        let mut source = "a + b + c + d + e + f > 0".to_string();
        for name in ["f", "e", "d", "c", "b", "a"] {
            source = format!("{list}.all({name}, {source})");
        }
        assert!(cost(&source) > MAX_COST, "{}", cost(&source));
        let two = format!("{list}.all(a, {list}.all(b, a + b > 0))");
        assert!(cost(&two) < 10_000.0, "{}", cost(&two));
    }

    #[test]
    fn growing_accumulators_cost_what_they_copy() {
        let inputs = "event.a.map(x, event.b.map(y, event.c.map(z, x + y + z)))";
        assert!(cost(inputs) > MAX_COST);
        assert!(cost("event.a.map(x, x * 2)") < MAX_COST);
    }

    #[test]
    fn patterns_are_dear() {
        assert!(cost("event.email.matches('^a+$')") > PATTERN);
    }

    #[test]
    fn an_estimate_too_long_to_make_is_infinite() {
        let mut source = "true".to_string();
        for depth in 0..20 {
            source = format!("[].all(v{depth}, {source})");
        }
        // The crate's parser needs more stack than a test thread has in a debug build.
        let estimate = std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn(move || cost(&source))
            .expect("a thread")
            .join()
            .expect("no panic");
        assert_eq!(estimate, f64::INFINITY);
    }
}
