//! The project key: held in a type that never prints, so it cannot leak through `Debug`,
//! logs, error messages or panics.

use std::fmt;

use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};

/// A project's API key. `Debug` and `Display` print `[redacted]`; the only ways to the
/// bytes are the sensitive header value and the scrubber, both crate-private.
#[derive(Clone)]
pub struct ApiKey(SecretString);

impl ApiKey {
    /// Wraps a key, refusing one that could not travel in an HTTP header. The error
    /// never contains the key.
    pub fn new(key: impl Into<String>) -> Result<Self, String> {
        let key: String = key.into();
        let trimmed = key.trim();
        if trimmed.is_empty() {
            return Err("the key is empty".to_owned());
        }
        if !trimmed.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(
                "the key contains spaces or characters an HTTP header cannot carry".to_owned(),
            );
        }
        Ok(Self(SecretString::from(trimmed.to_owned())))
    }

    /// The `x-api-key` header value, marked sensitive so `http`'s `Debug` hides it too.
    pub(crate) fn header_value(&self) -> HeaderValue {
        // `new` allowed only visible ASCII, which is always a valid header value.
        let mut value = HeaderValue::from_str(self.0.expose_secret())
            .unwrap_or_else(|_| HeaderValue::from_static(""));
        value.set_sensitive(true);
        value
    }

    /// `text` with every occurrence of the key replaced, for upstream messages passed on.
    pub(crate) fn scrub(&self, text: &str) -> String {
        text.replace(self.0.expose_secret(), "[redacted]")
    }

    /// Every byte string that would show the key in an answer: raw, JSON-escaped,
    /// percent-encoded (every non-alphanumeric byte, or only the reserved ones; upper- and
    /// lower-case hex), base64 (standard and URL-safe alphabets; at each of the three
    /// byte alignments, the characters that depend on the key alone, so the key is found
    /// inside a longer base64 text too, padded or not), and as Runboard's own CSV and XML
    /// writers escape it. `\u` escapes are not listed: they are decoded, not matched
    /// (`keyscan`). Encoded forms shorter than [`MIN_NEEDLE`] bytes, and shorter than the
    /// key itself, are left out (they would match ordinary text); the key is always in.
    pub(crate) fn needles(&self) -> Vec<Vec<u8>> {
        use base64::{
            Engine,
            engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD},
        };
        let key = self.0.expose_secret().as_bytes();
        let mut needles = vec![key.to_vec()];
        for keep_unreserved in [false, true] {
            for upper in [false, true] {
                needles.push(percent_encoded(key, keep_unreserved, upper));
            }
        }
        for engine in [STANDARD_NO_PAD, URL_SAFE_NO_PAD] {
            for offset in 0..3 {
                let mut plain = vec![0u8; offset];
                plain.extend_from_slice(key);
                let encoded = engine.encode(&plain).into_bytes();
                // Character i carries bits 6i..6i+6 of `plain`; keep those inside the key.
                let first = (8 * offset).div_ceil(6);
                let end = (8 * plain.len() / 6).min(encoded.len());
                if first < end {
                    needles.push(encoded[first..end].to_vec());
                }
            }
        }
        // A JSON writer may escape `/` (base64 and percent forms hold it too) and `"`.
        let escaped: Vec<Vec<u8>> = needles.iter().map(|n| json_escaped(n)).collect();
        needles.extend(escaped);
        needles.push(xml_escaped(key));
        needles.push(csv_quoted(key));
        let shortest = MIN_NEEDLE.min(key.len());
        needles.retain(|n| n.len() >= shortest);
        needles.sort();
        needles.dedup();
        needles
    }

    /// Whether the key is shorter than [`SHORT_KEY`]: it is still scanned for, but may
    /// withhold answers that merely contain the same characters (`check-config` warns).
    pub(crate) fn is_short(&self) -> bool {
        self.0.expose_secret().len() < SHORT_KEY
    }
}

/// Keys shorter than this get a warning.
pub(crate) const SHORT_KEY: usize = 16;

/// The shortest encoded form searched for (unless the key itself is shorter).
const MIN_NEEDLE: usize = 8;

/// `text` as it may appear inside a JSON string (`/` may be written `\/`).
fn json_escaped(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 4);
    for &b in text {
        match b {
            b'"' | b'\\' | b'/' => out.extend_from_slice(&[b'\\', b]),
            _ => out.push(b),
        }
    }
    out
}

/// `text` as an XML writer escapes it (JUnit exports).
fn xml_escaped(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 8);
    for &b in text {
        match b {
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            b'"' => out.extend_from_slice(b"&quot;"),
            b'\'' => out.extend_from_slice(b"&apos;"),
            _ => out.push(b),
        }
    }
    out
}

/// `text` inside a quoted CSV field (`"` doubled).
fn csv_quoted(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 2);
    for &b in text {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out
}

/// `key` percent-encoded: every byte but ASCII alphanumerics (and, with `keep_unreserved`,
/// RFC 3986's `-._~`) becomes `%XX`.
fn percent_encoded(key: &[u8], keep_unreserved: bool, upper: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len() * 3);
    for &b in key {
        if b.is_ascii_alphanumeric() || (keep_unreserved && b"-._~".contains(&b)) {
            out.push(b);
        } else if upper {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        } else {
            out.extend_from_slice(format!("%{b:02x}").as_bytes());
        }
    }
    out
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key() {
        let key = ApiKey::new("canary-7f3a").unwrap();
        assert_eq!(format!("{key:?}"), "ApiKey([redacted])");
        assert!(!format!("{:?}", key.header_value()).contains("canary"));
        assert_eq!(key.scrub("bad canary-7f3a!"), "bad [redacted]!");
    }

    #[test]
    fn refuses_keys_a_header_cannot_carry() {
        assert!(ApiKey::new("  ").is_err());
        assert!(ApiKey::new("a b").is_err());
        assert!(ApiKey::new("k\u{e9}y").is_err());
        let err = ApiKey::new("secret\u{7}").unwrap_err();
        assert!(!err.contains("secret"));
    }
}
