//! Fuzz target: any JSON answer (or any text, taken as one string), with a configured key
//! put inside it, written back with random escapes per character (`\u` in either case,
//! surrogate pairs, `\/`). Whatever the escapes, the key scan finds the key, because a
//! browser's `JSON.parse` would find it; and the written text decodes to the same answer,
//! so the writer is a fair stand-in for a platform's.

#![no_main]

use std::{fmt::Write, sync::OnceLock};

use libfuzzer_sys::fuzz_target;
use runboard_proxy::{config::ApiKey, keyscan::KeyScan};
use serde_json::Value;

/// Keys of the shapes platforms issue: with `+`, `/`, `"`, `\`, and one short.
const KEYS: [&str; 4] = [
    "pk+Live/0123456789abcdefXYZ",
    "sk_test_\"quoted\"\\back/slash",
    "0123456789abcdef0123456789abcdef",
    "k7",
];

/// One scan per key, so a hit can only be the key that was hidden (the short one would
/// otherwise match the fuzzer's own text and hide a miss).
fn scans() -> &'static [KeyScan] {
    static SCANS: OnceLock<Vec<KeyScan>> = OnceLock::new();
    SCANS.get_or_init(|| {
        KEYS.iter()
            .map(|k| KeyScan::new(&[ApiKey::new(*k).unwrap()]))
            .collect()
    })
}

/// Chooses each character's spelling from the fuzzer's bytes, in turn.
struct Escapes<'a> {
    choices: &'a [u8],
    at: usize,
}

impl Escapes<'_> {
    fn next(&mut self) -> u8 {
        let choice = self.choices.get(self.at).copied().unwrap_or(0);
        self.at = (self.at + 1) % self.choices.len().max(1);
        choice
    }

    /// `text` as a JSON string, each character spelled as the next choice says.
    fn string(&mut self, text: &str, out: &mut String) {
        out.push('"');
        for c in text.chars() {
            match (self.next() % 4, c) {
                (_, '"') => out.push_str("\\\""),
                (_, '\\') => out.push_str("\\\\"),
                (_, c) if (c as u32) < 0x20 => write!(out, "\\u{:04x}", c as u32).unwrap(),
                (1, c) => utf16(c, true, out),
                (2, c) => utf16(c, false, out),
                (3, '/') => out.push_str("\\/"),
                (_, c) => out.push(c),
            }
        }
        out.push('"');
    }

    fn value(&mut self, value: &Value, out: &mut String) {
        match value {
            Value::String(s) => self.string(s, out),
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    self.value(item, out);
                }
                out.push(']');
            }
            Value::Object(fields) => {
                out.push('{');
                for (i, (name, item)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    self.string(name, out);
                    out.push(':');
                    self.value(item, out);
                }
                out.push('}');
            }
            other => out.push_str(&other.to_string()),
        }
    }
}

/// `c` as `\u` escapes (a surrogate pair beyond U+FFFF), hex in `upper` or lower case.
fn utf16(c: char, upper: bool, out: &mut String) {
    let mut units = [0u16; 2];
    for unit in c.encode_utf16(&mut units) {
        if upper {
            write!(out, "\\u{unit:04X}").unwrap();
        } else {
            write!(out, "\\u{unit:04x}").unwrap();
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let (answer, choices) = rest.split_at(rest.len() / 2);
    let answer: Value = serde_json::from_slice(answer)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(answer).into_owned()));
    let which = usize::from(choice) % KEYS.len();
    let key = KEYS[which];
    // The key in a string beside the answer, or as an object's field name.
    let hidden = if choice & 0x80 == 0 {
        Value::Array(vec![answer, Value::String(format!("x{key}y"))])
    } else {
        let mut fields = serde_json::Map::new();
        fields.insert(format!("{key}!"), answer);
        Value::Object(fields)
    };
    let mut escapes = Escapes { choices, at: 0 };
    let mut text = String::new();
    escapes.value(&hidden, &mut text);
    let decoded: Value = serde_json::from_str(&text).expect("the writer writes JSON");
    // Numbers are written as serde_json writes them, so compare with its own reading.
    let expected: Value = serde_json::from_str(&hidden.to_string()).unwrap();
    assert_eq!(decoded, expected, "the writer keeps the answer: {text}");
    assert!(
        scans()[which].found_in(text.as_bytes()),
        "the key went unseen in {text}"
    );
});
