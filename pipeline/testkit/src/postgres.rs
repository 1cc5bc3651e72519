//! A real PostgreSQL server (Debian's `postgresql-15`) for tests: a fresh cluster in a temporary
//! folder, listening on 127.0.0.1 at a free port, user `vigil` trusted, database `vigil`, stopped
//! and removed on drop. PostgreSQL refuses to run as root: started as root, the cluster is owned
//! by and run as the `postgres` user (`runuser`). [`Postgres::start_tls`] makes one that accepts
//! TLS connections only, with a certificate for 127.0.0.1 signed by a CA made for it
//! ([`Postgres::ca_file`]).

use crate::{free_port, wait_for_port};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Postgres {
    pub port: u16,
    child: Option<Child>,
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// The CA that signed the server's certificate, when it speaks TLS.
    pub ca_file: Option<PathBuf>,
}

/// Runs `openssl args…` in `dir`.
fn openssl(dir: &Path, args: &[&str]) -> Result<(), String> {
    run(
        Command::new("openssl").current_dir(dir).args(args),
        "openssl",
    )
    .map(|_| ())
}

/// `openssl req` options for a new, unencrypted P-256 key.
const NEW_P256_KEY: [&str; 5] = [
    "-nodes",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
];

/// A new CA (P-256), its certificate at `dir/<name>.pem` and key at `dir/<name>.key`.
pub fn make_ca(dir: &Path, name: &str) -> Result<PathBuf, String> {
    let (pem, key, subject) = (
        format!("{name}.pem"),
        format!("{name}.key"),
        format!("/CN={name}"),
    );
    let rest = [
        "-keyout", &key, "-out", &pem, "-days", "2", "-subj", &subject,
    ];
    openssl(
        dir,
        &[&["req", "-x509", "-new"][..], &NEW_P256_KEY, &rest].concat(),
    )?;
    Ok(dir.join(pem))
}

/// A CA and a server certificate for 127.0.0.1 / localhost signed by it, in `dir`: `ca.pem`,
/// `server.pem`, `server.key`.
pub fn make_certificates(dir: &Path) -> Result<(), String> {
    make_ca(dir, "ca")?;
    leaf(
        dir,
        "server",
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .map(|_| ())
}

/// A client certificate with common name `name`, signed by the CA `make_certificates` made in
/// `dir`: (`<name>.pem`, `<name>.key`).
pub fn make_client_certificate(dir: &Path, name: &str) -> Result<(PathBuf, PathBuf), String> {
    leaf(
        dir,
        name,
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n",
    )
}

/// A key and certificate for `name` (`/CN=<name>`, the extensions `ext`) signed by `ca.pem` /
/// `ca.key` in `dir`; the key readable by its owner only.
fn leaf(dir: &Path, name: &str, ext: &str) -> Result<(PathBuf, PathBuf), String> {
    let (pem, key, csr, extfile) = (
        format!("{name}.pem"),
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.ext"),
    );
    std::fs::write(dir.join(&extfile), ext).map_err(|e| e.to_string())?;
    let subject = format!("/CN={name}");
    let request = ["-keyout", &key, "-out", &csr, "-subj", &subject];
    openssl(
        dir,
        &[&["req", "-new"][..], &NEW_P256_KEY, &request].concat(),
    )?;
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            &pem,
            "-days",
            "2",
            "-extfile",
            &extfile,
        ],
    )?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join(&key), std::fs::Permissions::from_mode(0o600))
        .map_err(|e| e.to_string())?;
    Ok((dir.join(pem), dir.join(key)))
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

/// Runs `c` to its end: its stdout, or why it failed.
fn run(c: &mut Command, what: &str) -> Result<String, String> {
    let out = c.output().map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

impl Postgres {
    /// Starts a fresh server; `Err` says why it cannot (no server installed, …).
    pub fn start() -> Result<Self, String> {
        Self::start_with(false)
    }

    /// Starts a fresh server that takes TLS connections only.
    pub fn start_tls() -> Result<Self, String> {
        Self::start_with(true)
    }

    fn start_with(tls: bool) -> Result<Self, String> {
        let bin = bin_dir()?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let data = dir.path().join("data");
        let certs = dir.path().join("tls");
        if tls {
            std::fs::create_dir(&certs).map_err(|e| e.to_string())?;
            make_certificates(&certs)?;
        }
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
        let initdb = [
            "-U",
            "vigil",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
            "-D",
        ];
        run(
            as_owner(&bin.join("initdb")).args(initdb).arg(&data),
            "initdb",
        )?;
        if tls {
            // TCP only with TLS: a plain connection is refused.
            std::fs::write(
                data.join("pg_hba.conf"),
                "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
            )
            .map_err(|e| format!("pg_hba.conf: {e}"))?;
        }
        let mut pg = Self {
            port: free_port(),
            child: None,
            dir,
            bin,
            ca_file: tls.then(|| certs.join("ca.pem")),
        };
        pg.launch()?;
        run(pg.client("createdb").arg("vigil"), "createdb")?;
        Ok(pg)
    }

    fn launch(&mut self) -> Result<(), String> {
        let data = self.dir.path().join("data");
        let certs = self.dir.path().join("tls");
        let mut postgres = as_owner(&self.bin.join("postgres"));
        if self.ca_file.is_some() {
            postgres.args(["-c", "ssl=on", "-c"]).arg(format!(
                "ssl_cert_file={}",
                certs.join("server.pem").display()
            ));
            postgres.arg("-c").arg(format!(
                "ssl_key_file={}",
                certs.join("server.key").display()
            ));
        }
        let child = postgres
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
            let ready = self
                .client("pg_isready")
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

    /// A client program of the server's installation, pointed at it as user `vigil`.
    fn client(&self, program: &str) -> Command {
        let mut c = Command::new(self.bin.join(program));
        if self.ca_file.is_some() {
            c.env("PGSSLMODE", "require");
        }
        c.args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "vigil",
        ]);
        c
    }

    /// `postgres://vigil@127.0.0.1:PORT/vigil`.
    pub fn url(&self) -> String {
        format!("postgres://vigil@127.0.0.1:{}/vigil", self.port)
    }

    /// Runs `sql` with psql; its output (tuples only, unaligned).
    pub fn psql(&self, sql: &str) -> Result<String, String> {
        let psql = [
            "-X",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            "vigil",
            "-c",
            sql,
        ];
        run(self.client("psql").args(psql), "psql").map(|out| out.trim().to_string())
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
