//! Syntax and type errors of the TOML file, told without quoting a value: `toml`'s own
//! message shows the offending line, and that line may hold a secret someone pasted
//! into the wrong setting. Only the line, the column and the key's name are reported.

/// A message for `err` on `text` that names the place and the key, never a value.
pub(crate) fn describe(text: &str, err: &toml::de::Error) -> String {
    let problem = redact(err.message().lines().next().unwrap_or("invalid TOML"));
    let Some(span) = err.span() else {
        return problem;
    };
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    let source_line = text[line_start..].lines().next().unwrap_or_default();
    match key_of(source_line) {
        Some(key) => format!("line {line}, column {column} (setting `{key}`): {problem}"),
        None => format!("line {line}, column {column}: {problem}"),
    }
}

/// The key of a `key = value` line, when it is a plain (possibly dotted) key.
fn key_of(line: &str) -> Option<&str> {
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    plain.then_some(key)
}

/// `message` with every quoted part (`"…"`, `` `…` ``, `'…'`) replaced by `…`. serde
/// quotes the value it could not use ("invalid type: string \"…\", expected u64"),
/// but names of our own settings ("unknown field `x`") are worth keeping: the key
/// name comes from the file's line instead, outside the quotes.
fn redact(message: &str) -> String {
    if message.starts_with("unknown field") || message.starts_with("missing field") {
        return message.to_owned();
    }
    let mut out = String::with_capacity(message.len());
    let mut quote: Option<char> = None;
    for c in message.chars() {
        match quote {
            Some(q) if c == q => {
                out.push('…');
                out.push(c);
                quote = None;
            }
            Some(_) => {}
            None if matches!(c, '"' | '`' | '\'') => {
                out.push(c);
                quote = Some(c);
            }
            None => out.push(c),
        }
    }
    if quote.is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(text: &str) -> String {
        let err = toml::from_str::<super::super::raw::RawConfig>(text).unwrap_err();
        describe(text, &err)
    }

    #[test]
    fn errors_name_the_place_but_never_the_value() {
        let secret = "sk-live-4f9a8b7c6d5e";
        for text in [
            format!("[upstream]\ntimeout_ms = \"{secret}\"\n"),
            format!("[upstream]\ntimeout_ms = {secret}\n"),
            format!("[upstream]\nurl = \"{secret}\n"),
            format!("[upstream]\nurl = '{secret}' extra\n"),
            "[upstream]\ntimeout_ms = 4242424242424242424242\n".to_owned(),
        ] {
            let message = error_of(&text);
            assert!(!message.contains(secret), "{message}");
            assert!(!message.contains("4242"), "{message}");
            assert!(message.starts_with("line 2, column "), "{message}");
        }
        let message = error_of(&format!("[upstream]\ntimeout_ms = \"{secret}\"\n"));
        assert!(message.contains("`timeout_ms`"), "{message}");
        let message = error_of("colour = 1\n");
        assert!(message.contains("unknown field `colour`"), "{message}");
    }
}
