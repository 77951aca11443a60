//! `runboard token create|list|revoke`: machine tokens from the command line, in the
//! ledger the server's configuration names (so the server sees them at once, on every
//! replica). `create` prints the token alone on standard output (for `$(…)`) and says
//! on standard error that it will not be shown again. Exit codes: 0 done, 1 nothing to
//! revoke or the ledger failed, 2 usage or configuration.

use std::{path::PathBuf, process::ExitCode, time::Duration};

use chrono::{DateTime, Utc};
use runboard_ledger::{Ledger, TokenRecord};
use runboard_shared::ProjectId;

use super::{MintError, Scope, mint};
use crate::Config;

/// `runboard token …`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes: 0 done; 1 nothing to revoke, or the ledger failed; \
    2 usage or configuration (no [ledger] url, an unknown project or preset, a name in use)."
)]
pub struct TokenArgs {
    /// The server's configuration file: its projects and its ledger (`[ledger] url`).
    #[arg(long, env = "RUNBOARD_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Make a token for a project and print it (once: it is never shown again).
    Create {
        /// The project it belongs to.
        #[arg(long)]
        project: String,
        /// Its name (letters, digits, `.`, `_`, `-`), unique among tokens not revoked.
        #[arg(long)]
        name: String,
        /// It may start runs, not only read.
        #[arg(long)]
        may_start: bool,
        /// It may start only these presets (comma-separated names; needs --may-start).
        #[arg(long, value_delimiter = ',')]
        presets: Option<Vec<String>>,
        /// It stops working after this many days.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3650))]
        expires_days: Option<u32>,
    },
    /// List the tokens not revoked: names, scopes, created, last used, expiry (never
    /// the tokens themselves, which Runboard does not keep).
    List {
        /// Only this project's.
        #[arg(long)]
        project: Option<String>,
    },
    /// Revoke a token by name: requests with it get 401 from now on.
    Revoke {
        /// The token's name.
        name: String,
        /// Only if it belongs to this project.
        #[arg(long)]
        project: Option<String>,
    },
}

/// Why a token command failed, and its exit code.
enum Failure {
    /// 2: the command line or the configuration.
    Usage(String),
    /// 1: nothing to revoke, or the ledger failed.
    Failed(String),
}

/// Runs `args`; `fallback` is the top-level `--config`, for `runboard --config F token …`.
pub async fn run(args: TokenArgs, fallback: Option<PathBuf>) -> ExitCode {
    let Some(path) = args.config.or(fallback) else {
        eprintln!("runboard token: give --config FILE (the server's configuration)");
        return ExitCode::from(2);
    };
    let outcome = match Config::load(&path) {
        Ok(config) => act(&config, args.action).await,
        Err(err) => Err(Failure::Usage(format!("{}: {err}", path.display()))),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            eprintln!("runboard token: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Failed(message)) => {
            eprintln!("runboard token: {message}");
            ExitCode::from(1)
        }
    }
}

async fn act(config: &Config, action: Action) -> Result<(), Failure> {
    let ledger = open(config).await?;
    let result = match action {
        Action::Create {
            project,
            name,
            may_start,
            presets,
            expires_days,
        } => {
            let scope = Scope {
                may_start,
                presets,
                expires_in: expires_days.map(|d| Duration::from_secs(u64::from(d) * 86_400)),
            };
            create(config, &ledger, &project, &name, &scope).await
        }
        Action::List { project } => list(&ledger, project.as_deref()).await,
        Action::Revoke { name, project } => revoke(&ledger, &name, project.as_deref()).await,
    };
    ledger.close().await;
    result
}

/// The ledger the server uses. Tokens live nowhere else, so a configuration without
/// `[ledger] url` (the server would use a file in its own working folder, or memory in
/// code) is refused rather than writing a token the server never sees.
async fn open(config: &Config) -> Result<Ledger, Failure> {
    if !config.ledger.url.is_named() {
        return Err(Failure::Usage(
            "tokens are kept in the execution ledger, and this configuration names none: set \
             [ledger] url (sqlite:///absolute/path.db or postgres://…) to the database the \
             server uses"
                .to_owned(),
        ));
    }
    Ledger::open(config.ledger.url.expose())
        .await
        .map_err(|err| {
            Failure::Failed(format!(
                "cannot open the {} ledger: {err}",
                config.ledger.url.scheme()
            ))
        })
}

async fn create(
    config: &Config,
    ledger: &Ledger,
    project: &str,
    name: &str,
    scope: &Scope,
) -> Result<(), Failure> {
    let id = ProjectId::parse(project).map_err(|e| Failure::Usage(e.to_string()))?;
    let Some(project) = config.project(&id) else {
        return Err(Failure::Usage(format!(
            "project {id} is not in the configuration"
        )));
    };
    scope
        .check(project)
        .map_err(|e| Failure::Usage(e.to_string()))?;
    let by = std::env::var("USER").map_or_else(|_| "cli".to_owned(), |u| format!("cli:{u}"));
    let token = mint(ledger, &id, name, scope, &by)
        .await
        .map_err(|err| match err {
            MintError::Ledger(err) => Failure::Failed(err.to_string()),
            other => Failure::Usage(other.to_string()),
        })?;
    println!("{token}");
    eprintln!(
        "Token {name} for project {id} ({}). Store it now: it will not be shown again.",
        scope_text(scope.may_start, scope.presets.as_deref())
    );
    Ok(())
}

async fn list(ledger: &Ledger, project: Option<&str>) -> Result<(), Failure> {
    let tokens = ledger
        .tokens(project)
        .await
        .map_err(|e| Failure::Failed(e.to_string()))?;
    print!("{}", table(&tokens, runboard_ledger::now_ms()));
    Ok(())
}

async fn revoke(ledger: &Ledger, name: &str, project: Option<&str>) -> Result<(), Failure> {
    let by = std::env::var("USER").map_or_else(|_| "cli".to_owned(), |u| format!("cli:{u}"));
    let revoked = ledger
        .revoke_token(project, name, &by, runboard_ledger::now_ms())
        .await
        .map_err(|e| Failure::Failed(e.to_string()))?;
    if !revoked {
        return Err(Failure::Failed(format!("no token named {name} to revoke")));
    }
    println!("revoked {name}");
    Ok(())
}

/// A token's scope in words: `read`, `read, start`, `read, start Nightly, Smoke`.
pub(crate) fn scope_text(may_start: bool, presets: Option<&[String]>) -> String {
    match (may_start, presets) {
        (false, _) => "read".to_owned(),
        (true, None) => "read, start".to_owned(),
        (true, Some(presets)) => format!("read, start {}", presets.join(", ")),
    }
}

/// The tokens as an aligned table with a header, one line each.
fn table(tokens: &[TokenRecord], now: i64) -> String {
    let mut rows = vec![
        [
            "PROJECT",
            "NAME",
            "SCOPE",
            "CREATED",
            "LAST USED",
            "EXPIRES",
        ]
        .map(str::to_owned),
    ];
    rows.extend(tokens.iter().map(|t| {
        let expires = match t.expires_at {
            None => "never".to_owned(),
            Some(at) if at <= now => format!("{} (expired)", day(at)),
            Some(at) => day(at),
        };
        [
            t.project.clone(),
            t.name.clone(),
            scope_text(t.may_start, t.presets.as_deref()),
            day(t.created_at),
            t.last_used_at.map_or_else(|| "never".to_owned(), day),
            expires,
        ]
    }));
    let widths: Vec<usize> = (0..6)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    rows.iter()
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, width)| format!("{cell:width$}"))
                .collect();
            format!("{}\n", cells.join("  ").trim_end())
        })
        .collect()
}

/// Epoch milliseconds as `2026-12-07 19:55 UTC`.
fn day(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_aligned() {
        let token = |name: &str, presets: Option<Vec<String>>| TokenRecord {
            id: 1,
            project: "p1".into(),
            name: name.into(),
            may_start: presets.is_some(),
            presets,
            created_at: 0,
            created_by: "cli".into(),
            expires_at: Some(86_400_000),
            last_used_at: None,
            revoked_at: None,
        };
        let text = table(
            &[
                token("ci", Some(vec!["Nightly".into()])),
                token("dashboard", None),
            ],
            1,
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        let column = |line: &str| line.find("read").or_else(|| line.find("SCOPE"));
        assert_eq!(column(lines[0]), column(lines[1]));
        assert_eq!(column(lines[1]), column(lines[2]));
        assert!(lines[1].contains("read, start Nightly"), "{text}");
        assert!(lines[2].contains("1970-01-02 00:00 UTC"), "{text}");
    }
}
