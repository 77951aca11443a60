//! The Rules page's "Edit…" form (issue 21): a stored rule's fields that may change (a
//! quarantine's last day, reason and link; a known issue's note, link and whether it
//! blocks), opened with the rule's own values, turned into a `RuleEdit` holding only what
//! the person changed, and checked as the server checks it (shared's
//! `NewRule::edited` and `check_until`) before anything is sent.

use runboard_shared::{Day, NewRule, RuleEdit, ValidationError};

use crate::logic::triage::{FieldError, place};

/// The fields the form shows, the JSON names a refusal may name.
pub(crate) const FIELDS: &[&str] = &["until", "reason", "link", "note", "blocks"];

/// The form as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EditForm {
    /// A quarantine's last day, `YYYY-MM-DD` (empty for a known issue).
    pub(crate) until: String,
    /// A quarantine's reason, a known issue's note.
    pub(crate) text: String,
    /// The ticket (empty: none).
    pub(crate) link: String,
    /// Whether a known issue's failures block (a quarantine's never do).
    pub(crate) blocks: bool,
}

impl EditForm {
    /// The form as it opens: the rule's own values.
    pub(crate) fn of(rule: &NewRule) -> Self {
        Self {
            until: rule.until().map(|d| d.to_string()).unwrap_or_default(),
            text: rule.reason().to_owned(),
            link: rule.link().unwrap_or_default().to_owned(),
            blocks: rule.blocks(),
        }
    }

    /// The edit of `rule` this form asks for: only the fields that differ from the
    /// rule's; or the first field that is wrong (also when nothing changed, said for the
    /// whole form). `max_days` is the longest quarantine the server allows.
    pub(crate) fn edit(
        &self,
        rule: &NewRule,
        today: Day,
        max_days: u32,
    ) -> Result<RuleEdit, FieldError> {
        let start = Self::of(rule);
        let changed = |now: &str, was: &str| (now.trim() != was).then(|| now.trim().to_owned());
        let text = changed(&self.text, &start.text);
        let mut edit = RuleEdit {
            link: changed(&self.link, &start.link).map(|l| Some(l).filter(|l| !l.is_empty())),
            ..RuleEdit::default()
        };
        match rule {
            NewRule::Quarantine(_) => {
                if let Some(until) = changed(&self.until, &start.until) {
                    edit.until = Some(Day::parse("until", &until).map_err(refusal)?);
                }
                edit.reason = text;
            }
            NewRule::Known(_) => {
                edit.note = text;
                edit.blocks = (self.blocks != start.blocks).then_some(self.blocks);
            }
        }
        if edit == RuleEdit::default() {
            return Err(place("Nothing changed.", FIELDS));
        }
        if let Some(link) = edit.link.as_ref().and_then(Option::as_deref) {
            runboard_shared::rules::check_link("link", link).map_err(refusal)?;
        }
        let edited = rule.edited(&edit).map_err(refusal)?;
        if edit.until.is_some() {
            edited.check_until(today, max_days).map_err(refusal)?;
        }
        Ok(edit)
    }
}

/// A check's refusal next to the field it names.
fn refusal(error: ValidationError) -> FieldError {
    place(&error.to_string(), FIELDS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(body: &str) -> NewRule {
        serde_json::from_str(body).unwrap()
    }

    fn quarantine() -> NewRule {
        rule(r#"{"kind":"quarantine","testId":"t1","until":"2026-05-03","reason":"flaky"}"#)
    }

    fn today() -> Day {
        Day::parse("until", "2026-05-01").unwrap()
    }

    #[test]
    fn only_what_changed_is_sent() {
        let q = quarantine();
        let form = EditForm {
            until: "2026-05-20".to_owned(),
            ..EditForm::of(&q)
        };
        let edit = form.edit(&q, today(), 30).unwrap();
        assert_eq!(
            edit.until.map(|d| d.to_string()).as_deref(),
            Some("2026-05-20")
        );
        assert_eq!((edit.reason, edit.link, edit.note), (None, None, None));

        let known = rule(r#"{"kind":"known","match":"x","link":"https://t.example/1"}"#);
        let form = EditForm {
            link: " ".to_owned(),
            blocks: false,
            ..EditForm::of(&known)
        };
        let edit = form.edit(&known, today(), 30).unwrap();
        assert_eq!((edit.link, edit.blocks), (Some(None), Some(false)));
    }

    #[test]
    fn wrong_or_empty_edits_are_refused_next_to_their_field() {
        let q = quarantine();
        let check = |form: EditForm, field: &str| {
            let error = form.edit(&q, today(), 30).unwrap_err();
            assert_eq!(error.field, field, "{error:?}");
        };
        check(EditForm::of(&q), "");
        let of = || EditForm::of(&q);
        check(
            EditForm {
                until: "2026-04-30".into(),
                ..of()
            },
            "until",
        );
        check(
            EditForm {
                until: "2026-07-01".into(),
                ..of()
            },
            "until",
        );
        check(
            EditForm {
                until: "May".into(),
                ..of()
            },
            "until",
        );
        check(
            EditForm {
                text: " ".into(),
                ..of()
            },
            "reason",
        );
        check(
            EditForm {
                link: "ftp://x".into(),
                ..of()
            },
            "link",
        );
    }
}
