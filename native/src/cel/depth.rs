//! How deep the `cel` crate's tree of a source can be, read from the text alone, before
//! its parser sees it.
//!
//! The crate parses, evaluates and drops its trees recursively: a chain of ten thousand
//! `+` overflows the stack (the process aborts) whatever the thread. Its parser limits
//! the nesting of parentheses, not the length of chains, so [`full::Program::compile`]
//! refuses a source whose bound exceeds [`MAX_DEPTH`]. The bound is conservative
//! (every operator of a chain counts as a level) except for `&&` and `||`, whose chains
//! the crate balances: a 500-term `&&` chain is a tree 11 deep.
//!
//! [`full::Program::compile`]: super::full::Program::compile

/// Far below what the crate survives on a 2 MiB stack in a release build (1,000 levels
/// of `+`), far above what a rule writes.
pub(super) const MAX_DEPTH: usize = 250;

/// One level of brackets (or the whole source): its items (split by `,`), each a
/// junction of terms (split by `&&`, `||` and the `:` of a conditional or a map entry).
#[derive(Default)]
struct Frame {
    /// The deepest item closed so far.
    items: usize,
    /// The current item: its terms so far, the deepest closed term, its `?`s.
    terms: usize,
    deepest_term: usize,
    conditions: usize,
    /// The current term: its operators, the deepest bracket closed in it.
    operators: usize,
    nested: usize,
}

impl Frame {
    fn close_term(&mut self) {
        self.deepest_term = self.deepest_term.max(self.operators + self.nested);
        self.terms += 1;
        self.operators = 0;
        self.nested = 0;
    }

    fn close_item(&mut self) {
        self.close_term();
        // A balanced junction of n terms is ceil(log2 n) deep; && under || twice that.
        let junction = 2 * (usize::BITS - (self.terms - 1).leading_zeros()) as usize;
        let depth = self.conditions + junction + self.deepest_term;
        self.items = self.items.max(depth);
        self.terms = 0;
        self.deepest_term = 0;
        self.conditions = 0;
    }

    fn depth(mut self) -> usize {
        self.close_item();
        self.items + 1
    }
}

/// An upper bound of the depth of the tree of `source` (for the sources the crate
/// parses; any number for the others).
pub(super) fn depth_bound(source: &str) -> usize {
    let bytes = source.as_bytes();
    let mut frames = vec![Frame::default()];
    let mut at = 0;
    let mut after_name = false;
    while at < bytes.len() {
        let byte = bytes[at];
        let frame = frames.last_mut().expect("the source's own frame");
        let mut name = false;
        match byte {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => {
                at += 1;
                continue;
            }
            b'/' if bytes.get(at + 1) == Some(&b'/') => {
                while at < bytes.len() && bytes[at] != b'\n' {
                    at += 1;
                }
                continue;
            }
            b'"' | b'\'' => at = string_end(bytes, at, false),
            b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z' | b'_' => {
                let start = at;
                while at < bytes.len() && (bytes[at].is_ascii_alphanumeric() || bytes[at] == b'_') {
                    at += 1;
                }
                let word = &source[start..at];
                let prefix = word.len() <= 2 && word.bytes().all(|b| b"rRbB".contains(&b));
                if prefix && matches!(bytes.get(at), Some(b'"' | b'\'')) {
                    let raw = word.bytes().any(|b| b == b'r' || b == b'R');
                    at = string_end(bytes, at, raw);
                } else if word == "in" {
                    frame.operators += 1;
                } else {
                    name = true;
                }
            }
            b'(' | b'[' | b'{' => {
                // A call may be a macro: a comprehension is a few levels more.
                frame.operators += if byte == b'(' && after_name { 4 } else { 1 };
                frames.push(Frame::default());
                at += 1;
            }
            b')' | b']' | b'}' => {
                if frames.len() > 1 {
                    let depth = frames.pop().expect("an open bracket").depth();
                    let outer = frames.last_mut().expect("the source's own frame");
                    outer.nested = outer.nested.max(depth);
                }
                at += 1;
            }
            b',' => {
                frame.close_item();
                at += 1;
            }
            b'&' | b'|' if bytes.get(at + 1) == Some(&byte) => {
                frame.close_term();
                at += 2;
            }
            b':' => {
                frame.close_term();
                at += 1;
            }
            b'?' => {
                frame.conditions += 1;
                at += 1;
            }
            _ => {
                // Any other operator or selection (`.`, `+`, `==`, `!`, ...) is a level;
                // two-character ones count twice, which errs on the safe side.
                frame.operators += 1;
                at += 1;
            }
        }
        after_name = name;
    }
    // Brackets left open (the parser refuses the source) close at its end.
    loop {
        let depth = frames.pop().expect("the source's own frame").depth();
        match frames.last_mut() {
            Some(outer) => outer.nested = outer.nested.max(depth),
            None => return depth,
        }
    }
}

/// The end of the string literal starting at `at` (a quote): past its closing quote, or
/// the source's end.
fn string_end(bytes: &[u8], at: usize, raw: bool) -> usize {
    let quote = bytes[at];
    let triple = bytes.get(at + 1) == Some(&quote) && bytes.get(at + 2) == Some(&quote);
    let mut next = at + if triple { 3 } else { 1 };
    while next < bytes.len() {
        if bytes[next] == b'\\' && !raw {
            next += 2;
            continue;
        }
        if bytes[next] == quote {
            if !triple {
                return next + 1;
            }
            if bytes.get(next + 1) == Some(&quote) && bytes.get(next + 2) == Some(&quote) {
                return next + 3;
            }
        }
        next += 1;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_of_junctions_are_shallow() {
        let chain = vec!["event.a"; 500].join(" && ");
        assert!(depth_bound(&chain) < 30, "{}", depth_bound(&chain));
        let mixed = vec!["event.a == 1 && event.b"; 300].join(" || ");
        assert!(depth_bound(&mixed) < 40, "{}", depth_bound(&mixed));
    }

    #[test]
    fn other_chains_are_as_deep_as_they_are_long() {
        assert!(depth_bound(&vec!["1"; 1000].join(" + ")) >= 999);
        assert!(depth_bound(&format!("a{}", "[0]".repeat(300))) >= 300);
        assert!(depth_bound(&format!("{}1{}", "(".repeat(90), ")".repeat(90))) >= 90);
        assert!(depth_bound(&"true ? 1 : ".repeat(300)) >= 300);
    }

    #[test]
    fn strings_and_comments_are_no_operators() {
        let text = "+".repeat(1000);
        for source in [
            format!("'{text}'"),
            format!("\"{text}\""),
            format!("r'{text}'"),
            format!("b\"{text}\""),
            format!("'''{text}'''"),
            format!("'\\'{text}'"),
            format!("1 // {text}"),
        ] {
            assert!(depth_bound(&source) < 5, "{source}");
        }
    }
}
