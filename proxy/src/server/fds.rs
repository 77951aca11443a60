//! The process's open-file limit. Every connection holds a descriptor for as long as it is
//! open, a live report's stream for the whole run: ten thousand viewers need ten thousand
//! descriptors, far above the usual soft limit of 1,024. The soft limit is raised to the
//! hard limit (which an unprivileged process may do) at start-up, and a
//! `[server] max_connections` the limit cannot hold is warned about.

/// Descriptors kept for what is not a client's connection: the listener, the upstream
/// connections (`upstream.max_concurrent`), the ledger, the widget's files, logs.
pub(crate) const RESERVED: u64 = 256;

/// Raises the soft open-file limit to the hard limit; returns the soft limit now
/// (`None`: unlimited, or unknown on this platform).
#[cfg(unix)]
pub(crate) fn raise_to_hard_limit() -> std::io::Result<Option<u64>> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = rustix::process::Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        setrlimit(Resource::Nofile, raised)?;
    }
    Ok(current())
}

#[cfg(not(unix))]
pub(crate) fn raise_to_hard_limit() -> std::io::Result<Option<u64>> {
    Ok(None)
}

/// The soft open-file limit (`None`: unlimited, or unknown on this platform).
#[cfg(unix)]
pub(crate) fn current() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::Nofile).current
}

#[cfg(not(unix))]
pub(crate) fn current() -> Option<u64> {
    None
}

/// What to tell an administrator when `max_connections` connections and the reserve do
/// not fit in `limit` descriptors: past it, `accept` fails until connections close.
pub(crate) fn warning(max_connections: usize, limit: Option<u64>) -> Option<String> {
    let limit = limit?;
    let needed = max_connections as u64 + RESERVED;
    (needed > limit).then(|| {
        format!(
            "server.max_connections = {max_connections} needs about {needed} open files, \
             but this process may open {limit}; raise the limit (systemd LimitNOFILE=, \
             docker --ulimit nofile=, ulimit -n) or lower server.max_connections"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_below_the_connections_and_the_reserve_is_warned_about() {
        assert!(warning(1024, Some(1024)).is_some_and(|w| w.contains("1280")));
        assert_eq!(warning(1024, Some(1024 + RESERVED)), None);
        assert_eq!(warning(1_000_000, None), None, "unlimited");
    }

    #[test]
    fn the_soft_limit_is_raised_to_the_hard_one() {
        let raised = raise_to_hard_limit().expect("an unprivileged process may");
        #[cfg(unix)]
        assert_eq!(
            raised,
            rustix::process::getrlimit(rustix::process::Resource::Nofile).maximum
        );
        assert_eq!(raised, current());
    }
}
