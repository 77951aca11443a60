//! How `runboard run` ends: the exit codes (listed in `EXIT_CODES`) and the errors that
//! lead to 2 and 3, with which of them are worth trying again.

use std::process::ExitCode;

/// How `runboard run` ends, as its exit code (listed in [`EXIT_CODES`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: the gate passed.
    Passed,
    /// 1: the gate failed.
    GateFailed,
    /// 2: usage or configuration error.
    Usage,
    /// 3: the server or the platform refused or failed, or there is no report.
    Refused,
    /// 4: `--timeout` passed first.
    Timeout,
    /// 130: Ctrl-C (128 + SIGINT, as shells report it): told apart from a server failure,
    /// so a pipeline can see that someone stopped it.
    Interrupted,
}

impl Exit {
    /// The process exit code.
    pub const fn code(self) -> u8 {
        match self {
            Self::Passed => 0,
            Self::GateFailed => 1,
            Self::Usage => 2,
            Self::Refused => 3,
            Self::Timeout => 4,
            Self::Interrupted => 130,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit.code())
    }
}

/// Why the gate could not give a verdict.
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// The arguments or the server's configuration do not allow the start asked for.
    #[error("{0}")]
    Usage(String),
    /// The server answered with an error.
    #[error("{what}: refused ({status}{}): {message}", code.as_ref().map(|c| format!(" {c}")).unwrap_or_default())]
    Refused {
        /// The path asked.
        what: String,
        /// The HTTP status.
        status: u16,
        /// The JSON error's stable code, when the body was one.
        code: Option<String>,
        /// The server's sentence.
        message: String,
    },
    /// The server could not be reached, or the connection broke.
    #[error("{what}: {reason}")]
    Network {
        /// The path asked.
        what: String,
        /// What happened.
        reason: String,
    },
    /// An answer did not read as the contract says.
    #[error("{what}: unreadable answer: {reason}")]
    BadAnswer {
        /// What was read.
        what: String,
        /// Why not.
        reason: String,
    },
    /// The run ended without a report, or was aborted.
    #[error("no report: {0}")]
    NoReport(String),
}

impl GateError {
    /// Whether trying again may work: the connection failed, or the server (or a proxy
    /// before it) was busy or restarting. Refusals that say something about the request
    /// (401, 403, 404, 422…) are final.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Network { .. } => true,
            Self::Refused { status, .. } => matches!(status, 429 | 502 | 503 | 504),
            _ => false,
        }
    }

    /// Its exit code: 2 for usage, 3 for everything the server or platform did.
    pub fn exit(&self) -> Exit {
        match self {
            Self::Usage(_) => Exit::Usage,
            _ => Exit::Refused,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_blips_are_tried_again_and_each_error_has_its_exit() {
        let refused = |status| GateError::Refused {
            what: String::new(),
            status,
            code: None,
            message: String::new(),
        };
        let check = |error: GateError, transient: bool, exit: Exit| {
            assert_eq!(
                (error.is_transient(), error.exit()),
                (transient, exit),
                "{error:?}"
            );
        };
        check(refused(429), true, Exit::Refused);
        check(refused(503), true, Exit::Refused);
        check(refused(401), false, Exit::Refused);
        check(refused(422), false, Exit::Refused);
        let network = GateError::Network {
            what: String::new(),
            reason: "cannot connect".into(),
        };
        check(network, true, Exit::Refused);
        check(GateError::NoReport("x".into()), false, Exit::Refused);
        check(GateError::Usage("x".into()), false, Exit::Usage);
        let codes: Vec<u8> = [
            Exit::Passed,
            Exit::GateFailed,
            Exit::Usage,
            Exit::Refused,
            Exit::Timeout,
            Exit::Interrupted,
        ]
        .map(Exit::code)
        .to_vec();
        assert_eq!(codes, [0, 1, 2, 3, 4, 130]);
    }
}
