//! Machine tokens (issue 22, migration `0003_tokens`): a pipeline's credential for one
//! project, stored as the SHA-256 of its text and found by it. The text never reaches
//! this crate: callers hash it first, so the ledger still holds no secret. A revoked
//! token keeps its row; names are unique among the tokens not revoked, across the server.

use crate::{Ledger, LedgerError, pool::on_pool};

/// How often a token's `last_used_at` is written at most: a pipeline polling every second
/// must not turn each read into a write.
pub const TOUCH_EVERY_MS: i64 = 60_000;

/// A token to store: everything but its text, of which only `hash` is kept.
#[derive(Debug, Clone, Copy)]
pub struct NewToken<'a> {
    /// The project it belongs to.
    pub project: &'a str,
    /// Its name, unique among tokens not revoked.
    pub name: &'a str,
    /// The SHA-256 of its text, lowercase hex.
    pub hash: &'a str,
    /// Whether it may start runs.
    pub may_start: bool,
    /// The presets it may start; `None`: any start.
    pub presets: Option<&'a [String]>,
    /// Who created it (a user, or `cli` for the command line).
    pub created_by: &'a str,
    /// When (epoch ms).
    pub created_at: i64,
    /// When it stops working (epoch ms); `None`: never.
    pub expires_at: Option<i64>,
}

/// A stored token, as listed and as a request's token is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// Its row id.
    pub id: i64,
    /// The project it belongs to.
    pub project: String,
    /// Its name.
    pub name: String,
    /// Whether it may start runs.
    pub may_start: bool,
    /// The presets it may start; `None`: any start.
    pub presets: Option<Vec<String>>,
    /// When it was created (epoch ms).
    pub created_at: i64,
    /// Who created it.
    pub created_by: String,
    /// When it stops working (epoch ms).
    pub expires_at: Option<i64>,
    /// When it was last used, to within [`TOUCH_EVERY_MS`].
    pub last_used_at: Option<i64>,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
}

impl TokenRecord {
    /// Whether it works at `now`: not revoked and not expired.
    pub fn usable_at(&self, now: i64) -> Result<(), Unusable> {
        if self.revoked_at.is_some() {
            return Err(Unusable::Revoked);
        }
        if self.expires_at.is_some_and(|at| at <= now) {
            return Err(Unusable::Expired);
        }
        Ok(())
    }
}

/// Why a stored token does not work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    /// Someone revoked it.
    Revoked,
    /// Its expiry has passed.
    Expired,
}

/// What [`Ledger::create_token`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// The token was stored.
    Token(TokenRecord),
    /// A token not revoked has this name already; nothing was stored.
    NameTaken,
}

/// The columns of [`TokenRow`].
const COLUMNS: &str = "id, project, name, may_start, presets, created_at, created_by, \
    expires_at, last_used_at, revoked_at";

/// One `tokens` row as both backends return it (`may_start` is an `INTEGER`: 32 bits on
/// PostgreSQL).
#[derive(sqlx::FromRow)]
struct TokenRow {
    id: i64,
    project: String,
    name: String,
    may_start: i32,
    presets: Option<String>,
    created_at: i64,
    created_by: String,
    expires_at: Option<i64>,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl TryFrom<TokenRow> for TokenRecord {
    type Error = LedgerError;

    fn try_from(row: TokenRow) -> Result<Self, LedgerError> {
        let presets = row
            .presets
            .as_deref()
            .map(serde_json::from_str::<Vec<String>>)
            .transpose()
            .map_err(|e| LedgerError::InvalidRow(format!("token {}: presets: {e}", row.id)))?;
        Ok(Self {
            id: row.id,
            project: row.project,
            name: row.name,
            may_start: row.may_start != 0,
            presets,
            created_at: row.created_at,
            created_by: row.created_by,
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
            revoked_at: row.revoked_at,
        })
    }
}

impl Ledger {
    /// Stores `token`; [`Created::NameTaken`] when a token not revoked has its name.
    pub async fn create_token(&self, token: &NewToken<'_>) -> Result<Created, LedgerError> {
        let presets = token
            .presets
            .map(|p| serde_json::to_string(p).unwrap_or_else(|_| "[]".to_owned()));
        let insert = "INSERT INTO tokens (project, name, hash, may_start, presets, created_at, \
             created_by, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
        let inserted: Result<i64, sqlx::Error> = on_pool!(&self.pool, |pool| {
            sqlx::query_scalar(insert)
                .bind(token.project)
                .bind(token.name)
                .bind(token.hash)
                .bind(i32::from(token.may_start))
                .bind(presets.as_deref())
                .bind(token.created_at)
                .bind(token.created_by)
                .bind(token.expires_at)
                .fetch_one(pool)
                .await
        });
        let id = match inserted {
            Ok(id) => id,
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Ok(Created::NameTaken);
            }
            Err(e) => return Err(e.into()),
        };
        Ok(Created::Token(TokenRecord {
            id,
            project: token.project.to_owned(),
            name: token.name.to_owned(),
            may_start: token.may_start,
            presets: token.presets.map(<[String]>::to_vec),
            created_at: token.created_at,
            created_by: token.created_by.to_owned(),
            expires_at: token.expires_at,
            last_used_at: None,
            revoked_at: None,
        }))
    }

    /// The token whose text hashes to `hash`, revoked and expired ones included (so the
    /// caller can say which).
    pub async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, LedgerError> {
        let select = format!("SELECT {COLUMNS} FROM tokens WHERE hash = $1");
        let row: Option<TokenRow> = on_pool!(&self.pool, |pool| {
            sqlx::query_as(&select)
                .bind(hash)
                .fetch_optional(pool)
                .await?
        });
        row.map(TokenRecord::try_from).transpose()
    }

    /// The tokens not revoked, of `project` or of every project, by project and name.
    pub async fn tokens(&self, project: Option<&str>) -> Result<Vec<TokenRecord>, LedgerError> {
        let select = format!(
            "SELECT {COLUMNS} FROM tokens WHERE revoked_at IS NULL \
             AND ($1 IS NULL OR project = $1) ORDER BY project, name"
        );
        let rows: Vec<TokenRow> = on_pool!(&self.pool, |pool| {
            sqlx::query_as(&select)
                .bind(project)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(TokenRecord::try_from).collect()
    }

    /// Revokes the token not revoked named `name` (of `project`, when given) by `by` at
    /// `now`; false when there is none.
    pub async fn revoke_token(
        &self,
        project: Option<&str>,
        name: &str,
        by: &str,
        now: i64,
    ) -> Result<bool, LedgerError> {
        let update = "UPDATE tokens SET revoked_at = $1, revoked_by = $2 \
             WHERE name = $3 AND revoked_at IS NULL AND ($4 IS NULL OR project = $4)";
        let done = on_pool!(&self.pool, |pool| {
            sqlx::query(update)
                .bind(now)
                .bind(by)
                .bind(name)
                .bind(project)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done > 0)
    }

    /// Notes that token `id` was used at `now`, unless that was noted less than
    /// [`TOUCH_EVERY_MS`] ago (then nothing is written).
    pub async fn touch_token(&self, id: i64, now: i64) -> Result<(), LedgerError> {
        let update = "UPDATE tokens SET last_used_at = $1 \
             WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $3)";
        on_pool!(&self.pool, |pool| {
            sqlx::query(update)
                .bind(now)
                .bind(id)
                .bind(now - TOUCH_EVERY_MS)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
