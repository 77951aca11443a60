//! Content codings of shared answers: which one a request gets (its `Accept-Encoding`,
//! q-values honoured), and each answer's compressed forms, made once, on the first
//! request that wants each, and kept beside the identity bytes for every later viewer.
//!
//! Lazily rather than all three at once: the browsers of one company send the same
//! `Accept-Encoding`, so most answers are only ever wanted in one coding, and the other
//! two would cost CPU and cache bytes for nothing.

use std::io::{self, Write};

use axum::{
    body::Bytes,
    http::{HeaderMap, header},
};
use tokio::sync::OnceCell;

use crate::metrics::Metrics;

/// Bodies smaller than this leave as they are, from the shared reads and through the
/// compression layer alike (tower-http's own default): below it a coding's framing
/// costs about what it saves.
pub(crate) const SMALL_BODY: u16 = 32;

/// Marks an answer whose coding was chosen from `Accept-Encoding` already (identity
/// included): the compression layer leaves it alone (`middleware.rs`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Negotiated;

/// The content codings Runboard sends, in the order it prefers them when a client likes
/// several equally: brotli and zstd make the smallest forms of a report (see
/// [`Levels`]), gzip is what every client has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Coding {
    Brotli,
    Zstd,
    Gzip,
    Identity,
}

impl Coding {
    const PREFERRED: [Self; 4] = [Self::Brotli, Self::Zstd, Self::Gzip, Self::Identity];

    /// The token in `Accept-Encoding` and `Content-Encoding`.
    pub(crate) fn token(self) -> &'static str {
        match self {
            Self::Brotli => "br",
            Self::Zstd => "zstd",
            Self::Gzip => "gzip",
            Self::Identity => "identity",
        }
    }

    /// What a form's entity tag adds to the identity tag: each form is its own
    /// representation, so each has its own strong tag.
    pub(crate) fn tag_suffix(self) -> &'static str {
        match self {
            Self::Brotli => "-br",
            Self::Zstd => "-zstd",
            Self::Gzip => "-gz",
            Self::Identity => "",
        }
    }

    /// The coding a request gets: the highest q its `Accept-Encoding` gives, ties to
    /// the order of [`Self::PREFERRED`]. Identity when it wins, when there is no header,
    /// when no coding is acceptable, and even when identity itself is refused
    /// (`identity;q=0`): the plain answer rather than a 406 no browser needs.
    pub(crate) fn for_request(request: &HeaderMap) -> Self {
        Self::among(request, |_| true)
    }

    /// As [`for_request`](Self::for_request), among the forms `held` says exist (the
    /// widget's files carry no zstd form, and none where compressing saved nothing).
    pub(crate) fn among(request: &HeaderMap, held: impl Fn(Self) -> bool) -> Self {
        let accepted = Accepted::read(request);
        let mut best = (Self::Identity, 0.0);
        for coding in Self::PREFERRED.into_iter().filter(|c| held(*c)) {
            let q = accepted.quality(coding);
            if q > best.1 {
                best = (coding, q);
            }
        }
        best.0
    }
}

/// One request's `Accept-Encoding` entries: each coding name with its q-value.
struct Accepted(Vec<(String, f32)>);

impl Accepted {
    /// Every `Accept-Encoding` header, split into entries; an entry whose q-value is
    /// not a number from 0 to 1 is left out.
    fn read(request: &HeaderMap) -> Self {
        let entries = request
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .filter_map(entry)
            .collect();
        Self(entries)
    }

    /// The q-value of `coding`: its own entry (`x-gzip` is gzip, RFC 9110 §8.4.1.3),
    /// else `*`'s, else 0. Identity too competes only when named (or through `*`):
    /// `br;q=0.5` still asks for brotli rather than the plain answer.
    fn quality(&self, coding: Coding) -> f32 {
        let named = |name: &str| {
            name.eq_ignore_ascii_case(coding.token())
                || (coding == Coding::Gzip && name.eq_ignore_ascii_case("x-gzip"))
        };
        let find = |wanted: &dyn Fn(&str) -> bool| {
            self.0
                .iter()
                .find(|(name, _)| wanted(name))
                .map(|(_, q)| *q)
        };
        find(&named)
            .or_else(|| find(&|name| name == "*"))
            .unwrap_or(0.0)
    }
}

/// `name;q=0.5` (parameters other than q ignored) as the name and its q-value.
fn entry(text: &str) -> Option<(String, f32)> {
    let mut parts = text.split(';').map(str::trim);
    let name = parts.next().filter(|name| !name.is_empty())?;
    let mut q = 1.0;
    for param in parts {
        if let Some((key, value)) = param.split_once('=')
            && key.trim().eq_ignore_ascii_case("q")
        {
            q = value
                .trim()
                .parse()
                .ok()
                .filter(|q| (0.0..=1.0).contains(q))?;
        }
    }
    Some((name.to_owned(), q))
}

/// Compression levels. Measured on the simulator's finished reports (best of 5 on the
/// 2-core VM of `docs/benchmarks.md`, crates brotli 9, zstd 0.14, flate2 1), size as a
/// share of the identity bytes and time to compress:
///
/// | coding   | 36 tests, 25 KB | 2,000 tests, 1.4 MB | 10,000 tests, 7.3 MB |
/// |----------|-----------------|---------------------|----------------------|
/// | br 4     | 10.0 %, 0.2 ms  | 5.8 %, 6 ms         | 5.6 %, 47 ms         |
/// | br 5     | 9.2 %, 0.3 ms   | 5.2 %, 11 ms        | 5.0 %, 95 ms         |
/// | br 6     | 9.1 %, 0.4 ms   | 5.1 %, 14 ms        | 4.9 %, 105 ms        |
/// | br 9     | 9.0 %, 5 ms     | 5.1 %, 53 ms        | 4.9 %, 324 ms        |
/// | br 11    | 8.2 %, 36 ms    | 4.5 %, 2,466 ms     | 4.4 %, 15,039 ms     |
/// | zstd 3   | 11.0 %, 0.0 ms  | 6.5 %, 1 ms         | 6.3 %, 7 ms          |
/// | zstd 6   | 9.9 %, 0.1 ms   | 5.4 %, 6 ms         | 5.2 %, 30 ms         |
/// | zstd 9   | 9.6 %, 0.1 ms   | 5.1 %, 8 ms         | 5.0 %, 44 ms         |
/// | zstd 19  | 9.3 %, 11 ms    | 4.7 %, 624 ms       | 4.5 %, 4,778 ms      |
/// | gzip 6   | 9.9 %, 0.1 ms   | 5.7 %, 13 ms        | 5.6 %, 134 ms        |
/// | gzip 9   | 9.9 %, 0.2 ms   | 5.7 %, 24 ms        | 5.5 %, 182 ms        |
///
/// Past br 5 and zstd 9 each step costs far more time than it saves bytes (br 11 and
/// zstd 19 take seconds), and gzip 9 saves under 1 % over 6.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Levels {
    brotli: i32,
    zstd: i32,
    gzip: u32,
}

impl Levels {
    /// For an answer compressed once and kept until evicted (a finished report): the
    /// knee of each curve above.
    pub(crate) const KEPT: Self = Self {
        brotli: 5,
        zstd: 9,
        gzip: 6,
    };

    /// For an answer that lives one reuse window (a live report, a `jobs` answer),
    /// compressed again for each new one: the dynamic-content levels, the same as the
    /// compression layer's (tower-http's default: br 4, zstd 3, gzip 6).
    pub(crate) const FLEETING: Self = Self {
        brotli: 4,
        zstd: 3,
        gzip: 6,
    };
}

/// The compressed forms of one answer, each made on the first request that wants it.
#[derive(Default)]
pub(crate) struct Forms {
    brotli: OnceCell<Bytes>,
    zstd: OnceCell<Bytes>,
    gzip: OnceCell<Bytes>,
}

impl Forms {
    fn cell(&self, coding: Coding) -> Option<&OnceCell<Bytes>> {
        match coding {
            Coding::Brotli => Some(&self.brotli),
            Coding::Zstd => Some(&self.zstd),
            Coding::Gzip => Some(&self.gzip),
            Coding::Identity => None,
        }
    }

    /// `identity` in `coding`: the kept form, or made now (off the async workers) and
    /// kept. Requests that arrive while it is being made wait for it: one compression
    /// per form, however many ask at once. `None` for identity, or if compressing
    /// failed (the caller then sends the identity bytes).
    pub(crate) async fn get(
        &self,
        coding: Coding,
        identity: &Bytes,
        levels: Levels,
        metrics: &Metrics,
    ) -> Option<Bytes> {
        let cell = self.cell(coding)?;
        let mut made = false;
        let form = cell
            .get_or_try_init(|| {
                made = true;
                let identity = identity.clone();
                async move {
                    tokio::task::spawn_blocking(move || compress(coding, &identity, levels))
                        .await
                        .map_err(io::Error::other)?
                }
            })
            .await;
        match form {
            Ok(form) => {
                metrics.compressed(coding.token(), made);
                Some(form.clone())
            }
            Err(err) => {
                tracing::warn!(coding = coding.token(), error = %err, "compressing an answer failed; sent as it is");
                None
            }
        }
    }

    /// The bytes of the forms made so far (a cache counts them in its bound).
    pub(crate) fn held_bytes(&self) -> usize {
        [&self.brotli, &self.zstd, &self.gzip]
            .into_iter()
            .filter_map(|cell| cell.get())
            .map(Bytes::len)
            .sum()
    }
}

/// `bytes` in `coding` at `levels`. Writing into memory does not fail; the errors are
/// the compressors' signatures.
fn compress(coding: Coding, bytes: &[u8], levels: Levels) -> io::Result<Bytes> {
    let form = match coding {
        Coding::Brotli => {
            let params = brotli::enc::BrotliEncoderParams {
                quality: levels.brotli,
                size_hint: bytes.len(),
                ..Default::default()
            };
            let mut out = Vec::with_capacity(bytes.len() / 8);
            brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)?;
            out
        }
        Coding::Zstd => zstd::bulk::compress(bytes, levels.zstd)?,
        Coding::Gzip => {
            let out = Vec::with_capacity(bytes.len() / 8);
            let mut encoder =
                flate2::write::GzEncoder::new(out, flate2::Compression::new(levels.gzip));
            encoder.write_all(bytes)?;
            encoder.finish()?
        }
        Coding::Identity => bytes.to_vec(),
    };
    Ok(Bytes::from(form))
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn check(accept_encoding: &[&str], expected: Coding) {
        let mut request = HeaderMap::new();
        for value in accept_encoding {
            request.append(header::ACCEPT_ENCODING, value.parse().unwrap());
        }
        assert_eq!(
            Coding::for_request(&request),
            expected,
            "{accept_encoding:?}"
        );
    }

    #[test]
    fn the_highest_q_wins_and_ties_go_to_the_smaller_form() {
        use Coding::*;
        check(&[], Identity);
        check(&[""], Identity);
        check(&["gzip, deflate, br, zstd"], Brotli);
        check(&["gzip, zstd"], Zstd);
        check(&["gzip"], Gzip);
        check(&["x-gzip"], Gzip);
        check(&["GZIP"], Gzip);
        check(&["deflate"], Identity);
        check(&["br;q=0.5, gzip"], Gzip);
        check(&["br;q=0.5, gzip;q=0.4"], Brotli);
        check(&["br ; q=0.2 , zstd;q=0.3, gzip;q=0.1"], Zstd);
        check(&["br;q=0, gzip;q=0"], Identity);
        check(&["br;Q=0.9;level=1, gzip;q=0.8"], Brotli);
        check(&["gzip", "br"], Brotli);
        check(&["*"], Brotli);
        check(&["*;q=0.5, br;q=0"], Zstd);
        check(&["gzip;q=0.5, *;q=0"], Gzip);
        check(&["identity"], Identity);
        check(&["identity;q=0"], Identity);
        check(&["identity, gzip;q=0.5"], Identity);
        // Not a q-value from 0 to 1: the entry does not count.
        check(&["br;q=2, gzip"], Gzip);
        check(&["br;q=x, gzip;q=0.1"], Gzip);
        check(&["br;q=-1"], Identity);
    }

    fn decode(coding: Coding, form: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        match coding {
            Coding::Brotli => {
                brotli::Decompressor::new(form, 4096)
                    .read_to_end(&mut out)
                    .unwrap();
            }
            Coding::Zstd => out = zstd::stream::decode_all(form).unwrap(),
            Coding::Gzip => {
                flate2::read::GzDecoder::new(form)
                    .read_to_end(&mut out)
                    .unwrap();
            }
            Coding::Identity => out = form.to_vec(),
        }
        out
    }

    #[tokio::test]
    async fn each_form_is_made_once_and_decodes_to_the_answer() {
        let metrics = Metrics::new();
        let identity = Bytes::from(r#"{"tests":[{"title":"Login works"}]}"#.repeat(200));
        let forms = Forms::default();
        assert_eq!(forms.held_bytes(), 0);
        for coding in [Coding::Brotli, Coding::Zstd, Coding::Gzip] {
            for levels in [Levels::KEPT, Levels::FLEETING] {
                let made = compress(coding, &identity, levels).unwrap();
                assert_eq!(decode(coding, &made), identity, "{coding:?}");
            }
            let first = forms
                .get(coding, &identity, Levels::KEPT, &metrics)
                .await
                .unwrap();
            let again = forms
                .get(coding, &identity, Levels::KEPT, &metrics)
                .await
                .unwrap();
            assert_eq!(first.as_ptr(), again.as_ptr(), "{coding:?}: the kept form");
            assert!(first.len() < identity.len() / 10, "{coding:?}");
        }
        assert!(
            forms
                .get(Coding::Identity, &identity, Levels::KEPT, &metrics)
                .await
                .is_none()
        );
        let text = metrics.render();
        for coding in ["br", "zstd", "gzip"] {
            for name in [
                "runboard_compressions_total",
                "runboard_compressed_cache_hits_total",
            ] {
                let line = format!("{name}{{coding=\"{coding}\"}} 1");
                assert!(text.contains(&line), "{line} in {text}");
            }
        }
        let held = forms.held_bytes();
        assert!(held > 0 && held < identity.len() / 3, "{held}");
    }
}
