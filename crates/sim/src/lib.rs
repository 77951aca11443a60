//! `runboard-sim`: a faithful simulator of the hosted Test Execution API, used as the
//! upstream of Runboard's demo, tests and benchmarks.
//!
//! It serves the three documented endpoints with the platform's behaviour:
//!
//! - `POST /api/testExecution/{projId}` with `{"action":"executeTests", <featureId |
//!   testSuiteId | testId | tests>, "agentName"?}` answers
//!   `{"success":true,"scheduleStatus":"Success","jobId":"…"}`, or `AlreadyExists` with
//!   the queued job's id when the same selection and agent is still `Pending` or
//!   `PendingAgentConnection`.
//! - `POST /api/jobs/{projId}` with `{"jobIds":[…]}` (or `{}` for every active job of the
//!   last 30 days); unknown, malformed or foreign ids come back in `missingJobIds`.
//! - `GET /api/testRun/{projId}/{runId}`: the live report, tests going `Scheduled` →
//!   `Running` → `Passed`/`Failed`/`Skipped`, three at a time, with timelines, errors and
//!   video links.
//!
//! The `x-api-key` header is checked before anything else (more than one is refused
//! too); every error is `{"success":false,"error":{"code":"…","message":"…"}}`.
//!
//! Jobs go `Pending` → (`PendingAgentConnection` when their agent is away) →
//! `InProgress` → `Success`/`Failed`. Each job's whole run is planned when it is created
//! (seeded by `--seed`), and its state at any instant is derived from the clock, so
//! reports are always self-consistent and a [`ManualClock`] walks a run with no sleeping.
//! Agents: `staging-agent` (connected), `nightly-agent` (connects by itself 4 simulated
//! seconds after a job starts waiting for it), `offline-agent` (away until connected
//! with `POST /__sim/agents`), and three with fixed fates ([`Fate`]): `cancel-agent`
//! (jobs go `Pending` → `"Cancelled"`, never a run), `broken-agent` (`Pending` →
//! `Failed`, never a run) and `refusing-agent` (starts answered HTTP 200
//! `{"success":false,"message":…}`). Each catalog also has a "Full regression" feature
//! (`"all": true`) that runs every test of the project.
//!
//! Simulator-only endpoints (no key): `GET /__sim/catalog`, `GET /__sim/stats`,
//! `POST /__sim/stats/reset`, `GET`/`POST /__sim/faults` ([`Faults`] as JSON, including
//! `"shapes": "odd"` ([`Shapes`]) and `"echo_key"` ([`EchoKey`])),
//! `POST /__sim/agents` `{"projectId","name","connected"}`, and `GET`/`DELETE
//! /__sim/requests` (every `/api/` request's method, path and headers,
//! [`RecordedRequests`]).
//!
//! # Command line
//!
//! ```text
//! runboard-sim --addr 127.0.0.1:9090 --project 67f8cb3fe236b8d41b7700ac:secret --speed 20
//! ```
//!
//! The first line printed is always `listening on http://HOST:PORT`. Without `--project`
//! a demo project with a random id and key is created and printed. Faults:
//! `--latency-ms`, `--jitter-ms`, `--error-rate`, `--malformed-rate`, `--hang-rate`,
//! `--drop-rate`, `--odd-shapes`, `--echo-key MODE`. See `runboard-sim --help`.
//!
//! A whole workflow with curl (the simulator started as above):
//!
//! ```text
//! P=67f8cb3fe236b8d41b7700ac; K=secret; S=http://127.0.0.1:9090
//! FEATURE=$(curl -s $S/__sim/catalog | jq -r '.projects[0].features[0].id')
//! JOB=$(curl -s -X POST $S/api/testExecution/$P -H "x-api-key: $K" \
//!   -H 'content-type: application/json' \
//!   -d "{\"action\":\"executeTests\",\"featureId\":\"$FEATURE\",\"agentName\":\"staging-agent\"}" | jq -r .jobId)
//! curl -s -X POST $S/api/jobs/$P -H "x-api-key: $K" -d "{\"jobIds\":[\"$JOB\"]}"
//! RUN=$(curl -s -X POST $S/api/jobs/$P -H "x-api-key: $K" -d "{\"jobIds\":[\"$JOB\"]}" | jq -r '.jobs[0].testRunId')
//! curl -s $S/api/testRun/$P/$RUN -H "x-api-key: $K"
//! ```
//!
//! # Embedding
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use runboard_sim::{SimConfig, SimProject, Simulator, spawn};
//! let config = SimConfig {
//!     projects: vec![SimProject::new("67f8cb3fe236b8d41b7700ac", "secret")],
//!     speed: 50.0,
//!     ..SimConfig::default()
//! };
//! let running = spawn(Simulator::new(config), "127.0.0.1:0".parse().unwrap()).await?;
//! println!("upstream at {}", running.url());
//! running.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Through [`Simulator::router`] alone (no socket), a dropped connection shows as an
//! empty `502` carrying the [`Interrupted`] extension; [`spawn`] really closes it.

mod catalog;
mod clock;
mod config;
mod error;
mod http;
mod job;
mod plan;
mod recorder;
mod report;
mod rng;
mod server;
mod simulator;
mod stats;
mod store;

pub use catalog::{Agent, Catalog, CatalogList, Fate, Feature, Suite, TestCase};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{
    ConfigError, DEFAULT_TESTS_PER_PROJECT, EchoKey, Faults, MAX_LATENCY_MS, MAX_SPEED,
    MAX_TESTS_PER_PROJECT, MIN_SPEED, Shapes, SimConfig, SimProject,
};
pub use http::faults::Interrupted;
pub use recorder::{MAX_RECORDED_REQUESTS, RecordedRequest, RecordedRequests};
pub use server::{RunningSim, spawn};
pub use simulator::Simulator;
pub use stats::{EndpointCounts, Stats};
