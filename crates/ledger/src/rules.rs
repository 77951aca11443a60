//! Triage rules (issue 21): quarantines and known issues of a project, each with its
//! history (created, edited, deleted, by whom, when). Rules live here so every replica sees the
//! same ones; a quarantine's expiry is read, not written: a rule whose `until_day` is
//! before the day asked about is left out ([`Ledger::rules`] with `active_on`), so expiry
//! needs no job and no restart. A deleted rule keeps its row for its history.

use runboard_shared::{Day, Id, KnownIssue, NewRule, Quarantine, RuleAction, Scope};

use crate::{Ledger, LedgerError, pool::on_pool};

/// A stored rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRecord {
    /// Its row id (the wire's `id`, as decimal text).
    pub id: i64,
    /// What it says.
    pub spec: NewRule,
    /// Who created it.
    pub created_by: String,
    /// When (epoch ms).
    pub created_at: i64,
    /// What happened to it, oldest first (expiry is not written: see the module).
    pub events: Vec<RuleEventRecord>,
}

/// One line of a rule's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleEventRecord {
    /// What happened.
    pub action: RuleAction,
    /// Who did it.
    pub by: String,
    /// When (epoch ms).
    pub at: i64,
}

/// A value that changes whenever a rule of the project is created, edited or deleted
/// (every change writes one `rule_events` row; their count changes even when two
/// replicas' rows commit out of id order): a reader
/// that keeps rules (compiled, say) reads them again only when it changed, on any
/// replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sqlx::FromRow)]
pub struct RulesStamp {
    rules: i64,
    last_id: i64,
    deleted: i64,
    last_deleted: i64,
    events: i64,
    last_event: i64,
}

/// The columns of [`RuleRow`].
const COLUMNS: &str = "id, kind, scope_kind, scope_value, pattern, regex, until_day, reason, \
    link, blocks, created_by, created_at";

/// One `rules` row as both backends return it.
#[derive(sqlx::FromRow)]
struct RuleRow {
    id: i64,
    kind: String,
    scope_kind: Option<String>,
    scope_value: Option<String>,
    pattern: Option<String>,
    /// 0 or 1 in an `INTEGER` column (32 bits on PostgreSQL).
    regex: i32,
    until_day: Option<String>,
    reason: String,
    link: Option<String>,
    blocks: i32,
    created_by: String,
    created_at: i64,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    rule_id: i64,
    action: String,
    by_user: String,
    at: i64,
}

/// A rule's columns, as written.
struct Columns<'a> {
    kind: &'static str,
    scope: Option<(&'static str, &'a str)>,
    pattern: Option<&'a str>,
    regex: i32,
    until: Option<String>,
    reason: &'a str,
    link: Option<&'a str>,
    blocks: i32,
}

impl<'a> Columns<'a> {
    fn of(spec: &'a NewRule) -> Self {
        match spec {
            NewRule::Quarantine(q) => Self {
                kind: "quarantine",
                scope: Some((q.scope.field(), q.scope.id().as_str())),
                pattern: None,
                regex: 0,
                until: Some(q.until.to_string()),
                reason: &q.reason,
                link: q.link.as_deref(),
                blocks: 0,
            },
            NewRule::Known(k) => Self {
                kind: "known",
                scope: k.test_id.as_ref().map(|t| ("testId", t.as_str())),
                pattern: Some(&k.pattern),
                regex: i32::from(k.regex),
                until: None,
                reason: &k.note,
                link: k.link.as_deref(),
                blocks: i32::from(k.blocks),
            },
        }
    }
}

impl RuleRow {
    /// The rule this row holds; a row this version cannot read is an error naming it.
    fn spec(&self) -> Result<NewRule, LedgerError> {
        let bad = |why: String| LedgerError::InvalidRow(format!("rule {}: {why}", self.id));
        let scope_id = || -> Result<Option<(String, Id)>, LedgerError> {
            match (&self.scope_kind, &self.scope_value) {
                (Some(kind), Some(value)) => Id::parse(kind, value.as_str())
                    .map(|id| Some((kind.clone(), id)))
                    .map_err(|e| bad(e.to_string())),
                _ => Ok(None),
            }
        };
        match self.kind.as_str() {
            "quarantine" => {
                let scope = match scope_id()? {
                    Some((kind, id)) if kind == "testId" => Scope::Test(id),
                    Some((kind, id)) if kind == "testSuiteId" => Scope::Suite(id),
                    Some((kind, id)) if kind == "featureId" => Scope::Feature(id),
                    _ => return Err(bad("a quarantine without a scope".into())),
                };
                let until = self.until_day.as_deref().unwrap_or_default();
                let until = Day::parse("until", until).map_err(|e| bad(e.to_string()))?;
                Ok(NewRule::Quarantine(Quarantine {
                    scope,
                    until,
                    reason: self.reason.clone(),
                    link: self.link.clone(),
                }))
            }
            "known" => Ok(NewRule::Known(KnownIssue {
                pattern: self.pattern.clone().unwrap_or_default(),
                regex: self.regex != 0,
                test_id: scope_id()?.map(|(_, id)| id),
                note: self.reason.clone(),
                link: self.link.clone(),
                blocks: self.blocks != 0,
            })),
            other => Err(bad(format!("unknown kind {other:?}"))),
        }
    }
}

impl RuleRow {
    /// The rule this row holds, with its history from `events` (any rules' rows, in
    /// order): the one reading of a stored rule, for lists and single rules alike.
    fn record(self, events: &[EventRow]) -> Result<RuleRecord, LedgerError> {
        let spec = self.spec()?;
        let events = events
            .iter()
            .filter(|e| e.rule_id == self.id)
            .map(|e| RuleEventRecord {
                action: action(&e.action),
                by: e.by_user.clone(),
                at: e.at,
            })
            .collect();
        Ok(RuleRecord {
            id: self.id,
            spec,
            created_by: self.created_by,
            created_at: self.created_at,
            events,
        })
    }
}

fn action(text: &str) -> RuleAction {
    match text {
        "created" => RuleAction::Created,
        "deleted" => RuleAction::Deleted,
        "expired" => RuleAction::Expired,
        _ => RuleAction::Edited,
    }
}

impl Ledger {
    /// Stores `spec` as a rule of `project` created by `by` at `now`, with its
    /// `created` event, in one transaction.
    pub async fn create_rule(
        &self,
        project: &str,
        spec: &NewRule,
        by: &str,
        now: i64,
    ) -> Result<RuleRecord, LedgerError> {
        let c = Columns::of(spec);
        let insert = "INSERT INTO rules (project, kind, scope_kind, scope_value, pattern, regex, \
             until_day, reason, link, blocks, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id";
        let event = "INSERT INTO rule_events (rule_id, action, by_user, at) \
             VALUES ($1, 'created', $2, $3)";
        let id: i64 = on_pool!(&self.pool, |pool| {
            let mut tx = pool.begin().await?;
            let id: i64 = sqlx::query_scalar(insert)
                .bind(project)
                .bind(c.kind)
                .bind(c.scope.map(|(kind, _)| kind))
                .bind(c.scope.map(|(_, value)| value))
                .bind(c.pattern)
                .bind(c.regex)
                .bind(c.until.as_deref())
                .bind(c.reason)
                .bind(c.link)
                .bind(c.blocks)
                .bind(by)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
            sqlx::query(event)
                .bind(id)
                .bind(by)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            id
        });
        Ok(RuleRecord {
            id,
            spec: spec.clone(),
            created_by: by.to_owned(),
            created_at: now,
            events: vec![RuleEventRecord {
                action: RuleAction::Created,
                by: by.to_owned(),
                at: now,
            }],
        })
    }

    /// Deletes rule `id` of `project` (keeping its row and history), with its `deleted`
    /// event, in one transaction. False when there is no such rule or it is deleted
    /// already (nothing is written then).
    pub async fn delete_rule(
        &self,
        project: &str,
        id: i64,
        by: &str,
        now: i64,
    ) -> Result<bool, LedgerError> {
        let update = "UPDATE rules SET deleted_at = $1, deleted_by = $2 \
             WHERE id = $3 AND project = $4 AND deleted_at IS NULL";
        let event = "INSERT INTO rule_events (rule_id, action, by_user, at) \
             VALUES ($1, 'deleted', $2, $3)";
        Ok(on_pool!(&self.pool, |pool| {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(update)
                .bind(now)
                .bind(by)
                .bind(id)
                .bind(project)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                return Ok(false);
            }
            sqlx::query(event)
                .bind(id)
                .bind(by)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            true
        }))
    }

    /// Rule `id` of `project` says `spec` from now on (what it covers cannot change:
    /// only its day, reason or note, link and blocking are written), with its `edited`
    /// event by `by` at `now`, in one transaction. The rule as stored after, or `None`
    /// when the project has no such rule or it is deleted (nothing is written then).
    pub async fn edit_rule(
        &self,
        project: &str,
        id: i64,
        spec: &NewRule,
        by: &str,
        now: i64,
    ) -> Result<Option<RuleRecord>, LedgerError> {
        let c = Columns::of(spec);
        let update = "UPDATE rules SET until_day = $1, reason = $2, link = $3, blocks = $4 \
             WHERE id = $5 AND project = $6 AND kind = $7 AND deleted_at IS NULL";
        let event = "INSERT INTO rule_events (rule_id, action, by_user, at) \
             VALUES ($1, 'edited', $2, $3)";
        on_pool!(&self.pool, |pool| {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(update)
                .bind(c.until.as_deref())
                .bind(c.reason)
                .bind(c.link)
                .bind(c.blocks)
                .bind(id)
                .bind(project)
                .bind(c.kind)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                return Ok(None);
            }
            sqlx::query(event)
                .bind(id)
                .bind(by)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        self.rule(project, id).await
    }

    /// The rules of `project` that are not deleted, newest first, with their history.
    /// With `active_on`, quarantines whose last day is before it (expired) are left out.
    pub async fn rules(
        &self,
        project: &str,
        active_on: Option<Day>,
    ) -> Result<Vec<RuleRecord>, LedgerError> {
        self.read_rules(project, active_on, None).await
    }

    /// Rule `id` of `project` with its history, unless it is deleted (expired or not).
    pub async fn rule(&self, project: &str, id: i64) -> Result<Option<RuleRecord>, LedgerError> {
        Ok(self.read_rules(project, None, Some(id)).await?.pop())
    }

    /// The rules of `project` not deleted (with `active_on`, not expired before it;
    /// with `only`, that one rule), newest first, each with its history.
    async fn read_rules(
        &self,
        project: &str,
        active_on: Option<Day>,
        only: Option<i64>,
    ) -> Result<Vec<RuleRecord>, LedgerError> {
        // A day far before any rule's keeps every quarantine, and id -1 means every rule:
        // one query for every reading.
        let since = active_on.map_or_else(|| "0000-00-00".to_owned(), |d| d.to_string());
        let only = only.unwrap_or(-1);
        let select = format!(
            "SELECT {COLUMNS} FROM rules WHERE project = $1 AND deleted_at IS NULL \
             AND (kind <> 'quarantine' OR until_day >= $2) AND ($3 = -1 OR id = $3) \
             ORDER BY id DESC"
        );
        let history = "SELECT e.rule_id AS rule_id, e.action AS action, e.by_user AS by_user, \
             e.at AS at FROM rule_events e JOIN rules r ON r.id = e.rule_id \
             WHERE r.project = $1 AND r.deleted_at IS NULL AND ($2 = -1 OR r.id = $2) \
             ORDER BY e.rule_id, e.at, e.id";
        let (rows, events): (Vec<RuleRow>, Vec<EventRow>) = on_pool!(&self.pool, |pool| {
            let rows = sqlx::query_as(&select)
                .bind(project)
                .bind(&since)
                .bind(only)
                .fetch_all(pool)
                .await?;
            let events = sqlx::query_as(history)
                .bind(project)
                .bind(only)
                .fetch_all(pool)
                .await?;
            (rows, events)
        });
        rows.into_iter().map(|row| row.record(&events)).collect()
    }

    /// The project's [`RulesStamp`]: one small aggregate query.
    pub async fn rules_stamp(&self, project: &str) -> Result<RulesStamp, LedgerError> {
        let sql = "SELECT COUNT(*) AS rules, COALESCE(MAX(id), 0) AS last_id, \
             COUNT(deleted_at) AS deleted, COALESCE(MAX(deleted_at), 0) AS last_deleted, \
             (SELECT COUNT(*) FROM rule_events e JOIN rules r ON r.id = e.rule_id \
             WHERE r.project = $1) AS events, \
             (SELECT COALESCE(MAX(e.id), 0) FROM rule_events e JOIN rules r ON r.id = e.rule_id \
             WHERE r.project = $1) AS last_event \
             FROM rules WHERE project = $1";
        Ok(on_pool!(&self.pool, |pool| {
            sqlx::query_as(sql).bind(project).fetch_one(pool).await?
        }))
    }
}
