//! A throwaway PostgreSQL server for tests: `initdb` and `pg_ctl` from Debian's
//! `postgresql` package (`/usr/lib/postgresql/*/bin`), a cluster in a temporary folder,
//! listening only on a Unix socket in that folder (no TCP port to collide with), trust
//! authentication, durability off for speed. Run as root, the cluster belongs to the
//! `postgres` user (PostgreSQL refuses to run as root). Dropping the server stops it
//! and removes the folder.
//!
//! Missing binaries are a test failure with the command that installs them, never a
//! silent skip.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::atomic::{AtomicUsize, Ordering},
};

/// A running throwaway server.
pub struct PgServer {
    dir: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
    databases: AtomicUsize,
}

impl PgServer {
    /// Starts a fresh cluster. Panics with a clear message when PostgreSQL is missing
    /// or does not start.
    pub fn start() -> Self {
        let bin = binaries().unwrap_or_else(|| {
            panic!(
                "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin; \
                 install them with `bash scripts/tools.sh postgres` (Debian's postgresql \
                 package). The ledger's PostgreSQL tests do not skip."
            )
        });
        let as_postgres = is_root();
        let dir = unique_dir();
        std::fs::create_dir_all(&dir).expect("create the cluster folder");
        if as_postgres {
            run(
                Command::new("chown").arg("postgres:postgres").arg(&dir),
                "chown",
            );
        }
        let server = Self {
            dir,
            bin,
            as_postgres,
            databases: AtomicUsize::new(0),
        };
        let data = server.dir.join("data");
        server.pg("initdb", |c| {
            c.arg("-D").arg(&data).args([
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ])
        });
        let options = format!(
            "-c listen_addresses='' -k {} -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=200",
            server.dir.display()
        );
        server.pg("pg_ctl", |c| {
            c.arg("-D")
                .arg(&data)
                .arg("-o")
                .arg(&options)
                .arg("-l")
                .arg(server.dir.join("server.log"))
                .args(["-w", "-t", "60", "start"])
        });
        server
    }

    /// A URL for a new, empty database on this server (each call a new one, so tests
    /// do not see each other's rows).
    pub fn fresh_database(&self) -> String {
        let n = self.databases.fetch_add(1, Ordering::SeqCst);
        let name = format!("ledger_{n}");
        self.pg("createdb", |c| {
            c.arg("-h").arg(&self.dir).args(["-U", "postgres", &name])
        });
        self.url(&name)
    }

    /// The URL of database `name` (over the Unix socket).
    pub fn url(&self, name: &str) -> String {
        format!(
            "postgres://postgres@localhost/{name}?host={}",
            self.dir.display()
        )
    }

    /// Runs `tool` from the server's binaries, as `postgres` when we are root.
    fn pg(&self, tool: &str, args: impl FnOnce(&mut Command) -> &mut Command) {
        let path = self.bin.join(tool);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        // A folder postgres can enter (root's working folder may not be).
        command.current_dir(&self.dir);
        run(args(&mut command), tool);
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let path = self.bin.join("pg_ctl");
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let _ = command
            .current_dir(&self.dir)
            .arg("-D")
            .arg(&data)
            .args(["-m", "immediate", "-w", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` that has `initdb` and `pg_ctl`.
fn binaries() -> Option<PathBuf> {
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").exists() && bin.join("pg_ctl").exists()).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

fn unique_dir() -> PathBuf {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let n = COUNT.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    std::env::temp_dir().join(format!("runboard-pg-{}-{n}-{nanos}", std::process::id()))
}

fn run(command: &mut Command, what: &str) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|err| panic!("cannot run {what}: {err}"));
    assert!(
        output.status.success(),
        "{what} failed ({}): {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}
