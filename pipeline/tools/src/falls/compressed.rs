//! A rendered sequence as a camera would deliver it: encoded to H.264 in MP4 at its own bitrate
//! (a phone's 1–3 Mbit/s per 720p for a close view), decoded again, and its luma run through the
//! detector as [`memory`](super::memory) runs the renderer's ([`detect`]) — compression without the rest of
//! the pipeline, for the tests.

use super::memory::{Judging, detect};
use super::score::SequenceScore;
use crate::scenes::falls::SceneSpec;
use anyhow::{Context, Result};
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use std::path::Path;

/// Encodes `spec` into `dir`, decodes it, and scores the detector on the decoded frames.
pub fn run(spec: SceneSpec, dir: &Path, judging: Judging) -> Result<SequenceScore> {
    let file = dir.join(format!("{}.mp4", spec.name));
    let truth = super::render(spec, &file)?;
    let raised = detect(
        &truth,
        decoded_luma(&file)?,
        judging,
        vigil_falling::ClassifyParams::default(),
    );
    Ok(raised.scored(&truth, judging.explain))
}

/// Each frame of the H.264 MP4 at `file`, as packed luma.
fn decoded_luma(file: &Path) -> Result<Vec<Vec<u8>>> {
    let pipeline = super::launch(&format!(
        "filesrc location=\"{}\" ! qtdemux ! h264parse ! avdec_h264 ! videoconvert \
         ! video/x-raw,format=GRAY8 ! appsink name=out sync=false",
        super::quoted(file)
    ))?;
    let sink = pipeline
        .by_name("out")
        .and_then(|e| e.downcast::<gst_app::AppSink>().ok())
        .context("no appsink")?;
    pipeline.set_state(gst::State::Playing)?;
    let mut frames = Vec::new();
    while let Ok(sample) = sink.pull_sample() {
        let info = sample
            .caps()
            .and_then(|c| gstreamer_video::VideoInfo::from_caps(c).ok())
            .context("a frame without video caps")?;
        let buffer = sample.buffer_owned().context("a frame without a buffer")?;
        let frame = gstreamer_video::VideoFrame::from_buffer_readable(buffer, &info)
            .map_err(|_| anyhow::anyhow!("an unreadable frame"))?;
        let (w, stride) = (info.width() as usize, info.stride()[0] as usize);
        let plane = frame.plane_data(0)?;
        let mut y = Vec::with_capacity(w * info.height() as usize);
        for row in plane.chunks(stride).take(info.height() as usize) {
            y.extend_from_slice(&row[..w]);
        }
        frames.push(y);
    }
    let _ = pipeline.set_state(gst::State::Null);
    Ok(frames)
}
