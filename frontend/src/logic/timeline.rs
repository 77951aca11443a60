//! A shape the guide leaves open, made readable: a test's `timeline` entries (whatever
//! fields they have), plus the video-link check. Its `error` is read by
//! `runboard_shared::test_error`, which the proxy's exports share.

use serde_json::{Map, Value};

use crate::logic::format::duration;

/// One timeline entry, ready to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Step {
    /// What the step did: `name`, `title`, `action`, `step` or `description`.
    pub(crate) name: String,
    /// Its outcome, when given.
    pub(crate) status: Option<String>,
    /// How long it took, human.
    pub(crate) duration: Option<String>,
    /// When it happened, as given.
    pub(crate) time: Option<String>,
    /// Every other field, as `key: value` text.
    pub(crate) extras: Vec<(String, String)>,
}

const NAME_KEYS: [&str; 6] = ["name", "title", "action", "step", "description", "message"];
const STATUS_KEYS: [&str; 4] = ["status", "result", "state", "outcome"];
const DURATION_KEYS: [&str; 3] = ["duration", "durationMs", "elapsed"];
const TIME_KEYS: [&str; 5] = ["time", "timestamp", "startTime", "start", "at"];

/// Renders timeline entries generically from whatever fields they carry.
pub(crate) fn steps(entries: &[Value]) -> Vec<Step> {
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| step(i, e))
        .collect()
}

fn step(index: usize, entry: &Value) -> Step {
    let Value::Object(map) = entry else {
        return Step {
            name: scalar(entry),
            status: None,
            duration: None,
            time: None,
            extras: vec![],
        };
    };
    let mut used: Vec<&str> = Vec::new();
    let mut take = |keys: &[&'static str]| -> Option<(&'static str, &Value)> {
        let found = keys.iter().find_map(|k| map.get(*k).map(|v| (*k, v)));
        if let Some((k, _)) = found {
            used.push(k);
        }
        found
    };
    let name = take(&NAME_KEYS)
        .map(|(_, v)| scalar(v))
        .unwrap_or_else(|| format!("Step {}", index + 1));
    let status = take(&STATUS_KEYS).map(|(_, v)| scalar(v));
    // Fractions are rounded; a negative number means unknown, shown as a dash.
    let duration = take(&DURATION_KEYS)
        .filter(|(_, v)| !v.is_null())
        .map(|(_, v)| match v.as_f64() {
            Some(ms) if ms >= 0.0 => duration(ms.round() as u64),
            Some(_) => "—".to_owned(),
            None => scalar(v),
        });
    let time = take(&TIME_KEYS).map(|(_, v)| scalar(v));
    Step {
        name,
        status,
        duration,
        time,
        extras: extras(map, &used),
    }
}

fn extras(map: &Map<String, Value>, used: &[&str]) -> Vec<(String, String)> {
    map.iter()
        .filter(|(k, _)| !used.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), scalar(v)))
        .collect()
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "—".into(),
        other => other.to_string(),
    }
}

/// The video link if it is safe to open: `http` or `https` only, no white space or
/// control characters. Anything else (`javascript:`, `data:`…) is never linked.
pub(crate) fn safe_video_url(link: &str) -> Option<&str> {
    let link = link.trim();
    let lower = link.get(..8).unwrap_or(link).to_ascii_lowercase();
    let scheme_ok = lower.starts_with("https://") || lower.starts_with("http://");
    let has_host = link
        .split_once("://")
        .is_some_and(|(_, rest)| !rest.is_empty() && !rest.starts_with('/'));
    let clean = !link.chars().any(|c| c.is_whitespace() || c.is_control());
    (scheme_ok && has_host && clean).then_some(link)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn steps_render_from_whatever_fields_exist() {
        let rendered = steps(&[
            json!({"name": "open /cart", "status": "Passed", "duration": 400, "time": "10:15:40", "url": "/cart"}),
            json!({"title": "submit", "result": "Failed", "screenshot": true}),
            json!("plain text step"),
            json!({"foo": null}),
        ]);
        assert_eq!(rendered[0].name, "open /cart");
        assert_eq!(rendered[0].status.as_deref(), Some("Passed"));
        assert_eq!(rendered[0].duration.as_deref(), Some("400 ms"));
        assert_eq!(rendered[0].time.as_deref(), Some("10:15:40"));
        assert_eq!(
            rendered[0].extras,
            vec![("url".to_owned(), "/cart".to_owned())]
        );
        assert_eq!(rendered[1].status.as_deref(), Some("Failed"));
        assert_eq!(
            rendered[1].extras,
            vec![("screenshot".to_owned(), "true".to_owned())]
        );
        assert_eq!(rendered[2].name, "plain text step");
        assert_eq!(rendered[3].name, "Step 4");
        assert_eq!(rendered[3].extras, vec![("foo".to_owned(), "—".to_owned())]);
    }

    #[test]
    fn odd_step_durations_read_sensibly() {
        let rendered = steps(&[
            json!({"name": "a", "duration": 1240.5}),
            json!({"name": "b", "duration": -1}),
            json!({"name": "c", "duration": null}),
        ]);
        let durations: Vec<Option<&str>> = rendered.iter().map(|s| s.duration.as_deref()).collect();
        assert_eq!(durations, [Some("1.2 s"), Some("—"), None]);
    }

    #[test]
    fn only_http_video_links_are_opened() {
        assert_eq!(
            safe_video_url("https://example.com/v/1"),
            Some("https://example.com/v/1")
        );
        assert_eq!(
            safe_video_url(" HTTP://cdn/v.mp4 "),
            Some("HTTP://cdn/v.mp4")
        );
        assert_eq!(safe_video_url("javascript:alert(1)"), None);
        assert_eq!(safe_video_url("data:text/html,hi"), None);
        assert_eq!(safe_video_url("//evil.example/x"), None);
        assert_eq!(safe_video_url("https://a b"), None);
        assert_eq!(safe_video_url("https://"), None);
    }
}
