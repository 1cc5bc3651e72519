//! The `alerts` thread: every alert record is stored (see [`sink`]), then the camera's recorder
//! is asked for its clip; when the clip is done the record is stored again with its evidence.
//! Retention runs after each clip and every [`sink::RETENTION_EVERY`] when nothing happens.

pub mod sink;

use super::RaisedAlert;
use crate::metrics::Probe;
use crossbeam_channel::{Receiver, Select, Sender};
use sink::AlertSink;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use vigil_config::Config;
use vigil_core::metrics::Histogram;
use vigil_core::{
    Alert, AlertEvent, CameraId, ClipRef, DropReason, QueueReceiver, SnapshotRef, StageCounters,
};
use vigil_evidence::retention::RetentionLimits;
use vigil_evidence::snapshot::{Overlay, TrajectoryOverlay};
use vigil_evidence::{ClipDone, ClipRequest, SnapshotRequest};

/// What the writer needs from the rest of the pipeline.
pub struct Settings<'a> {
    pub config: &'a Config,
    pub out_dir: PathBuf,
    /// Print each record on the terminal.
    pub print: bool,
    /// Wake the delivery workers after each record.
    pub nudgers: Vec<Sender<()>>,
    /// Every stored record goes to the live-event clients.
    pub events: vigil_serve::Events,
    pub alerts: QueueReceiver<RaisedAlert>,
    /// Per camera: where to ask for clips.
    pub clip_requests: HashMap<CameraId, Sender<ClipRequest>>,
    /// Clips done, from every recorder.
    pub clips_done: Receiver<ClipDone>,
    pub counters: Arc<StageCounters>,
    /// Arrival of the frame that raised an alert → its record committed.
    pub latency: Arc<Histogram>,
    pub probe: Option<Arc<Probe>>,
}

impl Settings<'_> {
    /// Opens the store (finishing, with evidence on, what a killed run left: see
    /// [`AlertSink::recover_interrupted`]) and starts the `alerts` thread. It ends once every
    /// alert sender and every recorder is gone.
    pub fn spawn(self) -> anyhow::Result<JoinHandle<()>> {
        let evidence = &self.config.evidence;
        let mut sink = AlertSink::open(
            &self.out_dir,
            self.print,
            crate::delivery::routes(self.config),
            self.nudgers,
            self.events,
        )?;
        if evidence.enabled {
            sink.recover_interrupted(&self.out_dir.join("evidence"));
        }
        let writer = Writer {
            sink,
            names: self.config.names.clone(),
            clip_requests: self.clip_requests,
            waiting: HashMap::new(),
            pre_roll: evidence.pre_roll,
            post_roll: evidence.post_roll,
            retention: RetentionLimits {
                max_age: evidence.max_age,
                max_bytes_per_camera: evidence.max_bytes_per_camera,
                max_bytes_total: evidence.max_bytes_total,
                keep_unacknowledged_longest: evidence.keep_unacknowledged_longest,
            },
            out_dir: self.out_dir,
            counters: self.counters,
            latency: self.latency,
            probe: self.probe,
        };
        let (alerts, done) = (self.alerts, self.clips_done);
        Ok(std::thread::Builder::new()
            .name("alerts".into())
            .spawn(move || {
                let _span = tracing::info_span!("alerts").entered();
                writer.run(&alerts, &done)
            })?)
    }
}

struct Writer {
    sink: AlertSink,
    /// What people call the cameras, zones and rules.
    names: vigil_config::Names,
    clip_requests: HashMap<CameraId, Sender<ClipRequest>>,
    /// Alerts waiting for a clip, by request key, with the record the clip completes.
    waiting: HashMap<String, (Alert, AlertEvent)>,
    pre_roll: Duration,
    post_roll: Duration,
    retention: RetentionLimits,
    out_dir: PathBuf,
    counters: Arc<StageCounters>,
    latency: Arc<Histogram>,
    probe: Option<Arc<Probe>>,
}

impl Writer {
    fn run(mut self, alerts: &QueueReceiver<RaisedAlert>, done: &Receiver<ClipDone>) {
        let (mut alerts_open, mut done_open) = (true, true);
        while alerts_open || done_open {
            let mut sel = Select::new();
            let a = alerts_open.then(|| sel.recv(alerts.inner()));
            let d = done_open.then(|| sel.recv(done));
            let Ok(op) = sel.select_timeout(sink::RETENTION_EVERY) else {
                self.sink.enforce_retention(&self.retention);
                continue;
            };
            if Some(op.index()) == a {
                match op.recv(alerts.inner()) {
                    Ok(raised) => self.alert(raised),
                    Err(_) => {
                        // No more alerts: let the recorders finish what is open.
                        alerts_open = false;
                        self.clip_requests.clear();
                    }
                }
            } else if Some(op.index()) == d {
                match op.recv(done) {
                    Ok(clip) => {
                        self.clip_done(&clip);
                        self.sink.enforce_retention(&self.retention);
                    }
                    Err(_) => done_open = false,
                }
            }
        }
        // Recorders have ended: anything still waiting gets no clip.
        for (_, (mut alert, completes)) in self.waiting {
            alert.event = completes;
            alert.evidence.error = Some("the camera stopped before the clip was recorded".into());
            self.sink.write(&alert);
        }
    }

    /// Stores a raised record (with the display names of its camera, zone and rule) and asks
    /// for its clip.
    fn alert(&mut self, raised: RaisedAlert) {
        let RaisedAlert {
            mut alert,
            blur,
            zone,
            arrived,
            space,
        } = raised;
        alert.names = self.names.of(&alert);
        self.counters.received();
        let cpu = vigil_core::cpu::thread_time();
        if !self.sink.write(&alert) {
            self.counters.dropped(DropReason::Error);
        } else if let Some(arrived) = arrived.filter(|_| alert.event == AlertEvent::Start) {
            let latency = arrived.elapsed();
            self.latency.observe(latency);
            if let Some(p) = &self.probe {
                p.alert_latency.observe(latency);
            }
        }
        self.counters.add_cpu(vigil_core::cpu::thread_time() - cpu);
        let wanted = clip_for(&alert, self.pre_roll, self.post_roll);
        if let (Some(req), Some((request, completes))) =
            (self.clip_requests.get(&alert.camera), wanted)
        {
            let key = request.key.clone();
            let request = ClipRequest {
                snapshot: request.snapshot.map(|at| SnapshotRequest {
                    at,
                    overlay: overlay(&alert, zone),
                    blur,
                    space,
                }),
                key: request.key,
                from: request.from,
                until: request.until,
            };
            if req.send(request).is_ok() {
                self.waiting.insert(key, (alert, completes));
            }
        }
    }

    /// Stores the evidence record of every alert waiting for this clip.
    fn clip_done(&mut self, done: &ClipDone) {
        let rel = |p: &Path| {
            // Relative to the output folder: it moves as a whole.
            p.strip_prefix(&self.out_dir)
                .unwrap_or(p)
                .display()
                .to_string()
        };
        for id in &done.keys {
            let Some((mut alert, completes)) = self.waiting.remove(id) else {
                continue;
            };
            alert.event = completes;
            match &done.result {
                Ok(clip) => {
                    alert.evidence.clip = Some(ClipRef {
                        path: rel(&clip.path),
                        duration_secs: clip.duration.as_secs_f64(),
                        first_pts_secs: clip.first_pts.as_secs_f64(),
                        sha256: clip.sha256.clone(),
                    });
                }
                Err(e) => alert.evidence.error = Some(e.clone()),
            }
            // A clip cut short (its record stream went down) is kept, and says so.
            if let Some(note) = &done.note {
                alert.evidence.error.get_or_insert_with(|| note.clone());
            }
            match done.snapshots.iter().find(|(a, _)| a == id).map(|(_, r)| r) {
                Some(Ok(snap)) => {
                    alert.evidence.snapshot = Some(SnapshotRef {
                        path: rel(&snap.path),
                        sha256: snap.sha256.clone(),
                        clean_path: rel(&snap.clean_path),
                        clean_sha256: snap.clean_sha256.clone(),
                    });
                }
                Some(Err(e)) if alert.evidence.error.is_none() => {
                    alert.evidence.error = Some(format!("snapshot: {e}"));
                }
                _ => {}
            }
            self.sink.write(&alert);
        }
    }
}

/// The clip an alert record asks for — key, stream-time span, snapshot time — and the record
/// that will report it: `start` gets the clip of its beginning (`evidence`); `end` gets one of
/// its end (`end_evidence`) when the end lies past what the first clip holds.
struct WantedClip {
    key: String,
    from: Duration,
    until: Duration,
    snapshot: Option<Duration>,
}

fn clip_for(
    alert: &Alert,
    pre_roll: Duration,
    post_roll: Duration,
) -> Option<(WantedClip, AlertEvent)> {
    let secs = Duration::from_secs_f64;
    match alert.event {
        AlertEvent::Start => Some((
            WantedClip {
                key: alert.id.to_string(),
                from: secs(alert.started_pts_secs).saturating_sub(pre_roll),
                until: secs(alert.raised_pts_secs) + post_roll,
                snapshot: Some(secs(alert.raised_pts_secs)),
            },
            AlertEvent::Evidence,
        )),
        AlertEvent::End => {
            let ended = secs(alert.ended_pts_secs?);
            (ended > secs(alert.raised_pts_secs) + post_roll).then(|| {
                (
                    WantedClip {
                        key: format!("{}-end", alert.id),
                        from: ended.saturating_sub(pre_roll),
                        until: ended + post_roll,
                        snapshot: Some(ended),
                    },
                    AlertEvent::EndEvidence,
                )
            })
        }
        _ => None,
    }
}

/// What the annotated snapshot shows: the rule's zone and each object with its track id; for a
/// falling object, its trajectory and origin (the composite evidence image).
fn overlay(alert: &Alert, zone: Vec<(f64, f64)>) -> Overlay {
    Overlay {
        trajectory: alert.trajectory.as_ref().map(|t| TrajectoryOverlay {
            points: t.points.iter().map(|p| (p.x_px, p.y_px)).collect(),
            origin: (t.origin.x_px, t.origin.y_px),
            label: format!(
                "floor {} ({}-{}) col {}",
                t.origin.floor, t.origin.floor_range[0], t.origin.floor_range[1], t.origin.column
            ),
        }),
        zone,
        boxes: alert
            .objects
            .iter()
            .map(|o| {
                (
                    o.bbox_px,
                    format!("{} {} {:.2}", o.object, o.class, o.score),
                )
            })
            .collect(),
        caption: caption(alert),
    }
}

/// The snapshot's caption: where (camera · zone) and what and when (rule · Beijing time), as
/// people call them.
fn caption(alert: &Alert) -> Vec<String> {
    let place = match alert.zone_name() {
        Some(zone) => format!("{} · {zone}", alert.camera_name()),
        None => alert.camera_name().to_string(),
    };
    vec![
        place,
        format!(
            "{} · {}",
            alert.rule_name(),
            vigil_core::time::beijing(&alert.wall_time)
        ),
    ]
}
