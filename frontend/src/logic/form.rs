//! The advanced start form's rules: scopes, id-list parsing (commas, spaces, newlines),
//! checking as the user types with the shared validation, and deep-link pre-filling.

use runboard_shared::{AgentName, Selector, ValidationError, ids::Id};

/// What the advanced form runs; the `<select data-testid=scope>` option values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// `featureId`.
    Feature,
    /// `testSuiteId`.
    Suite,
    /// `testId`.
    Test,
    /// `tests`, a custom list.
    Tests,
}

impl Scope {
    /// Every scope in the order the picker shows them.
    pub(crate) const ALL: [Scope; 4] = [Scope::Feature, Scope::Suite, Scope::Test, Scope::Tests];

    /// The option value (also the deep-link query key).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Feature => "feature",
            Self::Suite => "suite",
            Self::Test => "test",
            Self::Tests => "tests",
        }
    }

    /// Parses an option value.
    pub(crate) fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// The option's label.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Feature => "Feature",
            Self::Suite => "Test suite",
            Self::Test => "Single test",
            Self::Tests => "Custom list of tests",
        }
    }

    /// The id field's label.
    pub(crate) fn field_label(self) -> &'static str {
        match self {
            Self::Feature => "Feature id",
            Self::Suite => "Test suite id",
            Self::Test => "Test id",
            Self::Tests => "Test ids (separated by commas, spaces or new lines)",
        }
    }
}

/// Splits pasted ids on commas, white space and new lines, dropping empty pieces.
pub(crate) fn split_ids(text: &str) -> Vec<&str> {
    text.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Builds the selector for `scope` from the id field, or says what is wrong in words
/// a person can act on.
pub(crate) fn selector(scope: Scope, text: &str) -> Result<Selector, String> {
    let single = |field: &str| {
        let value = text.trim();
        Id::parse(field, value).map_err(|e| explain(scope, &e))
    };
    match scope {
        Scope::Feature => single("featureId").map(Selector::Feature),
        Scope::Suite => single("testSuiteId").map(Selector::TestSuite),
        Scope::Test => single("testId").map(Selector::Test),
        Scope::Tests => Selector::tests(&split_ids(text)).map_err(|e| explain_list(text, &e)),
    }
}

fn explain(scope: Scope, error: &ValidationError) -> String {
    let label = scope.field_label();
    format!("{label} {}", error.problem)
}

fn explain_list(text: &str, error: &ValidationError) -> String {
    let index = error
        .field
        .strip_prefix("tests[")
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|n| n.parse::<usize>().ok());
    match index {
        Some(i) => {
            let ids = split_ids(text);
            let shown = ids.get(i).copied().unwrap_or_default();
            format!("Test id {} (“{shown}”) {}", i + 1, error.problem)
        }
        None => format!("The list {}", error.problem),
    }
}

/// Checks the optional agent field: empty means "any agent".
pub(crate) fn agent(text: &str) -> Result<Option<AgentName>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    AgentName::parse(text)
        .map(Some)
        .map_err(|e| format!("Agent name {}", e.problem))
}

/// The form's initial values from a deep link (`?suite=…&agent=…`). A link never starts
/// anything by itself; it only fills the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Prefill {
    /// The scope picked.
    pub(crate) scope: Scope,
    /// The id field's text.
    pub(crate) ids: String,
    /// The agent field's text.
    pub(crate) agent: String,
}

impl Prefill {
    /// Reads `feature`, `suite`, `test`, `tests` (comma separated) and `agent` from query
    /// pairs; the first selector key present wins.
    pub(crate) fn from_query(pairs: &[(String, String)]) -> Option<Self> {
        let get = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        let agent = get("agent").unwrap_or_default();
        let picked = Scope::ALL
            .into_iter()
            .find_map(|scope| get(scope.as_str()).map(|ids| (scope, ids)));
        match picked {
            Some((scope, ids)) => {
                let ids = if scope == Scope::Tests {
                    split_ids(&ids).join("\n")
                } else {
                    ids
                };
                Some(Self { scope, ids, agent })
            }
            None if !agent.is_empty() => Some(Self {
                scope: Scope::Suite,
                ids: String::new(),
                agent,
            }),
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_split_on_commas_spaces_and_newlines() {
        let check =
            |text: &str, expected: &[&str]| assert_eq!(split_ids(text), expected, "{text:?}");
        check("", &[]);
        check("a", &["a"]);
        check("a,b , c", &["a", "b", "c"]);
        check("a\nb\r\n\tc,,d ", &["a", "b", "c", "d"]);
        check(" , \n ", &[]);
    }

    #[test]
    fn single_ids_use_the_shared_rules() {
        assert_eq!(
            selector(Scope::Suite, " s1 "),
            Ok(Selector::TestSuite(
                Id::parse("x", "s1").unwrap_or_else(|_| unreachable!())
            ))
        );
        let err = selector(Scope::Feature, "a b").unwrap_err();
        assert!(err.starts_with("Feature id contains ' '"), "{err}");
        assert_eq!(
            selector(Scope::Test, "").unwrap_err(),
            "Test id must not be empty"
        );
        assert!(
            selector(Scope::Test, &"x".repeat(65))
                .unwrap_err()
                .contains("at most 64")
        );
    }

    #[test]
    fn lists_name_the_bad_item() {
        match selector(Scope::Tests, "t1, t2\nt3") {
            Ok(Selector::Tests(ids)) => assert_eq!(ids.len(), 3),
            other => panic!("unexpected {other:?}"),
        }
        let err = selector(Scope::Tests, "t1 t/2").unwrap_err();
        assert!(err.starts_with("Test id 2 (“t/2”) contains '/'"), "{err}");
        let err = selector(Scope::Tests, "t1 t1").unwrap_err();
        assert!(err.contains("repeats t1"), "{err}");
        assert!(
            selector(Scope::Tests, " ")
                .unwrap_err()
                .starts_with("The list must list at least one")
        );
    }

    #[test]
    fn agent_is_optional_but_checked() {
        assert_eq!(agent("  "), Ok(None));
        assert_eq!(
            agent(" staging ").map(|a| a.map(|a| a.to_string())),
            Ok(Some("staging".to_owned()))
        );
        assert!(
            agent("bad\u{7}")
                .unwrap_err()
                .starts_with("Agent name contains a control")
        );
    }

    #[test]
    fn deep_links_prefill_without_starting() {
        let q = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        assert_eq!(Prefill::from_query(&q(&[("embed", "1")])), None);
        assert_eq!(
            Prefill::from_query(&q(&[("suite", "s1"), ("agent", "staging-agent")])),
            Some(Prefill {
                scope: Scope::Suite,
                ids: "s1".into(),
                agent: "staging-agent".into()
            })
        );
        assert_eq!(
            Prefill::from_query(&q(&[("tests", "a,b,c")])),
            Some(Prefill {
                scope: Scope::Tests,
                ids: "a\nb\nc".into(),
                agent: String::new()
            })
        );
        assert_eq!(
            Prefill::from_query(&q(&[("test", "t9")])).map(|p| p.scope),
            Some(Scope::Test)
        );
        assert_eq!(
            Prefill::from_query(&q(&[("feature", "f1")])).map(|p| p.scope),
            Some(Scope::Feature)
        );
    }

    #[test]
    fn scopes_round_trip() {
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
        assert_eq!(Scope::parse("nope"), None);
    }
}
