//! The one check that keeps every configured key inside the server: an automaton of every
//! key in every form it could be written in, run over the bytes of an answer *and* over
//! its JSON strings as a client decodes them. Upstream answers pass it before anything
//! reads them (`upstream/`); what Runboard derives from them passes it again on the way
//! out (`egress.rs`: the answers it builds; `live/follow.rs`: each `change` event). Ledger
//! rows, audit and log lines hold only values taken from answers that passed.

mod egress;
mod json;

use aho_corasick::{AhoCorasick, MatchKind};

pub(crate) use egress::{Scanned, withhold_keys};

use crate::config::ApiKey;

/// How many times a string's decoded text is decoded again when it still holds escapes
/// (JSON inside a JSON string: a report's `error` written by a platform that encodes
/// twice).
const NESTED_DECODES: usize = 3;

/// Every configured key, in every form, searched at once. One automaton for all
/// projects: project B's key in an answer for project A is withheld too. Public for the
/// fuzz target that proves it against random escapes (`fuzz/fuzz_targets/keyscan.rs`).
pub struct KeyScan(Result<AhoCorasick, aho_corasick::BuildError>);

impl KeyScan {
    /// Builds the automaton once, at start-up, from every key.
    pub fn new<'a>(keys: impl IntoIterator<Item = &'a ApiKey>) -> Self {
        let needles: Vec<Vec<u8>> = keys.into_iter().flat_map(ApiKey::needles).collect();
        // Leftmost-first matching lets the automaton use its vectorised (Teddy) search;
        // the standard kind walks the answer byte by byte, slower than memmem per form.
        let scan = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(needles);
        if let Err(err) = &scan {
            // Only sizes far beyond a key's reach fail; then nothing is passed on.
            tracing::error!(error = %err, "the key scanner could not be built; every answer is withheld");
        }
        Self(scan)
    }

    /// Whether `bytes` hold a key in any form a reader could see: in the bytes as they
    /// are, or in a JSON string once its escapes are decoded (`\u002B` for `+`, in any
    /// case and any mix). Always, if the scanner could not be built: an unchecked answer
    /// is never passed on.
    pub fn found_in(&self, bytes: &[u8]) -> bool {
        let Ok(scan) = &self.0 else {
            return true;
        };
        scan.is_match(bytes)
            || json::any_escaped_string(bytes, |text| nested(scan, text, NESTED_DECODES))
    }
}

/// Whether decoded `text` holds a key, decoding it again while it still holds escapes.
fn nested(scan: &AhoCorasick, text: &[u8], depth: usize) -> bool {
    scan.is_match(text)
        || (depth > 0 && text.contains(&b'\\') && nested(scan, &json::unescape(text), depth - 1))
}

#[cfg(test)]
mod tests {
    use base64::{
        Engine,
        engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD},
    };

    use super::*;

    const KEY: &str = "pk+Live/0123\"456789abcdef";
    const OTHER: &str = "project-b-key-fedcba9876543210";

    fn scan() -> KeyScan {
        let keys = [ApiKey::new(KEY).unwrap(), ApiKey::new(OTHER).unwrap()];
        KeyScan::new(&keys)
    }

    /// `text` with every character at an even index written as a `\u` escape, the hex
    /// digits' case alternating, as a .NET or hand-made JSON writer might.
    fn u_escaped(text: &str, upper: bool) -> String {
        text.chars()
            .enumerate()
            .map(|(i, c)| match (i % 2, upper) {
                (0, true) => format!("\\u{:04X}", c as u32),
                (0, false) => format!("\\u{:04x}", c as u32),
                _ if c == '"' || c == '\\' => format!("\\{c}"),
                _ => c.to_string(),
            })
            .collect()
    }

    #[test]
    fn the_key_is_found_in_every_form() {
        let scan = scan();
        let percent = |upper: bool| -> String {
            KEY.bytes()
                .map(|b| match (b.is_ascii_alphanumeric(), upper) {
                    (true, _) => (b as char).to_string(),
                    (false, true) => format!("%{b:02X}"),
                    (false, false) => format!("%{b:02x}"),
                })
                .collect()
        };
        let json_text = serde_json::to_string(KEY).unwrap();
        let mut forms = vec![
            KEY.to_owned(),
            json_text.trim_matches('"').to_owned(),
            KEY.replace('/', "\\/").replace('"', "\\\""),
            percent(true),
            percent(false),
            STANDARD.encode(KEY),
            URL_SAFE.encode(KEY),
            URL_SAFE_NO_PAD.encode(KEY),
            // As .NET writes it, in both hex cases, and every character escaped.
            KEY.replace('+', "\\u002B").replace('"', "\\u0022"),
            KEY.replace('+', "\\u002b").replace('"', "\\u0022"),
            u_escaped(KEY, true),
            u_escaped(KEY, false),
            KEY.chars()
                .map(|c| format!("\\u{:04x}", c as u32))
                .collect(),
            // JSON text inside a JSON string, escaped twice.
            KEY.replace('+', "\\\\u002B").replace('"', "\\\\\\\""),
            // The other project's key, in this project's answer.
            OTHER.to_owned(),
            u_escaped(OTHER, true),
            // Runboard's CSV and XML writers.
            KEY.replace('"', "\"\""),
            KEY.replace('"', "&quot;"),
        ];
        // Inside a longer base64 text, at each alignment.
        for prefix in ["", "a", "ab"] {
            forms.push(STANDARD.encode(format!("{prefix}user:{KEY}!")));
        }
        for form in forms {
            let answer = format!(r#"{{"title":"x {form} y"}}"#);
            assert!(scan.found_in(answer.as_bytes()), "{form}");
            // As an object key too.
            let answer = format!(r#"{{"x {form} y":1}}"#);
            assert!(scan.found_in(answer.as_bytes()), "key {form}");
        }
        // Split by a surrogate pair, the key is not whole; around one, it is.
        let around = format!(r#"["\ud83d\ude00{}\uD83D\uDE00"]"#, u_escaped(KEY, false));
        assert!(scan.found_in(around.as_bytes()));
        for innocent in [
            r#"{"title":"pk+Live/0123\"45678 is half"}"#,
            r#"{"title":"pk\u002BLive\/0123\"4567 is half"}"#,
            r#"{"a":"pk\u002BLive/0123","b":"\"456789abcdef"}"#,
        ] {
            assert!(!scan.found_in(innocent.as_bytes()), "{innocent}");
        }
    }

    #[test]
    fn every_key_is_scanned_however_short() {
        let keys = [ApiKey::new("k7").unwrap()];
        let scan = KeyScan::new(&keys);
        assert!(scan.found_in(br#"{"title":"k7"}"#));
        assert!(scan.found_in(br#"{"title":"\u006b7"}"#));
        assert!(!scan.found_in(br#"{"title":"k8"}"#));
        assert!(keys[0].is_short());
        assert!(!ApiKey::new(OTHER).unwrap().is_short());
    }
}
