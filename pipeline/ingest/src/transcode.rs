//! One-off conversions of footage into what the pipeline and the RTSP server stream best.
//!
//! GIF needs one: GStreamer reads GIFs only through libav (`avdemux_gif ! avdec_gif`), which stamps
//! every decoded frame with PTS 0 and, when downstream is slower than real time, never reaches
//! EOS (it spins). So a GIF file camera is converted once to an H.264 MP4 whose timestamps are the
//! GIF's own frame delays (decoded by `image`), and the pipeline reads that.

use crate::{IngestError, make};
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use image::AnimationDecoder;
use std::path::Path;
use std::time::Duration;

fn build_err(e: impl std::fmt::Display) -> IngestError {
    IngestError::Build(e.to_string())
}

/// Whether a file needs [`gif_to_mp4`] before GStreamer can play it reliably.
pub fn needs_transcode(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gif"))
}

/// Converts an animated GIF into an H.264 MP4 (index at the front), keeping each frame's delay.
/// Writes to `output` through a temporary file; returns the number of frames.
pub fn gif_to_mp4(input: &Path, output: &Path) -> Result<usize, IngestError> {
    crate::init()?;
    let file = std::fs::File::open(input)
        .map_err(|e| IngestError::Build(format!("cannot open {}: {e}", input.display())))?;
    let frames = image::codecs::gif::GifDecoder::new(std::io::BufReader::new(file))
        .and_then(|d| d.into_frames().collect_frames())
        .map_err(|e| IngestError::Build(format!("cannot decode GIF {}: {e}", input.display())))?;
    let first = frames
        .first()
        .ok_or_else(|| IngestError::Build(format!("{} has no frames", input.display())))?;
    let (width, height) = first.buffer().dimensions();
    let delay = |f: &image::Frame| {
        let (num, den) = f.delay().numer_denom_ms();
        // Browsers treat delays under 20 ms as 100 ms; do the same.
        let ms = if den == 0 {
            100.0
        } else {
            f64::from(num) / f64::from(den)
        };
        Duration::from_secs_f64(if ms < 20.0 { 0.1 } else { ms / 1000.0 })
    };
    let mean = frames.iter().map(delay).sum::<Duration>() / frames.len() as u32;
    let fps = gst::Fraction::approximate_f64(1.0 / mean.as_secs_f64())
        .unwrap_or(gst::Fraction::new(10, 1));

    let tmp = output.with_extension("part");
    let pipeline = gst::Pipeline::new();
    let caps = gst::Caps::builder("video/x-raw")
        .field("format", "RGBA")
        .field("width", width as i32)
        .field("height", height as i32)
        .field("framerate", fps)
        .build();
    let src = gst_app::AppSrc::builder()
        .caps(&caps)
        .format(gst::Format::Time)
        .block(true)
        .build();
    let convert = make("videoconvert")?;
    let i420 = make("capsfilter")?;
    i420.set_property(
        "caps",
        gst::Caps::builder("video/x-raw")
            .field("format", "I420")
            .build(),
    );
    let encode = make("x264enc")?;
    encode.set_property_from_str("speed-preset", "veryfast");
    // One thread and a fixed quantizer: the same GIF always gives the same stream, so replays
    // of it are reproducible (threaded rate control is not), at near-lossless quality.
    encode.set_property("threads", 1u32);
    encode.set_property_from_str("pass", "quant");
    encode.set_property("quantizer", 16u32);
    encode.set_property("bframes", 0u32);
    encode.set_property(
        "key-int-max",
        (fps.numer() / fps.denom().max(1)).max(1) as u32,
    );
    let mux = make("mp4mux")?;
    mux.set_property("faststart", true);
    let sink = make("filesink")?;
    sink.set_property("location", tmp.to_string_lossy().as_ref());
    pipeline
        .add_many([src.upcast_ref(), &convert, &i420, &encode, &mux, &sink])
        .map_err(build_err)?;
    gst::Element::link_many([src.upcast_ref(), &convert, &i420, &encode, &mux, &sink])
        .map_err(build_err)?;
    pipeline.set_state(gst::State::Playing).map_err(build_err)?;

    let mut pts = Duration::ZERO;
    let count = frames.len();
    for f in frames {
        let d = delay(&f);
        let mut buffer = gst::Buffer::from_mut_slice(f.into_buffer().into_raw());
        {
            let b = buffer.get_mut().expect("new buffer is writable");
            b.set_pts(gst::ClockTime::from_nseconds(pts.as_nanos() as u64));
            b.set_duration(gst::ClockTime::from_nseconds(d.as_nanos() as u64));
        }
        pts += d;
        src.push_buffer(buffer)
            .map_err(|e| IngestError::Build(format!("encoder refused a frame: {e:?}")))?;
    }
    src.end_of_stream()
        .map_err(|e| IngestError::Build(format!("cannot end stream: {e:?}")))?;
    let bus = pipeline.bus().expect("bus");
    let result = match bus.timed_pop_filtered(
        gst::ClockTime::from_seconds(120),
        &[gst::MessageType::Eos, gst::MessageType::Error],
    ) {
        Some(m) => match m.view() {
            gst::MessageView::Error(e) => Err(IngestError::Build(format!(
                "transcoding {}: {}",
                input.display(),
                e.error()
            ))),
            _ => Ok(()),
        },
        None => Err(IngestError::Build(format!(
            "transcoding {} timed out",
            input.display()
        ))),
    };
    let _ = pipeline.set_state(gst::State::Null);
    result?;
    std::fs::rename(&tmp, output)?;
    Ok(count)
}

/// Every encoded access unit of a file, as a camera's tee delivers them to evidence (stream time,
/// keyframe flags, caps). For tests, benchmarks and tools; the pipeline itself streams them.
pub fn encoded_units(path: &Path) -> Result<Vec<vigil_core::EncodedUnit>, IngestError> {
    use crate::{CameraExit, CameraSinks, CameraSpec, TargetSize, spawn_camera};
    use std::sync::atomic::AtomicBool;
    use std::sync::{Arc, Mutex};
    use vigil_core::{CameraId, PixelFormat, StageCounters, WhenFull, queue};

    let counters = Arc::new(StageCounters::default());
    let (tx, rx) = queue::bounded(4, WhenFull::Block, counters.clone());
    let units = Arc::new(Mutex::new(Vec::new()));
    let sink = units.clone();
    let sinks = CameraSinks {
        frames: tx,
        encoded: Some(Arc::new(move |u| sink.lock().expect("units lock").push(u))),
        status: Arc::new(|_, _| {}),
        counters,
        duration_ms: Default::default(),
        decoder: Default::default(),
        clock: None,
    };
    let spec = CameraSpec {
        id: CameraId::new("encoded-units"),
        source: vigil_config::CameraSource::File {
            path: path.to_path_buf(),
            looping: false,
        },
        // Decoded frames are not wanted: sample as few as possible.
        detect_fps: Some(0.5),
        format: PixelFormat::Rgb8,
        target: TargetSize::Source,
        realtime: false,
        stall: None,
        decode_threads: 1,
        // GIF and the like have no hardware decoder.
        decoder: vigil_config::Decoder::Software,
        loop_period: None,
    };
    let handle = spawn_camera(spec, sinks, Arc::new(AtomicBool::new(false)))?;
    while rx.recv().is_some() {}
    match handle.join() {
        Ok(CameraExit::EndOfInput) => Ok(std::mem::take(&mut *units.lock().expect("units lock"))),
        Ok(other) => Err(IngestError::Build(format!("{}: {other:?}", path.display()))),
        Err(_) => Err(IngestError::Build("camera thread panicked".into())),
    }
}
