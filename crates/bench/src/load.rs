//! The load generator: a fixed number of requests at a fixed concurrency against one
//! target, each timed from send to the last byte of the body.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use reqwest::{Client, header};
use tokio::task::JoinSet;

use crate::{BenchError, Summary, scenario::Scenario, stack::Destination};

/// How many requests, how many at once, and for how long at most.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    pub(crate) requests: usize,
    pub(crate) concurrency: usize,
    pub(crate) time_limit: Duration,
}

/// What a burst of requests came to, before statistics.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    latencies: Vec<Duration>,
    sent: usize,
    wall: Duration,
    /// The largest answer body seen, in bytes.
    pub(crate) body_bytes: usize,
    /// The first failure, to show why requests failed.
    pub(crate) first_error: Option<String>,
}

impl Outcome {
    /// Adds another burst's figures (wall times add up: the bursts ran one after another).
    pub(crate) fn merge(&mut self, other: Outcome) {
        self.latencies.extend(other.latencies);
        self.sent += other.sent;
        self.wall += other.wall;
        self.body_bytes = self.body_bytes.max(other.body_bytes);
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    pub(crate) fn summary(self) -> Summary {
        Summary::new(self.latencies, self.sent, self.wall)
    }
}

/// One pooled client for every request, with room for a connection per worker.
pub(crate) fn client(concurrency: usize) -> Result<Client, BenchError> {
    Ok(Client::builder()
        .pool_max_idle_per_host(concurrency)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()?)
}

/// Sends `plan.requests` requests of `scenario` to `target`, `plan.concurrency` at a
/// time, stopping early once `plan.time_limit` has passed.
pub(crate) async fn drive(
    client: &Client,
    target: &Destination,
    scenario: &Scenario,
    plan: Plan,
) -> Outcome {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + plan.time_limit;
    let mut workers = JoinSet::new();
    for _ in 0..plan.concurrency.min(plan.requests) {
        let worker = Worker {
            client: client.clone(),
            target: target.clone(),
            scenario: scenario.clone(),
            next: Arc::clone(&next),
            requests: plan.requests,
            deadline,
        };
        workers.spawn(worker.run());
    }
    let mut outcome = Outcome::default();
    while let Some(joined) = workers.join_next().await {
        match joined {
            Ok(part) => outcome.merge(part),
            Err(err) => {
                outcome.first_error.get_or_insert(format!("worker: {err}"));
            }
        }
    }
    outcome.wall = started.elapsed();
    outcome
}

/// One of the `concurrency` loops: takes the next request number until none is left.
struct Worker {
    client: Client,
    target: Destination,
    scenario: Scenario,
    next: Arc<AtomicUsize>,
    requests: usize,
    deadline: Instant,
}

impl Worker {
    async fn run(self) -> Outcome {
        let mut outcome = Outcome::default();
        loop {
            let index = self.next.fetch_add(1, Ordering::Relaxed);
            if index >= self.requests || Instant::now() >= self.deadline {
                return outcome;
            }
            outcome.sent += 1;
            let started = Instant::now();
            match self.send(index).await {
                Ok(bytes) => {
                    outcome.latencies.push(started.elapsed());
                    outcome.body_bytes = outcome.body_bytes.max(bytes);
                }
                Err(message) => {
                    outcome.first_error.get_or_insert(message);
                }
            }
        }
    }

    /// Sends request `index` and reads its whole body: its length, or why it failed.
    async fn send(&self, index: usize) -> Result<usize, String> {
        let url = format!("{}{}", self.target.base, self.scenario.path);
        let mut request = self.client.request(self.scenario.method.clone(), url);
        if let Some(body) = self.scenario.body(index) {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        if let Some(accepted) = self.scenario.accept_encoding {
            request = request.header(header::ACCEPT_ENCODING, accepted);
        }
        if let Some(key) = &self.target.key {
            request = request.header("x-api-key", key);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| e.to_string())?;
        if status.is_success() {
            Ok(body.len())
        } else {
            let text = String::from_utf8_lossy(&body);
            Err(format!(
                "{status}: {}",
                text.chars().take(200).collect::<String>()
            ))
        }
    }
}
