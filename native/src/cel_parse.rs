//! The tokenizer and parser of the CEL fast path: the subset of CEL it evaluates (what
//! is CEL at all the `cel` crate's parser has decided first; the fast path refuses the
//! rest of the language, which the interpreter takes), and the `event.<field>` sources.

use crate::cel::{ArithOp, CmpOp, Node, Var};
use crate::value::Value;

/// Deeper nesting is left to the interpreter: the fast path evaluates its trees by
/// recursion, so their depth is bounded.
const MAX_NESTING: usize = 48;
const MAX_TREE_DEPTH: usize = 200;

/// CEL's reserved words, which CEL rejects as identifiers.
const CEL_RESERVED: [&str; 17] = [
    "as",
    "break",
    "const",
    "continue",
    "else",
    "for",
    "function",
    "if",
    "import",
    "let",
    "loop",
    "package",
    "namespace",
    "return",
    "var",
    "void",
    "while",
];

/// Python's `str.isspace` (and `\s` of a str regex): more than CEL's whitespace, which
/// is all that reaches the fast path.
pub(crate) fn py_isspace(c: char) -> bool {
    matches!(
        c,
        '\u{9}'..='\u{d}'
            | '\u{1c}'..='\u{20}'
            | '\u{85}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

fn is_ident_start(byte: u8) -> bool {
    byte.is_ascii_alphabetic() || byte == b'_'
}

fn is_ident_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// The field of a source that is just `event.<field>`:
/// `^\s*event\.([A-Za-z_][A-Za-z0-9_]*)\s*$`.
pub(crate) fn field_path(source: &str) -> Option<&str> {
    let field = source.trim_matches(py_isspace).strip_prefix("event.")?;
    let bytes = field.as_bytes();
    let valid = !bytes.is_empty()
        && is_ident_start(bytes[0])
        && bytes[1..].iter().all(|byte| is_ident_char(*byte));
    valid.then_some(field)
}

#[derive(Clone, Debug, PartialEq)]
enum Tok<'s> {
    Lit(Value),
    Ident(&'s str),
    Op(&'static str),
}

const OPS2: [&str; 6] = ["&&", "||", "==", "!=", "<=", ">="];
const OPS1: [&str; 15] = [
    "<", ">", "!", "+", "-", "*", "/", "?", ":", "(", ")", ".", "[", "]", ",",
];
const RELATIONS: [&str; 7] = ["==", "!=", "<", "<=", ">", ">=", "in"];

fn refused<T>(reason: impl Into<String>) -> Result<T, String> {
    Err(reason.into())
}

fn digits_end(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && bytes[at].is_ascii_digit() {
        at += 1;
    }
    at
}

/// The end of `[eE][+-]?\d+` starting at `at`, if there is one.
fn exponent_end(bytes: &[u8], at: usize) -> Option<usize> {
    if at >= bytes.len() || !matches!(bytes[at], b'e' | b'E') {
        return None;
    }
    let mut next = at + 1;
    if next < bytes.len() && matches!(bytes[next], b'+' | b'-') {
        next += 1;
    }
    if next < bytes.len() && bytes[next].is_ascii_digit() {
        return Some(digits_end(bytes, next));
    }
    None
}

fn tokenize(source: &str) -> Result<Vec<Tok<'_>>, String> {
    let bytes = source.as_bytes();
    let mut tokens = Vec::new();
    let mut position = 0;
    loop {
        let rest = source[position..].trim_start_matches(py_isspace);
        if rest.is_empty() {
            break;
        }
        let start = source.len() - rest.len();
        let first = bytes[start];
        let (end, token, number) = if first.is_ascii_digit() {
            let int_end = digits_end(bytes, start);
            let double_end = if int_end + 1 < bytes.len()
                && bytes[int_end] == b'.'
                && bytes[int_end + 1].is_ascii_digit()
            {
                let fraction_end = digits_end(bytes, int_end + 1);
                Some(exponent_end(bytes, fraction_end).unwrap_or(fraction_end))
            } else {
                exponent_end(bytes, int_end)
            };
            match double_end {
                Some(end) => {
                    let text = &source[start..end];
                    if text.len() > 1
                        && text.starts_with('0')
                        && text.as_bytes()[1].is_ascii_digit()
                    {
                        return refused("leading zero");
                    }
                    let value: f64 = text.parse().map_err(|_| "double literal".to_string())?;
                    (end, Tok::Lit(Value::Float(value)), true)
                }
                None => {
                    let text = &source[start..int_end];
                    if text.len() > 1 && text.starts_with('0') {
                        return refused("int literal");
                    }
                    let value: i64 = text.parse().map_err(|_| "int literal".to_string())?;
                    (int_end, Tok::Lit(Value::Int(value)), true)
                }
            }
        } else if first == b'"' || first == b'\'' {
            let mut at = start + 1;
            loop {
                if at >= bytes.len() || matches!(bytes[at], b'\\' | b'\n' | b'\r') {
                    return refused(format!("unexpected text at {start}"));
                }
                if bytes[at] == first {
                    break;
                }
                at += 1;
            }
            (at + 1, Tok::Lit(Value::str(&source[start + 1..at])), false)
        } else if is_ident_start(first) {
            let mut end = start + 1;
            while end < bytes.len() && is_ident_char(bytes[end]) {
                end += 1;
            }
            let token = match &source[start..end] {
                "true" => Tok::Lit(Value::Bool(true)),
                "false" => Tok::Lit(Value::Bool(false)),
                "null" => Tok::Lit(Value::Null),
                "in" => Tok::Op("in"),
                name => Tok::Ident(name),
            };
            (end, token, false)
        } else {
            let op = OPS2
                .iter()
                .find(|op| rest.starts_with(**op))
                .or_else(|| OPS1.iter().find(|op| rest.starts_with(**op)));
            match op {
                Some(op) => {
                    tokens.push(Tok::Op(op));
                    position = start + op.len();
                    continue;
                }
                None => return refused(format!("unexpected text at {start}")),
            }
        };
        // A literal or name must not run straight into the next token (1u, 0x1f, r"x" ...).
        if end < bytes.len() {
            let next = bytes[end];
            if is_ident_char(next) || next == b'\'' || next == b'"' || (number && next == b'.') {
                return refused("token glued to the next one");
            }
        }
        tokens.push(token);
        position = end;
    }
    Ok(tokens)
}

pub(crate) struct Parsed {
    pub root: Node,
    pub variables: Vec<Var>,
    pub unknown_variables: bool,
}

struct Parser<'s> {
    tokens: Vec<Tok<'s>>,
    position: usize,
    nesting: usize,
    variables: Vec<Var>,
    unknown_variables: bool,
}

/// The fast path's tree of a source: Err(reason) when it is outside the subset.
pub(crate) fn parse(source: &str) -> Result<Parsed, String> {
    let mut parser = Parser {
        tokens: tokenize(source)?,
        position: 0,
        nesting: 0,
        variables: Vec::new(),
        unknown_variables: false,
    };
    let root = parser.expr()?;
    if parser.peek().is_some() {
        return refused("trailing tokens");
    }
    if root.depth() > MAX_TREE_DEPTH {
        return refused("too deep");
    }
    Ok(Parsed {
        root,
        variables: parser.variables,
        unknown_variables: parser.unknown_variables,
    })
}

impl<'s> Parser<'s> {
    fn peek(&self) -> Option<&Tok<'s>> {
        self.tokens.get(self.position)
    }

    fn take(&mut self) -> Result<Tok<'s>, String> {
        match self.tokens.get(self.position) {
            Some(token) => {
                self.position += 1;
                Ok(token.clone())
            }
            None => refused("expected more"),
        }
    }

    fn expect(&mut self, op: &str) -> Result<(), String> {
        if self.at(op) {
            self.position += 1;
            Ok(())
        } else {
            refused(format!("expected {op}"))
        }
    }

    fn at(&self, op: &str) -> bool {
        matches!(self.peek(), Some(Tok::Op(found)) if *found == op)
    }

    fn variable(&mut self, name: &str) -> Result<Option<Var>, String> {
        if CEL_RESERVED.contains(&name) {
            return refused(format!("reserved word {name}"));
        }
        let var = Var::from_name(name);
        match var {
            Some(var) if !self.variables.contains(&var) => self.variables.push(var),
            Some(_) => {}
            None => self.unknown_variables = true,
        }
        Ok(var)
    }

    fn expr(&mut self) -> Result<Node, String> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return refused("nested too deep");
        }
        let condition = self.disjunction()?;
        let node = if self.at("?") {
            self.position += 1;
            let if_true = self.disjunction()?;
            self.expect(":")?;
            let if_false = self.expr()?;
            Node::Cond(Box::new(condition), Box::new(if_true), Box::new(if_false))
        } else {
            condition
        };
        self.nesting -= 1;
        Ok(node)
    }

    fn disjunction(&mut self) -> Result<Node, String> {
        let mut node = self.conjunction()?;
        while self.at("||") {
            self.position += 1;
            node = Node::Or(Box::new(node), Box::new(self.conjunction()?));
        }
        Ok(node)
    }

    fn conjunction(&mut self) -> Result<Node, String> {
        let mut node = self.relation()?;
        while self.at("&&") {
            self.position += 1;
            node = Node::And(Box::new(node), Box::new(self.relation()?));
        }
        Ok(node)
    }

    fn relation_ahead(&self) -> Option<&'static str> {
        match self.peek() {
            Some(Tok::Op(op)) if RELATIONS.contains(op) => Some(op),
            _ => None,
        }
    }

    fn relation(&mut self) -> Result<Node, String> {
        let left = self.addition()?;
        let Some(op) = self.relation_ahead() else {
            return Ok(left);
        };
        self.position += 1;
        let node = if op == "in" {
            Node::In(Box::new(left), self.literal_list()?.into_boxed_slice())
        } else {
            let op = match op {
                "==" => CmpOp::Eq,
                "!=" => CmpOp::Ne,
                "<" => CmpOp::Lt,
                "<=" => CmpOp::Le,
                ">" => CmpOp::Gt,
                _ => CmpOp::Ge,
            };
            Node::Cmp(op, Box::new(left), Box::new(self.addition()?))
        };
        if self.relation_ahead().is_some() {
            return refused("chained relations");
        }
        Ok(node)
    }

    fn literal_list(&mut self) -> Result<Vec<Value>, String> {
        self.expect("[")?;
        let mut items = Vec::new();
        while !self.at("]") {
            match self.take()? {
                Tok::Lit(value) => items.push(value),
                _ => return refused("only literals in lists"),
            }
            if !self.at("]") {
                self.expect(",")?;
            }
        }
        self.expect("]")?;
        if items.is_empty() {
            return refused("empty list");
        }
        Ok(items)
    }

    fn addition(&mut self) -> Result<Node, String> {
        let mut node = self.multiplication()?;
        loop {
            let op = if self.at("+") {
                ArithOp::Add
            } else if self.at("-") {
                ArithOp::Sub
            } else {
                return Ok(node);
            };
            self.position += 1;
            node = Node::Arith(op, Box::new(node), Box::new(self.multiplication()?));
        }
    }

    fn multiplication(&mut self) -> Result<Node, String> {
        let mut node = self.unary()?;
        loop {
            let op = if self.at("*") {
                ArithOp::Mul
            } else if self.at("/") {
                ArithOp::Div
            } else {
                return Ok(node);
            };
            self.position += 1;
            node = Node::Arith(op, Box::new(node), Box::new(self.unary()?));
        }
    }

    /// CEL's parser drops an even run of `!` or `-`, so only a single one is taken.
    fn unary(&mut self) -> Result<Node, String> {
        let negation = self.at("!");
        if negation || self.at("-") {
            self.position += 1;
            if self.at("!") || self.at("-") {
                return refused("repeated unary operator");
            }
            let operand = Box::new(self.member()?);
            return Ok(if negation {
                Node::Not(operand)
            } else {
                Node::Neg(operand)
            });
        }
        self.member()
    }

    fn member(&mut self) -> Result<Node, String> {
        let mut node = match self.take()? {
            Tok::Lit(value) => Node::Lit(value),
            Tok::Ident(name) => {
                if self.at("(") {
                    self.call(name)?
                } else {
                    Node::Var(self.variable(name)?)
                }
            }
            Tok::Op("(") => {
                let node = self.expr()?;
                self.expect(")")?;
                node
            }
            Tok::Op(op) => return refused(format!("unexpected {op}")),
        };
        while self.at(".") {
            self.position += 1;
            let name = self.take()?;
            match name {
                Tok::Ident(name) if !self.at("(") => node = Node::select(node, name),
                _ => return refused("not a field selection"),
            }
        }
        if self.at("[") || self.at("(") {
            return refused("indexing or call");
        }
        Ok(node)
    }

    fn call(&mut self, name: &str) -> Result<Node, String> {
        self.expect("(")?;
        match name {
            "has" => {
                // has(variable.field[.field...]): only this form
                let Tok::Ident(root) = self.take()? else {
                    return refused("has() needs a field selection of a variable");
                };
                let mut node = Node::Var(self.variable(root)?);
                let mut fields = Vec::new();
                while self.at(".") {
                    self.position += 1;
                    match self.take()? {
                        Tok::Ident(field) => fields.push(field),
                        _ => return refused("not a field selection"),
                    }
                }
                self.expect(")")?;
                let Some((last, path)) = fields.split_last() else {
                    return refused("has() needs a field selection");
                };
                for field in path {
                    node = Node::select(node, field);
                }
                Ok(Node::Has {
                    operand: Box::new(node),
                    field: (*last).into(),
                    slot: crate::value::event_slot(last),
                })
            }
            "size" => {
                let argument = self.expr()?;
                self.expect(")")?;
                Ok(Node::Size(Box::new(argument)))
            }
            "distance_km" => {
                let mut arguments = Vec::new();
                while !self.at(")") {
                    arguments.push(self.expr()?);
                    if !self.at(")") {
                        self.expect(",")?;
                    }
                }
                self.expect(")")?;
                Ok(Node::Distance(arguments.into_boxed_slice()))
            }
            _ => refused(format!("function {name}")),
        }
    }
}
