//! Access units → MP4 file, without re-encoding.

use crate::EvidenceError;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;
use vigil_core::EncodedUnit;

/// A written clip.
#[derive(Clone, Debug, PartialEq)]
pub struct ClipInfo {
    pub path: PathBuf,
    /// From the first frame's start to the last frame's end.
    pub duration: Duration,
    /// Stream time of the first frame (the clip's own timestamps start at 0).
    pub first_pts: Duration,
    pub sha256: String,
    pub units: usize,
    pub bytes: u64,
}

/// Writes `units` (the first a keyframe, all of one caps) as an MP4 at `path`.
pub fn write_mp4(units: &[EncodedUnit], path: &Path) -> Result<ClipInfo, EvidenceError> {
    let first = units
        .first()
        .filter(|u| u.keyframe && u.pts.is_some())
        .ok_or(EvidenceError::NoKeyframe)?;
    let write_err = |message: String| EvidenceError::Write {
        path: path.display().to_string(),
        message,
    };
    gst::init().map_err(|e| write_err(e.to_string()))?;
    let caps = gst::Caps::from_str(&first.caps).map_err(|e| EvidenceError::Caps {
        caps: first.caps.to_string(),
        message: e.to_string(),
    })?;
    let parser = match caps.structure(0).map(|s| s.name().as_str()) {
        Some("video/x-h264") => "h264parse",
        Some("video/x-h265") => "h265parse",
        other => {
            return Err(EvidenceError::Caps {
                caps: first.caps.to_string(),
                message: format!("unsupported codec {other:?}"),
            });
        }
    };
    // Rebase so the clip starts at 0; DTS may precede PTS for reordered frames.
    let first_pts = first.pts.unwrap_or_default();
    let base = units
        .iter()
        .filter_map(|u| u.dts)
        .chain([first_pts])
        .min()
        .unwrap_or(first_pts);
    let tmp = path.with_extension("mp4.part");

    let make = |name: &str| {
        gst::ElementFactory::make(name)
            .build()
            .map_err(|_| write_err(format!("GStreamer element {name} is missing")))
    };
    let pipeline = gst::Pipeline::new();
    // Named so its streaming thread reads `clipsrc:src` (counted as evidence by `vigil bench`).
    let src = gst_app::AppSrc::builder()
        .name("clipsrc")
        .caps(&caps)
        .format(gst::Format::Time)
        .block(true)
        .build();
    let parse = make(parser)?;
    let mux = make("mp4mux")?;
    mux.set_property("faststart", true);
    let sink = make("filesink")?;
    sink.set_property("location", tmp.to_string_lossy().as_ref());
    let elements = [src.upcast_ref(), &parse, &mux, &sink];
    pipeline
        .add_many(elements)
        .map_err(|e| write_err(e.to_string()))?;
    gst::Element::link_many(elements).map_err(|e| write_err(e.to_string()))?;
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|e| write_err(e.to_string()))?;

    let ns = |d: Duration| gst::ClockTime::from_nseconds(d.saturating_sub(base).as_nanos() as u64);
    let mut last_pts = first_pts;
    let mut frame = Duration::from_millis(40);
    let mut bytes = 0u64;
    let push = (|| {
        for (i, u) in units.iter().enumerate() {
            let mut buffer = gst::Buffer::from_slice(u.data.clone());
            let b = buffer.get_mut().expect("new buffer is writable");
            // A unit without a PTS (some RTP depayloaders emit them) continues from the last.
            let p = u
                .pts
                .unwrap_or(last_pts + if i == 0 { Duration::ZERO } else { frame });
            b.set_pts(ns(p));
            if let Some(next) = units.get(i + 1).and_then(|n| n.pts).filter(|n| *n > p) {
                frame = next - p;
            }
            b.set_duration(gst::ClockTime::from_nseconds(frame.as_nanos() as u64));
            last_pts = last_pts.max(p);
            if let Some(d) = u.dts.filter(|d| *d <= p) {
                b.set_dts(ns(d));
            }
            if !u.keyframe {
                b.set_flags(gst::BufferFlags::DELTA_UNIT);
            }
            bytes += u.data.len() as u64;
            src.push_buffer(buffer)
                .map_err(|e| format!("muxer refused a unit: {e:?}"))?;
        }
        src.end_of_stream()
            .map(|_| ())
            .map_err(|e| format!("cannot end stream: {e:?}"))
    })();
    // The file is valid only once EOS has passed through mp4mux.
    let result = push.and_then(|()| {
        let bus = pipeline.bus().expect("a pipeline has a bus");
        match bus.timed_pop_filtered(
            gst::ClockTime::from_seconds(60),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        ) {
            Some(m) => match m.view() {
                gst::MessageView::Error(e) => Err(e.error().to_string()),
                _ => Ok(()),
            },
            None => Err("muxing timed out".to_string()),
        }
    });
    let _ = pipeline.set_state(gst::State::Null);
    if let Err(message) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(write_err(message));
    }
    let sha256 = sha256_file(&tmp).map_err(|e| write_err(e.to_string()))?;
    std::fs::rename(&tmp, path).map_err(|e| write_err(e.to_string()))?;
    Ok(ClipInfo {
        path: path.to_path_buf(),
        duration: last_pts - first_pts + frame,
        first_pts,
        sha256,
        units: units.len(),
        bytes,
    })
}

/// Hex sha256 of a file's bytes.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(vigil_core::hex::encode(&hasher.finalize()))
}
