//! The end of `runboard run`: the verdict headline, the failures that fail the gate
//! (each with its error headline and a link to it in the widget) and the report's link;
//! and which failures count for each `--gate`.

use std::io::Write;

use runboard_shared::{
    FailureClass, ProjectId, RunId, RunPage, TestRun, Verdict, VerdictFailure, error_text, url,
};

use crate::Gate;

/// The failures that fail `gate`, in the verdict's order.
pub(crate) fn failing(verdict: &Verdict, gate: Gate) -> Vec<&VerdictFailure> {
    verdict
        .failures
        .iter()
        .filter(|f| match gate {
            Gate::Blocking => f.blocks,
            Gate::Any => true,
            Gate::New => f.class == FailureClass::New,
        })
        .collect()
}

/// Where people see the run: the widget's report page on `base` (the `--server`
/// address), optionally opened at one test.
pub(crate) fn link(base: &str, project: &ProjectId, run: &RunId, test: Option<&str>) -> String {
    let page = RunPage {
        project: project.clone(),
        run: run.clone(),
    };
    match test {
        Some(test) => format!("{base}{}?test={}", page.path(), url::encode(test)),
        None => format!("{base}{}", page.path()),
    }
}

/// What one run's end says, for [`write`].
pub(crate) struct End<'a> {
    pub(crate) base: &'a str,
    pub(crate) project: &'a ProjectId,
    pub(crate) run: &'a RunId,
    pub(crate) verdict: &'a Verdict,
    pub(crate) report: &'a TestRun,
    pub(crate) gate: Gate,
}

/// Writes the headline, the failures that fail the gate and the report's link.
pub(crate) fn write(ui: &mut dyn Write, end: &End<'_>) -> std::io::Result<()> {
    writeln!(ui, "{}", end.verdict.headline())?;
    let failing = failing(end.verdict, end.gate);
    if !failing.is_empty() {
        let title = match end.gate {
            Gate::Blocking => "Blocking failures",
            Gate::Any => "Failures",
            Gate::New => "New failures",
        };
        writeln!(ui, "{title}:")?;
    }
    for failure in failing {
        let error = end
            .report
            .tests
            .iter()
            .find(|t| t.id == failure.test_id)
            .and_then(|t| t.error.as_ref())
            .map(|e| error_text(e).0)
            .unwrap_or_else(|| "failed without an error message".to_owned());
        writeln!(ui, "  ✕ {} [{}]: {error}", failure.title, failure.class)?;
        let to = link(end.base, end.project, end.run, Some(&failure.test_id));
        writeln!(ui, "    {to}")?;
    }
    writeln!(ui, "Report: {}", link(end.base, end.project, end.run, None))
}

#[cfg(test)]
mod tests {
    use runboard_shared::{VerdictCounts, VerdictStatus};

    use super::*;

    fn failure(id: &str, class: FailureClass, blocks: bool) -> VerdictFailure {
        VerdictFailure {
            test_id: id.into(),
            title: format!("Test {id}"),
            class,
            blocks,
            rule: None,
            owners: Vec::new(),
        }
    }

    fn verdict() -> Verdict {
        Verdict {
            run_id: "r1".into(),
            status: VerdictStatus::Failed,
            blocking: 2,
            counts: VerdictCounts {
                total: 5,
                passed: 2,
                failed: 3,
                new: 1,
                quarantined: 1,
                failing: 1,
                ..VerdictCounts::default()
            },
            failures: vec![
                failure("a", FailureClass::New, true),
                failure("b", FailureClass::Quarantined, false),
                failure("c", FailureClass::Failing, true),
            ],
        }
    }

    #[test]
    fn each_gate_counts_its_failures() {
        let verdict = verdict();
        let ids = |gate| -> Vec<&str> {
            failing(&verdict, gate)
                .iter()
                .map(|f| f.test_id.as_str())
                .collect()
        };
        assert_eq!(ids(Gate::Blocking), ["a", "c"]);
        assert_eq!(ids(Gate::Any), ["a", "b", "c"]);
        assert_eq!(ids(Gate::New), ["a"]);
    }

    #[test]
    fn the_end_names_each_failure_with_its_error_and_link() {
        let report: TestRun = serde_json::from_str(
            r#"{"runId":"r1","status":"Completed","tests":[
                {"_id":"a","title":"Test a","status":"Failed","error":"Expected 3\n at x"}]}"#,
        )
        .unwrap();
        let project = ProjectId::parse("p1").unwrap();
        let run = RunId::parse("r1").unwrap();
        let verdict = verdict();
        let mut ui = Vec::new();
        let end = End {
            base: "https://rb.example",
            project: &project,
            run: &run,
            verdict: &verdict,
            report: &report,
            gate: Gate::Blocking,
        };
        write(&mut ui, &end).unwrap();
        assert_eq!(
            String::from_utf8(ui).unwrap(),
            "✕ 2 blocking · 3 of 5 failed\n\
             Blocking failures:\n  \
               ✕ Test a [new]: Expected 3\n    \
                 https://rb.example/p/p1/runs/r1?test=a\n  \
               ✕ Test c [failing]: failed without an error message\n    \
                 https://rb.example/p/p1/runs/r1?test=c\n\
             Report: https://rb.example/p/p1/runs/r1\n"
        );
    }
}
