//! `GET /runboard/history/{projId}`: the project's ledger, newest first, as JSON
//! ([`HistoryPage`]) or, with `?format=csv`, as CSV (every page of the same filters, up
//! to [`CSV_MAX_ROWS`]). Filters: `user`, `preset`, `status`, `origin`, `from`, `to`
//! (RFC 3339, or a `YYYY-MM-DD` day in UTC, `to` inclusive), `cursor`, `limit`. Each
//! execution of a JSON page carries its blocking count (`triage::blocking`, the rules as
//! they apply now); the CSV and the execution detail leave it `null`.

use axum::{
    Json,
    extract::{RawQuery, State},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use runboard_ledger::{Execution, HistoryQuery as LedgerQuery, MAX_PAGE};
use runboard_shared::{
    HistoryCounts, HistoryExecution, HistoryFormat, HistoryPage, HistoryQuery, Origin,
    url::parse_query,
};

use super::ledger_error;
use crate::{AppError, AppState, auth::Identity, extract::ProjectPath};

/// Executions per page unless `limit` says otherwise.
const DEFAULT_LIMIT: usize = 50;
/// The most rows one CSV export holds.
pub(crate) const CSV_MAX_ROWS: usize = 10_000;
const DAY_MS: i64 = 86_400_000;

/// The handler: identity and project checked as for the guide's endpoints. The query is
/// read by the contract's own reader ([`HistoryQuery::from_pairs`]), the one the widget's
/// links are parsed with, so an unknown filter or format is refused by name.
pub(crate) async fn history(
    State(state): State<AppState>,
    _identity: Identity,
    ProjectPath(proj): ProjectPath,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let project = state.project(&proj)?;
    let params = HistoryQuery::from_pairs(&parse_query(raw.as_deref().unwrap_or_default()))
        .map_err(|e| AppError::InvalidQuery(format!("{} {}", e.field, e.problem)))?;
    let csv = params.format == Some(HistoryFormat::Csv);
    let mut query = query(params)?;
    let ledger = state.ledger().ledger();
    if !csv {
        let page = ledger
            .history(project.id.as_str(), &query)
            .await
            .map_err(ledger_error)?;
        let blocking = crate::triage::blocking(&state, project, &page.executions).await?;
        let answer = HistoryPage {
            executions: page
                .executions
                .iter()
                .zip(blocking)
                .map(|(e, blocking)| HistoryExecution {
                    blocking,
                    ..wire(e)
                })
                .collect(),
            next: page.next,
        };
        return Ok(Json(answer).into_response());
    }
    let mut rows = Vec::new();
    query.limit = MAX_PAGE;
    loop {
        let page = ledger
            .history(project.id.as_str(), &query)
            .await
            .map_err(ledger_error)?;
        rows.extend(page.executions.iter().map(wire));
        match page.next {
            Some(next) if rows.len() < CSV_MAX_ROWS => query.cursor = Some(next),
            _ => break,
        }
    }
    rows.truncate(CSV_MAX_ROWS);
    let disposition = format!(
        "attachment; filename=\"runboard-history-{}.csv\"",
        project.id
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or(HeaderValue::from_static("attachment")),
            ),
        ],
        to_csv(&rows),
    )
        .into_response())
}

/// The ledger query for `params`, refusing what cannot be read.
fn query(params: HistoryQuery) -> Result<LedgerQuery, AppError> {
    let origin = match params.origin.as_deref() {
        None => None,
        Some("runboard") => Some(runboard_ledger::Origin::Runboard),
        Some("elsewhere") => Some(runboard_ledger::Origin::Elsewhere),
        Some(_) => {
            return Err(AppError::InvalidQuery(
                "origin is runboard or elsewhere".to_owned(),
            ));
        }
    };
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AppError::InvalidQuery(format!(
            "limit is from 1 to {MAX_PAGE}"
        )));
    }
    let empty_is_none = |value: Option<String>| value.filter(|v| !v.is_empty());
    Ok(LedgerQuery {
        user: empty_is_none(params.user),
        preset: empty_is_none(params.preset),
        status: empty_is_none(params.status),
        origin,
        from: params
            .from
            .as_deref()
            .map(|t| instant("from", t, 0))
            .transpose()?,
        to: params
            .to
            .as_deref()
            .map(|t| instant("to", t, DAY_MS))
            .transpose()?,
        cursor: empty_is_none(params.cursor),
        limit,
    })
}

/// `text` as epoch ms: an RFC 3339 time, or a day (UTC) plus `day_offset` (so `to` takes
/// the whole day).
fn instant(name: &str, text: &str, day_offset: i64) -> Result<i64, AppError> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.timestamp_millis());
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map(|start| start.and_utc().timestamp_millis() + day_offset)
        .ok_or_else(|| {
            AppError::InvalidQuery(format!(
                "{name} is an RFC 3339 time (2026-12-06T09:30:00Z) or a day (2026-12-06)"
            ))
        })
}

pub(super) fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// An execution as the wire shows it.
pub(super) fn wire(e: &Execution) -> HistoryExecution {
    let positive = |n: i64| u64::try_from(n).unwrap_or(0);
    HistoryExecution {
        job_id: e.job_id.clone(),
        test_run_id: e.test_run_id.clone(),
        user: e.user.clone(),
        started_at: rfc3339(e.started_at),
        status: e.status.clone(),
        finished: e.finished,
        counts: e.counts.map(|c| HistoryCounts {
            passed: positive(c.passed),
            failed: positive(c.failed),
            skipped: positive(c.skipped),
            total: positive(c.total),
        }),
        duration_ms: e.duration_ms.map(positive),
        preset: e.preset.clone(),
        origin: match e.origin {
            runboard_ledger::Origin::Runboard => Origin::Runboard,
            runboard_ledger::Origin::Elsewhere => Origin::Elsewhere,
        },
        selector: Some(e.selector_kind.clone()).filter(|s| !s.is_empty()),
        selector_value: Some(e.selector_value.clone()).filter(|s| !s.is_empty()),
        agent: e.agent.clone(),
        finished_at: e.finished_at.map(rfc3339),
        blocking: None,
    }
}

/// The CSV header and one line per execution.
const CSV_COLUMNS: &str = "jobId,testRunId,user,startedAt,status,finished,passed,failed,\
skipped,total,durationMs,preset,origin,selector,selectorValue,agent,finishedAt";

fn to_csv(rows: &[HistoryExecution]) -> String {
    let mut out = String::from(CSV_COLUMNS);
    out.push_str("\r\n");
    for e in rows {
        let counts = |pick: fn(&HistoryCounts) -> u64| {
            e.counts
                .as_ref()
                .map(|c| pick(c).to_string())
                .unwrap_or_default()
        };
        let fields = [
            e.job_id.clone().unwrap_or_default(),
            e.test_run_id.clone().unwrap_or_default(),
            e.user.clone(),
            e.started_at.clone(),
            e.status.clone(),
            e.finished.to_string(),
            counts(|c| c.passed),
            counts(|c| c.failed),
            counts(|c| c.skipped),
            counts(|c| c.total),
            e.duration_ms.map(|d| d.to_string()).unwrap_or_default(),
            e.preset.clone().unwrap_or_default(),
            match e.origin {
                Origin::Runboard => "runboard".to_owned(),
                Origin::Elsewhere => "elsewhere".to_owned(),
            },
            e.selector.clone().unwrap_or_default(),
            e.selector_value.clone().unwrap_or_default(),
            e.agent.clone().unwrap_or_default(),
            e.finished_at.clone().unwrap_or_default(),
        ];
        let line: Vec<String> = fields.iter().map(|f| crate::csv::field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_or_whole_days() {
        let check = |name: &str, text: &str, offset: i64, expected: Option<i64>| {
            assert_eq!(instant(name, text, offset).ok(), expected, "{text}");
        };
        check("from", "2026-12-06T00:00:00Z", 0, Some(1_796_515_200_000));
        check(
            "from",
            "2026-12-06T01:00:00+01:00",
            0,
            Some(1_796_515_200_000),
        );
        check("from", "2026-12-06", 0, Some(1_796_515_200_000));
        check("to", "2026-12-06", DAY_MS, Some(1_796_515_200_000 + DAY_MS));
        check("to", "yesterday", DAY_MS, None);
        check("to", "1764979200000", 0, None);
    }
}
