//! Two `runboard` processes on one PostgreSQL ledger (a throwaway server, see
//! `runboard-testdb`) in front of one simulator: concurrent starts through both are each
//! recorded once, each unfinished job is followed by one instance at a time, and killing
//! that instance (SIGKILL: no goodbye, its leases simply expire) hands its jobs to the
//! other, which takes them to their end.

use std::{
    collections::{BTreeMap, BTreeSet},
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use runboard_ledger::Ledger;
use runboard_shared::{HistoryPage, HistoryQuery};
use runboard_sim::{SimConfig, SimProject};
use runboard_testdb::PgServer;
use serde_json::json;

use crate::{
    common::{self, KEY, PROJECT, execute_path, read, wait_for},
    paths,
};

const BIN: &str = env!("CARGO_BIN_EXE_runboard");
const WAIT: Duration = Duration::from_secs(30);
/// Each follow round (every 50 ms) renews the leases; one lasts 80 rounds. A lease of a
/// few rounds (800 ms) expired whenever a loaded 2-core machine paused an instance for
/// that long, and the other instance then rightly took the job: a failure of the test,
/// not of the leases. Only a pause of 4 s does that now, and a crashed instance's jobs
/// are still taken over well inside [`WAIT`].
const LEASE_MS: u64 = 4_000;

/// A `runboard` child process, killed when dropped.
struct Instance {
    child: Child,
    url: String,
}

impl Instance {
    /// Starts `runboard --config` on a file naming `sim` and the `ledger` database.
    fn start(dir: &std::path::Path, name: &str, sim: &str, ledger: &str) -> Self {
        let config = dir.join(format!("{name}.toml"));
        let text = format!(
            "listen = \"127.0.0.1:0\"\nwidget_dir = \"/nonexistent-widget-dir\"\n\
             [upstream]\nurl = {sim:?}\n\
             [poll]\njobs_ms = 200\n\
             [cache]\nlive_reuse_ms = 0\n\
             [limits]\nstarts_per_minute = 0\nreads_per_minute = 0\n\
             [ledger]\nurl = {ledger:?}\nfollow_ms = 50\nlease_ms = {LEASE_MS}\n\
             [[projects]]\nid = {PROJECT:?}\nname = \"Test shop\"\n\
             api_key_env = \"RUNBOARD_TEST_KEY\"\n"
        );
        std::fs::write(&config, text).unwrap();
        let mut child = Command::new(BIN)
            .arg("--config")
            .arg(&config)
            .env("RUNBOARD_TEST_KEY", KEY)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("{name} did not start: {line:?}"))
            .to_owned();
        Self { child, url }
    }

    /// Ends the process at once, as a crash would.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

#[tokio::test]
async fn two_instances_share_one_postgres_ledger() {
    let pg = PgServer::start();
    let ledger_url = pg.fresh_database();
    let sim_config = SimConfig {
        speed: 50.0,
        tests_per_project: 8,
        projects: vec![SimProject::new(PROJECT, KEY)],
        ..SimConfig::default()
    };
    let (sim, clock) = common::manual_sim(sim_config).await;
    let catalog = sim.sim.catalog(PROJECT).unwrap();
    let tests: BTreeSet<String> = catalog
        .features
        .iter()
        .flat_map(|f| f.suites.iter())
        .flat_map(|s| s.tests.iter().map(|t| t.id.clone()))
        .collect();
    let tests: Vec<String> = tests.into_iter().take(6).collect();
    assert_eq!(tests.len(), 6);

    let dir = tempfile::tempdir().unwrap();
    let mut a = Instance::start(dir.path(), "a", &sim.url(), &ledger_url);
    let mut b = Instance::start(dir.path(), "b", &sim.url(), &ledger_url);
    let client = reqwest::Client::new();

    // Six starts at once, alternating between the two instances.
    let mut starts = tokio::task::JoinSet::new();
    for (i, test) in tests.iter().enumerate() {
        let url = if i % 2 == 0 { &a.url } else { &b.url };
        let request = client
            .post(format!("{url}{}", execute_path()))
            .json(&json!({"action": "executeTests", "testId": test}));
        starts.spawn(async move {
            let (status, body) = read(request.send().await.unwrap()).await;
            assert_eq!(status, 200, "{body}");
            body["jobId"].as_str().unwrap().to_owned()
        });
    }
    let jobs: BTreeSet<String> = starts.join_all().await.into_iter().collect();
    assert_eq!(jobs.len(), 6, "six distinct jobs");

    // Either instance answers the same history: each start once.
    for url in [&a.url, &b.url] {
        let response = client
            .get(format!(
                "{url}{}",
                paths::history_path(HistoryQuery::default())
            ))
            .send()
            .await
            .unwrap();
        let (status, body) = read(response).await;
        assert_eq!(status, 200, "{body}");
        let page: HistoryPage = serde_json::from_value(body).unwrap();
        let recorded: Vec<String> = page
            .executions
            .iter()
            .filter_map(|e| e.job_id.clone())
            .collect();
        assert_eq!(recorded.len(), 6, "{recorded:?}");
        assert_eq!(recorded.iter().cloned().collect::<BTreeSet<_>>(), jobs);
    }

    // Every job gets one holder, and keeps it while both instances run.
    let ledger = Ledger::open(&ledger_url).await.unwrap();
    let holders = |ledger: Ledger, jobs: BTreeSet<String>| async move {
        let mut map = BTreeMap::new();
        for job in &jobs {
            if let Some(owner) = ledger.lease_holder(PROJECT, job).await.unwrap() {
                map.insert(job.clone(), owner);
            }
        }
        map
    };
    let first = wait_for(WAIT, || {
        let (ledger, jobs) = (ledger.clone(), jobs.clone());
        async move {
            let map = holders(ledger, jobs).await;
            (map.len() == 6).then_some(map)
        }
    })
    .await;
    // Looked at again and again while both follow, for at least 20 platform reads and
    // longer than a lease lasts (a lease left to lapse expires inside the window, and the
    // other instance may take it): a claim that took leases held by another moves jobs at
    // once.
    let reads_then = sim.sim.stats().total;
    let watch_until = Instant::now() + Duration::from_millis(LEASE_MS * 3 / 2);
    wait_for(WAIT, || {
        let (ledger, jobs, first) = (ledger.clone(), jobs.clone(), first.clone());
        let done = sim.sim.stats().total >= reads_then + 20 && Instant::now() > watch_until;
        async move {
            assert_eq!(holders(ledger, jobs).await, first, "no job changed hands");
            done.then_some(())
        }
    })
    .await;

    // Kill the instance holding the first job; the other takes its jobs over once the
    // leases expire, and follows them to the end.
    let victim = first.values().next().unwrap().clone();
    let survivor_url = if victim.contains(&format!("-{}-", a.child.id())) {
        a.kill();
        b.url.clone()
    } else {
        b.kill();
        a.url.clone()
    };
    let taken = wait_for(WAIT, || {
        let (ledger, jobs, victim) = (ledger.clone(), jobs.clone(), victim.clone());
        async move {
            let map = holders(ledger, jobs).await;
            (map.len() == 6 && map.values().all(|owner| *owner != victim)).then_some(map)
        }
    })
    .await;
    assert_eq!(
        taken.values().collect::<BTreeSet<_>>().len(),
        1,
        "one survivor holds every job: {taken:?}"
    );

    clock.advance(Duration::from_secs(86_400));
    let finished = wait_for(WAIT, || {
        let (client, url) = (client.clone(), survivor_url.clone());
        async move {
            let response = client
                .get(format!(
                    "{url}{}",
                    paths::history_path(HistoryQuery::default())
                ))
                .send()
                .await
                .ok()?;
            let (_, body) = read(response).await;
            let page: HistoryPage = serde_json::from_value(body).ok()?;
            page.executions
                .iter()
                .all(|e| e.finished && e.counts.is_some())
                .then_some(page)
        }
    })
    .await;
    assert_eq!(finished.executions.len(), 6);
    drop((a, b));
    sim.shutdown().await;
}
