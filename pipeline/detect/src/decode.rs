//! Output decoders: raw output tensors → scored boxes in model-input pixels.

use vigil_config::ModelManifest;
use vigil_core::BBoxPx;

/// A scored box before NMS, in model-input pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Candidate {
    pub bbox: BBoxPx,
    pub class_id: u16,
    pub score: f32,
}

impl Candidate {
    /// A box of centre `(cx, cy)` and size `w × h`; `None` when any value is not finite (a broken
    /// model or tensor yields NaN or infinities: never a detection) or the box is empty.
    fn centred(cx: f32, cy: f32, w: f32, h: f32, class: usize, score: f32) -> Option<Self> {
        let finite = [score, cx, cy, w, h].iter().all(|v| v.is_finite());
        (finite && w > 0.0 && h > 0.0).then(|| Candidate {
            bbox: BBoxPx::new(cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0),
            class_id: class as u16,
            score,
        })
    }
}

/// An output tensor: shape and data.
pub type Output<'a> = (Vec<i64>, &'a [f32]);

fn argmax(scores: &[f32]) -> (usize, f32) {
    let mut best = (0, f32::MIN);
    for (i, &s) in scores.iter().enumerate() {
        if s > best.1 {
            best = (i, s);
        }
    }
    best
}

/// An output tensor must hold exactly the values its shape says (a model may lie).
fn holds(family: &str, shape: &[i64], data: &[f32], want: usize) -> Result<(), String> {
    if data.len() == want {
        Ok(())
    } else {
        Err(format!(
            "{family} output {shape:?} holds {} values, not {want}",
            data.len()
        ))
    }
}

/// YOLOX: one output `[1, N, 5 + C]`, rows `[tx, ty, tw, th, obj, cls…]` (obj and cls already
/// sigmoid-ed) over grids of strides 8, 16, 32, row-major. `cx = (tx + gx)·s`, `w = exp(tw)·s`,
/// score = obj · best cls.
pub fn yolox(
    outputs: &[Output],
    m: &ModelManifest,
    threshold: f32,
) -> Result<Vec<Candidate>, String> {
    let (shape, data) = outputs.first().ok_or("model has no output")?;
    let classes = m.labels.len();
    let (w, h) = (m.input_width as usize, m.input_height as usize);
    let cells: usize = [8, 16, 32].iter().map(|s| (w / s) * (h / s)).sum();
    let want = [1, cells as i64, 5 + classes as i64];
    if shape.as_slice() != want {
        return Err(format!("expected YOLOX output {want:?}, got {shape:?}"));
    }
    holds("YOLOX", shape, data, cells * (5 + classes))?;
    let row_len = 5 + classes;
    let mut out = Vec::new();
    let mut row_index = 0;
    for stride in [8usize, 16, 32] {
        let (gw, gh) = (w / stride, h / stride);
        for gy in 0..gh {
            for gx in 0..gw {
                let row = &data[row_index * row_len..(row_index + 1) * row_len];
                row_index += 1;
                let obj = row[4];
                if obj < threshold {
                    continue;
                }
                let (class, cls) = argmax(&row[5..]);
                let score = obj * cls;
                if score < threshold {
                    continue;
                }
                let s = stride as f32;
                let cx = (row[0] + gx as f32) * s;
                let cy = (row[1] + gy as f32) * s;
                let bw = row[2].exp() * s;
                let bh = row[3].exp() * s;
                out.extend(Candidate::centred(cx, cy, bw, bh, class, score));
            }
        }
    }
    Ok(out)
}

/// PP-PicoDet: per stride (8, 16, 32, 64) a class map `[1, N, C]` (sigmoid-ed) and a box map
/// `[1, N, 4·bins]` (GFL/DFL): each side's distance is the softmax-weighted mean bin × stride,
/// measured from the cell centre `((x + 0.5)·s, (y + 0.5)·s)`.
pub fn picodet(
    outputs: &[Output],
    m: &ModelManifest,
    threshold: f32,
) -> Result<Vec<Candidate>, String> {
    let classes = m.labels.len() as i64;
    let (w, h) = (m.input_width as usize, m.input_height as usize);
    let mut out = Vec::new();
    for stride in [8usize, 16, 32, 64] {
        let (gw, gh) = (w.div_ceil(stride), h.div_ceil(stride));
        let n = (gw * gh) as i64;
        let find = |pred: &dyn Fn(i64) -> bool| {
            outputs
                .iter()
                .find(|(s, _)| s.len() == 3 && s[0] == 1 && s[1] == n && pred(s[2]))
        };
        let (_, cls) = find(&|c| c == classes)
            .ok_or_else(|| format!("no class map [1, {n}, {classes}] for stride {stride}"))?;
        let (box_shape, boxes) = find(&|c| c != classes && c % 4 == 0)
            .ok_or_else(|| format!("no box map [1, {n}, 4·bins] for stride {stride}"))?;
        let bins = (box_shape[2] / 4) as usize;
        if bins == 0
            || cls.len() != n as usize * classes as usize
            || boxes.len() != n as usize * 4 * bins
        {
            return Err(format!(
                "PicoDet maps for stride {stride} hold {} and {} values, not {} and {}",
                cls.len(),
                boxes.len(),
                n as usize * classes as usize,
                n as usize * 4 * bins
            ));
        }
        let mut prob = vec![0f32; bins];
        for i in 0..n as usize {
            let (class, score) = argmax(&cls[i * classes as usize..(i + 1) * classes as usize]);
            if score < threshold {
                continue;
            }
            let s = stride as f32;
            let cx = ((i % gw) as f32 + 0.5) * s;
            let cy = ((i / gw) as f32 + 0.5) * s;
            let mut dist = [0f32; 4];
            for (side, d) in dist.iter_mut().enumerate() {
                let logits = &boxes[i * 4 * bins + side * bins..i * 4 * bins + (side + 1) * bins];
                let max = logits.iter().copied().fold(f32::MIN, f32::max);
                let mut sum = 0.0;
                for (p, &l) in prob.iter_mut().zip(logits) {
                    *p = (l - max).exp();
                    sum += *p;
                }
                *d = prob
                    .iter()
                    .enumerate()
                    .map(|(k, p)| k as f32 * p)
                    .sum::<f32>()
                    / sum
                    * s;
            }
            if !score.is_finite() || !dist.iter().all(|d| d.is_finite()) {
                continue;
            }
            out.push(Candidate {
                bbox: BBoxPx::new(cx - dist[0], cy - dist[1], cx + dist[2], cy + dist[3]),
                class_id: class as u16,
                score,
            });
        }
    }
    Ok(out)
}

/// YOLOv8 / YOLO11 (Ultralytics export): one output `[1, 4 + C, N]` — per anchor `cx, cy, w, h`
/// in model-input pixels, then `C` class scores (already sigmoid-ed; no objectness). Exports
/// transposed to `[1, N, 4 + C]` are read too.
pub fn yolov8(
    outputs: &[Output],
    m: &ModelManifest,
    threshold: f32,
) -> Result<Vec<Candidate>, String> {
    let (shape, data) = outputs.first().ok_or("model has no output")?;
    let classes = m.labels.len();
    let rows = 4 + classes;
    let (n, channels_first) = match *shape.as_slice() {
        [1, r, n] if r == rows as i64 && n > 0 => (n as usize, true),
        [1, n, r] if r == rows as i64 && n > 0 => (n as usize, false),
        _ => {
            return Err(format!(
                "expected YOLOv8 output [1, {rows}, N] (4 box rows + {classes} classes), got {shape:?}"
            ));
        }
    };
    holds("YOLOv8", shape, data, n * rows)?;
    let at = |row: usize, j: usize| match channels_first {
        true => data[row * n + j],
        false => data[j * rows + row],
    };
    let mut out = Vec::new();
    let mut scores = vec![0f32; classes];
    for j in 0..n {
        for (c, s) in scores.iter_mut().enumerate() {
            *s = at(4 + c, j);
        }
        let (class, score) = argmax(&scores);
        if score < threshold {
            continue;
        }
        out.extend(Candidate::centred(
            at(0, j),
            at(1, j),
            at(2, j),
            at(3, j),
            class,
            score,
        ));
    }
    Ok(out)
}
