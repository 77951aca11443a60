//! A failed test's `error` made readable, one reading for every place that shows it:
//! the widget's report, detail panel and failure causes, and the proxy's CSV and JUnit
//! exports. The guide shows the error as a string or an object; anything else is shown
//! as its JSON. (One copy also keeps the widget small: serde_json's printer is generic,
//! and each crate that calls it compiles its own copy.)

use serde_json::Value;

use crate::RawJson;

/// The fields of an error object that may hold its headline, in order of preference.
pub const HEADLINE_KEYS: [&str; 4] = ["message", "error", "title", "name"];

/// An error as a headline and, when there is more to show, the full text.
///
/// A string's headline is its first line; an object's is its first line of `message`
/// (or `error`, `title`, `name`), and the object is shown whole as indented JSON. The
/// error is read from its JSON text here, when it is shown or exported, not when the
/// report arrives.
pub fn error_text(error: &RawJson) -> (String, Option<String>) {
    let error = error.value();
    match &error {
        Value::Null => ("failed without an error message".into(), None),
        Value::String(s) => {
            let first = s.lines().next().unwrap_or_default().trim().to_owned();
            let details = (s.trim() != first).then(|| s.clone());
            (first, details)
        }
        Value::Object(map) => {
            let headline = HEADLINE_KEYS
                .iter()
                .find_map(|k| map.get(*k).and_then(Value::as_str))
                .map(|s| s.lines().next().unwrap_or_default().to_owned())
                .unwrap_or_else(|| "the test failed; details below".into());
            (headline, serde_json::to_string_pretty(&error).ok())
        }
        other => (other.to_string(), None),
    }
}

/// An error as the widget's detail panel shows it: the headline once, and only what the
/// headline does not already say: the further lines of a text, or the fields of an
/// object other than its (one-line) headline field, as indented JSON.
pub fn error_parts(error: &RawJson) -> (String, Option<String>) {
    let (headline, _) = error_text(error);
    let rest = match error.value() {
        Value::String(s) => {
            let rest: Vec<&str> = s.trim().lines().skip(1).collect();
            (!rest.is_empty()).then(|| rest.join("\n"))
        }
        Value::Object(mut map) => {
            let key = HEADLINE_KEYS
                .into_iter()
                .find(|k| map.get(*k).and_then(Value::as_str) == Some(headline.as_str()));
            if let Some(key) = key {
                map.remove(key);
            }
            (!map.is_empty())
                .then(|| serde_json::to_string_pretty(&Value::Object(map)).ok())
                .flatten()
        }
        _ => None,
    };
    (headline, rest)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn read(error: Value) -> (String, Option<String>) {
        error_text(&RawJson::from(error))
    }

    #[test]
    fn errors_read_as_text() {
        assert_eq!(read(json!("boom")), ("boom".into(), None));
        assert_eq!(
            read(json!("expected 1\n  at line 4")),
            ("expected 1".into(), Some("expected 1\n  at line 4".into()))
        );
        let (headline, details) = read(json!({"message": "Declined", "step": 4}));
        assert_eq!(headline, "Declined");
        assert!(details.is_some_and(|d| d.contains("\"step\": 4")));
        assert_eq!(read(json!({"error": "Timeout\nat step 2"})).0, "Timeout");
        assert_eq!(read(json!({"code": 7})).0, "the test failed; details below");
        assert_eq!(read(json!(42)).0, "42");
        assert_eq!(read(json!(null)).0, "failed without an error message");
    }

    #[test]
    fn the_detail_says_the_message_once() {
        let check = |error: Value, want: (&str, Option<&str>)| {
            let (headline, rest) = error_parts(&RawJson::from(error));
            assert_eq!((headline.as_str(), rest.as_deref()), want);
        };
        check(json!("boom"), ("boom", None));
        check(json!("boom\n  at line 3\n"), ("boom", Some("  at line 3")));
        check(json!({"message": "boom"}), ("boom", None));
        check(
            json!({"message": "boom", "code": 7}),
            ("boom", Some("{\n  \"code\": 7\n}")),
        );
        // A message of several lines keeps its whole text among the details.
        let (_, rest) = error_parts(&RawJson::from(json!({"message": "boom\nmore"})));
        assert!(rest.is_some_and(|r| r.contains("more")));
        check(json!(null), ("failed without an error message", None));
    }
}
