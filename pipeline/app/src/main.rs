//! `vigil`: real-time video analytics for residential communities.
//!
//! - `vigil run -c CONFIG` — live, until Ctrl-C;
//! - `vigil replay -c CONFIG --out DIR` — file cameras as fast as possible, `DIR/alerts.jsonl`;
//! - `vigil check -c CONFIG` — validate, every error as `file:line:col: message`;
//! - `vigil verify DIR` — check an output folder's hash chain and evidence files;
//! - `vigil demo -c CONFIG` — serve the config's file cameras from an embedded RTSP server on
//!   127.0.0.1 and run live against those `rtsp://` URLs.

mod bench;
mod delivery;
mod eval;
mod falling;
mod metrics;
mod pipeline;
mod progress;
mod reload;
mod synth;
mod synth_waste;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use vigil_config::{CameraSource, Config, RtspTransport, RtspUrl};

#[derive(Parser)]
#[command(
    name = "vigil",
    version,
    about = "Real-time video analytics for residential communities"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct Common {
    /// Configuration file (YAML).
    #[arg(short, long)]
    config: PathBuf,
    /// Folder holding models/ and footage/ for relative paths not found beside the config
    /// [default: $VIGIL_ASSETS].
    #[arg(long)]
    assets: Option<PathBuf>,
    /// Process only this instance's share of the cameras: `INDEX/COUNT` (0-based, `1/3`), or
    /// `auto` (index from VIGIL_SHARD_INDEX or the host name's `-<ordinal>`, count from
    /// VIGIL_SHARD_COUNT). Cameras are shared out by rendezvous hashing on their names.
    #[arg(long)]
    shard: Option<String>,
    /// This instance's name among several running the same config [default: $VIGIL_INSTANCE;
    /// with --shard, `shard-<index>`]. It names the MQTT client and the liveness topic
    /// `<prefix>/instance/<name>/status`.
    #[arg(long)]
    instance: Option<String>,
    /// Where the other instances reach this one's API, `http://host:port` [default:
    /// $VIGIL_ADVERTISE; else the API's listen address, with the host name for 0.0.0.0]. Kept
    /// in the shared store (outputs.postgres): another instance's page fetches this one's
    /// evidence and sends its acknowledgements there.
    #[arg(long)]
    advertise: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run live until stopped (Ctrl-C).
    Run {
        #[command(flatten)]
        common: Common,
        /// Output folder for alerts.db and alerts.jsonl [default: config outputs.dir, else vigil-data].
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Process file cameras as fast as possible and exit at the end of input.
    Replay {
        #[command(flatten)]
        common: Common,
        /// Output folder: alerts.jsonl, alerts.db, summary.json.
        #[arg(long)]
        out: PathBuf,
        /// Also write every frame's tracks to OUT/tracks.jsonl.
        #[arg(long)]
        dump_tracks: bool,
        /// Write every falling-object track's verdict — and why each one was rejected — to
        /// OUT/explain.jsonl.
        #[arg(long)]
        explain: bool,
        /// At the end, wait up to this long for webhooks and MQTT to take every record (what
        /// they do not take stays in the outbox for the next run on OUT).
        #[arg(long, default_value_t = 10.0)]
        drain_secs: f64,
    },
    /// Validate a configuration; prints every error as file:line:col: message.
    Check {
        #[command(flatten)]
        common: Common,
    },
    /// Replay the config's file cameras and score the alerts against labelled events: prints
    /// precision, recall and timing per rule, writes OUT/eval.json.
    Eval {
        #[command(flatten)]
        common: Common,
        /// Labelled events (YAML: tolerance_secs, events: [{camera, rule|kind, start, end}]).
        #[arg(long)]
        labels: PathBuf,
        /// Output folder of the replay and the report [default: a fresh temporary folder].
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Mint an API token: prints the token (shown once, stored nowhere) and the `api.tokens`
    /// entry holding its sha256.
    Token {
        /// Who will hold it (shown as the acknowledger).
        #[arg(long)]
        name: String,
        /// viewer (reads) or operator (also acknowledges).
        #[arg(long, default_value = "viewer")]
        role: String,
    },
    /// Run declarative rule test cases (rules/tests/*.yaml, or any given): scripted objects in,
    /// expected alerts out. Exits 0 when every case passes, 1 otherwise.
    TestRules {
        /// Case files, or folders of them [default: rules/tests].
        paths: Vec<PathBuf>,
    },
    /// Ask a running vigil's HTTP API whether it is up (GET /healthz): exits 0 when it answers
    /// 200, 1 otherwise. For container health checks: the image has no curl.
    Health {
        #[arg(long, default_value = "http://127.0.0.1:8080/healthz")]
        url: String,
        #[arg(long, default_value_t = 3.0)]
        timeout_secs: f64,
    },
    /// Check an output folder: the alert records' hash chain and every evidence file's sha256.
    /// Exits 0 when all is intact, 1 with every finding otherwise.
    Verify {
        /// Output folder (holding alerts.db and evidence/).
        dir: PathBuf,
        /// Also compare the shared store's copy of this instance's records with its own:
        /// `postgres://user@host:port/db` (password from --password-env).
        #[arg(long)]
        shared: Option<String>,
        /// The instance's name in the shared store (`--instance` of its `vigil run`).
        #[arg(long, default_value = "vigil")]
        instance: String,
        /// The environment variable holding the shared store's password.
        #[arg(long)]
        password_env: Option<String>,
        /// The CA certificate(s) of the shared store's server: TLS, verified.
        #[arg(long)]
        ca_file: Option<PathBuf>,
    },
    /// Render the synthetic falling-object benchmark: H.264 sequences of a facade seen from
    /// below with throws and distractors, each with its ground truth and a config to replay it.
    Synth(synth::SynthOptions),
    /// Render the synthetic bin scenes (a bag dropped and picked up, a person standing a minute,
    /// a car parking, dusk, the infrared switch, an overflowing bin) to H.264, with a config
    /// that replays them (waste.yaml) and the labels `vigil eval` scores them with.
    SynthWaste(synth_waste::SynthWasteOptions),
    /// Replay a `vigil synth` set through the pipeline and score the falling-object alerts:
    /// recall, false alerts per 10 minutes, origin floor accuracy, latency. Writes
    /// OUT/eval-falls.json.
    EvalFalls {
        /// The folder `vigil synth` wrote.
        dir: PathBuf,
        /// Where the replays and the report go [default: DIR/eval].
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        assets: Option<PathBuf>,
    },
    /// Measure the pipeline under load: N cameras (files replayed as fast as possible, or served
    /// over RTSP at their real rate), per-stage frames, CPU per frame, latency, memory, and the
    /// limit (decode alone + inference alone). Prints a table, writes OUT/bench.json.
    Bench(bench::BenchArgs),
    /// (Used by `vigil bench --rtsp` and the fault tests.) Serve H.264 byte-stream files over
    /// RTSP on 127.0.0.1: NAME=FILE:NUM/DEN each; prints `port N`, stops when stdin closes.
    #[command(hide = true)]
    BenchServer {
        /// 0 picks a free port.
        #[arg(long, default_value_t = 0)]
        port: u16,
        mounts: Vec<String>,
    },
    /// Serve the config's file cameras over RTSP at rtsp://LISTEN:PORT/<camera> until stopped:
    /// the cameras of the compose demo (docker/compose.yaml). Runs no pipeline.
    ServeFootage {
        #[command(flatten)]
        common: Common,
        /// Address to listen on (0.0.0.0: every interface).
        #[arg(long, default_value = "127.0.0.1")]
        listen: String,
        #[arg(long, default_value_t = 8554)]
        port: u16,
        /// Where the footage is prepared as H.264 streams.
        #[arg(long, default_value = "vigil-streams")]
        cache: PathBuf,
    },
    /// Serve the config's file cameras over RTSP on 127.0.0.1 and run live against them.
    Demo {
        #[command(flatten)]
        common: Common,
        /// RTSP port (0 picks a free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        #[arg(long, default_value = "vigil-demo")]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    // Before any thread starts: one malloc arena per core (see `limit_arenas`), unless the
    // operator set MALLOC_ARENA_MAX themselves.
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        vigil_core::mem::limit_arenas(cores);
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match real_main(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn assets(common: &Common) -> Option<PathBuf> {
    common
        .assets
        .clone()
        .or_else(|| std::env::var_os("VIGIL_ASSETS").map(PathBuf::from))
}

fn load(common: &Common) -> Result<Config, ExitCode> {
    let mut config =
        vigil_config::load(&common.config, assets(common).as_deref()).map_err(|errors| {
            for e in &errors.0 {
                eprintln!("{e}");
            }
            eprintln!("{} error(s) in {}", errors.0.len(), common.config.display());
            ExitCode::from(2)
        })?;
    let usage = |e: String| {
        eprintln!("{e}");
        ExitCode::from(2)
    };
    let shard = match &common.shard {
        Some(text) => Some(vigil_config::shard::Shard::parse(text).map_err(usage)?),
        None => None,
    };
    let name = common
        .instance
        .clone()
        .or_else(|| std::env::var("VIGIL_INSTANCE").ok())
        .or_else(|| shard.map(|s| format!("shard-{}", s.index)));
    if let Some(name) = name {
        config.instance = Some(vigil_config::shard::Instance::new(&name, shard).map_err(usage)?);
    }
    config.advertise = common
        .advertise
        .clone()
        .or_else(|| std::env::var("VIGIL_ADVERTISE").ok())
        .map(|url| {
            let ok = url
                .strip_prefix("http://")
                .is_some_and(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace));
            if ok {
                Ok(url.trim_end_matches('/').to_string())
            } else {
                Err(format!("--advertise {url}: expected http://host:port"))
            }
        })
        .transpose()
        .map_err(usage)?;
    if let Some(shard) = shard {
        let all = config.cameras.len();
        config.cameras.retain(|c| shard.owns(c.id.as_str()));
        let mine: Vec<&str> = config.cameras.iter().map(|c| c.id.as_str()).collect();
        tracing::info!(%shard, cameras = ?mine, of = all, "this instance's shard");
        eprintln!(
            "shard {shard}: {} of {all} camera(s): {}",
            mine.len(),
            mine.join(", ")
        );
    }
    Ok(config)
}

/// GET `url` within `timeout_secs`; Ok when it answers 200.
fn health(url: &str, timeout_secs: f64) -> Result<()> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs_f64(
            timeout_secs.clamp(0.1, 60.0),
        )))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let status = agent.get(url).call()?.status();
    anyhow::ensure!(status == 200, "answered {status}");
    Ok(())
}

/// Runs rule test cases; prints a line per case (and why a failing one failed).
fn test_rules(paths: Vec<PathBuf>) -> Result<ExitCode> {
    let paths = if paths.is_empty() {
        vec![PathBuf::from("rules/tests")]
    } else {
        paths
    };
    let mut cases = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(&p)
                .with_context(|| format!("cannot list {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|e| e == "yaml"))
                .collect();
            found.sort();
            cases.extend(found);
        } else {
            cases.push(p);
        }
    }
    let (mut passed, mut failed) = (0, 0);
    for case in &cases {
        match vigil_config::cases::run_case(case) {
            Ok(out) if out.passed() => {
                passed += 1;
                println!("ok   {} ({} record(s))", case.display(), out.produced.len());
            }
            Ok(out) => {
                failed += 1;
                println!("FAIL {}", case.display());
                for p in &out.problems {
                    println!("     {p}");
                }
            }
            Err(errors) => {
                failed += 1;
                println!("FAIL {}", case.display());
                for e in &errors.0 {
                    println!("     {e}");
                }
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 && passed > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// A flag set by Ctrl-C / SIGTERM; a second signal exits at once.
fn stop_flag() -> Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    ctrlc::set_handler(move || {
        if s.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("stopping (Ctrl-C again to exit at once)");
    })
    .context("cannot install the Ctrl-C handler")?;
    Ok(stop)
}

fn real_main(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Health { url, timeout_secs } => match health(&url, timeout_secs) {
            Ok(()) => Ok(ExitCode::SUCCESS),
            Err(e) => {
                eprintln!("{url}: {e}");
                Ok(ExitCode::FAILURE)
            }
        },
        Command::Verify {
            dir,
            shared,
            instance,
            password_env,
            ca_file,
        } => {
            let mut report = vigil_deliver::verify::verify(&dir)
                .with_context(|| format!("cannot verify {}", dir.display()))?;
            if let Some(url) = shared {
                let password = match &password_env {
                    Some(var) => Some(
                        std::env::var(var)
                            .with_context(|| format!("--password-env {var}: not set"))?,
                    ),
                    None => None,
                };
                let db = vigil_deliver::shared::Database {
                    url,
                    password,
                    ca_file,
                };
                let rows = vigil_deliver::shared::SharedReader::new(&db)
                    .and_then(|mut r| r.records_of_instance(&instance))
                    .map_err(anyhow::Error::msg)
                    .context("cannot read the shared store")?;
                let check = vigil_deliver::verify::against_shared(&dir, &rows)
                    .with_context(|| format!("cannot verify {}", dir.display()))?;
                println!(
                    "shared store: {} record(s) of instance {instance} compared, {} still pending here",
                    check.compared, check.pending
                );
                report.findings.extend(check.findings);
            }
            for f in &report.findings {
                println!("{f}");
            }
            println!(
                "{}: {} record(s), {} evidence file(s): {}",
                dir.display(),
                report.records,
                report.files,
                if report.intact() {
                    "intact".to_string()
                } else {
                    format!("{} finding(s)", report.findings.len())
                }
            );
            Ok(if report.intact() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Check { common } => {
            let config = match load(&common) {
                Ok(c) => c,
                Err(code) => return Ok(code),
            };
            println!(
                "{}: ok ({} camera(s), {} rule(s), model {} at {})",
                common.config.display(),
                config.cameras.len(),
                config.rules.len() + config.falling.len() + config.waste.len(),
                config.detector.manifest.name,
                config.detector.manifest.file.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Replay {
            common,
            out,
            dump_tracks,
            explain,
            drain_secs,
        } => {
            let config = match load(&common) {
                Ok(c) => c,
                Err(code) => return Ok(code),
            };
            if let Some(c) = config
                .cameras
                .iter()
                .find(|c| !matches!(c.source, CameraSource::File { .. }))
            {
                bail!(
                    "replay takes file cameras only; camera \"{}\" is a live source",
                    c.id
                );
            }
            let stop = stop_flag()?;
            let options = pipeline::Options {
                dump_tracks,
                explain,
                drain: std::time::Duration::from_secs_f64(drain_secs.clamp(0.0, 3600.0)),
                ..pipeline::Options::replay(out.clone(), assets(&common))
            };
            let summary = pipeline::run(&config, &options, stop)?;
            report(&summary, &out);
            Ok(if summary.failed_cameras.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::TestRules { paths } => test_rules(paths),
        Command::Synth(options) => {
            let index = synth::generate(&options)?;
            let out = &options.out;
            println!(
                "{} sequence(s) in {} (replay one: vigil replay -c {}/<name>.yaml --out DIR --explain)",
                index.sequences.len(),
                out.display(),
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::SynthWaste(options) => {
            let names = synth_waste::generate(&options)?;
            let out = options.out.display();
            println!(
                "{} scene(s) in {out} (score them: vigil eval -c {out}/waste.yaml --labels {out}/labels.yaml --out DIR)",
                names.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::EvalFalls { dir, out, assets } => {
            let out = out.unwrap_or_else(|| dir.join("eval"));
            let assets = assets.or_else(|| std::env::var_os("VIGIL_ASSETS").map(PathBuf::from));
            let report = synth::evaluate(&dir, &out, assets)?;
            std::fs::create_dir_all(&out)?;
            std::fs::write(
                out.join("eval-falls.json"),
                serde_json::to_string_pretty(&report)?,
            )?;
            let s = &report.summary;
            println!(
                "throws: {}/{} found (recall {:.1} %; objects ≥ 6 px: {}/{} = {:.1} %)",
                s.found,
                s.throws,
                100.0 * s.recall,
                s.found_6px,
                s.throws_6px,
                100.0 * s.recall_6px
            );
            println!(
                "origin floor within ±1: {:.1} % (exact {:.1} %); alert after landing/leaving the frame: p50 {:.2} s, max {:.2} s",
                100.0 * s.floor_within_1,
                100.0 * s.floor_exact,
                s.latency_p50_secs,
                s.latency_max_secs
            );
            println!(
                "false alerts: {} in {:.1} min of distractor-only footage ({:.2} per 10 min), {} in throw sequences",
                s.false_alerts_distractor_seqs,
                s.distractor_minutes,
                s.false_alerts_per_10_min,
                s.false_alerts_throw_seqs
            );
            println!(
                "{:.0} frames/s through the pipeline (decode included); report in {}",
                report.frames_per_sec,
                out.join("eval-falls.json").display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Token { name, role } => {
            if role != "viewer" && role != "operator" {
                bail!("role \"{role}\" is neither viewer nor operator");
            }
            // 32 bytes from the kernel's CSPRNG.
            let mut bytes = [0u8; 32];
            std::io::Read::read_exact(
                &mut std::fs::File::open("/dev/urandom").context("cannot open /dev/urandom")?,
                &mut bytes,
            )
            .context("cannot read /dev/urandom")?;
            let token = vigil_core::hex::encode(&bytes);
            let hash = vigil_deliver::sha256_hex(token.as_bytes());
            eprintln!("token for {name} (give it to them; vigil keeps only its sha256):");
            println!("{token}");
            eprintln!("add under api.tokens in the config:");
            eprintln!("    - name: {name}\n      role: {role}\n      sha256: {hash}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval {
            common,
            labels,
            out,
        } => {
            let config = match load(&common) {
                Ok(c) => c,
                Err(code) => return Ok(code),
            };
            let labels = eval::Labels::load(&labels)?;
            let out = out.unwrap_or_else(|| {
                std::env::temp_dir().join(format!("vigil-eval-{}", std::process::id()))
            });
            if out.join("alerts.db").exists() {
                bail!(
                    "{} already holds alerts: eval needs a fresh output folder",
                    out.display()
                );
            }
            let options = pipeline::Options {
                print_alerts: false,
                drain: std::time::Duration::ZERO,
                ..pipeline::Options::replay(out.clone(), assets(&common))
            };
            let summary = pipeline::run(&config, &options, stop_flag()?)?;
            let records = vigil_deliver::AlertStore::open(&out.join("alerts.db"))?.all()?;
            let alerts = eval::alerts_of(&records);
            let footage_end = labels
                .events
                .iter()
                .map(|l| l.end)
                .chain(alerts.iter().map(|a| a.raised))
                .fold(0.0, f64::max)
                + labels.tolerance_secs;
            let report = eval::score(&labels, &alerts, footage_end);
            print!("{}", eval::table(&report));
            let path = out.join("eval.json");
            std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
            eprintln!(
                "{} alert(s) from {} frames; report in {}",
                alerts.len(),
                summary.detect.received,
                path.display()
            );
            Ok(if summary.failed_cameras.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Run { common, out } => {
            let config = match load(&common) {
                Ok(c) => c,
                Err(code) => return Ok(code),
            };
            let out = out
                .or(config.outputs.dir.clone())
                .unwrap_or_else(|| PathBuf::from("vigil-data"));
            let stop = stop_flag()?;
            let options = pipeline::Options {
                print_alerts: config.outputs.stdout,
                ..pipeline::Options::live(out.clone(), assets(&common))
            };
            let summary = pipeline::run(&config, &options, stop)?;
            report(&summary, &out);
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(args) => {
            bench::run(args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::BenchServer { port, mounts } => {
            bench::serve_main(port, &mounts)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::ServeFootage {
            common,
            listen,
            port,
            cache,
        } => {
            let config = match load(&common) {
                Ok(c) => c,
                Err(code) => return Ok(code),
            };
            let mounts = footage_mounts(&config, &cache)?;
            let server = vigil_ingest::rtsp_server::RtspServer::start_on(&listen, port, &mounts)?;
            for m in &mounts {
                println!("rtsp://{listen}:{}/{}", server.port(), m.path);
            }
            let stop = stop_flag()?;
            while !stop.load(Ordering::SeqCst) {
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            server.stop();
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { common, port, out } => {
            let mut config = match load(&common) {
                Ok(c) => c,
                Err(code) => return Ok(code),
            };
            let server = serve_file_cameras(&mut config, port, &out.join("streams"))?;
            let stop = stop_flag()?;
            let options = pipeline::Options::live(out.clone(), assets(&common));
            eprintln!(
                "running; alerts print below and go to {}/alerts.jsonl (Ctrl-C stops)",
                out.display()
            );
            let summary = pipeline::run(&config, &options, stop)?;
            server.stop();
            report(&summary, &out);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A mount per file camera of `config`, named after the camera: its footage prepared once as
/// an H.264 stream under `cache`.
fn footage_mounts(config: &Config, cache: &Path) -> Result<Vec<vigil_ingest::rtsp_server::Mount>> {
    use vigil_ingest::rtsp_server::{Mount, prepare_h264};
    std::fs::create_dir_all(cache).with_context(|| format!("cannot create {}", cache.display()))?;
    let mut mounts = Vec::new();
    for cam in &config.cameras {
        if let CameraSource::File { path, .. } = &cam.source {
            let stream = cache.join(format!("{}.h264", cam.id));
            let fps = prepare_h264(path, &stream, 25)
                .with_context(|| format!("cannot prepare {} for streaming", path.display()))?;
            mounts.push(Mount::looped_h264(cam.id.as_str(), &stream, fps));
        }
    }
    if mounts.is_empty() {
        bail!("this config has no file cameras to serve over RTSP");
    }
    Ok(mounts)
}

/// Starts the embedded RTSP server with each file camera's footage (prepared once as an H.264
/// stream under `cache`) and points those cameras at it.
fn serve_file_cameras(
    config: &mut Config,
    port: u16,
    cache: &Path,
) -> Result<vigil_ingest::rtsp_server::RtspServer> {
    let mounts = footage_mounts(config, cache)?;
    let server = vigil_ingest::rtsp_server::RtspServer::start(port, &mounts)?;
    for cam in &mut config.cameras {
        if matches!(cam.source, CameraSource::File { .. }) {
            let url = server.url(cam.id.as_str());
            eprintln!("camera {} served at {url}", cam.id);
            cam.source = CameraSource::Rtsp {
                url: RtspUrl::parse(&url, None, None).map_err(anyhow::Error::msg)?,
                transport: RtspTransport::Tcp,
                latency_ms: 200,
            };
        }
    }
    Ok(server)
}

fn report(s: &pipeline::Summary, out: &Path) {
    for (camera, c) in &s.ingest {
        eprintln!(
            "camera {camera}: decoded {} frames, {} handed on, {} skipped by detect_fps, {} dropped (queue full)",
            c.received, c.sent, c.dropped_sampling, c.dropped_queue_full
        );
    }
    eprintln!(
        "detected {} frames in {:.1} s of processing ({:.1} frames/s, {:.1} ms inference per frame; {:.1} s in all); {} alert(s) in {}",
        s.detect.received,
        s.processing_secs,
        s.detected_fps,
        s.infer_ms_mean,
        s.elapsed_secs,
        s.alerts.received,
        out.join("alerts.jsonl").display()
    );
    for (sink, d) in &s.delivery {
        let ms = |v: Option<i64>| v.map_or("-".into(), |v| v.to_string());
        eprintln!(
            "{sink}: delivered {} (stored → acknowledged p50 {} ms, p99 {} ms), {} failed attempts, {} pending",
            d.delivered,
            ms(d.latency_ms_p50),
            ms(d.latency_ms_p99),
            d.failed_attempts,
            d.pending
        );
    }
    for (camera, f) in &s.falling {
        let d = &f.detector;
        let rejected: Vec<String> = d.rejected.iter().map(|(k, n)| format!("{n} {k}")).collect();
        eprintln!(
            "camera {camera} (falling objects): {} frames, {} candidates, {} fall(s), rejected tracks: {} ({} blips); {} frames guarded (global change)",
            f.stage.received,
            d.candidates,
            d.falls,
            if rejected.is_empty() {
                "none".into()
            } else {
                rejected.join(", ")
            },
            d.blips,
            d.guarded_frames
        );
    }
    for (camera, w) in &s.waste {
        eprintln!(
            "camera {camera} (waste): {} frames, {} object(s) found, {} removed, {} absorbed; rejected as lighting {}, as ghosts {}, as people or vehicles lost by the detector {}; {} relearn(s)",
            w.frames,
            w.objects,
            w.removed,
            w.absorbed,
            w.lighting,
            w.ghosts,
            w.lost_occluders,
            w.relearns
        );
    }
    for f in &s.failed_cameras {
        eprintln!("camera failed: {f}");
    }
}
