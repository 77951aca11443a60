//! Applying a live stream's `change` event to the report the view holds: the changed
//! tests replace theirs in place (new ones are appended) and the counts and run status
//! are taken as sent, so the table's filter, sort, scroll and expanded rows stay.

use std::collections::HashMap;

use runboard_shared::TestRun;

/// Applies `change` (a `change` event's data read as a partial report: `statuses`,
/// `status`, `tests` holding only the changed tests) to `report`.
pub(crate) fn apply(report: &mut TestRun, change: TestRun) {
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

    fn read(json: &str) -> TestRun {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn changed_tests_replace_theirs_and_new_ones_are_appended() {
        let mut report = read(
            r#"{"runId":"r","title":"Nightly","status":"Running",
                "statuses":[{"status":"Running","count":2}],
                "tests":[{"_id":"a","title":"A","status":"Running"},
                         {"_id":"b","title":"B","status":"Queued"}]}"#,
        );
        let change = read(
            r#"{"status":"Running","statuses":[{"status":"Passed","count":1},{"status":"Running","count":2}],
                "tests":[{"_id":"a","title":"A","status":"Passed"},
                         {"_id":"c","title":"C","status":"Running"}]}"#,
        );
        apply(&mut report, change);
        assert_eq!(
            report.title, "Nightly",
            "fields a change does not carry stay"
        );
        assert_eq!(report.run_id, "r");
        let tests: Vec<(&str, &str)> = report
            .tests
            .iter()
            .map(|t| (t.id.as_str(), t.status.as_str()))
            .collect();
        assert_eq!(tests, [("a", "Passed"), ("b", "Queued"), ("c", "Running")]);
        assert_eq!(report.statuses.len(), 2);
    }
}
