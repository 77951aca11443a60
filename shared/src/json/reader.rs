//! The byte-by-byte reader behind [`parse`](super::parse) and [`Node`]'s levels.

use std::borrow::Cow;

use super::{Document, Json, JsonError, MAX_DEPTH, Node, Number, Numeric};

/// Reads JSON text byte by byte. `check_…` checks a value and moves past it, building
/// nothing but the table of where each array and object ends; `shallow` and
/// `next_item` read one level of a checked [`Document`].
pub(super) struct Reader<'a> {
    pub(super) text: &'a str,
    pub(super) at: usize,
    /// While checking: the `(start, end)` of each array and object, by start.
    pub(super) ends: Vec<(usize, usize)>,
    /// While reading: the checked document.
    pub(super) doc: Option<&'a Document<'a>>,
}

impl<'a> Reader<'a> {
    /// A reader of `doc` at byte `at`.
    pub(super) fn at(doc: &'a Document<'a>, at: usize) -> Self {
        Self {
            text: doc.text,
            at,
            ends: Vec::new(),
            doc: Some(doc),
        }
    }

    pub(super) fn error(&self, message: &'static str) -> JsonError {
        JsonError {
            message,
            at: self.at,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    pub(super) fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.at += 1;
        }
    }

    pub(super) fn check_value(&mut self, depth: usize) -> Result<(), JsonError> {
        self.skip_whitespace();
        match self.peek() {
            None => Err(self.error("EOF while parsing a value")),
            Some(b'n') => self.word("null"),
            Some(b't') => self.word("true"),
            Some(b'f') => self.word("false"),
            Some(b'"') => self.string_end().map(drop),
            Some(b'[' | b'{') if depth + 1 >= MAX_DEPTH => {
                Err(self.error("recursion limit exceeded"))
            }
            Some(b'[') => self.check_container(depth + 1, Self::check_array),
            Some(b'{') => self.check_container(depth + 1, Self::check_object),
            Some(b'-' | b'0'..=b'9') => self.number().map(drop),
            Some(_) => Err(self.error("expected value")),
        }
    }

    fn word(&mut self, word: &'static str) -> Result<(), JsonError> {
        if !self.text[self.at..].starts_with(word) {
            return Err(self.error("expected value"));
        }
        self.at += word.len();
        Ok(())
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        self.at - start
    }

    pub(super) fn number(&mut self) -> Result<Number<'a>, JsonError> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        let leading_zero = self.peek() == Some(b'0');
        let whole = self.digits();
        if whole == 0 || (whole > 1 && leading_zero) {
            return Err(self.error("invalid number"));
        }
        let mut plain = whole <= 19;
        if self.peek() == Some(b'.') {
            self.at += 1;
            plain = false;
            if self.digits() == 0 {
                return Err(self.error("invalid number"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            plain = false;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if self.digits() == 0 {
                return Err(self.error("invalid number"));
            }
        }
        let number = Number(&self.text[start..self.at]);
        if !plain
            && let Numeric::Float(f) = number.numeric()
            && f.is_infinite()
        {
            return Err(self.error("number out of range"));
        }
        Ok(number)
    }

    /// At `"`: checks a string and moves past it; whether it holds escapes.
    fn string_end(&mut self) -> Result<bool, JsonError> {
        self.at += 1;
        let mut escaped = false;
        loop {
            // Past plain bytes: the delimiters are ASCII, so this stops on a character
            // boundary.
            let rest = &self.text.as_bytes()[self.at..];
            self.at += rest
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .unwrap_or(rest.len());
            match self.peek() {
                None => return Err(self.error("EOF while parsing a string")),
                Some(b'"') => {
                    self.at += 1;
                    return Ok(escaped);
                }
                Some(b'\\') => {
                    escaped = true;
                    self.at += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.at += 1;
                        }
                        Some(b'u') => {
                            self.unicode_escape()?;
                        }
                        _ => return Err(self.error("invalid escape")),
                    }
                }
                Some(_) => return Err(self.error("control character in a string")),
            }
        }
    }

    /// After `\`, at `u`: the escape's character, a surrogate pair read whole.
    fn unicode_escape(&mut self) -> Result<char, JsonError> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if !self.text[self.at..].starts_with("\\u") {
                    return Err(self.error("lone leading surrogate in hex escape"));
                }
                self.at += 1;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(self.error("lone leading surrogate in hex escape"));
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(self.error("lone trailing surrogate in hex escape")),
            code => code,
        };
        char::from_u32(code).ok_or_else(|| self.error("invalid unicode code point"))
    }

    /// At `u`: the four hex digits after it.
    fn hex4(&mut self) -> Result<u32, JsonError> {
        let digits = self
            .text
            .get(self.at + 1..self.at + 5)
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.error("invalid escape"))?;
        self.at += 5;
        u32::from_str_radix(digits, 16).map_err(|_| self.error("invalid escape"))
    }

    /// The text of a checked string (between its quotes) with its escapes replaced.
    fn unescape(&mut self, end: usize) -> String {
        let mut text = String::new();
        while self.at < end {
            let run = self.at;
            while self.at < end && self.text.as_bytes()[self.at] != b'\\' {
                self.at += 1;
            }
            text.push_str(&self.text[run..self.at]);
            if self.at >= end {
                break;
            }
            self.at += 1;
            let c = match self.peek() {
                Some(b'b') => '\u{8}',
                Some(b'f') => '\u{c}',
                Some(b'n') => '\n',
                Some(b'r') => '\r',
                Some(b't') => '\t',
                Some(b'u') => {
                    // Checked by `parse`, so it is a character.
                    text.push(self.unicode_escape().unwrap_or_default());
                    continue;
                }
                Some(other) => char::from(other),
                None => break,
            };
            self.at += 1;
            text.push(c);
        }
        text
    }

    /// Checks the array or object at `[`/`{` with `body`, noting where it ends.
    fn check_container(
        &mut self,
        depth: usize,
        body: fn(&mut Self, usize) -> Result<(), JsonError>,
    ) -> Result<(), JsonError> {
        let slot = self.ends.len();
        self.ends.push((self.at, 0));
        body(self, depth)?;
        self.ends[slot].1 = self.at;
        Ok(())
    }

    fn check_array(&mut self, depth: usize) -> Result<(), JsonError> {
        self.at += 1;
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(());
        }
        loop {
            self.check_value(depth)?;
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(());
                }
                None => return Err(self.error("EOF while parsing a list")),
                Some(_) => return Err(self.error("expected `,` or `]`")),
            }
        }
    }

    fn check_object(&mut self, depth: usize) -> Result<(), JsonError> {
        self.at += 1;
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(());
        }
        loop {
            self.skip_whitespace();
            match self.peek() {
                Some(b'"') => self.string_end().map(drop)?,
                None => return Err(self.error("EOF while parsing an object")),
                Some(_) => return Err(self.error("key must be a string")),
            }
            self.skip_whitespace();
            if self.peek() != Some(b':') {
                return Err(self.error("expected `:`"));
            }
            self.at += 1;
            self.check_value(depth)?;
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(());
                }
                None => return Err(self.error("EOF while parsing an object")),
                Some(_) => return Err(self.error("expected `,` or `}`")),
            }
        }
    }

    /// The checked value here, one level deep: an array or object is found by its
    /// brackets and kept as text. `None` only past the end.
    pub(super) fn shallow(&mut self) -> Option<Node<'a>> {
        self.skip_whitespace();
        let start = self.at;
        let json = match self.peek()? {
            b'n' => {
                self.at += 4;
                Json::Null
            }
            b't' => {
                self.at += 4;
                Json::Bool(true)
            }
            b'f' => {
                self.at += 5;
                Json::Bool(false)
            }
            b'"' => {
                let escaped = self.string_end().ok()?;
                let inner = (start + 1, self.at - 1);
                Json::String(if escaped {
                    let end = self.at;
                    self.at = inner.0;
                    let text = self.unescape(inner.1);
                    self.at = end;
                    Cow::Owned(text)
                } else {
                    Cow::Borrowed(&self.text[inner.0..inner.1])
                })
            }
            b'[' => {
                self.skip_container();
                Json::Array
            }
            b'{' => {
                self.skip_container();
                Json::Object
            }
            _ => Json::Number(self.number().ok()?),
        };
        Some(Node {
            json,
            raw: &self.text[start..self.at],
            start,
            doc: self.doc?,
        })
    }

    /// At `[` or `{` of a checked document: moves past its closing bracket, found in
    /// the table `parse` made (or by counting brackets, were it missing).
    fn skip_container(&mut self) {
        if let Some(ends) = self.doc.map(|doc| &doc.ends) {
            let i = ends.partition_point(|&(start, _)| start < self.at);
            if let Some(&(start, end)) = ends.get(i)
                && start == self.at
            {
                self.at = end;
                return;
            }
        }
        let mut depth = 0usize;
        while let Some(b) = self.peek() {
            match b {
                b'"' => {
                    self.skip_string();
                    continue;
                }
                b'[' | b'{' => depth += 1,
                b']' | b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        self.at += 1;
                        return;
                    }
                }
                _ => {}
            }
            self.at += 1;
        }
    }

    /// At `"` of a checked string: moves past its closing quote.
    fn skip_string(&mut self) {
        self.at += 1;
        while let Some(offset) = self.text.as_bytes()[self.at..]
            .iter()
            .position(|&b| b == b'"' || b == b'\\')
        {
            self.at += offset + 1;
            if self.text.as_bytes()[self.at - 1] == b'"' {
                return;
            }
            // An escape: skip the escaped byte (a `\u`'s digits need no care).
            self.at += 1;
        }
        self.at = self.text.len();
    }

    /// The next item of a checked array (or name of a checked object) before `close`.
    pub(super) fn next_item(&mut self, close: u8) -> Option<Node<'a>> {
        self.skip_whitespace();
        match self.peek()? {
            b',' => {
                self.at += 1;
                self.shallow()
            }
            b if b == close => None,
            _ => self.shallow(),
        }
    }
}
