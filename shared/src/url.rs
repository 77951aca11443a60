//! Percent-encoding for the paths and queries of Runboard's contract. It lives here, not
//! in the widget, so that every side that writes a Runboard URL (widget, tests, bench)
//! encodes it the same way; it is small enough that a crate would cost more than it saves
//! in the wasm.

/// Percent-encodes everything but unreserved characters (RFC 3986 §2.3).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(hex_digit(b >> 4));
            out.push(hex_digit(b & 0x0f));
        }
    }
    out
}

/// Decodes a query part: `%XX` and `+`; malformed escapes are kept as written.
pub fn decode(text: &str) -> String {
    unescape(text, true)
}

/// Decodes a path segment: `%XX` only (a `+` in a path is a plus, as in
/// `decodeURIComponent`); malformed escapes are kept as written.
pub fn decode_path(text: &str) -> String {
    unescape(text, false)
}

/// `path?k=v&…` with each part percent-encoded; just `path` without pairs.
pub fn with_query(path: &str, pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return path.to_owned();
    }
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    format!("{path}?{}", query.join("&"))
}

/// Splits `?a=1&b=x%20y` (with or without the `?`) into decoded pairs.
pub fn parse_query(search: &str) -> Vec<(String, String)> {
    search
        .trim_start_matches('?')
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// Percent-decoding, with `+` as a space when `plus_is_space`.
fn unescape(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' if plus_is_space => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push(hi * 16 + lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

fn hex_digit(nibble: u8) -> char {
    char::from_digit(u32::from(nibble), 16)
        .unwrap_or('0')
        .to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips_through_both_decoders() {
        for text in ["plain", "a b+c/d?e#f%g", "ünï ☃", ""] {
            assert_eq!(decode(&encode(text)), text);
            assert_eq!(decode_path(&encode(text)), text);
        }
        assert_eq!(encode("a b/ü"), "a%20b%2F%C3%BC");
        assert_eq!(decode("a+b"), "a b");
        assert_eq!(decode_path("a+b"), "a+b");
        assert_eq!(decode_path("100%"), "100%");
    }

    #[test]
    fn queries_are_written_and_read_as_pairs() {
        let url = with_query("/x", &[("a b", "1&2"), ("c", "")]);
        assert_eq!(url, "/x?a%20b=1%262&c=");
        let (_, search) = url.split_once('?').unwrap();
        assert_eq!(
            parse_query(search),
            [("a b".into(), "1&2".into()), ("c".into(), String::new())]
        );
        assert_eq!(with_query("/x", &[]), "/x");
    }
}
