//! Hot reload of rules: a thread (`rules-reload`) looks at the config file and every rule file it
//! names twice a second; when one changed it validates the whole config again and, if valid,
//! publishes the new rules, which the track thread puts in force at each camera's next frame
//! (`RuleEngine::replace_rules`: stays and alerts of kept rules carry on; cameras, tracks and
//! connections are untouched). A broken edit is logged with every error and the rules in force
//! stay. Settings other than rules and zones take effect at the next start.
//!
//! The thread survives anything a file contains: validation range-checks every number, and a
//! panic in it all the same (a bug) is caught, logged as an error, and treated as a rejected
//! edit — the watcher goes on, so the next edit is still read.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};
use vigil_config::{Config, Rule};

/// How often the files are looked at.
pub const POLL: Duration = Duration::from_millis(500);

/// The latest valid rules, with a generation that changes with them.
#[derive(Default)]
pub struct RuleUpdates {
    generation: AtomicU64,
    latest: Mutex<Arc<Vec<Rule>>>,
}

impl RuleUpdates {
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The latest rules (and their generation).
    pub fn latest(&self) -> (u64, Arc<Vec<Rule>>) {
        let rules = self.latest.lock().map(|r| r.clone()).unwrap_or_default();
        (self.generation(), rules)
    }

    fn publish(&self, rules: Vec<Rule>) {
        if let Ok(mut latest) = self.latest.lock() {
            *latest = Arc::new(rules);
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

/// What identifies a file's version: modification time and length (absent: `None`).
fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

fn watched(config: &Config) -> Vec<PathBuf> {
    std::iter::once(config.path.clone())
        .chain(config.rule_files.iter().cloned())
        .collect()
}

/// Starts the watcher for `config` (loaded with `assets`).
pub fn spawn(
    config: &Config,
    assets: Option<PathBuf>,
    updates: Arc<RuleUpdates>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<()>> {
    let path = config.path.clone();
    let mut files = watched(config);
    let mut stamps: Vec<_> = files.iter().map(|f| stamp(f)).collect();
    let mut falling = config.falling.clone();
    let mut waste = config.waste.clone();
    let mut lane = config.lane.clone();
    std::thread::Builder::new()
        .name("rules-reload".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(POLL);
                let now: Vec<_> = files.iter().map(|f| stamp(f)).collect();
                if now == stamps {
                    continue;
                }
                stamps = now;
                let started = Instant::now();
                let loaded = std::panic::catch_unwind(|| vigil_config::load(&path, assets.as_deref()));
                let Ok(loaded) = loaded else {
                    tracing::error!(
                        file = %path.display(),
                        "validating the edit panicked (a bug in vigil: please report it with the file); the rules in force are kept"
                    );
                    continue;
                };
                match loaded {
                    Ok(new) => {
                        if new.falling != falling {
                            tracing::warn!(
                                "falling_object rules changed: they take effect at the next start"
                            );
                            falling = new.falling.clone();
                        }
                        if new.waste != waste {
                            tracing::warn!(
                                "waste_left / bin_overflow rules changed: they take effect at the next start (the background models are built for them)"
                            );
                            waste = new.waste.clone();
                        }
                        if new.lane != lane {
                            tracing::warn!(
                                "lane_obstructed rules changed: they take effect at the next start (the background models are built for them)"
                            );
                            lane = new.lane.clone();
                        }
                        let n = new.rules.len();
                        files = watched(&new);
                        stamps = files.iter().map(|f| stamp(f)).collect();
                        updates.publish(new.rules);
                        tracing::info!(
                            rules = n,
                            validate_ms = started.elapsed().as_millis() as u64,
                            "rules reloaded (other settings take effect at the next start)"
                        );
                    }
                    Err(errors) => {
                        for e in &errors.0 {
                            tracing::warn!(error = %e, "rule change rejected");
                        }
                        tracing::warn!(
                            errors = errors.0.len(),
                            "the edit has errors: the rules in force are kept"
                        );
                    }
                }
            }
        })
}
