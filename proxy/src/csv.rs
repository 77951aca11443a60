//! CSV fields (RFC 4180), the one quoting rule of every CSV the proxy serves: the
//! ledger's history and the run report's export.

/// One CSV field: a leading `'` when a spreadsheet would take it for a formula (it
/// starts with `=`, `+`, `-`, `@`, tab or CR), so opening an export never runs what a
/// title or a user name says; then quoted when it holds a separator, a quote or a line
/// break, or starts or ends with a space.
pub(crate) fn field(value: &str) -> String {
    let defused = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if defused.contains([',', '"', '\n', '\r'])
        || defused.starts_with(' ')
        || defused.ends_with(' ')
    {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        let check = |input: &str, expected: &str| assert_eq!(field(input), expected, "{input:?}");
        check("ann@example.com", "ann@example.com");
        check("a,b", "\"a,b\"");
        check("say \"hi\"", "\"say \"\"hi\"\"\"");
        check("=cmd()", "'=cmd()");
        check("-1,2", "\"'-1,2\"");
        check(" padded ", "\" padded \"");
        check("", "");
    }
}
