//! The notifications outbox: a message is recorded before it is sent, once per (channel,
//! execution, event) however many replicas see the run end (a unique key, the second
//! insert does nothing), then claimed for delivery under a lease like the follower's (one
//! conditional `UPDATE … RETURNING`; on PostgreSQL over a `FOR UPDATE SKIP LOCKED` CTE),
//! and marked sent, or failed with its next attempt, or given up. The body is stored as
//! sent; a channel's URL and secret never reach the ledger.

use sqlx::QueryBuilder;

use crate::{
    ExecutionId, Ledger, LedgerError,
    pool::{Pools, on_pool},
};

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxStatus {
    /// Not sent yet: waiting for its (next) attempt.
    Pending,
    /// The channel accepted it.
    Sent,
    /// Every attempt inside the retry window failed.
    GaveUp,
}

impl OutboxStatus {
    /// The stored spelling: `pending`, `sent`, `gave_up`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::GaveUp => "gave_up",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "sent" => Self::Sent,
            "gave_up" => Self::GaveUp,
            _ => Self::Pending,
        }
    }
}

/// A message to record.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    /// The channel's configured name.
    pub channel: &'a str,
    /// The project of the run.
    pub project: &'a str,
    /// The run's execution: with `channel` and `event`, what makes a message unique.
    pub execution: ExecutionId,
    /// The platform's run id, when there is one.
    pub run_id: Option<&'a str>,
    /// `started`, `finished`, `failed`, `recovered` or `new_failure`.
    pub event: &'a str,
    /// The exact body to send.
    pub body: &'a str,
}

/// A message claimed for delivery.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Message {
    /// The outbox row.
    pub id: i64,
    /// The channel's configured name.
    pub channel: String,
    /// The project of the run.
    pub project: String,
    /// The event.
    pub event: String,
    /// The exact body to send.
    pub body: String,
    /// Attempts made before this one.
    pub attempts: i64,
    /// When the first attempt was made, if one was.
    pub first_attempt_at: Option<i64>,
}

/// A message as the Notifications page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The channel's configured name.
    pub channel: String,
    /// The event.
    pub event: String,
    /// The platform's run id, when there is one.
    pub run_id: Option<String>,
    /// Where it stands.
    pub status: OutboxStatus,
    /// Attempts made.
    pub attempts: i64,
    /// When it was recorded.
    pub created_at: i64,
    /// When the last attempt was made, if one was.
    pub last_attempt_at: Option<i64>,
    /// When the next attempt is due (meaningful while pending).
    pub next_attempt_at: i64,
    /// Why the last attempt failed (secret-free).
    pub last_error: Option<String>,
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    channel: String,
    event: String,
    run_id: Option<String>,
    status: String,
    attempts: i64,
    created_at: i64,
    last_attempt_at: Option<i64>,
    next_attempt_at: i64,
    last_error: Option<String>,
}

impl From<DeliveryRow> for Delivery {
    fn from(row: DeliveryRow) -> Self {
        Self {
            channel: row.channel,
            event: row.event,
            run_id: row.run_id,
            status: OutboxStatus::parse(&row.status),
            attempts: row.attempts,
            created_at: row.created_at,
            last_attempt_at: row.last_attempt_at,
            next_attempt_at: row.next_attempt_at,
            last_error: row.last_error,
        }
    }
}

/// When failed messages are tried again: after `first_ms`, doubling each time, and not
/// after `window_ms` from the first attempt (then the message is given up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failure.
    pub first_ms: i64,
    /// How long after its first attempt a message is still tried.
    pub window_ms: i64,
}

impl Backoff {
    /// When to try again after `attempts` failed attempts (the first made at
    /// `first_attempt_at`), or `None` when the next one would fall past the window.
    pub fn next_attempt(&self, attempts: i64, first_attempt_at: i64, now: i64) -> Option<i64> {
        let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 40)).unwrap_or(40);
        let wait = self.first_ms.max(1).saturating_mul(1_i64 << doublings);
        let at = now.saturating_add(wait);
        (at <= first_attempt_at.saturating_add(self.window_ms)).then_some(at)
    }
}

/// The columns of [`Message`], as the claim returns them.
const RETURNING: &str = " RETURNING outbox.id AS id, outbox.channel AS channel, \
    outbox.project AS project, outbox.event AS event, outbox.body AS body, \
    outbox.attempts AS attempts, outbox.first_attempt_at AS first_attempt_at";

impl Ledger {
    /// Records `message` unless the same (channel, execution, event) is recorded
    /// already; true when this call recorded it.
    pub async fn enqueue(&self, message: &NewMessage<'_>, now: i64) -> Result<bool, LedgerError> {
        let sql = "INSERT INTO outbox (channel, project, execution_id, run_id, event, body, \
             status, attempts, created_at, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7) \
             ON CONFLICT (channel, execution_id, event) DO NOTHING";
        let inserted = on_pool!(&self.pool, |pool| {
            sqlx::query(sql)
                .bind(message.channel)
                .bind(message.project)
                .bind(message.execution)
                .bind(message.run_id)
                .bind(message.event)
                .bind(message.body)
                .bind(now)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(inserted > 0)
    }

    /// Takes at most `limit` due messages for `owner` until `now + ttl_ms`: pending,
    /// due, and not leased by anyone (an expired lease counts as none). A message this
    /// instance is still sending stays leased, so it is never sent twice at once.
    pub async fn claim_messages(
        &self,
        owner: &str,
        now: i64,
        ttl_ms: i64,
        limit: i64,
    ) -> Result<Vec<Message>, LedgerError> {
        let until = now.saturating_add(ttl_ms);
        let mut claimed: Vec<Message> = match &self.pool {
            Pools::Postgres(pool) => {
                let mut sql = QueryBuilder::new(
                    "WITH picked AS MATERIALIZED (SELECT id FROM outbox \
                     WHERE status = 'pending' AND next_attempt_at <= ",
                );
                sql.push_bind(now)
                    .push(" AND (lease_owner IS NULL OR lease_until < ")
                    .push_bind(now)
                    .push(") ORDER BY id LIMIT ")
                    .push_bind(limit)
                    .push(" FOR UPDATE SKIP LOCKED) UPDATE outbox SET lease_owner = ")
                    .push_bind(owner)
                    .push(", lease_until = ")
                    .push_bind(until)
                    .push(" FROM picked WHERE outbox.id = picked.id")
                    .push(RETURNING);
                sql.build_query_as().fetch_all(pool).await?
            }
            Pools::Sqlite(pool) => {
                let mut sql = QueryBuilder::new("UPDATE outbox SET lease_owner = ");
                sql.push_bind(owner)
                    .push(", lease_until = ")
                    .push_bind(until)
                    .push(
                        " WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' \
                         AND next_attempt_at <= ",
                    )
                    .push_bind(now)
                    .push(" AND (lease_owner IS NULL OR lease_until < ")
                    .push_bind(now)
                    .push(") ORDER BY id LIMIT ")
                    .push_bind(limit)
                    .push(")")
                    .push(RETURNING);
                sql.build_query_as().fetch_all(pool).await?
            }
        };
        claimed.sort_by_key(|m| m.id);
        Ok(claimed)
    }

    /// Marks message `id` sent by `owner` at `now`; false when `owner` no longer held it.
    pub async fn message_sent(&self, id: i64, owner: &str, now: i64) -> Result<bool, LedgerError> {
        self.settle(id, owner, now, OutboxStatus::Sent, None, now)
            .await
    }

    /// Records a failed attempt of message `id` at `now` with `error` (secret-free text):
    /// pending again until `next` when there is one, else given up. False when `owner`
    /// no longer held it.
    pub async fn message_failed(
        &self,
        id: i64,
        owner: &str,
        now: i64,
        error: &str,
        next: Option<i64>,
    ) -> Result<bool, LedgerError> {
        let status = match next {
            Some(_) => OutboxStatus::Pending,
            None => OutboxStatus::GaveUp,
        };
        self.settle(id, owner, now, status, Some(error), next.unwrap_or(now))
            .await
    }

    async fn settle(
        &self,
        id: i64,
        owner: &str,
        now: i64,
        status: OutboxStatus,
        error: Option<&str>,
        next: i64,
    ) -> Result<bool, LedgerError> {
        let sql = "UPDATE outbox SET status = $1, attempts = attempts + 1, \
             first_attempt_at = COALESCE(first_attempt_at, $2), last_attempt_at = $2, \
             next_attempt_at = $3, last_error = $4, lease_owner = NULL, lease_until = NULL \
             WHERE id = $5 AND lease_owner = $6 AND status = 'pending'";
        let updated = on_pool!(&self.pool, |pool| {
            sqlx::query(sql)
                .bind(status.as_str())
                .bind(now)
                .bind(next)
                .bind(error)
                .bind(id)
                .bind(owner)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(updated > 0)
    }

    /// The last `limit` messages of `project`, newest first (the Notifications page).
    pub async fn deliveries(
        &self,
        project: &str,
        limit: i64,
    ) -> Result<Vec<Delivery>, LedgerError> {
        let sql = "SELECT channel, event, run_id, status, attempts, created_at, \
             last_attempt_at, next_attempt_at, last_error FROM outbox \
             WHERE project = $1 ORDER BY id DESC LIMIT $2";
        let rows: Vec<DeliveryRow> = on_pool!(&self.pool, |pool| {
            sqlx::query_as(sql)
                .bind(project)
                .bind(limit)
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(Delivery::from).collect())
    }
}

#[cfg(test)]
mod tests {
    use runboard_shared::{ExecuteRequest, ProjectId, Selector};

    use super::*;
    use crate::Intent;

    /// A ledger in memory with one execution, and a message about it.
    async fn ledger() -> (Ledger, ExecutionId) {
        let ledger = Ledger::open("sqlite::memory:").await.unwrap();
        let project = ProjectId::parse("p1").unwrap();
        let request = ExecuteRequest {
            selector: Selector::Feature(runboard_shared::Id::parse("featureId", "f1").unwrap()),
            agent_name: None,
        };
        let intent = Intent::new(&project, "ana", &request, None, 1);
        let id = ledger.record_intent(&intent).await.unwrap();
        (ledger, id)
    }

    fn message(execution: ExecutionId) -> NewMessage<'static> {
        NewMessage {
            channel: "qa",
            project: "p1",
            execution,
            run_id: Some("r1"),
            event: "finished",
            body: "{}",
        }
    }

    /// The same (channel, execution, event) is recorded once; a claimed message is not
    /// claimed again while leased, by anyone; a failure comes back when due, a success
    /// never.
    #[tokio::test]
    async fn messages_are_recorded_once_and_claimed_by_one() {
        let (ledger, id) = ledger().await;
        assert!(ledger.enqueue(&message(id), 10).await.unwrap());
        assert!(!ledger.enqueue(&message(id), 11).await.unwrap());
        let claimed = ledger.claim_messages("a", 20, 1_000, 10).await.unwrap();
        assert_eq!(claimed.len(), 1);
        assert!(
            ledger
                .claim_messages("b", 30, 1_000, 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            ledger
                .claim_messages("a", 30, 1_000, 10)
                .await
                .unwrap()
                .is_empty()
        );
        let m = &claimed[0];
        assert!(
            !ledger
                .message_failed(m.id, "b", 40, "no", Some(50))
                .await
                .unwrap()
        );
        assert!(
            ledger
                .message_failed(m.id, "a", 40, "the channel answered 500", Some(50))
                .await
                .unwrap()
        );
        assert!(
            ledger
                .claim_messages("b", 45, 1_000, 10)
                .await
                .unwrap()
                .is_empty()
        );
        let again = ledger.claim_messages("b", 50, 1_000, 10).await.unwrap();
        assert_eq!(
            (again[0].attempts, again[0].first_attempt_at),
            (1, Some(40))
        );
        assert!(ledger.message_sent(m.id, "b", 60).await.unwrap());
        assert!(
            ledger
                .claim_messages("a", 10_000, 1_000, 10)
                .await
                .unwrap()
                .is_empty()
        );
        let shown = ledger.deliveries("p1", 10).await.unwrap();
        assert_eq!(shown.len(), 1);
        assert_eq!(
            (shown[0].status, shown[0].attempts),
            (OutboxStatus::Sent, 2)
        );
        assert_eq!(shown[0].last_error, None);
    }

    /// Waits double from `first_ms`; nothing is scheduled past the window.
    #[test]
    fn backoff_doubles_and_stops_at_the_window() {
        let backoff = Backoff {
            first_ms: 100,
            window_ms: 1_000,
        };
        let check = |attempts, now, expected| {
            assert_eq!(
                backoff.next_attempt(attempts, 0, now),
                expected,
                "{attempts}"
            );
        };
        check(1, 0, Some(100));
        check(2, 100, Some(300));
        check(3, 300, Some(700));
        check(4, 700, None);
        check(1, 950, None);
        check(i64::MAX, 0, None);
    }
}
