//! The soak: hundreds of clients mixing polls and starts against `runboard` in front of
//! the simulator for a while, then an account of every start. It answers "does anything
//! go wrong under sustained load?" (unexpected errors, lost or duplicated jobs, leaked
//! memory or sockets), not "how fast is it?" (that is [`crate::run`]).

use std::{
    collections::{BTreeMap, HashSet},
    fmt::Write as _,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use rand::{Rng, SeedableRng, rngs::StdRng};
use reqwest::{Client, StatusCode};
use runboard_shared::{
    ExecuteResponse, JobsResponse, ProjectId, RunId, ScheduleStatus, Selector, execute_path,
    jobs_path, test_run_path,
};
use tokio::task::JoinSet;

use crate::{
    BenchError,
    body::{execute_body, jobs_body},
    stack::{Auth, Stack},
};

/// Tests in the soak's project: enough for thousands of distinct `tests` selections.
const SOAK_TESTS: usize = 200;
/// Tests per started selection.
const TESTS_PER_START: usize = 3;
/// Job ids per `jobs` poll, as a widget following a handful of jobs sends.
const IDS_PER_POLL: usize = 10;
/// Job ids per look-up when the starts are counted at the end.
const IDS_PER_CHECK: usize = 100;
/// The identity header the stack's `runboard` believes from loopback.
const USER_HEADER: &str = "x-forwarded-email";
/// How long sockets may take to close after the clients are gone.
const SETTLE: Duration = Duration::from_secs(10);

/// How hard and how long to push.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SoakOptions {
    /// Clients running at once, each one loop of actions.
    pub clients: usize,
    /// How long the clients run.
    pub duration: Duration,
    /// Of every 1,000 actions, how many start a run (the rest poll jobs or read reports).
    pub starts_per_mille: u32,
    /// The longest pause between two actions of one client (a viewer's think time; a
    /// widget polls every second or two, well inside the per-user rate limits).
    pub max_pause: Duration,
    /// The simulator's speed; slow enough that runs are still live while polled.
    pub sim_speed: f64,
}

impl Default for SoakOptions {
    /// The documented soak: 500 clients for 60 s (`./x soak`).
    fn default() -> Self {
        Self {
            clients: 500,
            duration: Duration::from_secs(60),
            starts_per_mille: 20,
            max_pause: Duration::from_millis(1_000),
            sim_speed: 50.0,
        }
    }
}

/// What the soak saw. [`SoakReport::problems`] is empty when it passed.
#[derive(Debug, Clone, Default)]
pub struct SoakReport {
    /// The options it ran with.
    pub clients: usize,
    /// How long the clients ran.
    pub duration: Duration,
    /// Requests sent through `runboard`.
    pub requests: u64,
    /// Their answers by HTTP status.
    pub by_status: BTreeMap<u16, u64>,
    /// Up to five answers that were not expected, with what they said.
    pub unexpected: Vec<String>,
    /// How many answers were unexpected in all (transport failures included).
    pub unexpected_count: u64,
    /// Starts sent through `runboard`.
    pub starts_sent: u64,
    /// Starts `runboard` accepted (a new job or `AlreadyExists`).
    pub starts_accepted: u64,
    /// Starts answered with a new job.
    pub new_jobs: usize,
    /// Starts answered `AlreadyExists` (an identical selection was still queued).
    pub existing_jobs: u64,
    /// `testExecution` calls the simulator received while the clients ran.
    pub upstream_starts: u64,
    /// Job ids answered as new more than once.
    pub duplicated: Vec<String>,
    /// Accepted job ids the simulator does not know.
    pub lost: Vec<String>,
    /// `AlreadyExists` answers naming a job no start was told about.
    pub unexplained_existing: Vec<String>,
    /// Resident memory (KiB) after a quarter of the run and at its end.
    pub rss_kib: [u64; 2],
    /// Open file descriptors before the clients and after they are gone (for reading:
    /// pooled upstream connections stay open a while by design).
    pub open_fds: [usize; 2],
    /// Connections to `runboard` still established (or half-closed) after every client
    /// is gone: anything but 0 is a leak.
    pub lingering_connections: usize,
}

impl SoakReport {
    /// Everything that went wrong, in words; empty when the soak passed.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.unexpected_count > 0 {
            problems.push(format!(
                "{} unexpected answers, e.g. {:?}",
                self.unexpected_count, self.unexpected
            ));
        }
        if self.upstream_starts != self.starts_accepted {
            problems.push(format!(
                "{} starts accepted but {} reached the platform: each must be forwarded exactly once",
                self.starts_accepted, self.upstream_starts
            ));
        }
        for (what, ids) in [
            ("answered as new more than once", &self.duplicated),
            ("accepted but unknown to the platform", &self.lost),
            (
                "named by AlreadyExists but never started",
                &self.unexplained_existing,
            ),
        ] {
            if !ids.is_empty() {
                problems.push(format!("{} jobs {what}: {:?}", ids.len(), ids));
            }
        }
        let [quarter, end] = self.rss_kib;
        if end > quarter * 2 + 64 * 1024 {
            problems.push(format!(
                "memory grew from {quarter} KiB to {end} KiB during the soak"
            ));
        }
        if self.lingering_connections > 0 {
            problems.push(format!(
                "{} connections to runboard still open after every client left",
                self.lingering_connections
            ));
        }
        problems
    }

    /// A plain-text summary for the terminal and `docs/benchmarks.md`.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let statuses: Vec<String> = self
            .by_status
            .iter()
            .map(|(status, n)| format!("{status}: {n}"))
            .collect();
        let _ = writeln!(
            out,
            "| clients | seconds | requests | answers | starts sent / accepted / reached upstream | new jobs | AlreadyExists | RSS KiB (¼ → end) | fds (before → after) | connections left |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|");
        let _ = writeln!(
            out,
            "| {} | {:.0} | {} | {} | {} / {} / {} | {} | {} | {} → {} | {} → {} | {} |",
            self.clients,
            self.duration.as_secs_f64(),
            self.requests,
            statuses.join(", "),
            self.starts_sent,
            self.starts_accepted,
            self.upstream_starts,
            self.new_jobs,
            self.existing_jobs,
            self.rss_kib[0],
            self.rss_kib[1],
            self.open_fds[0],
            self.open_fds[1],
            self.lingering_connections,
        );
        out
    }
}

/// Runs the soak against a fresh simulator and `runboard`, both on loopback, and stops
/// both. It ends by itself after `options.duration` plus the final count.
pub async fn soak(options: &SoakOptions) -> Result<SoakReport, BenchError> {
    if options.clients == 0 || options.duration.is_zero() || options.starts_per_mille > 1_000 {
        return Err(BenchError::Options(
            "clients and duration must be positive, starts at most 1000 per mille".to_owned(),
        ));
    }
    let stack = Stack::start_with(options.sim_speed, SOAK_TESTS, Auth::Header).await?;
    let result = drive(&stack, options).await;
    stack.shutdown().await;
    result
}

/// What every client shares: the jobs and runs known so far and the tallies.
#[derive(Default)]
struct Shared {
    jobs: Vec<String>,
    runs: Vec<String>,
    new_jobs: Vec<String>,
    existing: Vec<String>,
    tally: Tally,
}

/// Counts of one client, merged at the end.
#[derive(Debug, Default)]
struct Tally {
    requests: u64,
    starts: u64,
    by_status: BTreeMap<u16, u64>,
    unexpected: Vec<String>,
    unexpected_count: u64,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.requests += other.requests;
        self.starts += other.starts;
        for (status, n) in other.by_status {
            *self.by_status.entry(status).or_default() += n;
        }
        self.unexpected_count += other.unexpected_count;
        for message in other.unexpected {
            if self.unexpected.len() < 5 {
                self.unexpected.push(message);
            }
        }
    }

    fn answer(&mut self, status: StatusCode) {
        self.requests += 1;
        *self.by_status.entry(status.as_u16()).or_default() += 1;
    }

    fn unexpected(&mut self, message: String) {
        self.unexpected_count += 1;
        if self.unexpected.len() < 5 {
            self.unexpected.push(message);
        }
    }
}

async fn drive(stack: &Stack, options: &SoakOptions) -> Result<SoakReport, BenchError> {
    let test_ids = stack.test_ids()?;
    let client = Client::builder()
        .pool_max_idle_per_host(options.clients)
        .timeout(Duration::from_secs(30))
        .build()?;
    let fds_before = open_fds();
    let shared = Arc::new(Mutex::new(Shared::default()));
    let started = Instant::now();
    let deadline = started + options.duration;
    let upstream_before = stack.upstream_starts();
    let mut clients = JoinSet::new();
    for seed in 0..options.clients {
        let soaker = Soaker {
            client: client.clone(),
            base: stack.proxy().base,
            project: stack.project_id().to_owned(),
            test_ids: Arc::clone(&test_ids),
            shared: Arc::clone(&shared),
            options: *options,
            rng: StdRng::seed_from_u64(seed as u64),
            user: format!("soaker-{seed}@example.com"),
        };
        clients.spawn(soaker.run(deadline));
    }
    let quarter = started + options.duration / 4;
    tokio::time::sleep_until(quarter.into()).await;
    let rss_quarter = resident_kib();
    let mut tally = Tally::default();
    while let Some(joined) = clients.join_next().await {
        match joined {
            Ok(part) => tally.merge(part),
            Err(err) => tally.unexpected(format!("a client panicked: {err}")),
        }
    }
    let duration = started.elapsed();
    let rss_end = resident_kib();
    let upstream_starts = stack.upstream_starts() - upstream_before;
    drop(client);
    let port = stack.proxy_port();
    let lingering_connections = settle_connections(port).await;
    let fds_after = open_fds();
    let shared = std::mem::take(&mut *lock(&shared));
    tally.merge(shared.tally);
    let account = account(stack, &shared.new_jobs, &shared.existing).await?;
    Ok(SoakReport {
        clients: options.clients,
        duration,
        requests: tally.requests,
        by_status: tally.by_status,
        unexpected: tally.unexpected,
        unexpected_count: tally.unexpected_count,
        starts_sent: tally.starts,
        starts_accepted: (shared.new_jobs.len() + shared.existing.len()) as u64,
        new_jobs: shared.new_jobs.len(),
        existing_jobs: shared.existing.len() as u64,
        upstream_starts,
        duplicated: account.duplicated,
        lost: account.lost,
        unexplained_existing: account.unexplained,
        rss_kib: [rss_quarter, rss_end],
        open_fds: [fds_before, fds_after],
        lingering_connections,
    })
}

/// One simulated person: polls the jobs it knows, reads reports, now and then starts a run.
struct Soaker {
    client: Client,
    base: String,
    project: String,
    test_ids: Arc<[String]>,
    shared: Arc<Mutex<Shared>>,
    options: SoakOptions,
    rng: StdRng,
    /// Who this person is, as the SSO proxy would say.
    user: String,
}

impl Soaker {
    async fn run(mut self, deadline: Instant) -> Tally {
        let mut tally = Tally::default();
        while Instant::now() < deadline {
            let roll = self.rng.gen_range(0..1_000);
            let result = if roll < self.options.starts_per_mille {
                tally.starts += 1;
                self.start(&mut tally).await
            } else if roll % 2 == 0 {
                self.poll_jobs(&mut tally).await
            } else {
                self.read_report(&mut tally).await
            };
            if let Err(message) = result {
                tally.unexpected(message);
            }
            let pause = self.rng.gen_range(Duration::ZERO..=self.options.max_pause);
            tokio::time::sleep(pause).await;
        }
        tally
    }

    async fn start(&mut self, tally: &mut Tally) -> Result<(), String> {
        let picked: Vec<String> = (0..TESTS_PER_START)
            .map(|_| self.test_ids[self.rng.gen_range(0..self.test_ids.len())].clone())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let selector = Selector::tests(&picked).map_err(|e| e.to_string())?;
        let body = execute_body(selector).map_err(|e| e.to_string())?;
        let path = execute_path(&self.project_id()?);
        let answer: ExecuteResponse = self.post(&path, body, tally).await?;
        let mut shared = lock(&self.shared);
        match answer.schedule_status {
            ScheduleStatus::Success => shared.new_jobs.push(answer.job_id.clone()),
            ScheduleStatus::AlreadyExists => shared.existing.push(answer.job_id.clone()),
            ScheduleStatus::Other(other) => return Err(format!("scheduleStatus {other:?}")),
        }
        shared.jobs.push(answer.job_id);
        Ok(())
    }

    /// The project's id, typed for the shared path builders.
    fn project_id(&self) -> Result<ProjectId, String> {
        ProjectId::parse(self.project.as_str()).map_err(|e| e.to_string())
    }

    async fn poll_jobs(&mut self, tally: &mut Tally) -> Result<(), String> {
        let ids = self.pick(|s| &s.jobs, IDS_PER_POLL);
        if ids.is_empty() {
            return Ok(());
        }
        let body = jobs_body(&ids).map_err(|e| e.to_string())?;
        let path = jobs_path(&self.project_id()?);
        let answer: JobsResponse = self.post(&path, body, tally).await?;
        if !answer.missing_job_ids.is_empty() {
            return Err(format!("jobs lost: {:?}", answer.missing_job_ids));
        }
        let mut shared = lock(&self.shared);
        for run in answer.jobs.into_iter().filter_map(|job| job.test_run_id) {
            if !shared.runs.contains(&run) {
                shared.runs.push(run);
            }
        }
        Ok(())
    }

    async fn read_report(&mut self, tally: &mut Tally) -> Result<(), String> {
        let Some(run) = self.pick(|s| &s.runs, 1).pop() else {
            return Ok(());
        };
        let run = RunId::parse(run).map_err(|e| e.to_string())?;
        let url = format!("{}{}", self.base, test_run_path(&self.project_id()?, &run));
        let response = self
            .client
            .get(url)
            .header(USER_HEADER, &self.user)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        expect_ok(response, tally).await.map(drop)
    }

    /// Up to `n` random entries of one of the shared lists.
    fn pick(&mut self, list: impl Fn(&Shared) -> &Vec<String>, n: usize) -> Vec<String> {
        let shared = lock(&self.shared);
        let list = list(&shared);
        if list.is_empty() {
            return Vec::new();
        }
        let mut picked: Vec<String> = (0..n)
            .map(|_| list[self.rng.gen_range(0..list.len())].clone())
            .collect();
        picked.sort();
        picked.dedup();
        picked
    }

    async fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: String,
        tally: &mut Tally,
    ) -> Result<T, String> {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(USER_HEADER, &self.user)
            .body(body)
            .send()
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        let bytes = expect_ok(response, tally).await?;
        serde_json::from_slice(&bytes).map_err(|e| format!("{path}: {e}"))
    }
}

/// The body of a 200 answer, or why the answer was not one.
async fn expect_ok(response: reqwest::Response, tally: &mut Tally) -> Result<Vec<u8>, String> {
    let status = response.status();
    tally.answer(status);
    let bytes = response.bytes().await.map_err(|e| e.to_string())?;
    if status == StatusCode::OK {
        Ok(bytes.to_vec())
    } else {
        let text = String::from_utf8_lossy(&bytes);
        Err(format!(
            "{status}: {}",
            text.chars().take(200).collect::<String>()
        ))
    }
}

/// The end-of-soak account of starts, checked straight at the simulator.
struct Account {
    duplicated: Vec<String>,
    lost: Vec<String>,
    unexplained: Vec<String>,
}

async fn account(
    stack: &Stack,
    new: &[String],
    existing: &[String],
) -> Result<Account, BenchError> {
    let mut seen = HashSet::new();
    let duplicated: Vec<String> = new.iter().filter(|id| !seen.insert(*id)).cloned().collect();
    let unexplained = existing
        .iter()
        .filter(|id| !seen.contains(*id))
        .cloned()
        .collect();
    let unique: Vec<String> = seen.into_iter().cloned().collect();
    let mut lost = Vec::new();
    for chunk in unique.chunks(IDS_PER_CHECK) {
        lost.extend(stack.missing_upstream(chunk).await?);
    }
    Ok(Account {
        duplicated,
        lost,
        unexplained,
    })
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// This process's resident memory in KiB (`VmRSS`), 0 where `/proc` cannot tell.
fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Open file descriptors of this process, 0 where `/proc` cannot tell.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count)
}

/// Waits (up to [`SETTLE`]) for the connections of the finished clients to close, and
/// returns how many are still open.
async fn settle_connections(port: u16) -> usize {
    let deadline = Instant::now() + SETTLE;
    loop {
        let open = connections(port);
        if open == 0 || Instant::now() >= deadline {
            return open;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// TCP connections on this machine with `port` at either end that are established or
/// half-closed by the peer (`/proc/net/tcp` states 01 and 08).
fn connections(port: u16) -> usize {
    let port = format!(":{port:04X}");
    let open = |line: &&str| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        matches!(fields.get(3), Some(&"01" | &"08"))
            && (fields[1].ends_with(&port) || fields[2].ends_with(&port))
    };
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .map(|table| table.lines().skip(1).filter(open).count())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clean_report_has_no_problems_and_each_fault_is_named() {
        let clean = SoakReport {
            starts_sent: 4,
            starts_accepted: 3,
            upstream_starts: 3,
            rss_kib: [10_000, 12_000],
            open_fds: [40, 41],
            ..SoakReport::default()
        };
        assert!(clean.problems().is_empty(), "{:?}", clean.problems());
        let faults = [
            SoakReport {
                upstream_starts: 4,
                ..clean.clone()
            },
            SoakReport {
                lost: vec!["j1".into()],
                ..clean.clone()
            },
            SoakReport {
                duplicated: vec!["j1".into()],
                ..clean.clone()
            },
            SoakReport {
                unexpected_count: 1,
                ..clean.clone()
            },
            SoakReport {
                rss_kib: [10_000, 200_000],
                ..clean.clone()
            },
            SoakReport {
                lingering_connections: 2,
                ..clean.clone()
            },
        ];
        for report in faults {
            assert_eq!(report.problems().len(), 1, "{report:?}");
        }
    }
}
