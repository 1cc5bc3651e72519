//! `vigil`: real-time video analytics for residential communities. One module per command
//! under `cmd/` (`Args` + `exec`); the pipeline they run is `vigil-runtime`'s. The tools (`bench`,
//! `eval`, `synth`, `synth-waste`, `synth-lanes`, `eval-falls`, `eval-lanes`) come from
//! `vigil-tools` with the default `tools` feature. `vigil --help` lists the commands; README's
//! "Using vigil" shows each.

mod cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

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

#[derive(Subcommand)]
enum Command {
    /// Run live until stopped (Ctrl-C).
    Run(cmd::run::Args),
    /// Process file cameras as fast as possible and exit at the end of input.
    Replay(cmd::replay::Args),
    /// Validate a configuration; prints every error as file:line:col: message.
    Check(cmd::check::Args),
    /// Replay the config's file cameras and score the alerts against labelled events: prints
    /// precision, recall and timing per rule, writes OUT/eval.json.
    #[cfg(feature = "tools")]
    Eval(cmd::eval::Args),
    /// Mint an API token: prints the token (shown once, stored nowhere) and the `api.tokens`
    /// entry holding its sha256.
    Token(cmd::token::Args),
    /// Named accounts (`api.users`): add, passwd, disable, enable, revoke (sessions), token,
    /// revoke-tokens, list.
    User(cmd::user::Args),
    /// Make an ed25519 key: the one that signs the alert chain's heads
    /// (`evidence.anchor.key_file`), or an instance's identity in a district
    /// (`outputs.postgres.identity_key`). Prints its public key.
    Keygen(cmd::keygen::Args),
    /// Set up the shared store of a district (outputs.postgres) so each instance writes only
    /// its own rows: `setup` once, then `add-instance NAME` per instance.
    #[command(subcommand)]
    District(cmd::district::Args),
    /// ONVIF cameras: `discover` (WS-Discovery on the LAN) and `add --onvif HOST` (a camera
    /// block for the config, with its stream URIs).
    #[command(subcommand)]
    Cameras(cmd::cameras::Args),
    /// Run declarative rule test cases (rules/tests/*.yaml, or any given): scripted objects in,
    /// expected alerts out. Exits 0 when every case passes, 1 otherwise.
    TestRules(cmd::test_rules::Args),
    /// Ask a running vigil's HTTP API whether it is up (GET /healthz): exits 0 when it answers
    /// 200, 1 otherwise. For container health checks: the image has no curl.
    Health(cmd::health::Args),
    /// Who opened, played, downloaded or acknowledged which alert, when and from where: the
    /// store's access chain, oldest first.
    Audit(cmd::audit::Args),
    /// The guards' handling as labels `vigil eval` reads: `export DIR` — alerts handled as real
    /// are events, those closed as false alarms are false_alarms (with the reason).
    #[command(subcommand)]
    Labels(cmd::labels::Args),
    /// Check an output folder: the alert records' hash chain and every evidence file's sha256.
    /// Exits 0 when all is intact, 1 with every finding otherwise.
    Verify(cmd::verify::Args),
    /// Render the synthetic falling-object benchmark: H.264 sequences of a facade seen from
    /// below with throws and distractors, each with its ground truth and a config to replay it.
    #[cfg(feature = "tools")]
    Synth(vigil_tools::falls::SynthOptions),
    /// Render the synthetic bin scenes (a bag dropped and picked up, a person standing a minute,
    /// a car parking, dusk, the infrared switch, an overflowing bin) to H.264, with a config
    /// that replays them (waste.yaml) and the labels `vigil eval` scores them with.
    #[cfg(feature = "tools")]
    SynthWaste(vigil_tools::bins::SynthWasteOptions),
    /// Render the synthetic fire-lane scenes of a seed to H.264, with a config that replays them
    /// through a `lane_obstructed` rule each (lanes.yaml) and the labels `vigil eval` scores them
    /// with — the whole pipeline, where `eval-lanes` runs the static-object engine alone.
    #[cfg(feature = "tools")]
    SynthLanes(vigil_tools::lane_synth::SynthLanesOptions),
    /// Replay a `vigil synth` set through the pipeline and score the falling-object alerts:
    /// recall, false alerts per 10 minutes, origin floor accuracy, latency. Writes
    /// OUT/eval-falls.json.
    #[cfg(feature = "tools")]
    EvalFalls(cmd::eval_falls::Args),
    /// Run the synthetic fire-lane scenes of a seed (cameras 3–10 m up, 20–80° down; cars,
    /// e-bikes and boxes left; traffic, people, clouds, dusk, lamps, infrared, rain) through a
    /// `lane_obstructed` rule and score them: obstructions alerted in time, precision, alerts
    /// in scenes with nothing left in the lane. Exits non-zero when a scene fails.
    #[cfg(feature = "tools")]
    EvalLanes(cmd::eval_lanes::Args),
    /// Measure the pipeline under load: N cameras (files replayed as fast as possible, or served
    /// over RTSP at their real rate), per-stage frames, CPU per frame, latency, memory, and the
    /// limit (decode alone + inference alone). Prints a table, writes OUT/bench.json.
    #[cfg(feature = "tools")]
    Bench(vigil_tools::bench::BenchArgs),
    /// (Used by `vigil bench --rtsp` and the fault tests.) Serve H.264 byte-stream files over
    /// RTSP on 127.0.0.1: NAME=FILE:NUM/DEN each; prints `port N`, stops when stdin closes.
    #[command(hide = true)]
    BenchServer(cmd::bench_server::Args),
    /// (Used by `vigil bench --rtsp`.) Encode a clip as a camera sends it, in a process apart.
    #[cfg(feature = "tools")]
    #[command(hide = true)]
    BenchEncode(cmd::bench_encode::Args),
    /// Serve the config's file cameras over RTSP at rtsp://LISTEN:PORT/<camera> until stopped:
    /// the cameras of the compose demo (docker/compose.yaml). Runs no pipeline.
    ServeFootage(cmd::serve_footage::Args),
    /// Serve the config's file cameras over RTSP on 127.0.0.1 and run live against them.
    Demo(cmd::demo::Args),
}

fn main() -> ExitCode {
    // Before any thread starts: one malloc arena per core, large blocks mapped for themselves.
    vigil_core::mem::configure_allocator();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match Cli::parse().command {
        Command::Run(args) => cmd::run::exec(args),
        Command::Replay(args) => cmd::replay::exec(args),
        Command::Check(args) => cmd::check::exec(args),
        #[cfg(feature = "tools")]
        Command::Eval(args) => cmd::eval::exec(args),
        Command::Token(args) => cmd::token::exec(args),
        Command::Keygen(args) => cmd::keygen::exec(args),
        Command::User(args) => cmd::user::exec(args),
        Command::District(args) => cmd::district::exec(args),
        Command::TestRules(args) => cmd::test_rules::exec(args),
        Command::Cameras(args) => cmd::cameras::exec(args),
        Command::Health(args) => cmd::health::exec(args),
        Command::Verify(args) => cmd::verify::exec(args),
        Command::Audit(args) => cmd::audit::exec(args),
        Command::Labels(args) => cmd::labels::exec(args),
        #[cfg(feature = "tools")]
        Command::Synth(options) => cmd::synth::exec_falls(options),
        #[cfg(feature = "tools")]
        Command::SynthWaste(options) => cmd::synth::exec_waste(options),
        #[cfg(feature = "tools")]
        Command::SynthLanes(options) => cmd::synth::exec_lanes(options),
        #[cfg(feature = "tools")]
        Command::EvalFalls(args) => cmd::eval_falls::exec(args),
        #[cfg(feature = "tools")]
        Command::EvalLanes(args) => cmd::eval_lanes::exec(args),
        #[cfg(feature = "tools")]
        Command::Bench(args) => cmd::bench::exec(args),
        Command::BenchServer(args) => cmd::bench_server::exec(args),
        #[cfg(feature = "tools")]
        Command::BenchEncode(args) => cmd::bench_encode::exec(args),
        Command::ServeFootage(args) => cmd::serve_footage::exec(args),
        Command::Demo(args) => cmd::demo::exec(args),
    };
    cmd::exit(result)
}
