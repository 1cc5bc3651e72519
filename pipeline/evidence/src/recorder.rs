//! One camera's evidence recorder: keeps the ring, and turns clip requests into MP4 files.
//!
//! Runs on its own thread (`evidence-<camera>`), fed by two channels: encoded access units from
//! ingest's tee (bounded, drop-oldest: evidence never holds up decoding) and clip requests from
//! the alert writer. A request opens a recording that starts with the ring's pre-roll and grows
//! with new units until `until`; requests that overlap an open recording extend it and share its
//! file. Finished clips go to the camera's snapshot thread ([`crate::finisher`]), which takes
//! their snapshots and reports them on `done`.

use crate::finisher::{self, Finished};
use crate::requests::{ClipDone, ClipRequest, SnapshotRequest};
use crate::{ClipInfo, EncodedRing, RingLimits, write_mp4};
use crossbeam_channel::{Receiver, Select, Sender};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use vigil_core::streams::{StreamClock, StreamHealth};
use vigil_core::{CameraId, EncodedUnit, QueueReceiver};

#[derive(Clone, Debug)]
pub struct RecorderConfig {
    pub limits: RingLimits,
    pub max_clip: Duration,
    /// Clips go to `dir/<camera>/<first request's key>.mp4`.
    pub dir: PathBuf,
    /// Snapshot captions are drawn in this font (the bitmap font without one).
    pub font: Option<crate::caption::CaptionFont>,
    /// The camera's evidence is a stream of its own (its main stream).
    pub second: Option<SecondStream>,
}

/// A record stream beside the detect stream: its units carry pipeline clock time, which
/// `clock` maps to and from the stream time requests speak; `health` says whether it is up.
#[derive(Clone, Debug)]
pub struct SecondStream {
    pub clock: Arc<StreamClock>,
    pub health: Arc<StreamHealth>,
}

/// How often a recorder whose record stream is down looks at what it has open.
const DOWN_CHECK: Duration = Duration::from_millis(500);

struct Recording {
    keys: Vec<String>,
    snapshots: Vec<(String, SnapshotRequest)>,
    /// Stream time of the first unit (the clip may not run past `start + max_clip`).
    start: Duration,
    until: Duration,
    units: Vec<EncodedUnit>,
}

/// Starts the recorder. It ends once both channels are closed, after writing what is open.
pub fn spawn_recorder(
    camera: CameraId,
    config: RecorderConfig,
    units: QueueReceiver<EncodedUnit>,
    requests: Receiver<ClipRequest>,
    done: Sender<ClipDone>,
) -> std::io::Result<JoinHandle<()>> {
    let (finish, jobs) = crossbeam_channel::bounded(finisher::WAITING);
    let snapshots = finisher::spawn(&camera, jobs, done, config.font.clone())?;
    std::thread::Builder::new()
        .name(format!("evidence-{camera}"))
        .spawn(move || {
            let _span = tracing::info_span!("evidence", %camera).entered();
            Recorder {
                ring: EncodedRing::new(config.limits),
                camera,
                config,
                open: Vec::new(),
                finish,
            }
            .run(&units, &requests);
            // The recorder (and its end of the queue) is gone: its last snapshots are taken
            // and reported before this thread ends.
            let _ = snapshots.join();
        })
}

struct Recorder {
    camera: CameraId,
    config: RecorderConfig,
    ring: EncodedRing,
    open: Vec<Recording>,
    /// To the camera's snapshot thread.
    finish: Sender<Finished>,
}

impl Recorder {
    fn run(mut self, units: &QueueReceiver<EncodedUnit>, requests: &Receiver<ClipRequest>) {
        let (mut units_open, mut requests_open) = (true, true);
        while units_open || requests_open {
            let mut sel = Select::new();
            let u = units_open.then(|| sel.recv(units.inner()));
            let r = requests_open.then(|| sel.recv(requests));
            // Only a camera with a record stream has an outage to look for.
            let op = match self.config.second {
                Some(_) => sel.select_timeout(DOWN_CHECK),
                None => Ok(sel.select()),
            };
            let Ok(op) = op else {
                self.cut_short();
                continue;
            };
            let index = Some(op.index());
            if index == u {
                match op.recv(units.inner()) {
                    Ok(unit) => self.on_unit(unit),
                    Err(_) => {
                        // The camera has stopped: what is open ends here.
                        units_open = false;
                        self.finish(|_| true);
                    }
                }
            } else if index == r {
                match op.recv(requests) {
                    Ok(req) => self.on_request(req, units_open),
                    Err(_) => requests_open = false,
                }
            }
        }
        self.finish(|_| true);
    }

    fn on_unit(&mut self, unit: EncodedUnit) {
        let pts = unit.pts;
        // A new stream format cannot go into the clips being recorded: they end here.
        if self
            .open
            .iter()
            .any(|rec| rec.units.first().is_some_and(|f| f.caps != unit.caps))
        {
            tracing::warn!(camera = %self.camera, "stream format changed: open clips end here");
            self.finish(|rec| rec.units.first().is_some_and(|f| f.caps != unit.caps));
        }
        for rec in &mut self.open {
            rec.units.push(unit.clone());
        }
        self.ring.push(unit);
        if let Some(pts) = pts {
            self.finish(|rec| pts >= rec.until);
        }
    }

    /// A record stream that went down ends what it has open with what it has, and says so.
    fn cut_short(&mut self) {
        let Some(reason) = self.down() else { return };
        if self.open.is_empty() {
            return;
        }
        tracing::warn!(camera = %self.camera, %reason, "record stream down: open clips end here");
        let note = format!("the record stream went down ({reason}): the clip ends there");
        self.write(|_| true, Some(&note));
    }

    /// Why the record stream is down, when the camera has one and it is.
    fn down(&self) -> Option<String> {
        self.config.second.as_ref()?.health.down()
    }

    /// `t` in the ring's time: the record stream's clock time on a camera with two streams.
    fn ring_time(&self, t: Duration) -> Duration {
        match &self.config.second {
            Some(s) => s.clock.to_clock(t).unwrap_or(t),
            None => t,
        }
    }

    fn on_request(&mut self, mut req: ClipRequest, live: bool) {
        req.from = self.ring_time(req.from);
        req.until = self.ring_time(req.until);
        if let Some(snap) = &mut req.snapshot {
            snap.at = self.ring_time(snap.at);
        }
        let newest = self.ring.newest();
        if let Some(reason) = self.down()
            && newest.is_none_or(|n| n < req.from)
        {
            let error = format!("the record stream is down ({reason}): no clip");
            let snapshots = req
                .snapshot
                .map(|s| (req.key.clone(), s))
                .into_iter()
                .collect();
            let done = ClipDone {
                camera: self.camera.clone(),
                keys: vec![req.key],
                result: Err(error.clone()),
                snapshots: Vec::new(),
                note: None,
            };
            self.report(done, Err(error), snapshots);
            return;
        }
        let max_clip = self.config.max_clip;
        if let Some(rec) = self.open.iter_mut().find(|rec| req.from <= rec.until) {
            // Overlapping alerts share one recording, which still ends by `start + max_clip`.
            rec.until = rec.until.max(req.until).min(rec.start + max_clip);
            if let Some(snap) = req.snapshot {
                rec.snapshots.push((req.key.clone(), snap));
            }
            rec.keys.push(req.key);
            return;
        }
        let units = self.ring.since(req.from);
        let newest = units.last().and_then(|u| u.pts).unwrap_or_default();
        let start = units.first().and_then(|u| u.pts).unwrap_or(req.from);
        let until = req.until.min(start + max_clip);
        let snapshots = req
            .snapshot
            .map(|s| (req.key.clone(), s))
            .into_iter()
            .collect();
        self.open.push(Recording {
            keys: vec![req.key],
            snapshots,
            start,
            until,
            units,
        });
        if !live || newest >= until {
            self.finish(|rec| !live || newest >= rec.until);
        }
    }

    /// Writes and reports the open recordings for which `ready` holds.
    fn finish(&mut self, ready: impl Fn(&Recording) -> bool) {
        self.write(ready, None);
    }

    /// [`Recorder::finish`], each clip's [`ClipDone::note`] saying `note`.
    fn write(&mut self, ready: impl Fn(&Recording) -> bool, note: Option<&str>) {
        let (done, keep): (Vec<Recording>, Vec<Recording>) = std::mem::take(&mut self.open)
            .into_iter()
            .partition(|r| ready(r));
        self.open = keep;
        for rec in done {
            let dir = self.config.dir.join(self.camera.as_str());
            let path = dir.join(format!("{}.mp4", rec.keys[0]));
            let result = std::fs::create_dir_all(&dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))
                .and_then(|()| match rec.units.is_empty() {
                    true => {
                        Err("no video was buffered for this alert (no keyframe yet)".to_string())
                    }
                    false => write_mp4(&rec.units, &path).map_err(|e| e.to_string()),
                });
            if let Err(e) = &result {
                tracing::warn!(camera = %self.camera, error = %e, "clip not written");
            }
            // The snapshots are taken on the clip's own clock; requests speak stream time, and
            // so does the clip's first PTS as reported.
            let clip = result.clone();
            let result = result.map(|mut clip| {
                if let Some(s) = &self.config.second {
                    clip.first_pts = s.clock.to_stream(clip.first_pts).unwrap_or(clip.first_pts);
                }
                clip
            });
            let done = ClipDone {
                camera: self.camera.clone(),
                keys: rec.keys,
                result,
                snapshots: Vec::new(),
                note: note.map(str::to_string),
            };
            self.report(done, clip, rec.snapshots);
            // Writing a clip allocates and frees MB in pieces the allocator would otherwise
            // keep.
            vigil_core::mem::release_free_memory();
        }
    }

    /// Hands a finished clip to the camera's snapshot thread, which reports it.
    fn report(
        &self,
        done: ClipDone,
        clip: Result<ClipInfo, String>,
        snapshots: Vec<(String, SnapshotRequest)>,
    ) {
        let _ = self.finish.send(Finished {
            done,
            clip,
            snapshots,
        });
    }
}
