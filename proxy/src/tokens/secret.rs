//! A machine token's text: `rbt_` and 32 bytes from the operating system's CSPRNG in
//! RFC 4648 base32, lowercase, without padding (52 characters), so secret scanners can
//! recognise it by its prefix and shape; and its SHA-256, the only form the ledger keeps.

use axum::http::{HeaderMap, header};
use rand::{RngCore, rngs::OsRng};
use sha2::{Digest, Sha256};

use crate::AppError;

/// What every token starts with.
pub(crate) const PREFIX: &str = "rbt_";
/// How many random bytes a token holds.
const BYTES: usize = 32;
/// The base32 length of [`BYTES`] bytes without padding: ⌈256 / 5⌉.
const CHARS: usize = (BYTES * 8).div_ceil(5);
/// RFC 4648's base32 alphabet, lowercase (tokens are typed and compared as lowercase).
const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// A new token's text.
pub(crate) fn generate() -> String {
    let mut bytes = [0u8; BYTES];
    OsRng.fill_bytes(&mut bytes);
    format!("{PREFIX}{}", base32(&bytes))
}

/// RFC 4648 base32 of `bytes`, lowercase, no padding.
fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity((bytes.len() * 8).div_ceil(5));
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Whether `text` has a token's shape: the prefix and [`CHARS`] base32 characters.
pub(crate) fn is_well_formed(text: &str) -> bool {
    text.strip_prefix(PREFIX)
        .is_some_and(|rest| rest.len() == CHARS && rest.bytes().all(|b| ALPHABET.contains(&b)))
}

/// The SHA-256 of `text`, lowercase hex: how the ledger finds a token.
pub(crate) fn hash(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The token a request carries as `Authorization: Bearer rbt_…`, if any. Other
/// `Authorization` values (an SSO proxy's own bearer token, Basic) are not Runboard's and
/// are ignored, as before tokens existed; a second `Authorization` header next to a
/// token is refused rather than guessed.
pub(crate) fn bearer(headers: &HeaderMap) -> Result<Option<&str>, AppError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    let token = first
        .to_str()
        .ok()
        .and_then(|v| v.trim().strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| t.starts_with(PREFIX));
    if token.is_some() && values.next().is_some() {
        return Err(AppError::Unauthenticated(
            "this request carries more than one Authorization header; send the token once",
        ));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4648, section 10, lowercased and without padding.
    #[test]
    fn base32_matches_the_rfc_vectors() {
        let check = |input: &str, expected: &str| assert_eq!(base32(input.as_bytes()), expected);
        check("", "");
        check("f", "my");
        check("fo", "mzxq");
        check("foo", "mzxw6");
        check("foob", "mzxw6yq");
        check("fooba", "mzxw6ytb");
        check("foobar", "mzxw6ytboi");
    }

    #[test]
    fn tokens_are_well_formed_and_differ() {
        let (a, b) = (generate(), generate());
        assert_eq!(a.len(), PREFIX.len() + 52);
        assert!(is_well_formed(&a) && is_well_formed(&b), "{a} {b}");
        assert_ne!(a, b);
        assert!(!is_well_formed(&a.to_uppercase()));
        assert!(!is_well_formed(&a[..a.len() - 1]));
        assert!(!is_well_formed("rbt_"));
    }

    #[test]
    fn the_hash_is_sha256_hex() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn only_bearer_rbt_counts() {
        let with = |values: &[&str]| {
            let mut headers = HeaderMap::new();
            for v in values {
                headers.append(header::AUTHORIZATION, v.parse().unwrap());
            }
            bearer(&headers).map(|t| t.map(str::to_owned))
        };
        assert_eq!(with(&[]).unwrap(), None);
        assert_eq!(with(&["Basic YTpi"]).unwrap(), None);
        assert_eq!(with(&["Bearer eyJhbGciOi"]).unwrap(), None);
        assert_eq!(with(&["Bearer rbt_x"]).unwrap().as_deref(), Some("rbt_x"));
        assert!(with(&["Bearer rbt_x", "Bearer rbt_y"]).is_err());
    }
}
