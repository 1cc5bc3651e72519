//! An embedded RTSP server (gst-rtsp-server) on 127.0.0.1, for the demo and for tests.
//!
//! It runs its own GLib main context on a named thread. Footage is served **without
//! re-encoding** from H.264 elementary-stream files, looped ([`prepare_h264`] makes one from a
//! clip: H.264 MP4s are remuxed as they are, anything else — e.g. a GIF — is encoded once).

use crate::{IngestError, make};
use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;
use gstreamer_rtsp_server as rtsp;
use gstreamer_rtsp_server::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// One mount point: `rtsp://127.0.0.1:PORT/<path>` serving a GStreamer launch line whose payloader
/// is named `pay0`.
#[derive(Clone, Debug)]
pub struct Mount {
    pub path: String,
    pub launch: String,
}

impl Mount {
    /// Serves an H.264 byte-stream file in a loop, paced at `fps`.
    pub fn looped_h264(path: &str, file: &Path, fps: (i32, i32)) -> Self {
        Self::looped(path, file, fps, "h264")
    }

    /// Serves an H.265 byte-stream file in a loop, paced at `fps` (a camera switched to HEVC).
    pub fn looped_h265(path: &str, file: &Path, fps: (i32, i32)) -> Self {
        Self::looped(path, file, fps, "h265")
    }

    fn looped(path: &str, file: &Path, fps: (i32, i32), codec: &str) -> Self {
        let location = quoted(file);
        Mount {
            path: path.to_string(),
            launch: format!(
                "( multifilesrc location=\"{location}\" loop=true \
                 caps=\"video/x-{codec},stream-format=byte-stream,framerate={}/{}\" \
                 ! {codec}parse ! rtp{codec}pay name=pay0 pt=96 config-interval=-1 )",
                fps.0, fps.1
            ),
        }
    }

    /// Serves a test pattern (`videotestsrc`) of `frames` frames, encoded on the fly.
    pub fn test_pattern(path: &str, width: u32, height: u32, fps: u32, frames: u32) -> Self {
        Mount {
            path: path.to_string(),
            launch: format!(
                "( videotestsrc num-buffers={frames} is-live=true pattern=ball \
                 ! video/x-raw,width={width},height={height},framerate={fps}/1,format=I420 \
                 ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={fps} \
                 ! rtph264pay name=pay0 pt=96 config-interval=-1 )"
            ),
        }
    }
}

/// A running server; dropping it (or [`RtspServer::stop`]) stops it.
pub struct RtspServer {
    port: u16,
    server: rtsp::RTSPServer,
    main_loop: glib::MainLoop,
    context: glib::MainContext,
    source: Option<glib::SourceId>,
    thread: Option<JoinHandle<()>>,
}

impl RtspServer {
    /// Starts serving `mounts` on 127.0.0.1 at `port` (0 picks a free port).
    pub fn start(port: u16, mounts: &[Mount]) -> Result<Self, IngestError> {
        Self::start_on("127.0.0.1", port, mounts)
    }

    /// Starts serving `mounts` on `address` (`0.0.0.0`: every interface, for other containers)
    /// at `port`.
    pub fn start_on(address: &str, port: u16, mounts: &[Mount]) -> Result<Self, IngestError> {
        crate::init()?;
        let context = glib::MainContext::new();
        let main_loop = glib::MainLoop::new(Some(&context), false);
        let server = rtsp::RTSPServer::new();
        server.set_address(address);
        server.set_service(&port.to_string());
        let points = server
            .mount_points()
            .ok_or_else(|| IngestError::Build("RTSP server has no mount points".into()))?;
        for m in mounts {
            let factory = rtsp::RTSPMediaFactory::new();
            factory.set_launch(&m.launch);
            factory.set_shared(true);
            let path = if m.path.starts_with('/') {
                m.path.clone()
            } else {
                format!("/{}", m.path)
            };
            points.add_factory(&path, factory);
        }
        let source = context
            .with_thread_default(|| server.attach(Some(&context)))
            .map_err(|e| IngestError::Build(e.to_string()))?
            .map_err(|e| IngestError::Build(format!("RTSP server cannot listen: {e}")))?;
        let port = u16::try_from(server.bound_port())
            .map_err(|_| IngestError::Build("RTSP server is not bound".into()))?;
        let (ml, ctx) = (main_loop.clone(), context.clone());
        let thread = std::thread::Builder::new()
            .name("rtsp-server".into())
            .spawn(move || {
                let _ = ctx.with_thread_default(|| ml.run());
            })?;
        Ok(Self {
            port,
            server,
            main_loop,
            context,
            source: Some(source),
            thread: Some(thread),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self, path: &str) -> String {
        format!(
            "rtsp://127.0.0.1:{}/{}",
            self.port,
            path.trim_start_matches('/')
        )
    }

    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        // Close every client session too, as a server going away would.
        self.server
            .client_filter(Some(&mut |_, _| rtsp::RTSPFilterResult::Remove));
        if let Some(id) = self.source.take() {
            // Destroy through our own context: `SourceId::remove` searches the default one.
            if let Some(src) = self.context.find_source_by_id(&id) {
                src.destroy();
            }
        }
        self.main_loop.quit();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for RtspServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Writes `input` as an H.264 byte-stream file at `output` for [`Mount::looped_h264`], unless it
/// is already there. H.264 in MP4/MOV is copied without re-encoding; anything else is decoded
/// and encoded once (`x264enc`, a keyframe every `gop` frames). Returns the stream's frame rate.
pub fn prepare_h264(input: &Path, output: &Path, gop: u32) -> Result<(i32, i32), IngestError> {
    crate::init()?;
    if crate::transcode::needs_transcode(input) {
        let mp4 = output.with_extension("mp4");
        if !mp4.is_file() {
            crate::transcode::gif_to_mp4(input, &mp4)?;
        }
        return prepare_h264(&mp4, output, gop);
    }
    let fps = probe_fps(input)?;
    if output.is_file() {
        return Ok(fps);
    }
    let tmp: PathBuf = output.with_extension("part");
    let is_h264 = probe_codec(input)?.as_deref() == Some("video/x-h264");
    let line = if is_h264 {
        format!(
            "filesrc location=\"{}\" ! parsebin ! h264parse ! video/x-h264,stream-format=byte-stream,alignment=au ! filesink location=\"{}\"",
            quoted(input),
            quoted(&tmp)
        )
    } else {
        format!(
            "filesrc location=\"{}\" ! decodebin ! videoconvert ! video/x-raw,format=I420 \
             ! x264enc speed-preset=veryfast key-int-max={gop} bframes=0 \
             ! video/x-h264,stream-format=byte-stream,profile=constrained-baseline \
             ! filesink location=\"{}\"",
            quoted(input),
            quoted(&tmp)
        )
    };
    run_to_eos(&line)?;
    std::fs::rename(&tmp, output)?;
    Ok(fps)
}

/// The codec of a byte-stream file made by [`encode`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    /// `x264enc` veryfast, main profile, no B-frames (for [`Mount::looped_h264`]).
    H264,
    /// `x265enc` ultrafast: a camera's main stream (for [`Mount::looped_h265`]).
    H265,
}

impl Codec {
    /// The codec of a byte-stream file by its name: `.h265` / `.hevc` is H.265, anything else
    /// H.264 (how `vigil bench-server` serves it).
    pub fn of_file(path: &Path) -> Self {
        match path.extension().is_some_and(|e| e == "h265" || e == "hevc") {
            true => Codec::H265,
            false => Codec::H264,
        }
    }

    /// The file extension `vigil bench-server` serves it by.
    pub fn extension(self) -> &'static str {
        match self {
            Codec::H264 => "h264",
            Codec::H265 => "h265",
        }
    }
}

/// Encodes `input` once as a `codec` byte-stream file at `output` (unless it is already there),
/// scaled to `size` and declared `fps` frames per second with every source frame kept (no
/// frames repeated: a slower clip just plays faster, each frame still distinct; 0 keeps the
/// clip's own rate), a keyframe every `gop` frames, at about `kbps` — what a camera sends. For
/// benchmarks and tests that need a given resolution, rate and codec.
pub fn encode(
    input: &Path,
    output: &Path,
    codec: Codec,
    size: vigil_core::Size,
    fps: u32,
    gop: u32,
    kbps: u32,
) -> Result<(), IngestError> {
    let encoder = match codec {
        Codec::H264 => format!(
            "x264enc speed-preset=veryfast bitrate={kbps} key-int-max={gop} bframes=0 ! video/x-h264,stream-format=byte-stream,profile=main"
        ),
        Codec::H265 => format!(
            "x265enc speed-preset=ultrafast bitrate={kbps} key-int-max={gop} ! video/x-h265,stream-format=byte-stream"
        ),
    };
    crate::init()?;
    if output.is_file() {
        return Ok(());
    }
    let tmp: PathBuf = output.with_extension("part");
    let rate = match fps {
        0 => String::new(),
        n => format!("! capssetter caps=\"video/x-raw,framerate={n}/1\""),
    };
    run_to_eos(&format!(
        "filesrc location=\"{}\" ! decodebin ! videoconvertscale \
         ! video/x-raw,format=I420,width={},height={},pixel-aspect-ratio=1/1 {rate} \
         ! {encoder} ! filesink location=\"{}\"",
        quoted(input),
        size.width,
        size.height,
        quoted(&tmp)
    ))?;
    std::fs::rename(&tmp, output)?;
    Ok(())
}

/// Decodes `input` once to a YUV4MPEG2 file of I420 frames at its own size and rate (unless
/// `output` is already there): raw frames a benchmark can rearrange before [`encode`] takes
/// them (it reads `.y4m` as any clip).
pub fn decode_y4m(input: &Path, output: &Path) -> Result<(), IngestError> {
    crate::init()?;
    if output.is_file() {
        return Ok(());
    }
    let tmp: PathBuf = output.with_extension("part");
    // y4menc writes a buffer's memory as it is: a decoder's frames, padded for its own
    // alignment, are first converted into new, tightly packed ones (NV12 and back loses nothing).
    run_to_eos(&format!(
        "filesrc location=\"{}\" ! decodebin ! videoconvert ! video/x-raw,format=NV12 \
         ! videoconvert ! video/x-raw,format=I420 ! y4menc ! filesink location=\"{}\"",
        quoted(input),
        quoted(&tmp)
    ))?;
    std::fs::rename(&tmp, output)?;
    Ok(())
}

/// A path inside a double-quoted launch-line property.
fn quoted(p: &Path) -> String {
    p.to_string_lossy().replace('"', "\\\"")
}

/// How long one pass of a [`Mount::looped_h264`] stream lasts at `fps`: its access units
/// counted. `vigil demo` tells the camera, so frames carry their pass (`FrameMeta::pass`).
pub fn loop_period(stream: &Path, fps: (i32, i32)) -> Result<Duration, IngestError> {
    crate::init()?;
    let line = format!(
        "filesrc location=\"{}\" ! h264parse ! video/x-h264,alignment=au ! fakesink name=count",
        quoted(stream)
    );
    let pipeline = launch(&line)?;
    let frames = Arc::new(AtomicU64::new(0));
    let counted = frames.clone();
    let pad = pipeline
        .downcast_ref::<gst::Bin>()
        .and_then(|b| b.by_name("count"))
        .and_then(|sink| sink.static_pad("sink"))
        .ok_or_else(|| IngestError::Build(format!("no counting sink in {line}")))?;
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
        counted.fetch_add(1, Ordering::Relaxed);
        gst::PadProbeReturn::Ok
    });
    run_pipeline_to_eos(&pipeline, &line)?;
    let (n, d) = fps;
    if n <= 0 || d <= 0 {
        return Err(IngestError::Build(format!("frame rate {n}/{d}")));
    }
    let frames = frames.load(Ordering::Relaxed);
    Ok(Duration::from_secs_f64(
        frames as f64 * f64::from(d) / f64::from(n),
    ))
}

fn launch(line: &str) -> Result<gst::Element, IngestError> {
    gst::parse::launch(line).map_err(|e| IngestError::Build(e.to_string()))
}

fn run_to_eos(line: &str) -> Result<(), IngestError> {
    run_pipeline_to_eos(&launch(line)?, line)
}

fn run_pipeline_to_eos(pipeline: &gst::Element, line: &str) -> Result<(), IngestError> {
    let bus = pipeline.bus().expect("bus");
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|e| IngestError::Build(e.to_string()))?;
    let result = loop {
        // Nothing is posted while a long clip is encoded: this bounds the whole run.
        let Some(msg) = bus.timed_pop(gst::ClockTime::from_seconds(600)) else {
            break Err(IngestError::Build(format!("timed out: {line}")));
        };
        match msg.view() {
            gst::MessageView::Eos(_) => break Ok(()),
            gst::MessageView::Error(e) => {
                break Err(IngestError::Build(format!("{} ({line})", e.error())));
            }
            _ => {}
        }
    };
    let _ = pipeline.set_state(gst::State::Null);
    result
}

/// Caps of the first video stream as parsebin sees it.
fn probe_caps(input: &Path) -> Result<Option<gst::Caps>, IngestError> {
    let pipeline = gst::Pipeline::new();
    let src = make("filesrc")?;
    src.set_property("location", input.to_string_lossy().as_ref());
    let parse = make("parsebin")?;
    let sink = make("fakesink")?;
    pipeline
        .add_many([&src, &parse, &sink])
        .map_err(|e| IngestError::Build(e.to_string()))?;
    src.link(&parse)
        .map_err(|e| IngestError::Build(e.to_string()))?;
    let sink_weak = sink.downgrade();
    parse.connect_pad_added(move |_, pad| {
        if let Some(sink) = sink_weak.upgrade() {
            let _ = pad.link(&sink.static_pad("sink").expect("fakesink sink"));
        }
    });
    pipeline
        .set_state(gst::State::Paused)
        .map_err(|e| IngestError::Build(e.to_string()))?;
    let (res, _, _) = pipeline.state(gst::ClockTime::from_seconds(10));
    let caps = sink.static_pad("sink").and_then(|p| p.current_caps());
    let _ = pipeline.set_state(gst::State::Null);
    res.map_err(|_| IngestError::Build(format!("cannot read {}", input.display())))?;
    Ok(caps)
}

fn probe_codec(input: &Path) -> Result<Option<String>, IngestError> {
    Ok(probe_caps(input)?.and_then(|c| c.structure(0).map(|s| s.name().to_string())))
}

fn probe_fps(input: &Path) -> Result<(i32, i32), IngestError> {
    let fps = probe_caps(input)?
        .and_then(|c| {
            c.structure(0)
                .and_then(|s| s.get::<gst::Fraction>("framerate").ok())
        })
        .filter(|f| f.numer() > 0 && f.denom() > 0)
        .map_or((25, 1), |f| (f.numer(), f.denom()));
    Ok(fps)
}
