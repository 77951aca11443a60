//! The project key: held in a type that never prints, so it cannot leak through `Debug`,
//! logs, error messages or panics.

use std::fmt;

use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};

/// A project's API key. `Debug` and `Display` print `[redacted]`; the only ways to the
/// bytes are the sensitive header value and the scrubber, both crate-private.
#[derive(Clone)]
pub struct ApiKey(SecretString);

impl ApiKey {
    /// Wraps a key, refusing one that could not travel in an HTTP header. The error
    /// never contains the key.
    pub fn new(key: impl Into<String>) -> Result<Self, String> {
        let key: String = key.into();
        let trimmed = key.trim();
        if trimmed.is_empty() {
            return Err("the key is empty".to_owned());
        }
        if !trimmed.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(
                "the key contains spaces or characters an HTTP header cannot carry".to_owned(),
            );
        }
        Ok(Self(SecretString::from(trimmed.to_owned())))
    }

    /// The `x-api-key` header value, marked sensitive so `http`'s `Debug` hides it too.
    pub(crate) fn header_value(&self) -> HeaderValue {
        // `new` allowed only visible ASCII, which is always a valid header value.
        let mut value = HeaderValue::from_str(self.0.expose_secret())
            .unwrap_or_else(|_| HeaderValue::from_static(""));
        value.set_sensitive(true);
        value
    }

    /// `text` with every occurrence of the key replaced, for upstream messages passed on.
    pub(crate) fn scrub(&self, text: &str) -> String {
        text.replace(self.0.expose_secret(), "[redacted]")
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key() {
        let key = ApiKey::new("canary-7f3a").unwrap();
        assert_eq!(format!("{key:?}"), "ApiKey([redacted])");
        assert!(!format!("{:?}", key.header_value()).contains("canary"));
        assert_eq!(key.scrub("bad canary-7f3a!"), "bad [redacted]!");
    }

    #[test]
    fn refuses_keys_a_header_cannot_carry() {
        assert!(ApiKey::new("  ").is_err());
        assert!(ApiKey::new("a b").is_err());
        assert!(ApiKey::new("k\u{e9}y").is_err());
        let err = ApiKey::new("secret\u{7}").unwrap_err();
        assert!(!err.contains("secret"));
    }
}
