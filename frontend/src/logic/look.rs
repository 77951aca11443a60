//! How a status looks: always an icon, a word and a colour tone together, so status is
//! never told by colour alone.

use runboard_shared::{JobStatus, TestStatus};

/// The colour family of a status (a CSS class `rb-tone-…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tone {
    /// Green.
    Passed,
    /// Red.
    Failed,
    /// Grey.
    Skipped,
    /// Blue, gently animated.
    Running,
    /// Neutral.
    Scheduled,
    /// Amber: waiting on something outside the run.
    Waiting,
    /// A neutral colour of its own: a status the guide does not document.
    Other,
}

impl Tone {
    /// The CSS class.
    pub(crate) fn class(self) -> &'static str {
        match self {
            Self::Passed => "rb-tone-passed",
            Self::Failed => "rb-tone-failed",
            Self::Skipped => "rb-tone-skipped",
            Self::Running => "rb-tone-running",
            Self::Scheduled => "rb-tone-scheduled",
            Self::Waiting => "rb-tone-waiting",
            Self::Other => "rb-tone-other",
        }
    }
}

/// Icon, word and tone of a status chip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Look {
    /// A one-character symbol.
    pub(crate) icon: &'static str,
    /// The word shown beside it.
    pub(crate) word: String,
    /// Its colour family.
    pub(crate) tone: Tone,
}

fn look(icon: &'static str, word: &str, tone: Tone) -> Look {
    Look {
        icon,
        word: word.to_owned(),
        tone,
    }
}

/// An undocumented status is shown verbatim; a missing one (`null`) as "Unknown".
fn unknown_if_empty(status: &str) -> &str {
    if status.is_empty() { "Unknown" } else { status }
}

/// A test's status.
pub(crate) fn test(status: &TestStatus) -> Look {
    match status {
        TestStatus::Passed => look("✓", "Passed", Tone::Passed),
        TestStatus::Failed => look("✕", "Failed", Tone::Failed),
        TestStatus::Skipped => look("–", "Skipped", Tone::Skipped),
        TestStatus::Running => look("●", "Running", Tone::Running),
        TestStatus::Scheduled => look("○", "Scheduled", Tone::Scheduled),
        TestStatus::Other(s) => look("?", unknown_if_empty(s), Tone::Other),
    }
}

/// A job's status; `None` before the first answer.
pub(crate) fn job(status: Option<&JobStatus>) -> Look {
    match status {
        None => look("○", "Starting", Tone::Scheduled),
        Some(JobStatus::Pending) => look("○", "Queued", Tone::Scheduled),
        Some(JobStatus::PendingAgentConnection) => look("◔", "Waiting", Tone::Waiting),
        Some(JobStatus::InProgress) => look("●", "Running", Tone::Running),
        Some(JobStatus::Success) => look("✓", "Success", Tone::Passed),
        Some(JobStatus::Failed) => look("✕", "Failed", Tone::Failed),
        Some(JobStatus::Other(s)) => look("?", unknown_if_empty(s), Tone::Other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_icon_word_and_tone() {
        for status in TestStatus::KNOWN {
            let l = test(status);
            assert!(!l.icon.is_empty() && l.word == status.as_str(), "{status}");
        }
        assert_eq!(test(&TestStatus::Failed).tone, Tone::Failed);
        assert_eq!(
            job(Some(&JobStatus::PendingAgentConnection)).word,
            "Waiting"
        );
        assert_eq!(job(None).word, "Starting");
        let blocked = test(&TestStatus::Other("Blocked".into()));
        assert_eq!(
            (blocked.icon, blocked.word.as_str(), blocked.tone),
            ("?", "Blocked", Tone::Other)
        );
        assert_eq!(job(Some(&JobStatus::Other(String::new()))).word, "Unknown");
    }
}
