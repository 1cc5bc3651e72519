//! A real PostgreSQL server (Debian's `postgresql-15`) for tests: a fresh cluster in a temporary
//! folder, listening on 127.0.0.1 at a free port, user `vigil` trusted, database `vigil`, stopped
//! and removed on drop. PostgreSQL refuses to run as root: started as root, the cluster is owned
//! by and run as the `postgres` user (`runuser`).

use crate::{free_port, wait_for_port};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Postgres {
    pub port: u16,
    child: Option<Child>,
    dir: tempfile::TempDir,
    bin: PathBuf,
}

/// The newest installed PostgreSQL's programs.
fn bin_dir() -> Result<PathBuf, String> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|e| format!("no PostgreSQL under /usr/lib/postgresql ({e}): run scripts/setup"))?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|b| b.join("postgres").is_file())
        .collect();
    versions.sort();
    versions
        .pop()
        .ok_or_else(|| "no PostgreSQL server installed: run scripts/setup".into())
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// `program args…`, as the `postgres` user when we are root.
fn as_owner(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

impl Postgres {
    /// Starts a fresh server; `Err` says why it cannot (no server installed, …).
    pub fn start() -> Result<Self, String> {
        let bin = bin_dir()?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let data = dir.path().join("data");
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .map_err(|e| format!("chown: {e}"))?;
            if !status.success() {
                return Err("cannot hand the cluster's folder to the postgres user".into());
            }
        }
        let out = as_owner(&bin.join("initdb"))
            .args([
                "-U",
                "vigil",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "-D",
            ])
            .arg(&data)
            .output()
            .map_err(|e| format!("initdb: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let mut pg = Self {
            port: free_port(),
            child: None,
            dir,
            bin,
        };
        pg.launch()?;
        let out = Command::new(pg.bin.join("createdb"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &pg.port.to_string(),
                "-U",
                "vigil",
                "vigil",
            ])
            .output()
            .map_err(|e| format!("createdb: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "createdb failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(pg)
    }

    fn launch(&mut self) -> Result<(), String> {
        let data = self.dir.path().join("data");
        let child = as_owner(&self.bin.join("postgres"))
            .arg("-D")
            .arg(&data)
            .args(["-p", &self.port.to_string(), "-k"])
            .arg(self.dir.path())
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "max_connections=50",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("postgres: {e}"))?;
        self.child = Some(child);
        if !wait_for_port(self.port, Duration::from_secs(30)) {
            return Err(format!("postgres did not listen on {}", self.port));
        }
        // The port opens a moment before connections are accepted.
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let ready = Command::new(self.bin.join("pg_isready"))
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &self.port.to_string(),
                    "-U",
                    "vigil",
                ])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err("postgres never became ready".into())
    }

    /// `postgres://vigil@127.0.0.1:PORT/vigil`.
    pub fn url(&self) -> String {
        format!("postgres://vigil@127.0.0.1:{}/vigil", self.port)
    }

    /// Runs `sql` with psql; its output (tuples only, unaligned).
    pub fn psql(&self, sql: &str) -> Result<String, String> {
        let out = Command::new(self.bin.join("psql"))
            .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(self.url())
            .args(["-c", sql])
            .output()
            .map_err(|e| format!("psql: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// Starts it again on the same port with the same data (after [`stop`](Self::stop)).
    pub fn restart(&mut self) -> Result<(), String> {
        self.stop();
        self.launch()
    }

    /// Stops the server (fast shutdown: connections are closed).
    pub fn stop(&mut self) {
        if let Some(c) = self.child.take() {
            let _ = as_owner(&self.bin.join("pg_ctl"))
                .args(["stop", "-m", "fast", "-D"])
                .arg(self.dir.path().join("data"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            crate::reap(c, Duration::from_secs(10));
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}
