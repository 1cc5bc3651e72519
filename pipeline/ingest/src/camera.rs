//! One camera: the pipeline, its supervision loop (reconnect, stall watchdog), and the hand-off.

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
        supervise(&spec, &sinks, &stop)
    })?)
}

/// Stream-time bookkeeping shared with the streaming threads.
#[derive(Default)]
struct Clock {
    /// First buffer PTS of the current session.
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
}

impl Clock {
    fn new_session(&mut self) {
        self.base = None;
        self.next_sample = None;
        self.last_decoded = None;
        self.last_unit = None;
        self.offset = self.last.map_or(Duration::ZERO, |l| l + CONTINUE_GAP);
    }

    /// Session-relative time of `pts`.
    fn relative(&mut self, pts: gst::ClockTime) -> Duration {
        let base = *self.base.get_or_insert(pts);
        Duration::from_nanos(pts.saturating_sub(base).nseconds())
    }
}

struct Session {
    clock: Mutex<Clock>,
    seq: AtomicU64,
    /// Milliseconds since `epoch` of the last decoded buffer (0 = none yet).
    last_buffer_ms: AtomicU64,
    epoch: Instant,
    source_size: Mutex<Option<Size>>,
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

fn supervise(spec: &CameraSpec, sinks: &CameraSinks, stop: &AtomicBool) -> CameraExit {
    let is_file = matches!(spec.source, CameraSource::File { .. });
    let looping = matches!(spec.source, CameraSource::File { looping: true, .. });
    let shared = Arc::new(Session {
        clock: Mutex::new(Clock::default()),
        seq: AtomicU64::new(0),
        last_buffer_ms: AtomicU64::new(0),
        epoch: Instant::now(),
        source_size: Mutex::new(None),
    });
    let mut backoff = BACKOFF_FIRST;
    let mut online = false;
    let mut ever_flowed = false;
    let mut start_attempts = 0;
    loop {
        if stop.load(Ordering::Relaxed) {
            return CameraExit::Stopped;
        }
        shared.clock.lock().expect("clock lock").new_session();
        shared.last_buffer_ms.store(0, Ordering::Relaxed);
        let frames_before = sinks.counters.snapshot().received;
        let outcome = match build(spec, sinks, &shared) {
            Ok(pipeline) => {
                let o = run(spec, sinks, &shared, &pipeline, stop, &mut online);
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
            Outcome::Eos if is_file && looping && flowed => continue,
            Outcome::Eos if is_file => return CameraExit::EndOfInput,
            Outcome::Eos => "stream ended (server closed the session)".to_string(),
            // A file that never played is a bad file; a looping file whose new session stalls
            // is rebuilt like a live source.
            Outcome::Failed(reason) if is_file && !ever_flowed => {
                return CameraExit::Failed(reason);
            }
            // A file session that hangs before its first frame (seen rarely under heavy load)
            // is retried a few times before the file is given up on.
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
    pipeline: &gst::Pipeline,
    stop: &AtomicBool,
    online: &mut bool,
) -> Outcome {
    let bus = pipeline.bus().expect("a pipeline has a bus");
    if pipeline.set_state(gst::State::Playing).is_err() {
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
            match e.debug() {
                Some(d) => format!("{src}: {} ({d})", e.error()),
                None => format!("{src}: {}", e.error()),
            }
        }
        _ => "unexpected message".to_string(),
    }
}

/// Builds the pipeline for one session.
fn build(
    spec: &CameraSpec,
    sinks: &CameraSinks,
    shared: &Arc<Session>,
) -> Result<gst::Pipeline, IngestError> {
    let pipeline = gst::Pipeline::with_name(&format!("cam-{}", spec.id));
    let tee = make("tee")?;
    pipeline.add(&tee).map_err(build_err)?;
    build_decode_branch(spec, sinks, shared, &pipeline, &tee)?;

    match &spec.source {
        CameraSource::File { path, .. } => {
            let src = make("filesrc")?;
            src.set_property("location", path.to_string_lossy().as_ref());
            let parse = make("parsebin")?;
            pipeline.add_many([&src, &parse]).map_err(build_err)?;
            src.link(&parse).map_err(build_err)?;
            let tee_weak = tee.downgrade();
            let encoded = encoded_branch_factory(spec, sinks, shared, &pipeline);
            parse.connect_pad_added(move |_, pad| {
                let Some(tee) = tee_weak.upgrade() else {
                    return;
                };
                let caps = pad.current_caps().or_else(|| Some(pad.query_caps(None)));
                let is_video = caps.as_ref().and_then(|c| c.structure(0)).is_some_and(|s| {
                    s.name().starts_with("video/") || s.name().starts_with("image/")
                });
                if !is_video {
                    return;
                }
                let Some(sink) = tee.static_pad("sink") else {
                    return;
                };
                if sink.is_linked() {
                    return; // first video stream only
                }
                if let Err(e) = pad.link(&sink) {
                    tracing::error!(error = ?e, "cannot link parsed stream to tee");
                    return;
                }
                if let Some(c) = caps {
                    encoded(&tee, &c);
                }
            });
        }
        CameraSource::Rtsp {
            url,
            transport,
            latency_ms,
        } => {
            let src = make("rtspsrc")?;
            src.set_property("location", url.url_without_credentials());
            if let Some(u) = url.username() {
                src.set_property("user-id", u);
            }
            if let Some(p) = url.password() {
                src.set_property("user-pw", p);
            }
            src.set_property("latency", *latency_ms);
            // Fail fast on a dead server instead of rtspsrc's default 20 s.
            src.set_property("tcp-timeout", 3_000_000u64);
            src.set_property_from_str(
                "protocols",
                match transport {
                    RtspTransport::Tcp => "tcp",
                    RtspTransport::Udp => "udp",
                },
            );
            pipeline.add(&src).map_err(build_err)?;
            let pipeline_weak = pipeline.downgrade();
            let tee_weak = tee.downgrade();
            let encoded = encoded_branch_factory(spec, sinks, shared, &pipeline);
            let camera = spec.id.clone();
            src.connect_pad_added(move |_, pad| {
                let (Some(pipeline), Some(tee)) = (pipeline_weak.upgrade(), tee_weak.upgrade())
                else {
                    return;
                };
                let caps = pad.current_caps().unwrap_or_else(|| pad.query_caps(None));
                let Some(s) = caps.structure(0) else { return };
                let media = s.get::<&str>("media").unwrap_or("");
                let encoding = s.get::<&str>("encoding-name").unwrap_or("");
                if media != "video" {
                    return;
                }
                let (depay, parse, codec) = match encoding {
                    "H264" => ("rtph264depay", "h264parse", "video/x-h264"),
                    "H265" => ("rtph265depay", "h265parse", "video/x-h265"),
                    other => {
                        tracing::error!(camera = %camera, encoding = other, "unsupported RTSP video encoding");
                        return;
                    }
                };
                let result = (|| -> Result<(), IngestError> {
                    let depay = make(depay)?;
                    // Whole access units in AVC form: keyframes arrive as one buffer with a PTS.
                    let filter = make("capsfilter")?;
                    filter.set_property(
                        "caps",
                        gst::Caps::builder(codec)
                            .field("stream-format", if codec == "video/x-h264" { "avc" } else { "hvc1" })
                            .field("alignment", "au")
                            .build(),
                    );
                    let parse = make(parse)?;
                    pipeline.add_many([&depay, &filter, &parse]).map_err(build_err)?;
                    gst::Element::link_many([&depay, &filter, &parse, &tee]).map_err(build_err)?;
                    for e in [&depay, &filter, &parse] {
                        e.sync_state_with_parent().map_err(build_err)?;
                    }
                    pad.link(&depay.static_pad("sink").expect("depay sink")).map_err(build_err)?;
                    encoded(&tee, &gst::Caps::builder(codec).build());
                    Ok(())
                })();
                if let Err(e) = result {
                    tracing::error!(camera = %camera, error = %e, "cannot link RTSP stream");
                }
            });
        }
    }
    Ok(pipeline)
}

fn build_err(e: impl std::fmt::Display) -> IngestError {
    IngestError::Build(e.to_string())
}

/// tee → queue → decodebin → (probe) videoconvertscale → capsfilter → appsink.
fn build_decode_branch(
    spec: &CameraSpec,
    sinks: &CameraSinks,
    shared: &Arc<Session>,
    pipeline: &gst::Pipeline,
    tee: &gst::Element,
) -> Result<(), IngestError> {
    let queue = make("queue")?;
    // Named so its streaming thread (which decodes and converts) reads `dec:src`.
    queue.set_property("name", "dec");
    queue.set_property("max-size-buffers", 8u32);
    queue.set_property("max-size-bytes", 0u32);
    queue.set_property("max-size-time", 0u64);
    let decode = make("decodebin")?;
    let convert = make("videoconvertscale")?;
    convert.set_property("add-borders", false);
    let filter = make("capsfilter")?;
    let appsink = gst_app::AppSink::builder()
        .name("frames")
        .sync(spec.realtime)
        .max_buffers(2)
        .drop(false)
        .build();
    pipeline
        .add_many([&queue, &decode, &convert, &filter, appsink.upcast_ref()])
        .map_err(build_err)?;
    tee.link(&queue).map_err(build_err)?;
    queue.link(&decode).map_err(build_err)?;
    gst::Element::link_many([&convert, &filter, appsink.upcast_ref()]).map_err(build_err)?;

    let threads = spec.decode_threads;
    let decode_bin = decode
        .clone()
        .downcast::<gst::Bin>()
        .expect("decodebin is a bin");
    decode_bin.connect_deep_element_added(move |_, _, element| {
        let is_h26x = element
            .factory()
            .is_some_and(|f| f.name() == "avdec_h264" || f.name() == "avdec_h265");
        if is_h26x && threads > 0 {
            element.set_property("max-threads", threads as i32);
        }
    });
    let convert_weak = convert.downgrade();
    decode.connect_pad_added(move |_, pad| {
        let Some(convert) = convert_weak.upgrade() else {
            return;
        };
        let sink = convert.static_pad("sink").expect("convert sink");
        if !sink.is_linked() {
            let _ = pad.link(&sink);
        }
    });

    // On the converter's input: learn the source size (and size the output), sample, watchdog.
    let convert_sink = convert.static_pad("sink").expect("convert sink");
    let (target, format, fps) = (spec.target, spec.format, spec.detect_fps);
    let filter_weak = filter.downgrade();
    let probe_shared = shared.clone();
    let counters = sinks.counters.clone();
    // The converter's CPU per handed-on frame: the thread's CPU clock when a buffer enters it,
    // read again when the converted buffer leaves (both on the same streaming thread).
    let entered = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let convert_entered = entered.clone();
    convert_sink.add_probe(
        gst::PadProbeType::BUFFER | gst::PadProbeType::EVENT_DOWNSTREAM,
        move |_, info| {
            let ret = match &mut info.data {
                Some(gst::PadProbeData::Event(ev)) => {
                    if let gst::EventView::Caps(c) = ev.view()
                        && let Ok(vi) = gst_video::VideoInfo::from_caps(c.caps())
                    {
                        let source = Size::new(vi.width(), vi.height());
                        *probe_shared.source_size.lock().expect("size lock") = Some(source);
                        let out = target.resolve(source);
                        if let Some(filter) = filter_weak.upgrade() {
                            filter.set_property(
                                "caps",
                                gst::Caps::builder("video/x-raw")
                                    .field("format", format.name())
                                    .field("width", out.width as i32)
                                    .field("height", out.height as i32)
                                    .build(),
                            );
                        }
                    }
                    gst::PadProbeReturn::Ok
                }
                Some(gst::PadProbeData::Buffer(buf)) => {
                    convert_entered.store(
                        vigil_core::cpu::thread_time().as_nanos() as u64,
                        Ordering::Relaxed,
                    );
                    counters.received();
                    probe_shared.last_buffer_ms.store(
                        (probe_shared.epoch.elapsed().as_millis() as u64).max(1),
                        Ordering::Relaxed,
                    );
                    let mut clock = probe_shared.clock.lock().expect("clock lock");
                    // Some decoders (libav's GIF) stamp every frame 0 but keep the duration:
                    // continue from the previous frame instead of repeating its time.
                    if let (Some(pts), Some(prev), Some(dur)) =
                        (buf.pts(), clock.last_decoded, buf.duration())
                        && pts <= prev
                        && dur > gst::ClockTime::ZERO
                    {
                        buf.make_mut().set_pts(prev + dur);
                    }
                    clock.last_decoded = buf.pts().or(clock.last_decoded);
                    let Some(fps) = fps else {
                        return gst::PadProbeReturn::Ok;
                    };
                    let Some(pts) = buf.pts() else {
                        return gst::PadProbeReturn::Ok;
                    };
                    let t = clock.relative(pts);
                    let interval = Duration::from_secs_f64(1.0 / fps);
                    let next = *clock.next_sample.get_or_insert(t);
                    // 1 ms tolerance for timestamp rounding.
                    if t + Duration::from_millis(1) >= next {
                        let mut n = next + interval;
                        if n <= t {
                            n = t + interval;
                        }
                        clock.next_sample = Some(n);
                        gst::PadProbeReturn::Ok
                    } else {
                        counters.dropped(DropReason::Sampling);
                        gst::PadProbeReturn::Drop
                    }
                }
                _ => gst::PadProbeReturn::Ok,
            };
            if ret == gst::PadProbeReturn::Drop {
                // Take the buffer and report it handled: returning `Drop` with the buffer still in
                // the probe info makes GStreamer 1.22 unref a NULL pointer (a CRITICAL per frame).
                drop(info.take_buffer());
                return gst::PadProbeReturn::Handled;
            }
            ret
        },
    );

    let convert_counters = sinks.counters.clone();
    convert.static_pad("src").expect("convert src").add_probe(
        gst::PadProbeType::BUFFER,
        move |_, _| {
            let start = entered.swap(0, Ordering::Relaxed);
            if start > 0 {
                let now = vigil_core::cpu::thread_time().as_nanos() as u64;
                convert_counters.add_cpu(Duration::from_nanos(now.saturating_sub(start)));
            }
            gst::PadProbeReturn::Ok
        },
    );

    let app_shared = shared.clone();
    let frames = sinks.frames.clone();
    let camera = spec.id.clone();
    appsink.set_callbacks(
        gst_app::AppSinkCallbacks::builder()
            .new_sample(move |sink| {
                let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                let Some(frame) = to_frame(&camera, &sample, &app_shared, format) else {
                    tracing::trace!(camera = %camera, "sample without buffer, caps or PTS");
                    return Ok(gst::FlowSuccess::Ok);
                };
                // The queue counts `sent` and drop-oldest losses.
                match frames.send(frame) {
                    Ok(()) => Ok(gst::FlowSuccess::Ok),
                    Err(_) => Err(gst::FlowError::Flushing),
                }
            })
            .build(),
    );
    Ok(())
}

/// Mapped GStreamer buffer as frame pixels (no copy).
struct MappedPixels(gst::MappedBuffer<gst::buffer::Readable>);

impl AsRef<[u8]> for MappedPixels {
    fn as_ref(&self) -> &[u8] {
        self.0.as_slice()
    }
}

fn to_frame(
    camera: &CameraId,
    sample: &gst::Sample,
    shared: &Session,
    format: PixelFormat,
) -> Option<Frame> {
    let caps = sample.caps()?;
    let info = gst_video::VideoInfo::from_caps(caps).ok()?;
    let buffer = sample.buffer_owned()?;
    let pts = buffer.pts()?;
    let stride = usize::try_from(*info.stride().first()?).ok()?;
    let mapped = buffer.into_mapped_buffer_readable().ok()?;
    let size = Size::new(info.width(), info.height());
    let source_size = shared
        .source_size
        .lock()
        .expect("size lock")
        .unwrap_or(size);
    let pts = {
        let mut clock = shared.clock.lock().expect("clock lock");
        let t = clock.offset + clock.relative(pts);
        // Monotonic per camera even if a source's timestamps jump back.
        let t = clock
            .last
            .map_or(t, |l| t.max(l + Duration::from_micros(1)));
        clock.last = Some(t);
        t
    };
    Some(Frame {
        meta: FrameMeta {
            camera: camera.clone(),
            seq: shared.seq.fetch_add(1, Ordering::Relaxed),
            pts,
            source_size,
            wall_time: SystemTime::now(),
            arrived: Instant::now(),
        },
        image: Image {
            size,
            stride,
            format,
            data: Arc::new(MappedPixels(mapped)),
        },
    })
}

/// Frame interval from the caps' frame rate (25 fps when the caps do not say).
fn frame_interval(caps: &gst::CapsRef) -> Duration {
    caps.structure(0)
        .and_then(|s| s.get::<gst::Fraction>("framerate").ok())
        .filter(|f| f.numer() > 0 && f.denom() > 0)
        .map_or(Duration::from_millis(40), |f| {
            Duration::from_secs_f64(f64::from(f.denom()) / f64::from(f.numer()))
        })
}

/// Returns a closure that adds the encoded branch (tee → queue → appsink) once the stream's caps
/// are known; only H.264/H.265 streams get one, and only when someone consumes it.
fn encoded_branch_factory(
    spec: &CameraSpec,
    sinks: &CameraSinks,
    shared: &Arc<Session>,
    pipeline: &gst::Pipeline,
) -> impl Fn(&gst::Element, &gst::Caps) + Send + Sync + 'static {
    let sink_fn = sinks.encoded.clone();
    let shared = shared.clone();
    let pipeline_weak = pipeline.downgrade();
    let camera = spec.id.clone();
    move |tee, caps| {
        let Some(sink_fn) = sink_fn.clone() else {
            return;
        };
        let Some(pipeline) = pipeline_weak.upgrade() else {
            return;
        };
        let codec = caps
            .structure(0)
            .map(|s| s.name().to_string())
            .unwrap_or_default();
        if codec != "video/x-h264" && codec != "video/x-h265" {
            tracing::debug!(camera = %camera, %codec, "no encoded branch for this codec");
            return;
        }
        let result = (|| -> Result<(), IngestError> {
            let queue = make("queue")?;
            queue.set_property("name", "enc"); // its thread reads `enc:src`
            // Evidence must never hold up decoding: this queue leaks, oldest first.
            queue.set_property_from_str("leaky", "downstream");
            queue.set_property("max-size-buffers", 256u32);
            let appsink = gst_app::AppSink::builder()
                .name("encoded")
                .sync(false)
                .build();
            pipeline
                .add_many([&queue, appsink.upcast_ref()])
                .map_err(build_err)?;
            tee.link(&queue).map_err(build_err)?;
            queue.link(&appsink).map_err(build_err)?;
            let camera = camera.clone();
            let shared = shared.clone();
            let caps_text: Mutex<Option<(gst::Caps, Arc<str>)>> = Mutex::new(None);
            appsink.set_callbacks(
                gst_app::AppSinkCallbacks::builder()
                    .new_sample(move |sink| {
                        let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                        let (Some(buffer), Some(caps)) = (sample.buffer(), sample.caps()) else {
                            return Ok(gst::FlowSuccess::Ok);
                        };
                        let caps_str = {
                            let mut cached = caps_text.lock().expect("caps lock");
                            match cached.as_ref() {
                                Some((c, s)) if c == caps => s.clone(),
                                _ => {
                                    let s: Arc<str> = Arc::from(caps.to_string());
                                    *cached = Some((caps.to_owned(), s.clone()));
                                    s
                                }
                            }
                        };
                        let Ok(map) = buffer.map_readable() else {
                            return Ok(gst::FlowSuccess::Ok);
                        };
                        // The same stream time as decoded frames, so alerts and clips line up.
                        // A unit without a PTS (an RTP stream whose timestamps do not advance)
                        // continues one frame interval after the previous unit.
                        let (pts, dts) = {
                            let mut clock = shared.clock.lock().expect("clock lock");
                            let offset = clock.offset;
                            let pts = match buffer.pts() {
                                Some(t) => offset + clock.relative(t),
                                None => match clock.last_unit {
                                    Some(prev) => prev + frame_interval(caps),
                                    None => offset,
                                },
                            };
                            let dts = buffer
                                .dts()
                                .map(|t| offset + clock.relative(t))
                                .filter(|d| *d <= pts);
                            clock.last_unit = Some(pts);
                            (Some(pts), dts)
                        };
                        sink_fn(EncodedUnit {
                            camera: camera.clone(),
                            pts,
                            dts,
                            keyframe: !buffer.flags().contains(gst::BufferFlags::DELTA_UNIT),
                            caps: caps_str,
                            data: Arc::from(map.as_slice()),
                        });
                        Ok(gst::FlowSuccess::Ok)
                    })
                    .build(),
            );
            for e in [&queue, appsink.upcast_ref()] {
                e.sync_state_with_parent().map_err(build_err)?;
            }
            Ok(())
        })();
        if let Err(e) = result {
            tracing::error!(camera = %camera, error = %e, "cannot add encoded branch");
        }
    }
}
