//! Finished run reports (they never change), least recently used first out, bounded by
//! the total bytes they hold: the identity bytes and every compressed form made since
//! (a [`Kept`] whose entries are counted again as forms are added).

use std::sync::Arc;

use runboard_shared::{ProjectId, RunId};

use super::Answer;
use crate::kept::Kept;

type Key = (ProjectId, RunId);

/// The cache of finished reports' answers.
pub(super) struct Finished {
    kept: Kept<Key, Arc<Answer>>,
}

impl Finished {
    /// Holds reports of at most `max_bytes` together, however many.
    pub(super) fn new(max_bytes: u64) -> Self {
        let max_bytes = usize::try_from(max_bytes).unwrap_or(usize::MAX);
        Self {
            kept: Kept::new(usize::MAX, max_bytes),
        }
    }

    /// The report for `key`, now the most recently used.
    pub(super) fn get(&mut self, key: &Key) -> Option<Arc<Answer>> {
        self.kept.get(key).cloned()
    }

    /// Keeps `answer` for `key`, evicting the least recently used reports until the total
    /// fits. A report larger than the whole bound is not kept.
    pub(super) fn put(&mut self, key: Key, answer: Arc<Answer>) {
        let size = answer.held_bytes();
        self.kept.put(key, answer, size);
    }

    /// Counts `answer` again if it is still the report kept for `key` (a compressed form
    /// was made for it since), evicting others until the total fits; a report that no
    /// longer fits alone is dropped.
    pub(super) fn recount(&mut self, key: &Key, answer: &Arc<Answer>) {
        if self
            .kept
            .peek(key)
            .is_some_and(|kept| Arc::ptr_eq(kept, answer))
        {
            self.kept.resize(key, answer.held_bytes());
        }
    }

    /// The bytes held, together.
    #[cfg(test)]
    fn bytes(&self) -> u64 {
        self.kept.bytes() as u64
    }
}

#[cfg(test)]
mod tests {
    use axum::{
        body::Bytes,
        http::{HeaderMap, HeaderValue, header},
    };

    use super::*;
    use crate::metrics::Metrics;

    fn key(run: &str) -> Key {
        (ProjectId::parse("p1").unwrap(), RunId::parse(run).unwrap())
    }

    fn answer(len: usize) -> Arc<Answer> {
        Arc::new(Answer::new(Bytes::from(vec![b' '; len]), true))
    }

    #[test]
    fn least_recently_used_goes_first_and_the_bound_holds() {
        let mut cache = Finished::new(30);
        cache.put(key("a"), answer(10));
        cache.put(key("b"), answer(10));
        cache.put(key("c"), answer(10));
        assert!(cache.get(&key("a")).is_some(), "a is used again");
        cache.put(key("d"), answer(10));
        assert!(
            cache.get(&key("b")).is_none(),
            "b was the least recently used"
        );
        for kept in ["a", "c", "d"] {
            assert!(cache.get(&key(kept)).is_some(), "{kept}");
        }
        assert_eq!(cache.bytes(), 30);
        cache.put(key("huge"), answer(31));
        assert!(cache.get(&key("huge")).is_none(), "larger than the bound");
        cache.put(key("a"), answer(20));
        assert!(cache.bytes() <= 30, "{}", cache.bytes());
    }

    /// `answer` after a browser asked for it in gzip: it now holds a gzip form.
    async fn with_gzip_form(answer: Arc<Answer>) -> Arc<Answer> {
        let mut request = HeaderMap::new();
        request.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        let response = answer.respond(&request, &Metrics::new()).await;
        assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
        answer
    }

    #[tokio::test]
    async fn compressed_forms_count_in_the_bound() {
        let form = with_gzip_form(answer(1000)).await.held_bytes() as u64 - 1000;
        assert!(form > 0 && form < 100, "{form}");
        // Room for two reports and one form, less a byte.
        let mut cache = Finished::new(2000 + form - 1);
        let (a, b) = (answer(1000), answer(1000));
        cache.put(key("a"), a);
        cache.put(key("b"), b.clone());
        assert_eq!(cache.bytes(), 2000);
        cache.recount(&key("b"), &with_gzip_form(b.clone()).await);
        assert!(cache.get(&key("a")).is_none(), "a made room for b's form");
        assert!(cache.get(&key("b")).is_some());
        assert_eq!(cache.bytes(), 1000 + form);

        // Another answer under the same key is not recounted as the kept one.
        let stranger = with_gzip_form(answer(1000)).await;
        let mut roomy = Finished::new(10_000);
        roomy.put(key("c"), answer(1000));
        roomy.recount(&key("c"), &stranger);
        assert_eq!(roomy.bytes(), 1000, "c counted as put");

        // A report whose forms outgrow the whole bound is dropped.
        let mut small = Finished::new(1000 + form - 1);
        let d = answer(1000);
        small.put(key("d"), d.clone());
        small.recount(&key("d"), &with_gzip_form(d).await);
        assert!(small.get(&key("d")).is_none());
        assert_eq!(small.bytes(), 0);
    }
}
