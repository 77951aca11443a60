//! This browser's remembered jobs, one [`JobBook`] per project in localStorage: the
//! start view remembers the jobs it starts, the jobs view follows them, and the run
//! view notes when a job's report is final. Views share this state here rather than
//! through one another.

use crate::{
    browser,
    logic::jobs::{JobBook, Outcome},
};

fn storage_key(project: &str) -> String {
    format!("runboard.jobs.{project}")
}

/// This browser's remembered jobs of `project`.
pub(crate) fn load_book(project: &str) -> JobBook {
    JobBook::from_storage(browser::storage_get(&storage_key(project)).as_deref())
}

/// Remembers this browser's jobs of `project`.
pub(crate) fn save_book(project: &str, book: &JobBook) {
    browser::storage_set(&storage_key(project), &book.to_storage());
}

/// Notes that the report of `job_id` is final, so the jobs view stops following the
/// job if its status is one the guide does not document.
pub(crate) fn report_final(project: &str, job_id: &str) {
    let mut book = load_book(project);
    if book.report_final(job_id) {
        save_book(project, &book);
    }
}

/// Notes how the run of `job_id` ended, for the job's row.
pub(crate) fn note_outcome(project: &str, job_id: &str, outcome: Outcome) {
    let mut book = load_book(project);
    if book.note_outcome(job_id, outcome) {
        save_book(project, &book);
    }
}
