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
    {
        text.to_uppercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
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
