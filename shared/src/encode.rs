//! The JSON the widget writes (its requests, its messages to a portal, its stored jobs)
//! without serde ([`ToJson`]): byte for byte what `serde_json::to_string` writes for the
//! same values, which the tests check, for a fraction of the wasm (serde's serializer is
//! compiled per type and field; frontend/README.md, "Size"). The proxy and the tests
//! keep writing with serde.

use crate::{
    ExecuteRequest, JobsRequest, NewRule, PortalEvent, PortalMessage, RuleEdit, RunFinished,
    Selector, rules::RuleFields, selector::EXECUTE_ACTION,
};

/// A type written as JSON text.
pub trait ToJson {
    /// Appends the JSON text of `self` to `out`.
    fn write_json(&self, out: &mut String);

    /// The JSON text of `self`.
    fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }
}

/// Appends `text` as a JSON string, escaped as serde_json escapes it: `"`, `\` and the
/// control characters, the common ones by letter.
pub fn write_str(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let n = u32::from(c) as usize;
                out.push_str("\\u00");
                out.push(char::from(HEX[n >> 4]));
                out.push(char::from(HEX[n & 0xf]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Writes one object's members in order, with the commas between them.
pub struct Members<'o> {
    out: &'o mut String,
    empty: bool,
}

impl<'o> Members<'o> {
    /// Opens an object in `out`.
    pub fn open(out: &'o mut String) -> Self {
        out.push('{');
        Self { out, empty: true }
    }

    /// Starts the member `name`; its value is written to the returned text next.
    pub fn name(&mut self, name: &str) -> &mut String {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        write_str(self.out, name);
        self.out.push(':');
        self.out
    }

    /// A member whose value is a string.
    pub fn str(&mut self, name: &str, value: &str) {
        write_str(self.name(name), value);
    }

    /// A member whose value is a string or `null`.
    pub fn opt_str(&mut self, name: &str, value: Option<&str>) {
        match value {
            Some(value) => self.str(name, value),
            None => self.name(name).push_str("null"),
        }
    }

    /// A member whose value is a number, a boolean or other text written as is.
    pub fn plain(&mut self, name: &str, value: impl std::fmt::Display) {
        use std::fmt::Write;
        let out = self.name(name);
        // Writing to a `String` cannot fail.
        let _ = write!(out, "{value}");
    }

    /// A member whose value is a list of strings.
    pub fn strs<'s>(&mut self, name: &str, values: impl IntoIterator<Item = &'s str>) {
        let out = self.name(name);
        out.push('[');
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_str(out, value);
        }
        out.push(']');
    }

    /// Closes the object.
    pub fn close(self) {
        self.out.push('}');
    }
}

/// Writes each item with `write`, as a JSON list.
pub fn write_list<T>(out: &mut String, items: &[T], write: impl Fn(&T, &mut String)) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write(item, out);
    }
    out.push(']');
}

impl ToJson for ExecuteRequest {
    /// `{"action":"execute", the selector's one field, "agentName" when there is one}`.
    fn write_json(&self, out: &mut String) {
        let mut object = Members::open(out);
        object.str("action", EXECUTE_ACTION);
        match &self.selector {
            Selector::Tests(ids) => object.strs("tests", ids.iter().map(|id| id.as_str())),
            Selector::Feature(id) | Selector::TestSuite(id) | Selector::Test(id) => {
                object.str(self.selector.field(), id.as_str());
            }
        }
        if let Some(agent) = &self.agent_name {
            object.str("agentName", agent.as_str());
        }
        object.close();
    }
}

impl ToJson for JobsRequest {
    /// `{"jobIds":[…]}`, or `{}` for every active job.
    fn write_json(&self, out: &mut String) {
        let mut object = Members::open(out);
        if let Some(ids) = &self.job_ids {
            object.strs("jobIds", ids.iter().map(|id| id.as_str()));
        }
        object.close();
    }
}

impl ToJson for PortalMessage {
    /// `{"runboard":{"type":…, the event's fields}}`.
    fn write_json(&self, out: &mut String) {
        let mut message = Members::open(out);
        let mut event = Members::open(message.name("runboard"));
        match &self.runboard {
            PortalEvent::Resize { height } => {
                event.str("type", "resize");
                event.plain("height", height);
            }
            PortalEvent::Finished(run) => {
                event.str("type", "finished");
                finished(&mut event, run);
            }
        }
        event.close();
        message.close();
    }
}

impl ToJson for NewRule {
    /// The body of `POST /runboard/rules/{projId}`: the rule's fields in `RuleFields`'
    /// order, absent ones left out.
    fn write_json(&self, out: &mut String) {
        let fields = RuleFields::from(self.clone());
        let mut object = Members::open(out);
        let texts = [
            ("kind", &fields.kind),
            ("testId", &fields.test_id),
            ("testSuiteId", &fields.test_suite_id),
            ("featureId", &fields.feature_id),
            ("match", &fields.pattern),
        ];
        for (name, value) in texts {
            if let Some(value) = value {
                object.str(name, value);
            }
        }
        if let Some(regex) = fields.regex {
            object.plain("regex", regex);
        }
        let texts = [
            ("until", &fields.until),
            ("reason", &fields.reason),
            ("note", &fields.note),
            ("link", &fields.link),
        ];
        for (name, value) in texts {
            if let Some(value) = value {
                object.str(name, value);
            }
        }
        if let Some(blocks) = fields.blocks {
            object.plain("blocks", blocks);
        }
        object.close();
    }
}

impl ToJson for RuleEdit {
    /// The body of `PATCH /runboard/rules/{projId}/{ruleId}`, in serde's order (`until`,
    /// `reason`, `link`, `note`, `blocks`), absent ones left out; no link any more is `""`.
    fn write_json(&self, out: &mut String) {
        let mut object = Members::open(out);
        if let Some(until) = self.until {
            object.str("until", &until.to_string());
        }
        if let Some(reason) = &self.reason {
            object.str("reason", reason);
        }
        if let Some(link) = &self.link {
            object.str("link", link.as_deref().unwrap_or_default());
        }
        if let Some(note) = &self.note {
            object.str("note", note);
        }
        if let Some(blocks) = self.blocks {
            object.plain("blocks", blocks);
        }
        object.close();
    }
}

fn finished(event: &mut Members<'_>, run: &RunFinished) {
    event.str("project", &run.project);
    event.str("runId", &run.run_id);
    event.str("status", run.status.as_str());
    event.str("outcome", &run.outcome);
    event.plain("total", run.total);
    event.plain("passed", run.passed);
    event.plain("failed", run.failed);
    event.plain("skipped", run.skipped);
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde::Serialize;

    use super::*;
    use crate::{AgentName, Id, JobId, RunStatus};

    /// `to_json` writes exactly what serde_json writes.
    fn same<T: Serialize + ToJson>(value: &T) {
        assert_eq!(value.to_json(), serde_json::to_string(value).unwrap());
    }

    fn id(text: &str) -> Id {
        Id::parse("id", text).unwrap()
    }

    #[test]
    fn requests_are_written_as_serde_writes_them() {
        let agent = Some(AgentName::parse("agent-1").unwrap());
        for selector in [
            Selector::Feature(id("f1")),
            Selector::TestSuite(id("s1")),
            Selector::Test(id("t1")),
            Selector::Tests(vec![id("t1"), id("t2")]),
        ] {
            same(&ExecuteRequest::new(selector.clone(), None));
            same(&ExecuteRequest::new(selector, agent.clone()));
        }
        same(&JobsRequest { job_ids: None });
        same(&JobsRequest {
            job_ids: Some(vec![]),
        });
        same(&JobsRequest {
            job_ids: Some(vec![
                JobId::parse("j1").unwrap(),
                JobId::parse("j2").unwrap(),
            ]),
        });
    }

    #[test]
    fn rules_are_written_as_serde_writes_them() {
        let bodies = [
            serde_json::json!({"kind": "quarantine", "featureId": "f1", "until": "2026-05-01",
                "reason": "r \"quoted\"\n", "link": "https://x.example/?a=1&b"}),
            serde_json::json!({"kind": "quarantine", "testSuiteId": "s", "until": "2026-05-01", "reason": "r"}),
            serde_json::json!({"kind": "known", "match": "a.*b", "regex": true, "note": "", "blocks": false}),
            serde_json::json!({"kind": "known", "testId": "t", "match": "Ünïcode ✕", "link": "http://h"}),
        ];
        for body in bodies {
            let rule: NewRule = serde_json::from_value(body).unwrap();
            same(&rule);
        }
        let edits = [
            serde_json::json!({"until": "2026-05-01", "reason": "r \"q\"", "link": ""}),
            serde_json::json!({"link": "https://x.example/?a=1&b", "note": "n", "blocks": false}),
        ];
        for body in edits {
            let edit: RuleEdit = serde_json::from_value(body).unwrap();
            same(&edit);
        }
    }

    proptest! {
        #[test]
        fn any_text_is_escaped_as_serde_escapes_it(text in any::<String>()) {
            let mut out = String::new();
            write_str(&mut out, &text);
            prop_assert_eq!(out, serde_json::to_string(&text).unwrap());
        }

        #[test]
        fn portal_messages_are_written_as_serde_writes_them(
            height in any::<u32>(),
            texts in prop::array::uniform4(any::<String>()),
            counts in prop::array::uniform4(any::<u64>()),
        ) {
            same(&PortalMessage::resize(height));
            let [project, run_id, status, outcome] = texts;
            let [total, passed, failed, skipped] = counts;
            same(&PortalMessage::finished(RunFinished {
                project,
                run_id,
                status: RunStatus::parse(&status),
                outcome,
                total,
                passed,
                failed,
                skipped,
            }));
        }
    }
}
