//! The limit a pipeline is measured against: the clip decoded alone (GStreamer, no conversion,
//! one decoder thread) and the model run alone (one intra-op thread), each in CPU per frame on
//! an otherwise idle process. A pipeline that did nothing but those two, perfectly spread over
//! every core, would reach `cores ÷ (decode + inference)` frames/s.

use anyhow::{Context, Result, bail};
use gstreamer as gst;
use gstreamer::prelude::*;
use serde::Serialize;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use vigil_config::{Config, ResizeMode};
use vigil_core::{Image, PixelFormat, Size};
use vigil_detect::{Detector, DetectorOptions};

#[derive(Clone, Debug, Serialize)]
pub struct Limit {
    /// Decoding the clip: CPU milliseconds per frame (median of three passes).
    pub decode_cpu_ms: f64,
    /// The model's `session.run`: CPU milliseconds per frame (median over ≥ 2 s).
    pub infer_cpu_ms: f64,
    /// `cores ÷ (decode + inference)`, frames per second.
    pub fps: f64,
    /// The model's CPU milliseconds per frame with every core running a session at once (the
    /// machine's own parallel scaling: shared caches, memory bandwidth, SMT siblings).
    pub infer_cpu_ms_all_cores: f64,
    /// `cores ÷ (decode + inference on all cores)`: what perfect spreading could reach when the
    /// cores slow each other down as they do here.
    pub fps_all_cores: f64,
    pub decoded_frames: u64,
    pub inferences: u64,
}

pub fn measure(clip: &Path, config: &Config) -> Result<Limit> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut passes = Vec::new();
    let mut decoded_frames = 0;
    for _ in 0..3 {
        let (frames, cpu) = decode_pass(clip)?;
        decoded_frames += frames;
        passes.push(cpu.as_secs_f64() * 1e3 / frames as f64);
    }
    let decode_cpu_ms = median(&mut passes);
    let mut single = detector(config)?;
    let (mut runs, image) = (Vec::new(), test_image(config));
    inference(&mut single, &image, &mut runs)?;
    let inferences = runs.len() as u64;
    let infer_cpu_ms = median(&mut runs);
    // Every core at once, one session each, the same image.
    let mut all = Vec::new();
    std::thread::scope(|scope| -> Result<()> {
        let workers: Vec<_> = (0..cores)
            .map(|i| {
                let image = image.clone();
                std::thread::Builder::new()
                    .name(format!("limit-{i}"))
                    .spawn_scoped(scope, move || -> Result<Vec<f64>> {
                        let mut d = detector(config)?;
                        let mut runs = Vec::new();
                        inference(&mut d, &image, &mut runs)?;
                        Ok(runs)
                    })
            })
            .collect::<std::io::Result<_>>()?;
        for w in workers {
            all.extend(
                w.join()
                    .map_err(|_| anyhow::anyhow!("limit thread panicked"))??,
            );
        }
        Ok(())
    })?;
    let infer_cpu_ms_all_cores = median(&mut all);
    Ok(Limit {
        decode_cpu_ms,
        infer_cpu_ms,
        fps: cores as f64 * 1e3 / (decode_cpu_ms + infer_cpu_ms),
        infer_cpu_ms_all_cores,
        fps_all_cores: cores as f64 * 1e3 / (decode_cpu_ms + infer_cpu_ms_all_cores),
        decoded_frames,
        inferences,
    })
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Decodes `clip` once to a fakesink; returns the frames and the process CPU from the first
/// decoded frame to the end of stream (start-up not counted).
fn decode_pass(clip: &Path) -> Result<(u64, Duration)> {
    vigil_ingest::init()?;
    let location = clip.to_string_lossy().replace('"', "\\\"");
    let pipeline = gst::parse::launch(&format!(
        "filesrc location=\"{location}\" ! parsebin ! decodebin name=d ! fakesink name=sink sync=false"
    ))
    .context("cannot build the decode-only pipeline")?
    .downcast::<gst::Pipeline>()
    .map_err(|_| anyhow::anyhow!("not a pipeline"))?;
    let decode = pipeline
        .by_name("d")
        .and_then(|d| d.downcast::<gst::Bin>().ok())
        .context("no decodebin")?;
    decode.connect_deep_element_added(|_, _, element| {
        if element
            .factory()
            .is_some_and(|f| f.name().starts_with("avdec_"))
        {
            element.set_property("max-threads", 1i32);
        }
    });
    let frames = Arc::new(AtomicU64::new(0));
    let first: Arc<Mutex<Option<Duration>>> = Arc::default();
    let sink = pipeline.by_name("sink").context("no sink")?;
    let (f, t) = (frames.clone(), first.clone());
    sink.static_pad("sink").context("no sink pad")?.add_probe(
        gst::PadProbeType::BUFFER,
        move |_, _| {
            if f.fetch_add(1, Ordering::Relaxed) == 0
                && let Ok(mut t) = t.lock()
            {
                *t = Some(vigil_core::cpu::process_time());
            }
            gst::PadProbeReturn::Ok
        },
    );
    pipeline.set_state(gst::State::Playing)?;
    let bus = pipeline.bus().context("no bus")?;
    let deadline = Instant::now() + Duration::from_secs(300);
    let result = loop {
        let Some(msg) = bus.timed_pop(gst::ClockTime::from_mseconds(500)) else {
            if Instant::now() > deadline {
                break Err(anyhow::anyhow!(
                    "decoding {} took over 300 s",
                    clip.display()
                ));
            }
            continue;
        };
        match msg.view() {
            gst::MessageView::Eos(_) => break Ok(vigil_core::cpu::process_time()),
            gst::MessageView::Error(e) => {
                break Err(anyhow::anyhow!(
                    "decoding {}: {}",
                    clip.display(),
                    e.error()
                ));
            }
            _ => {}
        }
    };
    let _ = pipeline.set_state(gst::State::Null);
    let end = result?;
    let n = frames.load(Ordering::Relaxed);
    let start = first.lock().ok().and_then(|t| *t);
    match start {
        // The first frame's own decoding happened before the reading: n − 1 frames after it.
        Some(start) if n > 1 => Ok((n - 1, end.saturating_sub(start))),
        _ => bail!("{} decoded to no frames", clip.display()),
    }
}

/// A one-thread session on the config's model.
fn detector(config: &Config) -> Result<Detector> {
    let options = DetectorOptions {
        score_threshold: config.detector.score_threshold,
        nms_iou: config.detector.nms_iou,
        intra_threads: 1,
        execution_provider: config.detector.execution_provider,
    };
    Detector::new(&config.detector.manifest, options).context("cannot load the detector")
}

/// A frame the size the pipeline hands over (letterboxed models get the fitted size); the
/// content does not change the model's cost.
fn test_image(config: &Config) -> Image {
    let m = &config.detector.manifest;
    let size = match m.resize {
        ResizeMode::LetterboxTopLeft => Size::new(m.input_width, m.input_height * 9 / 16),
        ResizeMode::Stretch => Size::new(m.input_width, m.input_height),
    };
    let pixels = (0..size.width * size.height * 3)
        .map(|i| (i % 251) as u8)
        .collect();
    Image::from_packed(size, PixelFormat::Bgr8, pixels)
}

/// CPU milliseconds of each `session.run` over at least 2 s (and 20 runs) after a warm-up.
fn inference(detector: &mut Detector, image: &Image, runs: &mut Vec<f64>) -> Result<()> {
    for _ in 0..10 {
        detector.detect(image, image.size)?;
    }
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(2) || runs.len() < 20 {
        let (_, t) = detector.detect(image, image.size)?;
        runs.push(t.infer_cpu.as_secs_f64() * 1e3);
    }
    Ok(())
}
