//! Which known-issue rule a failure's error headline matches: plain texts through one
//! Aho-Corasick automaton (ASCII case-insensitive), regexes through one `RegexSet`, both
//! built once per rules change (`mod.rs` keeps them until the ledger's rules stamp
//! changes). The oldest matching rule wins; a rule limited to a test matches only that
//! test's failures. The `regex` crate matches in time linear in the headline, and each
//! pattern is refused when it is over 200 characters (`shared`) or compiles to more than
//! [`REGEX_SIZE_LIMIT`] bytes, so no pattern is slow.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::{RegexBuilder, RegexSet, RegexSetBuilder};
use runboard_shared::{KnownIssue, ValidationError};

/// The most memory one compiled regex may take; larger ones are refused as too slow.
pub(crate) const REGEX_SIZE_LIMIT: usize = 256 * 1024;

/// Checks a known issue's regex as it is about to be stored: it compiles within
/// [`REGEX_SIZE_LIMIT`]. Plain texts need no check.
pub(crate) fn check(rule: &KnownIssue) -> Result<(), ValidationError> {
    if !rule.regex {
        return Ok(());
    }
    compile(&rule.pattern).map(|_| ()).map_err(|err| {
        let why = match err {
            regex::Error::CompiledTooBig(_) => {
                "is too complex a regex (it would be slow to match); simplify it".to_owned()
            }
            other => format!("is not a valid regex: {}", first_line(&other.to_string())),
        };
        ValidationError::new("match", why)
    })
}

fn compile(pattern: &str) -> Result<regex::Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
}

/// The regex crate's errors draw the pattern over several lines; the last says why.
fn first_line(text: &str) -> String {
    text.lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("invalid")
        .to_owned()
}

/// The known-issue rules of a project, compiled.
pub(crate) struct Matcher {
    /// The rules in precedence order (oldest first): index → (test it is limited to).
    limits: Vec<Option<String>>,
    /// Plain texts, each with its rule's index.
    texts: Option<AhoCorasick>,
    text_rules: Vec<usize>,
    /// Regexes, each with its rule's index.
    regexes: Option<RegexSet>,
    regex_rules: Vec<usize>,
}

impl Matcher {
    /// Compiles `rules`, oldest first. A stored regex that no longer compiles (written
    /// by another version) matches nothing and is logged, rather than failing verdicts.
    pub(crate) fn new<'a>(rules: impl IntoIterator<Item = &'a KnownIssue>) -> Self {
        let mut limits = Vec::new();
        let (mut texts, mut text_rules) = (Vec::new(), Vec::new());
        let (mut regexes, mut regex_rules) = (Vec::new(), Vec::new());
        for (index, rule) in rules.into_iter().enumerate() {
            limits.push(rule.test_id.as_ref().map(ToString::to_string));
            if !rule.regex {
                texts.push(rule.pattern.as_str());
                text_rules.push(index);
            } else if compile(&rule.pattern).is_ok() {
                regexes.push(rule.pattern.as_str());
                regex_rules.push(index);
            } else {
                tracing::warn!(rule = index, "a stored known-issue regex does not compile");
            }
        }
        let texts = (!texts.is_empty())
            .then(|| {
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .build(&texts)
                    .ok()
            })
            .flatten();
        let regexes = (!regexes.is_empty())
            .then(|| {
                RegexSetBuilder::new(&regexes)
                    .size_limit(REGEX_SIZE_LIMIT.saturating_mul(regexes.len()))
                    .dfa_size_limit(REGEX_SIZE_LIMIT.saturating_mul(regexes.len()))
                    .build()
                    .ok()
            })
            .flatten();
        Self {
            limits,
            texts,
            text_rules,
            regexes,
            regex_rules,
        }
    }

    /// The index (in the order given to [`Matcher::new`]) of the first rule matching a
    /// failure of `test_id` whose error headline is `headline`.
    pub(crate) fn first(&self, test_id: &str, headline: &str) -> Option<usize> {
        let applies = |index: &usize| {
            self.limits[*index]
                .as_deref()
                .is_none_or(|limit| limit == test_id)
        };
        let by_text = self.texts.as_ref().and_then(|texts| {
            texts
                .find_overlapping_iter(headline)
                .map(|m| self.text_rules[m.pattern().as_usize()])
                .filter(applies)
                .min()
        });
        let by_regex = self.regexes.as_ref().and_then(|set| {
            set.matches(headline)
                .into_iter()
                .map(|i| self.regex_rules[i])
                .find(applies)
        });
        by_text.into_iter().chain(by_regex).min()
    }
}

#[cfg(test)]
mod tests {
    use runboard_shared::Id;

    use super::*;

    fn rule(pattern: &str, regex: bool, test: Option<&str>) -> KnownIssue {
        KnownIssue {
            pattern: pattern.to_owned(),
            regex,
            test_id: test.map(|t| Id::parse("testId", t).unwrap()),
            note: String::new(),
            link: None,
            blocks: true,
        }
    }

    #[test]
    fn the_oldest_matching_rule_wins_and_test_limits_apply() {
        let rules = [
            rule("timeout", false, Some("t9")),
            rule(r"^expected \d+", true, None),
            rule("TimeOut 30000ms", false, None),
            rule("Timeout", false, None),
            rule(r"time\s*out", true, None),
        ];
        let matcher = Matcher::new(&rules);
        let check = |test: &str, headline: &str, expected: Option<usize>| {
            assert_eq!(
                matcher.first(test, headline),
                expected,
                "{test}: {headline}"
            );
        };
        check("t9", "Timeout 30000ms exceeded", Some(0));
        check("t1", "Timeout 30000ms exceeded", Some(2));
        check("t1", "a timeout", Some(3));
        check("t1", "time   out", Some(4));
        check("t1", "expected 3, got 4", Some(1));
        check("t1", "no element matched", None);
        assert_eq!(Matcher::new(&[]).first("t1", "anything"), None);
    }

    #[test]
    fn bad_and_oversized_regexes_are_refused_naming_match() {
        for (pattern, why) in [
            ("(unclosed", "not a valid regex"),
            (r"\w{1000}\w{1000}\w{1000}", "too complex"),
            ("a{100000}", ""),
        ] {
            let err = check(&rule(pattern, true, None)).unwrap_err();
            assert_eq!(err.field, "match", "{pattern}");
            assert!(err.problem.contains(why), "{pattern}: {err}");
        }
        assert!(check(&rule("(unclosed", false, None)).is_ok(), "plain text");
        assert!(check(&rule(r"Timeout \d+ms", true, None)).is_ok());
    }
}
