//! The bodies a channel receives: Slack Block Kit, a Teams Adaptive Card, or Runboard's
//! webhook JSON (`{"event","project","run","verdict"}`, the verdict as
//! `GET /runboard/verdict` answers it). Chat bodies say the verdict headline, the counts,
//! the blocking failures (at most [`MAX_LISTED`], then "and N more"), who started the run,
//! its preset and duration, and link to the report. Every text is plain (Slack
//! `plain_text`), so a test's title cannot inject links or mentions.

use runboard_shared::{Verdict, VerdictCounts};
use serde_json::{Value, json};

use crate::config::{ChannelKind, NotifyEvent};

/// Blocking failures listed by name; the rest are counted.
pub(super) const MAX_LISTED: usize = 10;
/// The longest error headline quoted for a failure.
const MAX_HEADLINE_CHARS: usize = 200;

/// What a message is about.
pub(super) struct Subject<'a> {
    pub(super) event: NotifyEvent,
    pub(super) project_id: &'a str,
    pub(super) project_name: &'a str,
    pub(super) run_id: Option<&'a str>,
    pub(super) job_id: &'a str,
    /// The preset's name, or what the run selected.
    pub(super) title: String,
    pub(super) preset: Option<&'a str>,
    pub(super) started_by: &'a str,
    pub(super) duration_ms: Option<i64>,
    /// The report's address in the widget, when `public_url` is set.
    pub(super) url: Option<String>,
    /// `None` for `started`.
    pub(super) verdict: Option<&'a Verdict>,
    /// Each blocking failure's title and error headline, in the verdict's order.
    pub(super) blocking: Vec<(String, String)>,
}

/// The body `kind` receives about `subject`.
pub(super) fn body(kind: ChannelKind, subject: &Subject<'_>) -> Value {
    match kind {
        ChannelKind::Slack => slack(subject),
        ChannelKind::Teams => teams(subject),
        ChannelKind::Webhook => webhook(subject),
    }
}

fn webhook(s: &Subject<'_>) -> Value {
    json!({
        "event": s.event.as_str(),
        "project": {"id": s.project_id, "name": s.project_name},
        "run": {
            "runId": s.run_id,
            "jobId": s.job_id,
            "title": s.title,
            "preset": s.preset,
            "startedBy": s.started_by,
            "url": s.url,
        },
        "verdict": s.verdict,
    })
}

fn slack(s: &Subject<'_>) -> Value {
    let plain = |text: String| json!({"type": "plain_text", "text": text, "emoji": true});
    let mut blocks = vec![
        json!({"type": "header", "text": plain(headline(s))}),
        json!({"type": "section", "text": plain(context(s))}),
    ];
    if let Some(counts) = counts(s) {
        blocks.push(json!({"type": "section", "text": plain(counts)}));
    }
    if let Some(failures) = failures(s) {
        blocks.push(json!({"type": "section", "text": plain(failures)}));
    }
    if let Some(url) = &s.url {
        blocks.push(json!({"type": "actions", "elements": [{
            "type": "button", "text": plain("Open the report".into()), "url": url
        }]}));
    }
    json!({"text": headline(s), "blocks": blocks})
}

fn teams(s: &Subject<'_>) -> Value {
    let text = |text: String, extra: Value| {
        let mut block = json!({"type": "TextBlock", "text": text, "wrap": true});
        if let (Some(block), Some(extra)) = (block.as_object_mut(), extra.as_object()) {
            block.extend(extra.clone());
        }
        block
    };
    let mut body = vec![
        text(headline(s), json!({"size": "Large", "weight": "Bolder"})),
        text(context(s), json!({"isSubtle": true})),
    ];
    if let Some(counts) = counts(s) {
        body.push(text(counts, json!({})));
    }
    if let Some(failures) = failures(s) {
        body.push(text(failures, json!({})));
    }
    let actions: Vec<Value> = s
        .url
        .iter()
        .map(|url| json!({"type": "Action.OpenUrl", "title": "Open the report", "url": url}))
        .collect();
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": body,
                "actions": actions,
            }
        }]
    })
}

/// "✕ 1 blocking · 2 of 36 failed · Web shop", or "▶ Run started · Web shop".
fn headline(s: &Subject<'_>) -> String {
    let lead = match (s.event, s.verdict) {
        (NotifyEvent::Recovered, Some(v)) => format!("↺ Recovered: {}", v.headline()),
        (_, Some(v)) => v.headline().to_string(),
        (_, None) => "▶ Run started".to_owned(),
    };
    format!("{lead} · {}", s.project_name)
}

/// "Nightly · started by ana@corp · preset Nightly · 4 m 12 s".
fn context(s: &Subject<'_>) -> String {
    let mut parts = vec![s.title.clone(), format!("started by {}", s.started_by)];
    if let Some(preset) = s.preset {
        parts.push(format!("preset {preset}"));
    }
    if let Some(ms) = s.duration_ms {
        parts.push(duration(ms));
    }
    parts.join(" · ")
}

/// "34 passed · 2 failed · 0 skipped (1 new, 1 known)".
fn counts(s: &Subject<'_>) -> Option<String> {
    let VerdictCounts {
        passed,
        failed,
        skipped,
        new,
        known,
        flaky,
        quarantined,
        failing,
        ..
    } = s.verdict?.counts;
    let mut text = format!("{passed} passed · {failed} failed · {skipped} skipped");
    let classes: Vec<String> = [
        (new, "new"),
        (known, "known"),
        (flaky, "flaky"),
        (quarantined, "quarantined"),
        (failing, "failing"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, word)| format!("{n} {word}"))
    .collect();
    if !classes.is_empty() {
        text.push_str(&format!(" ({})", classes.join(", ")));
    }
    Some(text)
}

/// "Blocking failures:\n• Checkout rejects expired card: expected …\n… and 3 more".
fn failures(s: &Subject<'_>) -> Option<String> {
    if s.blocking.is_empty() {
        return None;
    }
    let mut lines = vec!["Blocking failures:".to_owned()];
    for (title, error) in s.blocking.iter().take(MAX_LISTED) {
        let error: String = error.chars().take(MAX_HEADLINE_CHARS).collect();
        lines.push(format!("• {title}: {error}"));
    }
    if s.blocking.len() > MAX_LISTED {
        lines.push(format!("and {} more", s.blocking.len() - MAX_LISTED));
    }
    Some(lines.join("\n"))
}

/// "850 ms", "3.4 s", "2 m 05 s", "1 h 02 m", as the widget writes durations.
pub(super) fn duration(ms: i64) -> String {
    let ms = ms.max(0);
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        60_000..3_600_000 => format!("{} m {:02} s", ms / 60_000, (ms / 1000) % 60),
        _ => format!("{} h {:02} m", ms / 3_600_000, (ms / 60_000) % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_the_widget() {
        let check = |ms, text: &str| assert_eq!(duration(ms), text);
        check(850, "850 ms");
        check(3_400, "3.4 s");
        check(125_000, "2 m 05 s");
        check(3_720_000, "1 h 02 m");
    }

    fn subject(blocking: usize) -> Subject<'static> {
        Subject {
            event: NotifyEvent::Failed,
            project_id: "p1",
            project_name: "Web shop",
            run_id: Some("r1"),
            job_id: "j1",
            title: "Nightly".into(),
            preset: Some("Nightly"),
            started_by: "ana@corp",
            duration_ms: Some(1_500),
            url: Some("https://runboard.example/p/p1/runs/r1".into()),
            verdict: None,
            blocking: (0..blocking)
                .map(|i| (format!("test {i}"), "boom".into()))
                .collect(),
        }
    }

    /// Ten failures by name, then how many more.
    #[test]
    fn long_failure_lists_are_cut_at_ten() {
        let text = failures(&subject(13)).unwrap();
        assert!(text.contains("• test 9: boom"));
        assert!(!text.contains("test 10"));
        assert!(text.ends_with("and 3 more"));
        assert_eq!(failures(&subject(0)), None);
    }

    /// Teams gets a message with one Adaptive Card; Slack plain-text blocks and a button.
    #[test]
    fn chat_bodies_have_their_platform_shape() {
        let s = subject(2);
        let teams = body(ChannelKind::Teams, &s);
        let card = &teams["attachments"][0];
        assert_eq!(
            card["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        assert_eq!(card["content"]["type"], "AdaptiveCard");
        assert_eq!(
            card["content"]["actions"][0]["url"],
            "https://runboard.example/p/p1/runs/r1"
        );
        let slack = body(ChannelKind::Slack, &s);
        let blocks = slack["blocks"].as_array().unwrap();
        assert_eq!(blocks[0]["type"], "header");
        assert!(blocks.iter().all(|b| b["text"]["type"] != "mrkdwn"));
        assert_eq!(blocks.last().unwrap()["elements"][0]["type"], "button");
    }
}
