//! A small JSON reader for the widget: the text is checked once, whole, then read as
//! [`Node`]s that borrow from it, one level at a time: an array's items and an object's
//! members are read when asked for, so a value nobody looks into (a test's timeline, its
//! error) is checked and kept as text, never built. [`FromJson`](crate::FromJson) reads
//! the contract's types from the nodes.
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

mod number;
mod reader;

pub use number::{Number, Numeric};
use reader::Reader;

/// How deep arrays and objects may nest, as in serde_json.
const MAX_DEPTH: usize = 128;

/// A checked JSON text and where each of its arrays and objects ends, found while it
/// was checked, so reading a level jumps over the levels inside it.
#[derive(Debug)]
pub struct Document<'a> {
    text: &'a str,
    /// `(start, end)` byte offsets of every array and object, by start.
    ends: Vec<(usize, usize)>,
}

impl Document<'_> {
    /// The top-level value.
    pub fn root(&self) -> Node<'_> {
        let mut reader = Reader::at(self, 0);
        reader.shallow().unwrap_or(Node {
            json: Json::Null,
            raw: "",
            start: 0,
            doc: self,
        })
    }
}

/// One JSON value of a [`Document`] and the text it was read from.
#[derive(Debug, Clone)]
pub struct Node<'a> {
    /// The value.
    pub json: Json<'a>,
    /// Its text exactly as sent, without the whitespace around it.
    pub raw: &'a str,
    start: usize,
    doc: &'a Document<'a>,
}

impl PartialEq for Node<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.json == other.json && self.raw == other.raw
    }
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
    /// An array: its items are [`Node::items`].
    Array,
    /// An object: its members are [`Node::members`].
    Object,
}

impl<'a> Node<'a> {
    /// An array's items in order; nothing for any other value.
    pub fn items(&self) -> Vec<Node<'a>> {
        let mut items = Vec::new();
        if self.json == Json::Array {
            let mut reader = Reader::at(self.doc, self.start + 1);
            while let Some(item) = reader.next_item(b']') {
                items.push(item);
            }
        }
        items
    }

    /// An object's members in the order sent (a name may repeat); nothing for any other
    /// value.
    pub fn members(&self) -> Vec<(Cow<'a, str>, Node<'a>)> {
        let mut members = Vec::new();
        if self.json == Json::Object {
            let mut reader = Reader::at(self.doc, self.start + 1);
            while let Some(Node {
                json: Json::String(name),
                ..
            }) = reader.next_item(b'}')
            {
                reader.skip_whitespace();
                reader.at += 1; // the `:`, checked by `parse`
                match reader.shallow() {
                    Some(value) => members.push((name, value)),
                    None => break,
                }
            }
        }
        members
    }

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
            Json::Array => Value::Array(self.items().iter().map(Node::to_value).collect()),
            Json::Object => {
                // One insert at a time: collecting would sort the members first, and
                // bring another copy of the sort into the widget's wasm.
                let mut map = serde_json::Map::new();
                for (name, node) in self.members() {
                    map.insert(name.into_owned(), node.to_value());
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

/// Checks `text` as one JSON value (whitespace around it allowed, nothing else); its
/// [`Document::root`] is then read one level at a time.
pub fn parse(text: &str) -> Result<Document<'_>, JsonError> {
    let mut reader = Reader {
        text,
        at: 0,
        ends: Vec::new(),
        doc: None,
    };
    reader.check_value(0)?;
    reader.skip_whitespace();
    if reader.at != text.len() {
        return Err(reader.error("trailing characters"));
    }
    Ok(Document {
        text,
        ends: reader.ends,
    })
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
            (Ok(value), Ok(doc)) => assert_eq!(&doc.root().to_value(), value, "{text:?}"),
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
        let doc = parse(" {\"t\": [ 1,  {\"x\" :2} ], \"e\":\"a\\nb\"} ").unwrap();
        let members = doc.root().members();
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
                let Json::Number(number) = ours.root().json else { panic!("{text}: a number") };
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
