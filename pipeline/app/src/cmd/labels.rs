//! `vigil labels export DIR [--out FILE]`: what the guards' handling says about DIR's alerts, as
//! labels `vigil eval` reads — alerts handled as real (已办结, not a false alarm) become
//! `events`, alerts closed as false alarms become `false_alarms` with their reason. Times are
//! the alerts' stream times (the footage's, for a replay); each entry's comment names the alert,
//! when it was raised and its clip, which can be replayed as footage for it.

use anyhow::{Context, Result};
use std::collections::HashMap;
use std::fmt::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use vigil_core::AlertEvent;
use vigil_deliver::AlertStore;
use vigil_deliver::handling::State;

#[derive(clap::Subcommand)]
pub enum Args {
    /// Write the labels (YAML) to --out, or print them.
    Export(ExportArgs),
}

#[derive(clap::Args)]
pub struct ExportArgs {
    /// Output folder (holding alerts.db).
    pub dir: PathBuf,
    /// Where to write the labels [default: standard output].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn exec(args: Args) -> Result<ExitCode> {
    let Args::Export(args) = args;
    let db = args.dir.join("alerts.db");
    anyhow::ensure!(db.is_file(), "{}: no alert store there", db.display());
    let store = AlertStore::open(&db).with_context(|| format!("cannot open {}", db.display()))?;
    let records = store.all()?;
    // Each alert's latest end and clip, from one pass over the records.
    let mut later: HashMap<&str, (f64, Option<&str>)> = HashMap::new();
    for r in &records {
        let (end, clip) = later
            .entry(r.id.as_str())
            .or_insert((r.raised_pts_secs, None));
        if let Some(e) = r.ended_pts_secs {
            *end = end.max(e);
        }
        if let Some(c) = &r.evidence.clip {
            *clip = Some(c.path.as_str());
        }
    }
    let (mut events, mut false_alarms) = (String::new(), String::new());
    let (mut real, mut false_count) = (0, 0);
    for start in records.iter().filter(|r| r.event == AlertEvent::Start) {
        let Some(h) = store.handling(start.id.as_str())? else {
            continue;
        };
        if h.state != State::Done {
            continue;
        }
        let (end, clip) = later[start.id.as_str()];
        let clip = clip.unwrap_or("none");
        let q = |s: &str| serde_json::to_string(s).expect("strings serialise");
        let entry = format!(
            "  # alert {}, raised {}, clip {clip}\n  - {{camera: {}, rule: {}, start: {:.2}, end: {end:.2}",
            start.id,
            start.wall_time,
            q(start.camera.as_str()),
            q(start.rule.as_str()),
            start.started_pts_secs,
        );
        match &h.false_alarm {
            Some(reason) => {
                false_count += 1;
                writeln!(false_alarms, "{entry}, reason: {}}}", q(reason))?;
            }
            None => {
                real += 1;
                writeln!(events, "{entry}}}")?;
            }
        }
    }
    let text = format!(
        "# Labels from the guards' handling of {} (vigil labels export): alerts handled as real\n\
         # are events, alerts closed as false alarms are false_alarms. vigil eval reads this.\n\
         tolerance_secs: 2\n\
         events:{}\n{events}false_alarms:{}\n{false_alarms}",
        args.dir.display(),
        if real == 0 { " []" } else { "" },
        if false_count == 0 { " []" } else { "" },
    );
    match &args.out {
        Some(path) => {
            std::fs::write(path, &text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "{real} event(s) and {false_count} false alarm(s) written to {}",
                path.display()
            );
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
