//! Snapshots: the frame at the alert, decoded from its clip, saved clean and with the zone,
//! boxes, labels and track ids drawn over it (JPEG).

use crate::EvidenceError;
use crate::font::glyph;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use gstreamer_video as gst_video;
use std::path::Path;
use std::time::Duration;
use vigil_core::{BBoxPx, Size};

/// What to draw on the annotated snapshot.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overlay {
    /// The rule's zone, in normalised coordinates.
    pub zone: Vec<(f64, f64)>,
    /// Boxes in source pixels with their labels (`#3 car 0.87`).
    pub boxes: Vec<(BBoxPx, String)>,
    /// A falling object's path and origin: the trajectory composite.
    pub trajectory: Option<TrajectoryOverlay>,
    /// Lines drawn top-left: camera, zone, rule (as people call them) and the time.
    pub caption: Vec<String>,
}

impl Overlay {
    /// The overlay drawn on a frame of size `to`, its pixels given for one of size `from`.
    pub fn rescaled(&self, from: Size, to: Size) -> Overlay {
        let (sx, sy) = from.scale_to(to);
        let point = |(x, y): (f64, f64)| (x * sx, y * sy);
        Overlay {
            zone: self.zone.clone(),
            boxes: self
                .boxes
                .iter()
                .map(|(b, label)| (b.rescaled(from, to), label.clone()))
                .collect(),
            trajectory: self.trajectory.as_ref().map(|t| TrajectoryOverlay {
                points: t.points.iter().copied().map(point).collect(),
                origin: point(t.origin),
                label: t.label.clone(),
            }),
            caption: self.caption.clone(),
        }
    }
}

/// A falling object drawn over one frame, as vendors' evidence shows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrajectoryOverlay {
    /// Positions in source pixels, in time order.
    pub points: Vec<(f64, f64)>,
    /// The origin (source pixels) and its label (`floor 12 (11-13) col 3`).
    pub origin: (f64, f64),
    pub label: String,
}

/// A packed RGB frame.
pub struct Rgb {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

/// How long a snapshot decode waits for its next frame before it gives up…
const SAMPLE_WAIT: Duration = Duration::from_secs(20);
/// …looking at the bus for an error this often meanwhile.
const POLL_MS: u64 = 200;

/// The first error on `pipeline`'s bus, if any.
fn bus_error(pipeline: &gst::Pipeline) -> Option<String> {
    let bus = pipeline.bus()?;
    let msg = bus.pop_filtered(&[gst::MessageType::Error])?;
    match msg.view() {
        gst::MessageView::Error(e) => Some(e.error().to_string()),
        _ => None,
    }
}

/// Decodes `clip` and returns the frame shown at `at` (clip time), or the last one before it.
pub fn frame_at(clip: &Path, at: Duration) -> Result<Rgb, EvidenceError> {
    // One snapshot decode at a time in the process: a burst of alerts on many cameras would
    // otherwise run a decoder (and its frame pools) per camera at once — memory spikes of
    // hundreds of MB at 720p, and CPU taken from live decoding all at once.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let err = |message: String| EvidenceError::Write {
        path: clip.display().to_string(),
        message,
    };
    gst::init().map_err(|e| err(e.to_string()))?;
    let location = clip.to_string_lossy().replace('"', "\\\"");
    // The clip's codec as recorded: H.264, or H.265 from a camera that records HEVC.
    let entry = crate::rendition::mp4_video_codec(clip).map_err(|e| err(e.to_string()))?;
    // One decoding thread: with a thread per core the decoder holds a picture set per thread,
    // tens of MB of 1080p frames more at each snapshot, for one frame wanted.
    let decode = match entry.as_deref() {
        Some("hvc1" | "hev1") => "h265parse ! avdec_h265 max-threads=1",
        Some("avc1" | "avc3") => "h264parse ! avdec_h264 max-threads=1",
        other => {
            return Err(err(format!(
                "no video track to decode (sample entry {other:?})"
            )));
        }
    };
    // Frames reach the sink as decoded; only the one kept is converted to RGB (a 1080p frame
    // took as long to convert as to decode, for every frame from the keyframe on).
    let pipeline = gst::parse::launch(&format!(
        "filesrc location=\"{location}\" ! qtdemux name=snapdemux ! {decode} \
         ! appsink name=out sync=false"
    ))
    .map_err(|e| err(e.to_string()))?
    .downcast::<gst::Pipeline>()
    .map_err(|_| err("not a pipeline".into()))?;
    let sink = pipeline
        .by_name("out")
        .and_then(|e| e.downcast::<gst_app::AppSink>().ok())
        .ok_or_else(|| err("no appsink".into()))?;
    hold_few(&sink);
    // Preroll, then start decoding at the keyframe before `at` rather than at the clip's start
    // (ten seconds of pre-roll at 720p25 is 250 frames to decode for one picture).
    pipeline
        .set_state(gst::State::Paused)
        .map_err(|e| err(e.to_string()))?;
    let (prerolled, _, _) = pipeline.state(gst::ClockTime::from_seconds(10));
    if prerolled.is_ok() && at > Duration::ZERO {
        let _ = pipeline.seek_simple(
            gst::SeekFlags::FLUSH | gst::SeekFlags::KEY_UNIT | gst::SeekFlags::SNAP_BEFORE,
            gst::ClockTime::from_nseconds(at.as_nanos() as u64),
        );
    }
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|e| err(e.to_string()))?;
    let mut best: Option<gst::Sample> = None;
    // A frame within the wait, or the stream's end; an error stops the pipeline without an end
    // reaching the sink, so the wait is bounded and the bus read for why.
    let mut failure = None;
    let mut waited = Duration::ZERO;
    loop {
        let Some(sample) = sink.try_pull_sample(gst::ClockTime::from_mseconds(POLL_MS)) else {
            if sink.is_eos() {
                break;
            }
            waited += Duration::from_millis(POLL_MS);
            if let Some(why) = bus_error(&pipeline) {
                failure = Some(why);
                break;
            }
            if waited >= SAMPLE_WAIT {
                failure = Some(format!(
                    "no frame decoded within {} s",
                    SAMPLE_WAIT.as_secs()
                ));
                break;
            }
            continue;
        };
        waited = Duration::ZERO;
        let pts = sample
            .buffer()
            .and_then(|b| b.pts())
            .map(|t| Duration::from_nanos(t.nseconds()));
        if best.is_some() && pts.is_some_and(|p| p > at) {
            break;
        }
        best = Some(sample);
    }
    let _ = pipeline.set_state(gst::State::Null);
    drop(pipeline);
    let rgb = match (best, failure) {
        (Some(sample), _) => to_rgb(&sample).map_err(err),
        (None, Some(why)) => Err(err(why)),
        (None, None) => Err(err("the clip has no decodable frame".into())),
    };
    // The decoder's pictures (≈ 50 MB at 1080p H.265) go back to the system before the next
    // camera's decode starts: that one may run in another malloc arena, which would not reuse
    // them, and a burst of alerts held two decoders' worth at once.
    vigil_core::mem::release_free_memory();
    rgb
}

/// Bounds the pictures waiting in the sink to one, and keeps no last one besides: by default
/// an appsink queues without limit, each picture ≈ 3.1 MB at 1080p. The search for the frame
/// needs only the one being looked at and the one before it. (heaptrack on one snapshot of a
/// 1080p GOP measured the same peak either way — the decoder's own two pools dominate it — so
/// this is a bound, not a measured saving.)
fn hold_few(sink: &gst_app::AppSink) {
    sink.set_max_buffers(1);
    sink.set_property("enable-last-sample", false);
}

/// A decoded frame as packed RGB, converted as `videoconvert` would.
fn to_rgb(sample: &gst::Sample) -> Result<Rgb, String> {
    let info = sample
        .caps()
        .and_then(|c| gst_video::VideoInfo::from_caps(c).ok())
        .ok_or("frame without video caps")?;
    let buffer = sample.buffer_owned().ok_or("frame without a buffer")?;
    let (w, h) = (info.width(), info.height());
    let rgb_info = gst_video::VideoInfo::builder(gst_video::VideoFormat::Rgb, w, h)
        .fps(info.fps())
        .par(info.par())
        .interlace_mode(info.interlace_mode())
        .build()
        .map_err(|e| e.to_string())?;
    let frame = gst_video::VideoFrame::from_buffer_readable(buffer, &info)
        .map_err(|_| "unreadable frame".to_string())?;
    let out = gst::Buffer::with_size(rgb_info.size()).map_err(|e| e.to_string())?;
    let mut rgb = gst_video::VideoFrame::from_buffer_writable(out, &rgb_info)
        .map_err(|_| "no RGB frame".to_string())?;
    gst_video::VideoConverter::new(&info, &rgb_info, None)
        .map_err(|e| e.to_string())?
        .frame(&frame, &mut rgb);
    let stride = rgb_info.stride()[0] as usize;
    let data = rgb.plane_data(0).map_err(|e| e.to_string())?;
    let mut pixels = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h as usize {
        pixels.extend_from_slice(&data[y * stride..y * stride + w as usize * 3]);
    }
    Ok(Rgb {
        width: w,
        height: h,
        pixels,
    })
}

impl Rgb {
    fn put(&mut self, x: i64, y: i64, c: [u8; 3]) {
        if x >= 0 && y >= 0 && (x as u32) < self.width && (y as u32) < self.height {
            let i = (y as usize * self.width as usize + x as usize) * 3;
            self.pixels[i..i + 3].copy_from_slice(&c);
        }
    }

    fn line(&mut self, (x0, y0): (f64, f64), (x1, y1): (f64, f64), c: [u8; 3], thickness: i64) {
        let steps = (x1 - x0).abs().max((y1 - y0).abs()).ceil().max(1.0) as i64;
        for s in 0..=steps {
            let t = s as f64 / steps as f64;
            let (x, y) = (
                (x0 + (x1 - x0) * t).round() as i64,
                (y0 + (y1 - y0) * t).round() as i64,
            );
            for dy in 0..thickness {
                for dx in 0..thickness {
                    self.put(x + dx - thickness / 2, y + dy - thickness / 2, c);
                }
            }
        }
    }

    pub(crate) fn text(
        &mut self,
        x: i64,
        y: i64,
        text: &str,
        fg: [u8; 3],
        bg: [u8; 3],
        scale: i64,
    ) {
        let w = text.chars().count() as i64 * 6 * scale + scale;
        for dy in 0..9 * scale {
            for dx in 0..w {
                self.put(x + dx, y + dy, bg);
            }
        }
        for (i, ch) in text.chars().enumerate() {
            for (row, bits) in glyph(ch).iter().enumerate() {
                for col in 0..5 {
                    if bits & (0x10 >> col) != 0 {
                        for sy in 0..scale {
                            for sx in 0..scale {
                                let px = x + scale + (i as i64 * 6 + col) * scale + sx;
                                let py = y + scale + row as i64 * scale + sy;
                                self.put(px, py, fg);
                            }
                        }
                    }
                }
            }
        }
    }

    /// Pixelates each box (privacy): blocks of about a sixth of the box's shorter side.
    pub fn pixelate(&mut self, boxes: &[BBoxPx]) {
        for b in boxes {
            let (x1, y1) = (b.x1.max(0.0) as u32, b.y1.max(0.0) as u32);
            let (x2, y2) = (
                (b.x2 as u32).min(self.width),
                (b.y2 as u32).min(self.height),
            );
            if x2 <= x1 || y2 <= y1 {
                continue;
            }
            let block = ((x2 - x1).min(y2 - y1) / 6).max(6);
            for by in (y1..y2).step_by(block as usize) {
                for bx in (x1..x2).step_by(block as usize) {
                    let (ex, ey) = ((bx + block).min(x2), (by + block).min(y2));
                    let mut sum = [0u64; 3];
                    for y in by..ey {
                        for x in bx..ex {
                            let i = (y as usize * self.width as usize + x as usize) * 3;
                            for (acc, &v) in sum.iter_mut().zip(&self.pixels[i..i + 3]) {
                                *acc += u64::from(v);
                            }
                        }
                    }
                    let n = u64::from((ex - bx) * (ey - by)).max(1);
                    let mean = sum.map(|v| (v / n) as u8);
                    for y in by..ey {
                        for x in bx..ex {
                            let i = (y as usize * self.width as usize + x as usize) * 3;
                            self.pixels[i..i + 3].copy_from_slice(&mean);
                        }
                    }
                }
            }
        }
    }

    /// Draws the zone (yellow), boxes (red) and their labels.
    pub fn draw(&mut self, overlay: &Overlay) {
        let scale = if self.height >= 700 { 2 } else { 1 };
        let (w, h) = (f64::from(self.width), f64::from(self.height));
        let n = overlay.zone.len();
        for i in 0..n {
            let (a, b) = (overlay.zone[i], overlay.zone[(i + 1) % n]);
            self.line(
                (a.0 * w, a.1 * h),
                (b.0 * w, b.1 * h),
                [255, 220, 0],
                2 * scale,
            );
        }
        for (b, label) in &overlay.boxes {
            let red = [230, 30, 30];
            let corners = [(b.x1, b.y1), (b.x2, b.y1), (b.x2, b.y2), (b.x1, b.y2)];
            for i in 0..4 {
                let (p, q) = (corners[i], corners[(i + 1) % 4]);
                self.line(
                    (f64::from(p.0), f64::from(p.1)),
                    (f64::from(q.0), f64::from(q.1)),
                    red,
                    2 * scale,
                );
            }
            let ty = (b.y1 as i64 - 10 * scale).max(0);
            self.text(b.x1 as i64, ty, label, [255, 255, 255], red, scale);
        }
        if let Some(t) = &overlay.trajectory {
            let cyan = [0, 220, 255];
            // Back-extrapolated part (origin to first sighting) thin, the seen path thick.
            if let Some(&first) = t.points.first() {
                self.line(t.origin, first, cyan, scale);
            }
            for w in t.points.windows(2) {
                self.line(w[0], w[1], cyan, 2 * scale);
            }
            for &(x, y) in &t.points {
                let r = 2 * scale;
                for dy in -r..=r {
                    for dx in -r..=r {
                        self.put(x as i64 + dx, y as i64 + dy, [255, 40, 40]);
                    }
                }
            }
            // The origin: a cross and its floor.
            let (ox, oy) = t.origin;
            let arm = 8.0 * scale as f64;
            self.line((ox - arm, oy), (ox + arm, oy), [255, 255, 0], 2 * scale);
            self.line((ox, oy - arm), (ox, oy + arm), [255, 255, 0], 2 * scale);
            let tx = (ox as i64 + 12 * scale)
                .min(i64::from(self.width) - 6 * scale * t.label.len() as i64);
            self.text(
                tx.max(0),
                (oy as i64 - 4 * scale).max(0),
                &t.label,
                [0, 0, 0],
                [255, 255, 0],
                scale,
            );
        }
    }

    /// Writes the frame as a JPEG through a temporary file; returns its sha256.
    pub fn save_jpeg(&self, path: &Path) -> Result<String, EvidenceError> {
        let err = |message: String| EvidenceError::Write {
            path: path.display().to_string(),
            message,
        };
        let tmp = path.with_extension("jpg.part");
        let file = std::fs::File::create(&tmp).map_err(|e| err(e.to_string()))?;
        let mut out = std::io::BufWriter::new(file);
        let encoded = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
            .encode(
                &self.pixels,
                self.width,
                self.height,
                image::ExtendedColorType::Rgb8,
            )
            .map_err(|e| err(e.to_string()))
            .and_then(|()| std::io::Write::flush(&mut out).map_err(|e| err(e.to_string())));
        drop(out);
        if let Err(e) = encoded {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        let sha = crate::sha256_file(&tmp).map_err(|e| err(e.to_string()))?;
        std::fs::rename(&tmp, path).map_err(|e| err(e.to_string()))?;
        Ok(sha)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(w: u32, h: u32) -> Rgb {
        let pixels = (0..w * h * 3)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        Rgb {
            width: w,
            height: h,
            pixels,
        }
    }

    #[test]
    fn pixelate_flattens_blocks_inside_the_box_only() {
        let mut img = noise(120, 80);
        let before = img.pixels.clone();
        img.pixelate(&[BBoxPx::new(30.0, 20.0, 90.0, 68.0)]);
        let px = |img: &Rgb, x: usize, y: usize| {
            let i = (y * 120 + x) * 3;
            [img.pixels[i], img.pixels[i + 1], img.pixels[i + 2]]
        };
        // Block size is 48 / 6 = 8: every pixel of the first block equals its top-left one.
        for y in 20..28 {
            for x in 30..38 {
                assert_eq!(px(&img, x, y), px(&img, 30, 20));
            }
        }
        // Outside the box nothing changed.
        for (x, y) in [(0, 0), (29, 20), (90, 20), (50, 68), (119, 79)] {
            let i = (y * 120 + x) * 3;
            assert_eq!(&img.pixels[i..i + 3], &before[i..i + 3], "({x}, {y})");
        }
    }

    #[test]
    fn labels_draw_pixels_in_the_label_colour() {
        let mut img = Rgb {
            width: 100,
            height: 40,
            pixels: vec![0; 100 * 40 * 3],
        };
        img.draw(&Overlay {
            zone: vec![],
            boxes: vec![(BBoxPx::new(10.0, 20.0, 60.0, 39.0), "#7 car".into())],
            ..Overlay::default()
        });
        let white = img
            .pixels
            .chunks(3)
            .filter(|p| p == &[255, 255, 255])
            .count();
        let red = img.pixels.chunks(3).filter(|p| p == &[230, 30, 30]).count();
        assert!(white > 20, "label text drawn ({white} px)");
        assert!(red > 100, "box and label background drawn ({red} px)");
    }
}
