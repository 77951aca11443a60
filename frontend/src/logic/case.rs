//! Unicode case mapping for search, sorting and messages. In the browser it asks
//! JavaScript (`toLowerCase` / `toUpperCase`, the same Unicode default case mapping), so
//! the widget's wasm does not carry Rust's Unicode case tables (~10 KB gzipped);
//! natively (the unit tests) it uses `str`'s own. ASCII text never leaves Rust.

/// `text` in lower case.
pub(crate) fn lower(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    #[cfg(target_arch = "wasm32")]
    {
        String::from(js_sys::JsString::from(text).to_lower_case())
    }
    #[cfg(not(target_arch = "wasm32"))]
    #[allow(
        clippy::disallowed_methods,
        reason = "native only: the tests' reference"
    )]
    {
        text.to_lowercase()
    }
}

/// `text` in upper case.
pub(crate) fn upper(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_uppercase();
    }
    #[cfg(target_arch = "wasm32")]
    {
        String::from(js_sys::JsString::from(text).to_upper_case())
    }
    #[cfg(not(target_arch = "wasm32"))]
    #[allow(
        clippy::disallowed_methods,
        reason = "native only: the tests' reference"
    )]
    {
        text.to_uppercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::disallowed_methods, reason = "std's mapping is the reference")]
    fn maps_ascii_and_beyond_like_std() {
        for text in [
            "Login Test",
            "ÄRGER über Straße",
            "ΟΔΟΣ",
            "İstanbul",
            "ǅ",
            "",
        ] {
            assert_eq!(lower(text), text.to_lowercase());
            assert_eq!(upper(text), text.to_uppercase());
        }
    }
}

/// The path the widget ships: in a real browser, through JavaScript's case mapping.
/// Run with `cargo test --target wasm32-unknown-unknown -p runboard-frontend --lib` and
/// `wasm-bindgen-test-runner` as the target's runner (headless Chromium).
#[cfg(all(test, target_arch = "wasm32"))]
mod browser_tests {
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    use super::*;

    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    fn the_browser_maps_case_like_unicode_says() {
        let check = |text: &str, lowered: &str, uppered: &str| {
            assert_eq!(lower(text), lowered, "lower({text:?})");
            assert_eq!(upper(text), uppered, "upper({text:?})");
        };
        check("Login Test", "login test", "LOGIN TEST");
        check(
            "ÄRGER über Straße",
            "ärger über straße",
            "ÄRGER ÜBER STRASSE",
        );
        check("ΟΔΟΣ", "οδος", "ΟΔΟΣ");
        check("İstanbul", "i\u{307}stanbul", "İSTANBUL");
        check("ǅ", "ǆ", "Ǆ");
        check("", "", "");
    }
}
