//! The triage dialogs' rules (issue 21): a failed row's "Quarantine…" and "Mark as known
//! issue…" forms, checked as the server checks them (shared's `rules.rs`) before
//! anything is sent, the defaults they open with, and where a server's `400` message
//! goes: next to the field it names.

use runboard_shared::{
    Day, Id, KnownIssue, NewRule, Quarantine, Scope,
    rules::{DEFAULT_MAX_QUARANTINE_DAYS, MAX_PATTERN_LEN, MAX_TEXT_LEN, check_link},
};

/// A quarantine lasts a week unless the person says otherwise.
pub(crate) const DEFAULT_QUARANTINE_DAYS: i64 = 7;

/// A message for one field of a form (`field` is the JSON name the server uses), or
/// for the whole form when the server named no field the form has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldError {
    /// `reason`, `link`, `until`, `match`, `note`, or `""` for the form as a whole.
    pub(crate) field: &'static str,
    /// What is wrong, for a person.
    pub(crate) message: String,
}

impl FieldError {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// The "Quarantine…" form of one test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QuarantineForm {
    /// Why (required).
    pub(crate) reason: String,
    /// A ticket (optional, http or https).
    pub(crate) link: String,
    /// The last day, `YYYY-MM-DD` as the date input gives it.
    pub(crate) until: String,
}

impl QuarantineForm {
    /// The form as it opens: no reason, no link, until today + a week.
    pub(crate) fn new(today: Day) -> Self {
        Self {
            reason: String::new(),
            link: String::new(),
            until: today.plus_days(DEFAULT_QUARANTINE_DAYS).to_string(),
        }
    }

    /// The rule for `test_id`, or the first field that is wrong; `max_days` is the
    /// longest quarantine the server allows.
    pub(crate) fn rule(
        &self,
        test_id: &str,
        today: Day,
        max_days: u32,
    ) -> Result<NewRule, FieldError> {
        let reason = self.reason.trim();
        if reason.is_empty() {
            return Err(FieldError::new(
                "reason",
                "Say why this test is quarantined.",
            ));
        }
        too_long("reason", reason, MAX_TEXT_LEN)?;
        let link = link(&self.link)?;
        let until = Day::parse("until", self.until.trim())
            .map_err(|_| FieldError::new("until", "Pick a day (YYYY-MM-DD)."))?;
        let rule = NewRule::Quarantine(Quarantine {
            scope: Scope::Test(test_id_of(test_id)?),
            until,
            reason: reason.to_owned(),
            link,
        });
        rule.check_until(today, max_days)
            .map_err(|e| FieldError::new("until", sentence(&e.problem)))?;
        Ok(rule)
    }
}

/// Which failures a known issue covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KnownScope {
    /// Only this test's.
    ThisTest,
    /// This error in any test.
    Anywhere,
}

/// The "Mark as known issue…" form of one failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KnownForm {
    /// The text the error headline contains.
    pub(crate) pattern: String,
    /// This test, or this error anywhere.
    pub(crate) scope: KnownScope,
    /// What people should know.
    pub(crate) note: String,
    /// A ticket (optional, http or https).
    pub(crate) link: String,
    /// Whether its failures still block (the default: a known bug is still a bug).
    pub(crate) blocks: bool,
}

impl KnownForm {
    /// The form as it opens: the text is the failure's error headline (cut to what the
    /// server accepts), for this test only, still blocking.
    pub(crate) fn new(headline: &str) -> Self {
        Self {
            pattern: headline.trim().chars().take(MAX_PATTERN_LEN).collect(),
            scope: KnownScope::ThisTest,
            note: String::new(),
            link: String::new(),
            blocks: true,
        }
    }

    /// The rule, or the first field that is wrong.
    pub(crate) fn rule(&self, test_id: &str) -> Result<NewRule, FieldError> {
        if self.pattern.trim().is_empty() {
            return Err(FieldError::new(
                "match",
                "Give the error text to recognise.",
            ));
        }
        too_long("match", &self.pattern, MAX_PATTERN_LEN)?;
        let note = self.note.trim();
        too_long("note", note, MAX_TEXT_LEN)?;
        let link = link(&self.link)?;
        let test_id = match self.scope {
            KnownScope::ThisTest => Some(test_id_of(test_id)?),
            KnownScope::Anywhere => None,
        };
        Ok(NewRule::Known(KnownIssue {
            pattern: self.pattern.clone(),
            regex: false,
            test_id,
            note: note.to_owned(),
            link,
            blocks: self.blocks,
        }))
    }
}

/// An optional link: empty is none, anything else must be a web link.
fn link(text: &str) -> Result<Option<String>, FieldError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    check_link("link", text)
        .map_err(|e| FieldError::new("link", sentence(&format!("The link {}", e.problem))))?;
    Ok(Some(text.to_owned()))
}

fn too_long(field: &'static str, text: &str, max: usize) -> Result<(), FieldError> {
    let len = text.chars().count();
    if len > max {
        return Err(FieldError::new(
            field,
            format!("At most {max} characters, please ({len} now)."),
        ));
    }
    Ok(())
}

/// The row's test id as a rule's id; a test id of another shape cannot be ruled on.
fn test_id_of(test_id: &str) -> Result<Id, FieldError> {
    Id::parse("testId", test_id).map_err(|e| {
        FieldError::new(
            "",
            format!("This test's id cannot be used in a rule: {}.", e.problem),
        )
    })
}

/// A problem as a sentence: capital first letter, full stop.
fn sentence(problem: &str) -> String {
    let mut chars = problem.chars();
    let mut out: String = match chars.next() {
        Some(first) if first.is_ascii_lowercase() => {
            first.to_ascii_uppercase().to_string() + chars.as_str()
        }
        _ => problem.to_owned(),
    };
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

/// Where a server's refusal goes: a message `"{field}: {problem}"` naming one of
/// `fields` sits next to that field; anything else is said for the whole form.
pub(crate) fn place(message: &str, fields: &[&'static str]) -> FieldError {
    if let Some((name, problem)) = message.split_once(": ")
        && let Some(field) = fields.iter().find(|f| **f == name)
    {
        return FieldError::new(field, sentence(problem));
    }
    FieldError::new("", sentence(message))
}

/// The latest day a quarantine may last until: from the server's refusal when it said
/// (`"… (until 2027-01-06)"`), else today + the default maximum.
pub(crate) fn latest_until(today: Day, refusal: Option<&str>) -> Day {
    refusal
        .and_then(|m| m.rsplit_once("(until "))
        .and_then(|(_, rest)| rest.get(..10))
        .and_then(|day| Day::parse("until", day).ok())
        .unwrap_or_else(|| today.plus_days(i64::from(DEFAULT_MAX_QUARANTINE_DAYS)))
}

/// The longest quarantine, in days, that `latest` allows from `today` (at least one).
pub(crate) fn max_days(today: Day, latest: Day) -> u32 {
    u32::try_from(today.days_until(latest).max(1)).unwrap_or(DEFAULT_MAX_QUARANTINE_DAYS)
}

/// What a stored rule covers, in words: "test t1", "suite s2", "feature f1", or for a
/// known issue "errors containing “timeout”" (or "matching /…/") and "in test t1".
pub(crate) fn scope_words(rule: &NewRule) -> String {
    match rule {
        NewRule::Quarantine(q) => {
            let what = match q.scope {
                Scope::Test(_) => "test",
                Scope::Suite(_) => "suite",
                Scope::Feature(_) => "feature",
            };
            format!("{what} {}", q.scope.id())
        }
        NewRule::Known(k) => {
            let errors = if k.regex {
                format!("errors matching /{}/", k.pattern)
            } else {
                format!("errors containing “{}”", k.pattern)
            };
            match &k.test_id {
                Some(test) => format!("{errors} in test {test}"),
                None => format!("{errors} in any test"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rules_scope_reads_as_words() {
        let today = day("2026-12-07");
        let q = quarantine("x", "", "2026-12-08")
            .rule("t1", today, 30)
            .unwrap();
        assert_eq!(scope_words(&q), "test t1");
        let mut known = KnownForm::new("timeout");
        assert_eq!(
            scope_words(&known.rule("t1").unwrap()),
            "errors containing “timeout” in test t1"
        );
        known.scope = KnownScope::Anywhere;
        let NewRule::Known(mut k) = known.rule("t1").unwrap() else {
            panic!("a known issue")
        };
        k.regex = true;
        assert_eq!(
            scope_words(&NewRule::Known(k)),
            "errors matching /timeout/ in any test"
        );
        let suite = NewRule::Quarantine(Quarantine {
            scope: Scope::Suite(Id::parse("testSuiteId", "s2").unwrap()),
            until: today,
            reason: "r".to_owned(),
            link: None,
        });
        assert_eq!(scope_words(&suite), "suite s2");
    }

    fn day(text: &str) -> Day {
        Day::parse("until", text).unwrap()
    }

    fn quarantine(reason: &str, link: &str, until: &str) -> QuarantineForm {
        QuarantineForm {
            reason: reason.to_owned(),
            link: link.to_owned(),
            until: until.to_owned(),
        }
    }

    #[test]
    fn a_quarantine_opens_for_a_week() {
        let form = QuarantineForm::new(day("2026-12-28"));
        assert_eq!(form.until, "2027-01-04");
        assert!(form.reason.is_empty() && form.link.is_empty());
    }

    #[test]
    fn a_quarantine_is_checked_as_the_server_checks_it() {
        let today = day("2026-12-07");
        let check = |form: QuarantineForm, field: &str| {
            let err = form.rule("t1", today, 30).unwrap_err();
            assert_eq!(err.field, field, "{err:?}");
            assert!(err.message.ends_with('.'), "{err:?}");
        };
        check(quarantine("  ", "", "2026-12-14"), "reason");
        check(quarantine(&"x".repeat(1001), "", "2026-12-14"), "reason");
        check(quarantine("flaky", "ftp://tickets/1", "2026-12-14"), "link");
        check(quarantine("flaky", "https://", "2026-12-14"), "link");
        check(quarantine("flaky", "", "14/12/2026"), "until");
        check(quarantine("flaky", "", "2026-12-06"), "until");
        check(quarantine("flaky", "", "2027-01-07"), "until");
        let rule = quarantine(" flaky backend ", " https://t/1 ", "2027-01-06")
            .rule("t1", today, 30)
            .unwrap();
        let NewRule::Quarantine(q) = rule else {
            panic!("a quarantine")
        };
        assert_eq!(q.reason, "flaky backend");
        assert_eq!(q.link.as_deref(), Some("https://t/1"));
        assert_eq!(q.until, day("2027-01-06"));
        assert_eq!(q.scope, Scope::Test(Id::parse("testId", "t1").unwrap()));
        // Today itself is allowed; an id the server would refuse is said for the form.
        assert!(
            quarantine("x", "", "2026-12-07")
                .rule("t1", today, 30)
                .is_ok()
        );
        let odd = quarantine("x", "", "2026-12-08")
            .rule("a b", today, 30)
            .unwrap_err();
        assert_eq!(odd.field, "");
    }

    #[test]
    fn a_known_issue_starts_from_the_error_headline() {
        let form = KnownForm::new(&format!("  {}", "e".repeat(250)));
        assert_eq!(form.pattern.chars().count(), MAX_PATTERN_LEN);
        assert_eq!((form.scope, form.blocks), (KnownScope::ThisTest, true));
        let mut form = KnownForm::new("expected \"Declined\", got \"Approved\"");
        let NewRule::Known(k) = form.rule("t1").unwrap() else {
            panic!("a known issue")
        };
        assert_eq!(k.pattern, "expected \"Declined\", got \"Approved\"");
        assert_eq!(k.test_id.as_deref(), Some("t1"));
        assert!(k.blocks && !k.regex && k.link.is_none());
        form.scope = KnownScope::Anywhere;
        form.blocks = false;
        form.note = " see ticket ".to_owned();
        let NewRule::Known(k) = form.rule("t1").unwrap() else {
            panic!("a known issue")
        };
        assert_eq!(
            (k.test_id, k.blocks, k.note.as_str()),
            (None, false, "see ticket")
        );
        form.pattern = " ".to_owned();
        assert_eq!(form.rule("t1").unwrap_err().field, "match");
        form.pattern = "x".repeat(201);
        assert_eq!(form.rule("t1").unwrap_err().field, "match");
        form.pattern = "boom".to_owned();
        form.link = "javascript:alert(1)".to_owned();
        assert_eq!(form.rule("t1").unwrap_err().field, "link");
    }

    #[test]
    fn a_servers_refusal_goes_next_to_the_field_it_names() {
        let fields = ["reason", "link", "until"];
        assert_eq!(
            place(
                "until: 2027-02-01 is 56 days away; a quarantine lasts at most 30 days (until 2027-01-06)",
                &fields
            ),
            FieldError::new(
                "until",
                "2027-02-01 is 56 days away; a quarantine lasts at most 30 days (until 2027-01-06)."
            )
        );
        assert_eq!(place("link: is not a web link", &fields).field, "link");
        // A field the form does not have, or no field: the whole form.
        assert_eq!(place("match: is required", &fields).field, "");
        assert_eq!(
            place("you may not change the rules", &fields),
            FieldError::new("", "You may not change the rules.")
        );
    }

    #[test]
    fn the_latest_day_comes_from_the_servers_answer_when_it_said() {
        let today = day("2026-12-07");
        assert_eq!(latest_until(today, None), day("2027-01-06"));
        let said = "until: 2027-03-01 is 84 days away; a quarantine lasts at most 14 days (until 2026-12-21)";
        assert_eq!(latest_until(today, Some(said)), day("2026-12-21"));
        assert_eq!(
            latest_until(today, Some("until: (until soon)")),
            day("2027-01-06")
        );
        assert_eq!(max_days(today, day("2026-12-21")), 14);
        assert_eq!(max_days(today, today), 1);
    }
}
