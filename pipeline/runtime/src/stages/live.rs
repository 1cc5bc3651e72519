//! The live view's encoder: a `live-jpeg` thread turns the frames the stages offer to the
//! [`LiveHub`] (a detector camera's detect frame with its detections, a facade camera's luma)
//! into JPEG pictures, one per watched camera at most `api.live.fps` a second. It runs only
//! when the API does; a camera nobody watches costs one lock per frame and no copy.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use vigil_core::throttle::Throttle;
use vigil_core::{Detection, FrameMeta, Image, PixelFormat};
use vigil_serve::live::{LiveBox, LiveHub, RawPicture};

/// How often a failed encoding is logged.
const WARN_EVERY: Duration = Duration::from_secs(60);

pub struct Settings {
    pub hub: Arc<LiveHub>,
}

impl Settings {
    /// Starts `live-jpeg`; it ends once the hub is closed ([`LiveHub::close`]).
    pub fn spawn(self) -> std::io::Result<JoinHandle<()>> {
        std::thread::Builder::new()
            .name("live-jpeg".into())
            .spawn(move || run(&self.hub))
    }
}

fn run(hub: &LiveHub) {
    let quality = hub.settings().quality;
    let mut failures = Throttle::new(WARN_EVERY);
    while !hub.closed() {
        let Some((camera, raw)) = hub.take(Duration::from_millis(200)) else {
            continue;
        };
        match jpeg(&raw.image, quality) {
            Ok(bytes) => hub.publish(&camera, bytes, raw),
            Err(e) => {
                if let Some(suppressed) = failures.allow() {
                    tracing::warn!(%camera, error = %e, suppressed, "live picture not encoded");
                }
            }
        }
    }
}

/// `image` as JPEG (colour for RGB/BGR, grey for luma).
pub fn jpeg(image: &Image, quality: u8) -> Result<Vec<u8>, image::ImageError> {
    let (w, h) = (image.size.width, image.size.height);
    let packed;
    let bytes = if image.stride == w as usize * image.format.channels() {
        image.bytes()
    } else {
        packed = image.to_owned_packed();
        packed.bytes()
    };
    let swapped: Vec<u8>;
    let (pixels, colour) = match image.format {
        PixelFormat::Gray8 => (bytes, image::ExtendedColorType::L8),
        PixelFormat::Rgb8 => (bytes, image::ExtendedColorType::Rgb8),
        PixelFormat::Bgr8 => {
            swapped = bytes
                .chunks_exact(3)
                .flat_map(|p| [p[2], p[1], p[0]])
                .collect();
            (&swapped[..], image::ExtendedColorType::Rgb8)
        }
    };
    let mut out = Vec::with_capacity(pixels.len() / 8);
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode(pixels, w, h, colour)?;
    Ok(out)
}

/// A frame (its pixels copied, so the decoder's buffer is not held) and its detections as a
/// picture for the hub; boxes in fractions of the camera's frame.
pub fn picture(meta: &FrameMeta, image: &Image, detections: &[Detection]) -> RawPicture {
    let source = meta.source_size;
    let (sw, sh) = (source.width.max(1) as f32, source.height.max(1) as f32);
    RawPicture {
        image: image.to_owned_packed(),
        boxes: detections
            .iter()
            .map(|d| LiveBox {
                x: d.bbox_px.x1 / sw,
                y: d.bbox_px.y1 / sh,
                w: (d.bbox_px.x2 - d.bbox_px.x1) / sw,
                h: (d.bbox_px.y2 - d.bbox_px.y1) / sh,
                label: d.class.to_string(),
                score: d.score,
            })
            .collect(),
        wall_time: meta.wall_time,
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_core::Size;

    #[test]
    fn bgr_and_grey_frames_encode_as_jpeg_that_decodes_to_their_size() {
        for format in [PixelFormat::Bgr8, PixelFormat::Gray8] {
            let size = Size::new(64, 36);
            let n = 64 * 36 * format.channels();
            let pixels = (0..n).map(|i| (i % 251) as u8).collect();
            let image = Image::from_packed(size, format, pixels);
            let bytes = jpeg(&image, 70).unwrap();
            let back = image::load_from_memory(&bytes).unwrap();
            assert_eq!((back.width(), back.height()), (64, 36));
        }
    }
}
