//! Frame → model input tensor, exactly as the manifest says.
//!
//! Bilinear resampling uses half-pixel centres (`src = (dst + 0.5) · in/out − 0.5`), the
//! convention of OpenCV's `INTER_LINEAR` that the models' reference pipelines use. The output is
//! planar NCHW f32 in the model's colour order with `(px · scale − mean) / std` applied. Hot loops
//! run over slices with per-column tables computed once per input size.

use vigil_config::{ColourOrder, ModelManifest, ResizeMode};
use vigil_core::{BBoxPx, Image, PixelFormat, Size};

/// How model-input coordinates map back to the prepared image.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Geometry {
    /// Image pixels per model pixel, horizontally and vertically.
    pub sx: f32,
    pub sy: f32,
}

impl Geometry {
    /// Maps a box in model-input pixels to source-frame pixels, given the prepared image's size
    /// and the source size it was scaled from.
    pub fn to_source(&self, b: BBoxPx, image: Size, source: Size) -> BBoxPx {
        let kx = self.sx * source.width as f32 / image.width as f32;
        let ky = self.sy * source.height as f32 / image.height as f32;
        BBoxPx::new(b.x1 * kx, b.y1 * ky, b.x2 * kx, b.y2 * ky).clamp_to(source)
    }
}

/// Size the image is resized to inside the model input, and the resulting geometry.
pub fn fit(manifest: &ModelManifest, image: Size) -> (Size, Geometry) {
    let (mw, mh) = (manifest.input_width, manifest.input_height);
    match manifest.resize {
        ResizeMode::LetterboxTopLeft => {
            // In f64 with truncation, exactly as the reference `int(w · r)` (720 · 416/1280
            // truncates to 233, not 234): the model was validated with that geometry.
            let r = (f64::from(mw) / f64::from(image.width))
                .min(f64::from(mh) / f64::from(image.height));
            let w = ((f64::from(image.width) * r) as u32).clamp(1, mw);
            let h = ((f64::from(image.height) * r) as u32).clamp(1, mh);
            let inv = (1.0 / r) as f32;
            (Size::new(w, h), Geometry { sx: inv, sy: inv })
        }
        ResizeMode::Stretch => (
            Size::new(mw, mh),
            Geometry {
                sx: image.width as f32 / mw as f32,
                sy: image.height as f32 / mh as f32,
            },
        ),
    }
}

/// Per-column sampling table for one (input width, output width) pair.
#[derive(Clone, Debug, Default)]
struct Taps {
    key: (u32, u32),
    x0: Vec<usize>,
    x1: Vec<usize>,
    fx: Vec<f32>,
}

fn taps(input: u32, output: u32) -> (Vec<usize>, Vec<usize>, Vec<f32>) {
    let scale = input as f32 / output as f32;
    let last = input as usize - 1;
    let mut i0 = Vec::with_capacity(output as usize);
    let mut i1 = Vec::with_capacity(output as usize);
    let mut f = Vec::with_capacity(output as usize);
    for d in 0..output {
        let s = ((d as f32 + 0.5) * scale - 0.5).max(0.0);
        let a = (s.floor() as usize).min(last);
        i0.push(a);
        i1.push((a + 1).min(last));
        f.push(if a >= last { 0.0 } else { s - a as f32 });
    }
    (i0, i1, f)
}

/// Reusable preprocessing state for one model.
pub struct Preprocessor {
    width: usize,
    height: usize,
    colour: ColourOrder,
    /// Per model channel: out = px · mul + add.
    mul: [f32; 3],
    add: [f32; 3],
    pad: [f32; 3],
    manifest: ModelManifest,
    buf: Vec<f32>,
    columns: Taps,
    /// One resized row, interleaved, before normalisation.
    row: Vec<f32>,
}

impl Preprocessor {
    pub fn new(manifest: &ModelManifest) -> Self {
        let n = &manifest.normalise;
        let mul = [0, 1, 2].map(|c| n.scale / n.std[c]);
        let add = [0, 1, 2].map(|c| -n.mean[c] / n.std[c]);
        let pad = [0, 1, 2].map(|c| f32::from(manifest.pad_value) * mul[c] + add[c]);
        let (w, h) = (
            manifest.input_width as usize,
            manifest.input_height as usize,
        );
        Self {
            width: w,
            height: h,
            colour: manifest.colour,
            mul,
            add,
            pad,
            manifest: manifest.clone(),
            buf: vec![0.0; 3 * w * h],
            columns: Taps::default(),
            row: Vec::new(),
        }
    }

    /// The prepared NCHW tensor data.
    pub fn buffer(&self) -> &[f32] {
        &self.buf
    }

    /// Fills the buffer from `image`; returns how model coordinates map back to the image.
    pub fn prepare(&mut self, image: &Image) -> Geometry {
        let (out, geometry) = fit(&self.manifest, image.size);
        let plane = self.width * self.height;
        // Model channel c reads this byte of each input pixel.
        let src_channel: [usize; 3] = match (self.colour, image.format) {
            (ColourOrder::Rgb, PixelFormat::Rgb8) | (ColourOrder::Bgr, PixelFormat::Bgr8) => {
                [0, 1, 2]
            }
            _ => [2, 1, 0],
        };
        let (ow, oh) = (out.width as usize, out.height as usize);
        // Padding: the columns right of the image and the rows below it.
        if ow != self.width || oh != self.height {
            for c in 0..3 {
                let p = &mut self.buf[c * plane..(c + 1) * plane];
                if ow != self.width {
                    for row in p[..oh * self.width].chunks_exact_mut(self.width) {
                        row[ow..].fill(self.pad[c]);
                    }
                }
                p[oh * self.width..].fill(self.pad[c]);
            }
        }
        if image.size == out {
            // Already the size the model takes (ingest scales in GStreamer): convert only.
            for y in 0..oh {
                let px = image.row(y as u32);
                for (c, &sc) in src_channel.iter().enumerate() {
                    let (mul, add) = (self.mul[c], self.add[c]);
                    let start = c * plane + y * self.width;
                    let dst = &mut self.buf[start..start + ow];
                    for (d, p) in dst.iter_mut().zip(px.chunks_exact(3)) {
                        *d = f32::from(p[sc]) * mul + add;
                    }
                }
            }
            return geometry;
        }
        if self.columns.key != (image.size.width, out.width) {
            let (x0, x1, fx) = taps(image.size.width, out.width);
            self.columns = Taps {
                key: (image.size.width, out.width),
                x0,
                x1,
                fx,
            };
        }
        let (y0s, y1s, fys) = taps(image.size.height, out.height);
        self.row.resize(ow * 3, 0.0);
        let same_width = image.size.width == out.width;
        for y in 0..oh {
            let (r0, r1, fy) = (image.row(y0s[y] as u32), image.row(y1s[y] as u32), fys[y]);
            // Vertical blend into `row` (interleaved), then horizontal blend while writing planes.
            if same_width {
                for (i, v) in self.row.iter_mut().enumerate() {
                    let (a, b) = (f32::from(r0[i]), f32::from(r1[i]));
                    *v = (a + (b - a) * fy).round();
                }
            } else {
                let t = &self.columns;
                for x in 0..ow {
                    let (a, b, fx) = (t.x0[x] * 3, t.x1[x] * 3, t.fx[x]);
                    for ch in 0..3 {
                        let top = f32::from(r0[a + ch])
                            + (f32::from(r0[b + ch]) - f32::from(r0[a + ch])) * fx;
                        let bot = f32::from(r1[a + ch])
                            + (f32::from(r1[b + ch]) - f32::from(r1[a + ch])) * fx;
                        // Rounded to 8 bits, as the reference pipelines' u8 resize does.
                        self.row[x * 3 + ch] = (top + (bot - top) * fy).round();
                    }
                }
            }
            for (c, &sc) in src_channel.iter().enumerate() {
                let (mul, add) = (self.mul[c], self.add[c]);
                let start = c * plane + y * self.width;
                let dst = &mut self.buf[start..start + ow];
                for (x, d) in dst.iter_mut().enumerate() {
                    *d = self.row[x * 3 + sc] * mul + add;
                }
            }
        }
        geometry
    }
}
