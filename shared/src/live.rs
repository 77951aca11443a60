//! The live report stream's event names (`GET /runboard/live/{projId}/{runId}`,
//! Server-Sent Events): the proxy writes them and the widget listens for them, so both
//! take them from here, and [`apply_change`] is how a `change` event updates the report
//! a viewer holds (the widget and `runboard run` alike).

use std::{collections::HashMap, fmt};

use crate::TestRun;

/// The name of one event on a live report stream (its `event:` line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LiveEventName {
    /// The whole report, as the platform sent it: the first event, or after a gap.
    Report,
    /// Only what changed since the previous event, as a partial report.
    Change,
    /// The final report; the server says nothing more.
    Final,
    /// The report the viewer holds is final: the `change`s before it led there (or it
    /// resumed at the final report). Data `{}`; the server says nothing more. Sent
    /// instead of a whole `final` to a viewer that is up to date.
    End,
    /// The server could not read the run: the data is the JSON error body
    /// (`{"error":{"code","message"}}`), and the stream ends.
    Failure,
    /// A heartbeat after a quiet spell (data `{}`), so a viewer can tell a quiet stream
    /// from a stuck one.
    Ping,
}

impl LiveEventName {
    /// Every event name, in the order a stream may send them.
    pub const ALL: [Self; 6] = [
        Self::Report,
        Self::Change,
        Self::Final,
        Self::End,
        Self::Failure,
        Self::Ping,
    ];

    /// The wire spelling, as in `event: report`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Report => "report",
            Self::Change => "change",
            Self::Final => "final",
            Self::End => "end",
            Self::Failure => "failure",
            Self::Ping => "ping",
        }
    }

    /// The event named `name`, if it is one of Runboard's.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|event| event.as_str() == name)
    }
}

impl fmt::Display for LiveEventName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Applies `change` (a `change` event's data read as a partial report: `status`,
/// `statuses`, `tests` holding only the changed tests) to `report`: changed tests replace
/// theirs in place and new ones are appended, so a view's filter, sort, scroll and open
/// rows stay; the counts and the run status are taken as sent.
pub fn apply_change(report: &mut TestRun, change: TestRun) {
    report.status = change.status;
    report.statuses = change.statuses;
    let place: HashMap<String, usize> = report
        .tests
        .iter()
        .enumerate()
        .map(|(index, test)| (test.id.clone(), index))
        .collect();
    for test in change.tests {
        match place.get(&test.id) {
            Some(&index) => report.tests[index] = test,
            None => report.tests.push(test),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_replaces_its_tests_in_place_and_appends_new_ones() {
        let read = |json: &str| serde_json::from_str::<TestRun>(json).unwrap();
        let mut report = read(
            r#"{"runId":"r","title":"Nightly","status":"Running",
                "statuses":[{"status":"Running","count":2}],
                "tests":[{"_id":"a","title":"A","status":"Running"},
                         {"_id":"b","title":"B","status":"Queued"}]}"#,
        );
        let change = read(
            r#"{"status":"Completed","statuses":[{"status":"Passed","count":1},{"status":"Failed","count":2}],
                "tests":[{"_id":"a","title":"A","status":"Failed"},
                         {"_id":"c","title":"C","status":"Passed"}]}"#,
        );
        apply_change(&mut report, change);
        let tests: Vec<(&str, &str)> = report
            .tests
            .iter()
            .map(|t| (t.id.as_str(), t.status.as_str()))
            .collect();
        assert_eq!(tests, [("a", "Failed"), ("b", "Queued"), ("c", "Passed")]);
        assert_eq!(
            (
                report.title.as_str(),
                report.run_id.as_str(),
                report.status.as_str()
            ),
            ("Nightly", "r", "Completed"),
            "fields a change does not carry stay"
        );
        assert_eq!(report.statuses.len(), 2);
    }

    #[test]
    fn names_are_the_wire_words_and_parse_back() {
        let words: Vec<&str> = LiveEventName::ALL.iter().map(|e| e.as_str()).collect();
        assert_eq!(
            words,
            ["report", "change", "final", "end", "failure", "ping"]
        );
        for event in LiveEventName::ALL {
            assert_eq!(LiveEventName::parse(event.as_str()), Some(event));
        }
        assert_eq!(
            LiveEventName::parse("error"),
            None,
            "the browser's own event"
        );
    }
}
