//! A small JSON reader for the widget: the text becomes a tree of [`Node`]s that borrow
//! from it, and [`FromJson`](crate::FromJson) reads the contract's types from that tree.
//!
//! Why not serde_json: in the widget's wasm, serde's generic code is compiled once for
//! every type read and every field shape, with serde_json's parser inlined into each:
//! about 90 KB of the first load's wasm (frontend/README.md, "Size"). This reader is
//! compiled once. The proxy, the simulator and the tests keep reading with serde, and
//! `decode.rs`'s tests hold both readers to the same answers.
//!
//! It accepts exactly the JSON serde_json accepts (RFC 8259, no trailing characters,
//! nesting up to 128 levels) and reads numbers as serde_json does: integers exactly,
//! anything with a fraction or an exponent as an `f64` (the significand times a power
//! of ten, without core's float parser, which would add ~15 KB to the wasm).

use std::borrow::Cow;

/// How deep arrays and objects may nest, as in serde_json.
const MAX_DEPTH: usize = 128;

/// One JSON value and the text it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct Node<'a> {
    /// The value.
    pub json: Json<'a>,
    /// Its text exactly as sent, without the whitespace around it.
    pub raw: &'a str,
}

/// A JSON value; strings borrow from the text unless they hold escapes.
#[derive(Debug, Clone, PartialEq)]
pub enum Json<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as its text (see [`Number`]).
    Number(Number<'a>),
    /// A string, unescaped.
    String(Cow<'a, str>),
    /// An array.
    Array(Vec<Node<'a>>),
    /// An object's members in the order sent (a name may repeat).
    Object(Vec<(Cow<'a, str>, Node<'a>)>),
}

/// A JSON number as sent, read on demand as serde_json would read it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Number<'a>(&'a str);

/// What a JSON number is to serde: an integer (unsigned or negative) or a float.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Numeric {
    /// A non-negative integer that fits `u64`.
    Unsigned(u64),
    /// A negative integer that fits `i64`.
    Negative(i64),
    /// Anything else: a fraction, an exponent, or an integer too large.
    Float(f64),
}

impl Number<'_> {
    /// The number as serde_json reads it.
    pub fn numeric(self) -> Numeric {
        let text = self.0;
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        if let Some(n) = digits
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| digits.parse::<u64>().ok())
            .flatten()
        {
            if !negative {
                return Numeric::Unsigned(n);
            }
            // serde_json reads `-0`, and what `i64` cannot hold, as floats.
            let negated = (n as i64).wrapping_neg();
            if negated < 0 {
                return Numeric::Negative(negated);
            }
        }
        let value = float(digits);
        Numeric::Float(if negative { -value } else { value })
    }

    /// The number as an `f64`: integers converted with `as`, as serde's visitors do.
    pub fn as_f64(self) -> f64 {
        match self.numeric() {
            Numeric::Unsigned(n) => n as f64,
            Numeric::Negative(n) => n as f64,
            Numeric::Float(f) => f,
        }
    }
}

/// The value of an unsigned number's text (digits, an optional fraction and exponent)
/// computed as serde_json computes it: the digits as an integer significand (integer
/// digits past what `u64` holds scale it, such fraction digits are dropped) times ten to
/// the exponent. Up to 10^22 the power is exact and so is the agreement with serde_json;
/// beyond, this scales in steps and may differ from it in the last bit.
fn float(text: &str) -> f64 {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut significand: u64 = 0;
    let mut scale: i32 = 0;
    let push = |significand: u64, digit: u8| {
        significand
            .checked_mul(10)
            .and_then(|s| s.checked_add(u64::from(digit - b'0')))
    };
    for digit in whole.bytes() {
        match push(significand, digit) {
            Some(next) if scale == 0 => significand = next,
            _ => scale += 1,
        }
    }
    for digit in fraction.bytes() {
        let Some(next) = push(significand, digit) else {
            break;
        };
        significand = next;
        scale -= 1;
    }
    if let Some(exponent) = exponent {
        let (positive, digits) = match exponent.as_bytes().first() {
            Some(b'-') => (false, &exponent[1..]),
            Some(b'+') => (true, &exponent[1..]),
            _ => (true, exponent),
        };
        let Ok(e) = digits.parse::<i32>() else {
            // An exponent beyond i32: out of range, or zero.
            return if significand != 0 && positive {
                f64::INFINITY
            } else {
                0.0
            };
        };
        scale = if positive {
            scale.saturating_add(e)
        } else {
            scale.saturating_sub(e)
        };
    }
    times_ten_to(significand as f64, scale)
}

/// `value` × 10^`exponent`, in steps of at most 10^22 (exact powers).
fn times_ten_to(mut value: f64, mut exponent: i32) -> f64 {
    while exponent > 0 && value.is_finite() {
        let step = exponent.min(22);
        value *= 10f64.powi(step);
        exponent -= step;
    }
    while exponent < 0 && value != 0.0 {
        let step = (-exponent).min(22);
        value /= 10f64.powi(step);
        exponent += step;
    }
    value
}

impl Node<'_> {
    /// The value as a `serde_json::Value` (for the shapes the contract leaves open: a
    /// test's timeline and error). An object's repeated name keeps its last value, as
    /// serde_json keeps it.
    pub fn to_value(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.json {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => match n.numeric() {
                Numeric::Unsigned(n) => Value::from(n),
                Numeric::Negative(n) => Value::from(n),
                Numeric::Float(f) => Value::from(f),
            },
            Json::String(s) => Value::String(s.clone().into_owned()),
            Json::Array(items) => Value::Array(items.iter().map(Node::to_value).collect()),
            Json::Object(members) => {
                // One insert at a time: collecting would sort the members first, and
                // bring another copy of the sort into the widget's wasm.
                let mut map = serde_json::Map::new();
                for (name, node) in members {
                    map.insert(name.clone().into_owned(), node.to_value());
                }
                Value::Object(map)
            }
        }
    }
}

/// Why a text is not JSON: a message and the byte offset where reading stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at byte {at}")]
pub struct JsonError {
    /// What is wrong.
    pub message: &'static str,
    /// Where, in bytes from the start.
    pub at: usize,
}

/// Reads `text` as one JSON value (whitespace around it allowed, nothing else).
pub fn parse(text: &str) -> Result<Node<'_>, JsonError> {
    let mut reader = Reader { text, at: 0 };
    let node = reader.value(0)?;
    reader.skip_whitespace();
    if reader.at != text.len() {
        return Err(reader.error("trailing characters"));
    }
    Ok(node)
}

struct Reader<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Reader<'a> {
    fn error(&self, message: &'static str) -> JsonError {
        JsonError {
            message,
            at: self.at,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.at += 1;
        }
    }

    fn expect(&mut self, byte: u8, message: &'static str) -> Result<(), JsonError> {
        self.skip_whitespace();
        if self.peek() != Some(byte) {
            return Err(self.error(message));
        }
        self.at += 1;
        Ok(())
    }

    fn value(&mut self, depth: usize) -> Result<Node<'a>, JsonError> {
        self.skip_whitespace();
        let start = self.at;
        let json = match self.peek() {
            None => return Err(self.error("EOF while parsing a value")),
            Some(b'n') => self.word("null", Json::Null)?,
            Some(b't') => self.word("true", Json::Bool(true))?,
            Some(b'f') => self.word("false", Json::Bool(false))?,
            Some(b'"') => Json::String(self.string()?),
            Some(b'[' | b'{') if depth + 1 >= MAX_DEPTH => {
                return Err(self.error("recursion limit exceeded"));
            }
            Some(b'[') => Json::Array(self.array(depth + 1)?),
            Some(b'{') => Json::Object(self.object(depth + 1)?),
            Some(b'-' | b'0'..=b'9') => Json::Number(self.number()?),
            Some(_) => return Err(self.error("expected value")),
        };
        Ok(Node {
            json,
            raw: &self.text[start..self.at],
        })
    }

    fn word(&mut self, word: &'static str, json: Json<'a>) -> Result<Json<'a>, JsonError> {
        if !self.text[self.at..].starts_with(word) {
            return Err(self.error("expected value"));
        }
        self.at += word.len();
        Ok(json)
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        self.at - start
    }

    fn number(&mut self) -> Result<Number<'a>, JsonError> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        let leading_zero = self.peek() == Some(b'0');
        match self.digits() {
            0 => return Err(self.error("invalid number")),
            1 => {}
            _ if leading_zero => return Err(self.error("invalid number")),
            _ => {}
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if self.digits() == 0 {
                return Err(self.error("invalid number"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if self.digits() == 0 {
                return Err(self.error("invalid number"));
            }
        }
        let number = Number(&self.text[start..self.at]);
        if let Numeric::Float(f) = number.numeric()
            && f.is_infinite()
        {
            return Err(self.error("number out of range"));
        }
        Ok(number)
    }

    fn string(&mut self) -> Result<Cow<'a, str>, JsonError> {
        self.at += 1;
        let start = self.at;
        let mut owned: Option<String> = None;
        loop {
            let Some(byte) = self.peek() else {
                return Err(self.error("EOF while parsing a string"));
            };
            match byte {
                b'"' => {
                    let plain = &self.text[start..self.at];
                    self.at += 1;
                    return Ok(match owned {
                        Some(text) => Cow::Owned(text),
                        None => Cow::Borrowed(plain),
                    });
                }
                b'\\' => {
                    let text = owned.get_or_insert_with(|| self.text[start..self.at].to_owned());
                    self.at += 1;
                    let escaped = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            let c = self.unicode_escape()?;
                            text.push(c);
                            continue;
                        }
                        _ => return Err(self.error("invalid escape")),
                    };
                    self.at += 1;
                    text.push(escaped);
                }
                0..=0x1f => return Err(self.error("control character in a string")),
                _ => {
                    // One whole UTF-8 character (the text is a `str`).
                    let c = self.text[self.at..].chars().next().unwrap_or_default();
                    if let Some(text) = owned.as_mut() {
                        text.push(c);
                    }
                    self.at += c.len_utf8();
                }
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

    fn array(&mut self, depth: usize) -> Result<Vec<Node<'a>>, JsonError> {
        self.at += 1;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(items);
        }
        loop {
            items.push(self.value(depth)?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(items);
                }
                None => return Err(self.error("EOF while parsing a list")),
                Some(_) => return Err(self.error("expected `,` or `]`")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Vec<(Cow<'a, str>, Node<'a>)>, JsonError> {
        self.at += 1;
        let mut members = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(members);
        }
        loop {
            self.skip_whitespace();
            match self.peek() {
                Some(b'"') => {}
                None => return Err(self.error("EOF while parsing an object")),
                Some(_) => return Err(self.error("key must be a string")),
            }
            let name = self.string()?;
            self.expect(b':', "expected `:`")?;
            members.push((name, self.value(depth)?));
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(members);
                }
                None => return Err(self.error("EOF while parsing an object")),
                Some(_) => return Err(self.error("expected `,` or `}`")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Whether serde_json and this reader agree that `text` is JSON, and when it is,
    /// on the value (compared as `serde_json::Value`).
    fn agree(text: &str) {
        let theirs = serde_json::from_str::<serde_json::Value>(text);
        let ours = parse(text);
        match (&theirs, &ours) {
            (Ok(value), Ok(node)) => assert_eq!(&node.to_value(), value, "{text:?}"),
            (Err(_), Err(_)) => {}
            _ => panic!("{text:?}: serde_json {theirs:?}, ours {ours:?}"),
        }
    }

    #[test]
    fn reads_what_serde_json_reads_and_refuses_what_it_refuses() {
        for text in [
            "null",
            " true ",
            "false",
            "0",
            "-0",
            "12",
            "-12",
            "1.5",
            "-1.25e3",
            "1E+2",
            "2e-3",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "123456789012345678901234567890",
            "0.1",
            "1e22",
            "1.5e-21",
            "1e309",
            "-1e400",
            "1e-400",
            r#""a\"b\\c\/\b\f\n\r\t\u00e9\ud83d\ude00""#,
            r#""é 😀""#,
            "[]",
            "[1, [2, {}], \"x\"]",
            r#"{"a": 1, "a": 2, "b": [null]}"#,
            "",
            " ",
            "nul",
            "tru",
            "01",
            "-",
            "1.",
            ".5",
            "1e",
            "+1",
            "[1,]",
            "[1 2]",
            "{\"a\"}",
            "{\"a\":1,}",
            "{1:2}",
            "\"\\x\"",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"\\ud800\\u0041\"",
            "\"a\u{1}b\"",
            "[1] x",
            "\"unterminated",
            "[",
            "{",
            "{\"a\":",
            "NaN",
            "Infinity",
        ] {
            agree(text);
        }
        agree(&format!("{}{}", "[".repeat(127), "]".repeat(127)));
        agree(&format!("{}{}", "[".repeat(128), "]".repeat(128)));
    }

    #[test]
    fn raw_text_is_each_value_as_sent() {
        let node = parse(" {\"t\": [ 1,  {\"x\" :2} ], \"e\":\"a\\nb\"} ").unwrap();
        let Json::Object(members) = &node.json else {
            panic!("an object")
        };
        assert_eq!(members[0].1.raw, "[ 1,  {\"x\" :2} ]");
        assert_eq!(members[1].1.raw, "\"a\\nb\"");
        assert_eq!(members[1].1.json, Json::String("a\nb".into()));
    }

    proptest! {
        #[test]
        fn any_value_serde_json_writes_reads_back_the_same(value in json_value()) {
            agree(&value.to_string());
            agree(&serde_json::to_string_pretty(&value).unwrap());
        }

        #[test]
        fn numbers_read_as_serde_json_reads_them(
            whole in "-?(0|[1-9][0-9]{0,24})",
            fraction in proptest::option::of("[0-9]{1,8}"),
            exponent in proptest::option::of(-330i32..330),
        ) {
            let mut text = whole.clone();
            if let Some(fraction) = &fraction {
                text = format!("{text}.{fraction}");
            }
            if let Some(exponent) = exponent {
                text = format!("{text}e{exponent}");
            }
            let scale = exponent.unwrap_or(0) - fraction.as_ref().map_or(0, |f| f.len() as i32);
            if whole.trim_start_matches('-').len() <= 19 && scale.abs() <= 22 {
                agree(&text);
            } else if let (Ok(theirs), Ok(ours)) =
                (serde_json::from_str::<f64>(&text), parse(&text))
            {
                let Json::Number(number) = ours.json else { panic!("{text}: a number") };
                let ours = number.as_f64();
                prop_assert!(
                    (ours - theirs).abs() <= theirs.abs() * 1e-15,
                    "{text}: {ours} and serde_json's {theirs}"
                );
            }
        }
    }

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::Value;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
            ".*".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((".*", inner), 0..6)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }
}
