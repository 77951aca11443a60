//! The strings of a JSON text as a client reads them: a byte scan sees `pk\u002BLive`,
//! `JSON.parse` sees `pk+Live`. Only strings that hold an escape need decoding; the rest
//! are already what a client sees.

use memchr::{memchr, memchr2};

/// Calls `found` with the decoded text of each string in `bytes` that holds an escape,
/// object keys included, until it answers `true`; whether it did. Not-quite-JSON (an
/// unterminated string, a bad escape) is read as far as it goes, never refused: this is
/// a search, and the parser decides validity elsewhere.
pub(super) fn any_escaped_string(bytes: &[u8], mut found: impl FnMut(&[u8]) -> bool) -> bool {
    let mut at = 0;
    while let Some(open) = memchr(b'"', &bytes[at..]) {
        let start = at + open + 1;
        let (end, escaped) = string_end(bytes, start);
        if escaped && found(&unescape(&bytes[start..end])) {
            return true;
        }
        at = end + 1;
        if at >= bytes.len() {
            break;
        }
    }
    false
}

/// Where the string that starts at `start` (after its quote) ends, and whether it holds
/// an escape.
fn string_end(bytes: &[u8], start: usize) -> (usize, bool) {
    let mut at = start;
    let mut escaped = false;
    while let Some(offset) = memchr2(b'"', b'\\', &bytes[at..]) {
        let hit = at + offset;
        if bytes[hit] == b'"' {
            return (hit, escaped);
        }
        escaped = true;
        at = hit + 2;
        if at >= bytes.len() {
            break;
        }
    }
    (bytes.len(), escaped)
}

/// The characters a JSON string's body stands for. `\u` escapes in either case, joined
/// into one character when they form a surrogate pair; a lone surrogate or a broken
/// escape becomes U+FFFD or stays as written, as a lenient reader would show it.
pub(super) fn unescape(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut at = 0;
    while at < raw.len() {
        let byte = raw[at];
        if byte != b'\\' || at + 1 >= raw.len() {
            out.push(byte);
            at += 1;
            continue;
        }
        let escape = raw[at + 1];
        at += 2;
        match escape {
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'u' => match hex4(raw, at) {
                Some(unit) => {
                    at += 4;
                    let (ch, used) = code_point(raw, at, unit);
                    at += used;
                    let mut buf = [0; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                None => out.extend_from_slice(b"\\u"),
            },
            // `\"`, `\\`, `\/`, and anything a strict parser would refuse: the character.
            other => out.push(other),
        }
    }
    out
}

/// The character of UTF-16 unit `unit`, reading a low surrogate at `at` when `unit` is
/// a high one; and how many bytes of that second escape it used.
fn code_point(raw: &[u8], at: usize, unit: u32) -> (char, usize) {
    if (0xD800..0xDC00).contains(&unit)
        && raw[at..].starts_with(b"\\u")
        && let Some(low) = hex4(raw, at + 2)
        && (0xDC00..0xE000).contains(&low)
    {
        let joined = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
        return (char::from_u32(joined).unwrap_or('\u{FFFD}'), 6);
    }
    (char::from_u32(unit).unwrap_or('\u{FFFD}'), 0)
}

/// The four hex digits at `at`, in either case.
fn hex4(raw: &[u8], at: usize) -> Option<u32> {
    let digits = raw.get(at..at + 4)?;
    let text = std::str::from_utf8(digits).ok()?;
    u32::from_str_radix(text, 16)
        .ok()
        .filter(|_| digits.iter().all(u8::is_ascii_hexdigit))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(json: &str) -> Vec<String> {
        let mut seen = Vec::new();
        any_escaped_string(json.as_bytes(), |s| {
            seen.push(String::from_utf8_lossy(s).into_owned());
            false
        });
        seen
    }

    #[test]
    fn decodes_what_json_parse_would() {
        let check = |raw: &str, expected: &str| {
            assert_eq!(
                String::from_utf8(unescape(raw.as_bytes())).unwrap(),
                expected,
                "{raw}"
            );
        };
        check(r"pk\u002BLive\/0123", "pk+Live/0123");
        check(r"pk\u002bLive", "pk+Live");
        check(r"\u0070\u006B", "pk");
        check(r#"a\"b\\c\n\t"#, "a\"b\\c\n\t");
        check(r"\ud83d\ude00!", "\u{1F600}!");
        check(r"\uD83D\uDE00", "\u{1F600}");
        check(r"lone \ud83d end", "lone \u{FFFD} end");
        check(r"low \udE00", "low \u{FFFD}");
        check(r"short \u12", r"short \u12");
        check(r"bad \uZZZZ", r"bad \uZZZZ");
        check(r"\u+123", r"\u+123");
        check("trailing \\", "trailing \\");
        // Every decoded form agrees with serde_json where the JSON is valid.
        for raw in [r"pk\u002BLive\/0123", r"\ud83d\ude00!", r#"a\"b\\c\n\t"#] {
            let serde: String = serde_json::from_str(&format!("\"{raw}\"")).unwrap();
            assert_eq!(unescape(raw.as_bytes()), serde.as_bytes());
        }
    }

    #[test]
    fn finds_escaped_strings_and_keys_only() {
        let json = r#"{"plain":"x","k\u0065y":[1,"a\/b",{"t":"say \"hi\""}],"n":null}"#;
        assert_eq!(strings(json), ["key", "a/b", "say \"hi\""]);
        assert_eq!(strings(r#"{"open":"never \u0065nds"#), ["never ends"]);
        assert!(strings(r#"{"a":"b"}"#).is_empty());
        assert!(strings("").is_empty());
        assert!(strings("\"").is_empty());
    }
}
