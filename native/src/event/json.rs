//! JSON reading: a line's bytes to values, without building what the caller skips.

use std::borrow::Cow;

/// A JSON number as written: its text and whether it is an integer literal.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Number<'a> {
    pub(crate) text: &'a str,
    pub(crate) integer: bool,
}

/// A decoded JSON value, for `from_projection` (numbers stay text until converted).
#[derive(Debug)]
pub(crate) enum Json<'a> {
    Null,
    Bool(bool),
    Number(Number<'a>),
    Str(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

const MAX_DEPTH: usize = 64;

/// The index of the first byte from `from` on that a string cannot hold as it is: `"`,
/// `\\` or a control character below 0x20; `bytes.len()` when there is none. Eight bytes
/// at a time: each test below is nonzero exactly when some byte of the word matches.
#[inline]
fn special_byte(bytes: &[u8], from: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut i = from;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let quote = word ^ (ONES * b'"' as u64);
        let backslash = word ^ (ONES * b'\\' as u64);
        let found = ((quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (word.wrapping_sub(ONES * 0x20) & !word))
            & HIGHS;
        if found != 0 {
            // The lowest flagged byte is a true match (a borrow only flags bytes above one).
            return i + (found.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            return i;
        }
        i += 1;
    }
    i
}

pub(crate) struct Reader<'a> {
    pub(crate) text: &'a str,
    pub(crate) bytes: &'a [u8],
    pub(crate) pos: usize,
    /// Containers nested deeper than this are refused (`value` answers None).
    pub(crate) max_depth: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(text: &'a str) -> Reader<'a> {
        Reader {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            max_depth: MAX_DEPTH,
        }
    }

    #[inline]
    pub(crate) fn ws(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            if b == b' ' || b == b'\n' || b == b'\r' || b == b'\t' {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    #[inline]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// The next byte after whitespace, consumed.
    #[inline]
    pub(crate) fn next_token(&mut self) -> Option<u8> {
        self.ws();
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    #[inline]
    pub(crate) fn at_end(&mut self) -> bool {
        self.ws();
        self.pos == self.bytes.len()
    }

    pub(crate) fn literal(&mut self, word: &[u8]) -> Option<()> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            Some(())
        } else {
            None
        }
    }

    /// A string; the reader stands on its opening quote.
    pub(crate) fn string(&mut self) -> Option<Cow<'a, str>> {
        if self.peek()? != b'"' {
            return None;
        }
        let start = self.pos + 1;
        let mut i = special_byte(self.bytes, start);
        match *self.bytes.get(i)? {
            b'"' => {
                self.pos = i + 1;
                // Both ends are ASCII, so the slice is on char boundaries.
                return Some(Cow::Borrowed(&self.text[start..i]));
            }
            b'\\' => {}
            _ => return None, // a raw control character
        }
        let mut out = String::with_capacity(i - start + 16);
        out.push_str(&self.text[start..i]);
        let mut run = i; // start of the pending unescaped run
        loop {
            let b = *self.bytes.get(i)?;
            match b {
                b'"' => {
                    out.push_str(&self.text[run..i]);
                    self.pos = i + 1;
                    return Some(Cow::Owned(out));
                }
                b'\\' => {
                    out.push_str(&self.text[run..i]);
                    let escape = *self.bytes.get(i + 1)?;
                    i += 2;
                    match escape {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let high = self.hex4(i)?;
                            i += 4;
                            let code = if (0xD800..0xDC00).contains(&high) {
                                if self.bytes.get(i) != Some(&b'\\')
                                    || self.bytes.get(i + 1) != Some(&b'u')
                                {
                                    return None; // a lone high surrogate
                                }
                                let low = self.hex4(i + 2)?;
                                if !(0xDC00..0xE000).contains(&low) {
                                    return None;
                                }
                                i += 6;
                                0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                            } else if (0xDC00..0xE000).contains(&high) {
                                return None; // a lone low surrogate
                            } else {
                                high
                            };
                            out.push(char::from_u32(code)?);
                        }
                        _ => return None,
                    }
                    run = i;
                }
                0..=0x1f => return None,
                _ => i = special_byte(self.bytes, i),
            }
        }
    }

    pub(crate) fn hex4(&self, at: usize) -> Option<u32> {
        let digits = self.bytes.get(at..at + 4)?;
        let mut code = 0u32;
        for &d in digits {
            code = code * 16 + (d as char).to_digit(16)?;
        }
        Some(code)
    }

    /// A number as RFC 8259 writes it: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    pub(crate) fn number(&mut self) -> Option<Number<'a>> {
        let start = self.pos;
        let bytes = self.bytes;
        let mut i = start;
        if bytes.get(i) == Some(&b'-') {
            i += 1;
        }
        match bytes.get(i)? {
            b'0' => i += 1,
            b'1'..=b'9' => {
                while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
            }
            _ => return None,
        }
        let mut integer = true;
        if bytes.get(i) == Some(&b'.') {
            integer = false;
            i += 1;
            let digits = i;
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == digits {
                return None;
            }
        }
        if matches!(bytes.get(i), Some(b'e' | b'E')) {
            integer = false;
            i += 1;
            if matches!(bytes.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            let digits = i;
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == digits {
                return None;
            }
        }
        self.pos = i;
        Some(Number {
            text: &self.text[start..i],
            integer,
        })
    }

    /// Any value (for `from_projection`); the reader stands on it (whitespace skipped).
    pub(crate) fn value(&mut self, depth: usize) -> Option<Json<'a>> {
        if depth > self.max_depth {
            return None;
        }
        match self.peek()? {
            b'n' => self.literal(b"null").map(|_| Json::Null),
            b't' => self.literal(b"true").map(|_| Json::Bool(true)),
            b'f' => self.literal(b"false").map(|_| Json::Bool(false)),
            b'"' => self.string().map(Json::Str),
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                self.ws();
                if self.peek()? == b']' {
                    self.pos += 1;
                    return Some(Json::Array(items));
                }
                loop {
                    self.ws();
                    items.push(self.value(depth + 1)?);
                    match self.next_token()? {
                        b',' => continue,
                        b']' => return Some(Json::Array(items)),
                        _ => return None,
                    }
                }
            }
            b'{' => {
                let mut items = Vec::new();
                self.members(|reader, key| {
                    items.push((key, reader.value(depth + 1)?));
                    Some(())
                })?;
                Some(Json::Object(items))
            }
            _ => self.number().map(Json::Number),
        }
    }

    /// Iterate an object's members: `f(reader, key)` reads each value. The reader stands
    /// on the `{`. Returns None on malformed JSON or when `f` does.
    pub(crate) fn members(
        &mut self,
        mut f: impl FnMut(&mut Self, Cow<'a, str>) -> Option<()>,
    ) -> Option<()> {
        if self.next_token()? != b'{' {
            return None;
        }
        self.ws();
        if self.peek()? == b'}' {
            self.pos += 1;
            return Some(());
        }
        loop {
            self.ws();
            let key = self.string()?;
            if self.next_token()? != b':' {
                return None;
            }
            self.ws();
            f(self, key)?;
            match self.next_token()? {
                b',' => continue,
                b'}' => return Some(()),
                _ => return None,
            }
        }
    }
}
