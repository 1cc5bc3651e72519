//! One camera: the pipeline, its supervision loop (reconnect, stall watchdog), and the hand-off.

mod build;
mod decode;
mod decoder;
mod record;

pub use decoder::element_works;
pub use record::{RecordSinks, spawn_record};
mod encoded;

use crate::{IngestError, make};
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use gstreamer_video as gst_video;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};
use vigil_config::{CameraSource, RtspTransport};
use vigil_core::streams::StreamClock;
use vigil_core::{
    CameraId, DropReason, EncodedUnit, Frame, FrameMeta, Image, PixelFormat, QueueSender, Size,
    StageCounters,
};

const BACKOFF_FIRST: Duration = Duration::from_millis(300);
const BACKOFF_MAX: Duration = Duration::from_secs(4);
/// Assumed frame interval when stream time has to be continued across a new session.
const CONTINUE_GAP: Duration = Duration::from_millis(40);

/// Size of the frames handed to the detector.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TargetSize {
    /// Decoded size.
    Source,
    /// Exactly this size (aspect ratio not kept).
    Exact(Size),
    /// Scaled to fit inside this size with the aspect ratio kept (`r = min(W/w, H/h)`, never
    /// enlarged).
    FitWithin(Size),
}

impl TargetSize {
    pub fn resolve(self, source: Size) -> Size {
        match self {
            TargetSize::Source => source,
            TargetSize::Exact(s) => s,
            TargetSize::FitWithin(max) => {
                let r = (f64::from(max.width) / f64::from(source.width))
                    .min(f64::from(max.height) / f64::from(source.height))
                    .min(1.0);
                Size::new(
                    ((f64::from(source.width) * r).round() as u32).max(1),
                    ((f64::from(source.height) * r).round() as u32).max(1),
                )
            }
        }
    }
}

/// What to run and how.
#[derive(Clone, Debug)]
pub struct CameraSpec {
    pub id: CameraId,
    pub source: CameraSource,
    /// Sample decoded frames at this rate (stream time); `None` passes every frame.
    pub detect_fps: Option<f64>,
    pub format: PixelFormat,
    pub target: TargetSize,
    /// Play file sources at their real rate (live mode) instead of as fast as possible.
    pub realtime: bool,
    /// No decoded frame for this long counts as a failure (the stall watchdog); `None` turns the
    /// watchdog off (replay, where a slow consumer blocks decoding on purpose).
    pub stall: Option<Duration>,
    /// `avdec_h264` threads (0 = automatic).
    pub decode_threads: u32,
    /// Which decoder element the stream goes through.
    pub decoder: vigil_config::Decoder,
    /// A live source that is footage served in a loop: one pass's length (`FrameMeta::pass`
    /// counts passes of session time). A looping file counts its passes itself.
    pub loop_period: Option<Duration>,
}

/// Camera status changes, for logs, the store and delivery.
#[derive(Clone, Debug, PartialEq)]
pub enum CameraStatus {
    Online,
    Offline { reason: String },
}

/// Receives encoded access units from the tee's evidence branch.
pub type EncodedSink = Arc<dyn Fn(EncodedUnit) + Send + Sync>;

/// Receives the camera's status changes.
pub type StatusSink = Arc<dyn Fn(&CameraId, CameraStatus) + Send + Sync>;

/// Where a camera's outputs go.
#[derive(Clone)]
pub struct CameraSinks {
    pub frames: QueueSender<Frame>,
    pub encoded: Option<EncodedSink>,
    pub status: StatusSink,
    /// `received` = decoded frames; `sent` = frames handed on; drops by reason.
    pub counters: Arc<StageCounters>,
    /// A file's length in milliseconds once known (0: not known, or a live source).
    pub duration_ms: Arc<std::sync::atomic::AtomicU64>,
    /// The decoder element of the latest session, once one runs (`/metrics` shows it).
    pub decoder: Arc<Mutex<Option<String>>>,
    /// A camera whose evidence comes from a second stream: each handed-on frame's stream time
    /// and pipeline clock time go here, so that stream's times map onto this one's.
    pub clock: Option<Arc<StreamClock>>,
}

/// Why a camera thread ended.
#[derive(Debug, PartialEq)]
pub enum CameraExit {
    /// A file source (without `loop`) reached its end.
    EndOfInput,
    /// `stop` was set.
    Stopped,
    /// A file source could not be played at all.
    Failed(String),
}

/// Starts the camera on a thread named `cam-<id>`. It runs until `stop` is set, or until a file
/// source ends; live sources are reconnected for ever.
pub fn spawn_camera(
    spec: CameraSpec,
    sinks: CameraSinks,
    stop: Arc<AtomicBool>,
) -> Result<JoinHandle<CameraExit>, IngestError> {
    crate::init()?;
    let name = format!("cam-{}", spec.id);
    Ok(std::thread::Builder::new().name(name).spawn(move || {
        let _span = tracing::info_span!("camera", camera = %spec.id).entered();
        supervise(&spec, &sinks, &stop, Role::Detect)
    })?)
}

/// What a camera's pipeline does with its stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// Decoded and sampled for detection; its access units (if anyone wants them) stamped in
    /// stream time.
    Detect,
    /// Never decoded: access units only, stamped in pipeline clock time ([`StreamClock`]).
    Record,
}

/// Stream-time bookkeeping shared with the streaming threads.
#[derive(Default)]
struct Clock {
    /// First buffer PTS of the current session, as the tee saw it (`build::base_from_first_buffer`).
    base: Option<gst::ClockTime>,
    /// Stream time at which the current session starts.
    offset: Duration,
    /// Last stream time handed out.
    last: Option<Duration>,
    /// Next PTS (session-relative) to sample.
    next_sample: Option<Duration>,
    /// PTS of the last decoded buffer (before sampling) in this session.
    last_decoded: Option<gst::ClockTime>,
    /// Stream time of the last encoded unit handed to evidence in this session.
    last_unit: Option<Duration>,
    /// Passes through a looping file completed ([`FrameMeta::pass`]).
    pass: u32,
    /// A looping file's passes as the decoded frames meet them.
    decoded_seams: Seams,
    /// The same for the encoded units (they meet each pass before its frames are decoded).
    encoded_seams: Seams,
}

/// A looping file's passes in one branch of a session. Each pass is a new segment whose base
/// (GStreamer's running time at its start) is the previous pass's *last timestamp*, so its first
/// frame would share the last frame's time: each seam is moved on by that last frame's duration.
#[derive(Default)]
struct Seams {
    base: Option<gst::ClockTime>,
    /// Passes begun after the first in this session.
    passes: u32,
    shift: gst::ClockTime,
    last_duration: Option<gst::ClockTime>,
}

impl Seams {
    /// The running time of a buffer at `ts` (lasting `duration`) in `segment`, seams moved on
    /// when the source is a `looping` file (other sources keep GStreamer's running time).
    fn running(
        &mut self,
        looping: bool,
        segment: Option<&gst::Segment>,
        ts: gst::ClockTime,
        duration: Option<gst::ClockTime>,
    ) -> gst::ClockTime {
        if !looping {
            return ts;
        }
        let base = segment
            .and_then(|s| s.downcast_ref::<gst::ClockTime>())
            .and_then(|s| s.base());
        if base.is_some() {
            if self.base.is_some_and(|b| Some(b) != base) {
                self.passes += 1;
                self.shift += self.last_duration.unwrap_or(gst::ClockTime::ZERO);
            }
            self.base = base;
        }
        self.last_duration = duration.or(self.last_duration);
        running_time(true, segment, ts) + self.shift
    }
}

impl Clock {
    fn new_session(&mut self) {
        self.base = None;
        self.next_sample = None;
        self.last_decoded = None;
        self.last_unit = None;
        self.decoded_seams = Seams::default();
        self.encoded_seams = Seams::default();
        self.offset = self.last.map_or(Duration::ZERO, |l| l + CONTINUE_GAP);
    }

    /// Session-relative time of `running` (a running time: see [`running_time`]).
    fn relative(&mut self, running: gst::ClockTime) -> Duration {
        let base = *self.base.get_or_insert(running);
        Duration::from_nanos(running.saturating_sub(base).nseconds())
    }
}

/// For a `looping` file, `ts` as running time in `segment`: continuous across its segment seeks,
/// where timestamps start over at each pass (`ts` itself without a time segment, or outside it).
/// Other sources keep their timestamps: a live source's first buffers can fall before its
/// segment, and mixing running times with raw ones would bend its time.
fn running_time(
    looping: bool,
    segment: Option<&gst::Segment>,
    ts: gst::ClockTime,
) -> gst::ClockTime {
    if !looping {
        return ts;
    }
    segment
        .and_then(|s| s.downcast_ref::<gst::ClockTime>())
        .and_then(|s| s.to_running_time(ts))
        .unwrap_or(ts)
}

/// [`running_time`] in the segment last seen on `pad`.
fn pad_running_time(looping: bool, pad: &gst::Pad, ts: gst::ClockTime) -> gst::ClockTime {
    if !looping {
        return ts;
    }
    let segment = pad.sticky_event::<gst::event::Segment>(0);
    running_time(true, segment.as_ref().map(|e| e.segment()), ts)
}

struct Session {
    clock: Mutex<Clock>,
    seq: AtomicU64,
    /// Milliseconds since `epoch` of the last decoded buffer (0 = none yet).
    last_buffer_ms: AtomicU64,
    epoch: Instant,
    source_size: Mutex<Option<Size>>,
    /// A looping file: its times are running times (see [`running_time`]).
    looping: bool,
    role: Role,
}

impl Session {
    /// The buffer the stall watchdog and the counters follow (a decoded frame; a record
    /// stream's access unit) arrived.
    fn arrived(&self, counters: &StageCounters) {
        counters.received();
        self.last_buffer_ms.store(
            (self.epoch.elapsed().as_millis() as u64).max(1),
            Ordering::Relaxed,
        );
    }
}

enum Outcome {
    Eos,
    Stopped,
    Failed(String),
    /// No first frame in time: a source that never started (or a start-up that hung).
    NoFirstFrame(String),
}

/// How long a session may take to deliver its first frame when no stall time is set.
const FIRST_FRAME_TIMEOUT: Duration = Duration::from_secs(20);
/// Start-up attempts for a file before it is declared unplayable.
const FILE_START_ATTEMPTS: u32 = 3;

fn supervise(spec: &CameraSpec, sinks: &CameraSinks, stop: &AtomicBool, role: Role) -> CameraExit {
    let is_file = matches!(spec.source, CameraSource::File { .. });
    let looping = matches!(spec.source, CameraSource::File { looping: true, .. });
    let shared = Arc::new(Session {
        clock: Mutex::new(Clock::default()),
        seq: AtomicU64::new(0),
        last_buffer_ms: AtomicU64::new(0),
        epoch: Instant::now(),
        source_size: Mutex::new(None),
        looping,
        role,
    });
    let mut backoff = BACKOFF_FIRST;
    let mut online = false;
    let mut ever_flowed = false;
    // A camera that has not delivered a frame yet is reported offline once, at its first
    // failure: one unreachable from start-up would otherwise have no status at all.
    let mut reported_down = false;
    let mut start_attempts = 0;
    loop {
        if stop.load(Ordering::Relaxed) {
            return CameraExit::Stopped;
        }
        shared.clock.lock().expect("clock lock").new_session();
        shared.last_buffer_ms.store(0, Ordering::Relaxed);
        let frames_before = sinks.counters.snapshot().received;
        let outcome = match build::build(spec, sinks, &shared) {
            Ok(built) => {
                let o = run(spec, sinks, &shared, &built, stop, &mut online);
                let pipeline = built.pipeline;
                if online && !matches!(o, Outcome::Stopped | Outcome::Eos) {
                    // Report before teardown: tearing down a dead RTSP session can take a while.
                    online = false;
                    let reason = match &o {
                        Outcome::Failed(r) | Outcome::NoFirstFrame(r) => r.clone(),
                        _ => String::new(),
                    };
                    (sinks.status)(&spec.id, CameraStatus::Offline { reason });
                }
                if is_file {
                    let _ = pipeline.set_state(gst::State::Null);
                } else {
                    teardown(&spec.id, pipeline);
                }
                o
            }
            Err(e) => Outcome::Failed(e.to_string()),
        };
        // A session's pipeline (decoder, buffer pools, threads) is gone: give its memory back
        // rather than let each reconnect leave some in the allocator's per-thread arenas.
        vigil_core::mem::release_free_memory();
        let flowed = sinks.counters.snapshot().received > frames_before;
        ever_flowed |= flowed;
        let reason = match outcome {
            Outcome::Stopped => return CameraExit::Stopped,
            Outcome::Eos if is_file && looping && flowed => {
                shared.clock.lock().expect("clock lock").pass += 1;
                continue;
            }
            Outcome::Eos if is_file => return CameraExit::EndOfInput,
            Outcome::Eos => "stream ended (server closed the session)".to_string(),
            // A file that never played is a bad file; a looping file whose new session stalls
            // is rebuilt like a live source.
            Outcome::Failed(reason) if is_file && !ever_flowed => {
                return CameraExit::Failed(reason);
            }
            // A file session with no first frame in time is retried a few times before the file
            // is given up on. (The start-up hang this once covered for has its cause fixed in
            // `build::start`; the retry stays for what else a slow disk may do.)
            Outcome::NoFirstFrame(reason) if is_file && !ever_flowed => {
                start_attempts += 1;
                if start_attempts >= FILE_START_ATTEMPTS {
                    return CameraExit::Failed(reason);
                }
                reason
            }
            Outcome::Failed(reason) | Outcome::NoFirstFrame(reason) => reason,
        };
        if flowed {
            backoff = BACKOFF_FIRST;
        }
        if !ever_flowed && !reported_down {
            reported_down = true;
            (sinks.status)(
                &spec.id,
                CameraStatus::Offline {
                    reason: reason.clone(),
                },
            );
        }
        // ±25 % jitter: cameras that dropped together (a switch rebooting) do not all knock at
        // once.
        let wait = backoff.mul_f64(0.75 + 0.5 * fastrand::f64());
        tracing::warn!(camera = %spec.id, %reason, retry_in_ms = wait.as_millis() as u64, "camera failed; reconnecting");
        if sleep_unless_stopped(wait, stop) {
            return CameraExit::Stopped;
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

/// Sets the pipeline to `Null` on a helper thread and waits for it at most `TEARDOWN_WAIT`: an
/// RTSP source whose server vanished can block in TEARDOWN, and that must not hold up the
/// reconnect.
fn teardown(camera: &CameraId, pipeline: gst::Pipeline) {
    const TEARDOWN_WAIT: Duration = Duration::from_secs(2);
    let (done_tx, done_rx) = crossbeam_channel::bounded::<()>(1);
    let spawned = std::thread::Builder::new()
        .name(format!("cam-{camera}-teardown"))
        .spawn(move || {
            let _ = pipeline.set_state(gst::State::Null);
            let _ = done_tx.send(());
        });
    match spawned {
        Ok(_) => {
            if done_rx.recv_timeout(TEARDOWN_WAIT).is_err() {
                tracing::warn!(camera = %camera, "pipeline teardown is slow; continuing without it");
            }
        }
        Err(e) => tracing::error!(camera = %camera, error = %e, "cannot start teardown thread"),
    }
}

/// Sleeps `d`; returns true when `stop` was set meanwhile.
fn sleep_unless_stopped(d: Duration, stop: &AtomicBool) -> bool {
    let end = Instant::now() + d;
    while Instant::now() < end {
        if stop.load(Ordering::Relaxed) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20).min(end - Instant::now()));
    }
    stop.load(Ordering::Relaxed)
}

fn run(
    spec: &CameraSpec,
    sinks: &CameraSinks,
    shared: &Session,
    built: &build::Built,
    stop: &AtomicBool,
    online: &mut bool,
) -> Outcome {
    let pipeline = &built.pipeline;
    let bus = pipeline.bus().expect("a pipeline has a bus");
    let looping = shared.looping;
    let started = match looping {
        true => build::start_looping(built).map(|seekable| {
            if !seekable {
                tracing::warn!(camera = %spec.id, "file cannot seek; each loop is a new session");
            }
        }),
        false => build::start(built),
    };
    if started.is_err() {
        // The reason is on the bus (e.g. a missing file).
        let reason = bus
            .timed_pop_filtered(
                gst::ClockTime::from_mseconds(500),
                &[gst::MessageType::Error],
            )
            .map(|m| error_text(&m))
            .unwrap_or_else(|| "pipeline refused to start".to_string());
        return Outcome::Failed(reason);
    }
    let started = Instant::now();
    loop {
        if stop.load(Ordering::Relaxed) {
            return Outcome::Stopped;
        }
        if let Some(msg) = bus.timed_pop(gst::ClockTime::from_mseconds(100)) {
            use gst::MessageView;
            match msg.view() {
                MessageView::Eos(_) => return Outcome::Eos,
                // A looping file's pass is over: the next one, in the same session.
                MessageView::SegmentDone(_) if !build::loop_again(built) => {
                    return Outcome::Eos;
                }
                MessageView::Error(_) => return Outcome::Failed(error_text(&msg)),
                MessageView::Warning(w) => {
                    tracing::debug!(camera = %spec.id, warning = %w.error(), "pipeline warning");
                }
                _ => {}
            }
        }
        let last_ms = shared.last_buffer_ms.load(Ordering::Relaxed);
        if last_ms > 0 && !*online {
            *online = true;
            if let Some(d) = pipeline.query_duration::<gst::ClockTime>() {
                sinks.duration_ms.store(d.mseconds(), Ordering::Relaxed);
            }
            (sinks.status)(&spec.id, CameraStatus::Online);
        }
        // The first frame is awaited even without a stall time (replay): twice the stall time,
        // or FIRST_FRAME_TIMEOUT.
        if last_ms == 0 {
            let allowance = spec.stall.map_or(FIRST_FRAME_TIMEOUT, |s| s * 2);
            if started.elapsed() > allowance {
                return Outcome::NoFirstFrame(format!(
                    "no first frame within {:.1} s",
                    allowance.as_secs_f64()
                ));
            }
            continue;
        }
        let Some(stall) = spec.stall else { continue };
        let now_ms = shared.epoch.elapsed().as_millis() as u64;
        let stalled = now_ms.saturating_sub(last_ms) > stall.as_millis() as u64;
        if stalled {
            return Outcome::Failed(format!(
                "no frames for {:.1} s (stall watchdog)",
                stall.as_secs_f64()
            ));
        }
    }
}

fn error_text(msg: &gst::Message) -> String {
    match msg.view() {
        gst::MessageView::Error(e) => {
            let src = msg.src().map(|s| s.name().to_string()).unwrap_or_default();
            match e.debug().as_deref().map(debug_detail) {
                Some(d) if !d.is_empty() => format!("{src}: {} ({d})", e.error()),
                _ => format!("{src}: {}", e.error()),
            }
        }
        _ => "unexpected message".to_string(),
    }
}

/// The human part of an error's debug text: GStreamer puts the C file, line, function and
/// element path first ("../gst/rtsp/gstrtspsrc.c(8336): gst_rtspsrc_retrieve_sdp ():
/// /GstPipeline:cam-gate/GstRTSPSrc:rtspsrc0:\nFailed to connect. (Generic error)"); a guard
/// reading a camera's state needs only what follows.
fn debug_detail(debug: &str) -> &str {
    match debug.split_once('\n') {
        Some((location, rest)) if location.contains(".c(") => rest.trim(),
        _ => debug.trim(),
    }
}
