//! The server's integration tests, one binary (`cargo test -p runboard-proxy --test it`).

mod audit;
mod auth;
mod canary;
mod cli;
mod common;
mod compression;
mod embedded;
mod event_stream;
mod export;
mod fault_storm;
mod faults;
mod hostile;
mod job_ids;
mod ledger;
mod ledger_replicas;
mod live;
mod paths;
mod reads;
mod resume;
mod router;
mod server;
mod shapes;
mod slow_clients;
mod start_lost;
mod triage;
mod workflow;
