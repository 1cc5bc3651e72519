//! Static objects over time: each one followed against its template until it is removed or
//! absorbed, and new ones promoted from cells that have stayed static, once judged an object
//! (not a lighting change or the ghost of something that left).

use super::*;

impl Scene {
    /// Presence of each object against its template; labels from detections over it.
    pub(super) fn follow_objects(&mut self, pts: f64, events: &mut SceneEvents) {
        let c = &self.config;
        let mut i = 0;
        while i < self.objects.len() {
            let o = &mut self.objects[i];
            let k = self.gain / o.template_gain;
            let (mut visible, mut matched) = (0usize, 0usize);
            for (t, &cell) in o.template.iter().zip(&o.cells) {
                let cell = cell as usize;
                if self.excluded_until[cell] >= pts || self.fg_short[cell] {
                    continue;
                }
                visible += 1;
                matched += usize::from(!differs(self.cur[cell], scaled(*t, k), self.threshold));
            }
            if visible * 10 >= o.cells.len() * 3 {
                o.matched = matched as f32 / visible as f32;
                if o.matched >= 0.5 {
                    o.last_seen = pts;
                }
            }
            if o.matched < 0.5 && self.relit(i, pts) {
                // Still there under other light (a lamp switched on beside it): its look now
                // is its template.
                let o = &mut self.objects[i];
                let k = self.gain / o.template_gain;
                for (t, &cell) in o.template.iter_mut().zip(&o.cells) {
                    let cell = cell as usize;
                    if self.excluded_until[cell] < pts && !self.fg_short[cell] {
                        *t = scaled(self.cur[cell], 1.0 / k);
                    }
                }
                o.matched = 1.0;
                o.last_seen = pts;
            }
            let o = &mut self.objects[i];
            o.name_from(&self.named);
            let gone = if pts - o.last_seen >= c.gone_secs {
                Some(Gone::Removed)
            } else if pts - o.since >= c.absorb_secs {
                Some(Gone::Absorbed)
            } else {
                None
            };
            match gone {
                Some(how) => {
                    let o = self.objects.swap_remove(i);
                    // The long-term model kept the ground under a removed object (it learns no
                    // owned cell), so it stays; an absorbed object, or one whose ground a
                    // relearn overwrote, is learned as it looks now — where nothing moves over
                    // it (a car driving off still covers part of where it stood, even where its
                    // plain body slides over a cell without changing it).
                    let learn = how == Gone::Absorbed || !o.ground_known;
                    for &cell in &o.cells {
                        let cell = cell as usize;
                        if learn && !self.fg_short[cell] {
                            self.long[cell] = scaled(self.cur[cell], 1.0 / self.gain);
                        }
                        self.owner[cell] = 0;
                        self.static_t[cell] = 0.0;
                        self.fg_since[cell] = f64::NAN;
                    }
                    match how {
                        Gone::Removed => self.stats.removed += 1,
                        Gone::Absorbed => self.stats.absorbed += 1,
                    }
                    events.gone.push((o, how));
                }
                None => i += 1,
            }
        }
    }

    /// Regions static for `promote_secs` in a watched zone become objects (or are learned as
    /// lighting or ghosts).
    pub(super) fn promote(&mut self, pts: f64, source: Size) {
        let grid = self.grid.expect("initialised");
        let c = &self.config;
        let ready = |s: &Self, i: usize| {
            s.watched[i] && s.owner[i] == 0 && f64::from(s.static_t[i]) >= c.promote_secs
        };
        let mut seen = std::mem::take(&mut self.seen);
        seen.fill(false);
        let min_cells = ((c.min_area * grid.len() as f64).ceil() as usize).max(2);
        let (w, h) = (grid.w as i64, grid.h as i64);
        for start in 0..grid.len() {
            if seen[start] || !ready(self, start) {
                continue;
            }
            // Flood fill (8-connected).
            let mut region = vec![start as u32];
            seen[start] = true;
            let mut k = 0;
            while k < region.len() {
                let i = region[k] as i64;
                k += 1;
                let (x, y) = (i % w, i / w);
                for dy in -1..=1 {
                    for dx in -1..=1 {
                        let (nx, ny) = (x + dx, y + dy);
                        if nx < 0 || ny < 0 || nx >= w || ny >= h {
                            continue;
                        }
                        let n = (ny * w + nx) as usize;
                        if !seen[n] && ready(self, n) {
                            seen[n] = true;
                            region.push(n as u32);
                        }
                    }
                }
            }
            if region.len() < min_cells {
                continue;
            }
            // Judge the change whole: while much of what touches it is still becoming static
            // (the rest of a car whose cells settled a moment later), wait a little — a part
            // judged alone has its outline inside the object, and looks like light or a ghost.
            let pending = self.pending(&region, &mut seen);
            let oldest = region
                .iter()
                .map(|&i| f64::from(self.static_t[i as usize]))
                .fold(0.0, f64::max);
            if pending * 4 > region.len() && oldest < c.promote_secs + SETTLE_SECS {
                continue;
            }
            region.sort_unstable();
            let mut since: Vec<f64> = region
                .iter()
                .map(|&i| self.fg_since[i as usize])
                .filter(|t| t.is_finite())
                .collect();
            since.sort_by(f64::total_cmp);
            let since = since.get(since.len() / 2).copied().unwrap_or(pts);
            // Where a person or vehicle stood since the region began to differ, and about its
            // size: that one, no longer detected (a parked car the detector misses at dusk).
            let bbox = grid.px_box(cell_bounds(&region, grid.w), source);
            let lost = self.occluders.values().any(|(seen, b)| {
                *seen >= since - LOST_SLACK_SECS - self.config.hold_secs && b.iou(&bbox) >= 0.4
            });
            if lost {
                self.stats.lost_occluders += 1;
                for &i in &region {
                    self.excluded_until[i as usize] = pts + self.config.hold_secs;
                }
                continue;
            }
            // A lighting change or a ghost is learned into the background: the region, or for
            // light without edges the whole change (not only the part that was ready).
            let learned = match self.judge(&region) {
                Judgement::Object => None,
                Judgement::Lighting => Some(("lighting", region.clone())),
                Judgement::Light(change) => Some(("light without edges", change)),
                Judgement::Ghost => Some(("ghost", region.clone())),
            };
            if let Some((why, cells)) = learned {
                match why {
                    "ghost" => self.stats.ghosts += 1,
                    _ => self.stats.lighting += 1,
                }
                tracing::debug!(
                    pts,
                    cells = cells.len(),
                    why,
                    "static region learned as background"
                );
                for &i in &cells {
                    let i = i as usize;
                    self.long[i] = scaled(self.cur[i], 1.0 / self.gain);
                    self.static_t[i] = 0.0;
                    self.fg_since[i] = f64::NAN;
                }
                continue;
            }
            // Next to an object already found (a pile growing): it joins that object.
            let neighbour = region.iter().find_map(|&i| {
                let (x, y) = (i64::from(i) % w, i64::from(i) / w);
                (-1..=1)
                    .flat_map(|dy| (-1..=1).map(move |dx| (x + dx, y + dy)))
                    .filter(|&(nx, ny)| nx >= 0 && ny >= 0 && nx < w && ny < h)
                    .map(|(nx, ny)| self.owner[(ny * w + nx) as usize])
                    .find(|&o| o != 0)
            });
            let template: Vec<[f32; 3]> = region.iter().map(|&i| self.cur[i as usize]).collect();
            let id = match neighbour {
                Some(id) => {
                    let o = self
                        .objects
                        .iter_mut()
                        .find(|o| o.id == id)
                        .expect("owned cells belong to an object");
                    // The template of the joined cells is taken at this frame's gain.
                    let k = o.template_gain / self.gain;
                    o.template.extend(template.iter().map(|t| scaled(*t, k)));
                    o.cells.extend_from_slice(&region);
                    o.bbox_px = grid.px_box(cell_bounds(&o.cells, grid.w), source);
                    id
                }
                None => {
                    let id = self.next_id;
                    self.next_id += 1;
                    self.stats.objects += 1;
                    let mut o = StaticObject {
                        id,
                        since,
                        last_seen: pts,
                        bbox_px: bbox,
                        label: None,
                        label_score: 0.0,
                        matched: 1.0,
                        cells: region.clone(),
                        template,
                        template_gain: self.gain,
                        ground_known: true,
                    };
                    o.name_from(&self.named);
                    self.objects.push(o);
                    id
                }
            };
            for &i in &region {
                self.owner[i as usize] = id;
            }
        }
        self.seen = seen;
    }

    /// Whether a static region is a new object, the background under other light, or a ghost.
    fn judge(&self, region: &[u32]) -> Judgement {
        let grid = self.grid.expect("initialised");
        let (x1, y1, x2, y2) = cell_bounds(region, grid.w);
        let (x1, y1) = (x1.saturating_sub(2), y1.saturating_sub(2));
        let (x2, y2) = ((x2 + 2).min(grid.w - 1), (y2 + 2).min(grid.h - 1));
        // Normalised correlation of the frame's luma with the background's over the box, and
        // how far their chromaticities are apart inside the region.
        let (mut n, mut sa, mut sb, mut saa, mut sbb, mut sab) =
            (0f64, 0f64, 0f64, 0f64, 0f64, 0f64);
        for y in y1..=y2 {
            for x in x1..=x2 {
                let i = (y * grid.w + x) as usize;
                let a = f64::from(luma(self.cur[i]));
                let b = f64::from(luma(self.long[i]) * self.gain);
                n += 1.0;
                sa += a;
                sb += b;
                saa += a * a;
                sbb += b * b;
                sab += a * b;
            }
        }
        let va = (saa / n - (sa / n).powi(2)).max(0.0);
        let vb = (sbb / n - (sb / n).powi(2)).max(0.0);
        let ncc = if va > 1e-6 && vb > 1e-6 {
            (sab / n - sa / n * sb / n) / (va * vb).sqrt()
        } else {
            0.0
        };
        let chroma = |c: [f32; 3]| {
            let s = c[0] + c[1] + c[2] + 6.0;
            [(c[0] + 2.0) / s, (c[1] + 2.0) / s]
        };
        let mut dchroma = 0.0;
        for &i in region {
            let (a, b) = (chroma(self.cur[i as usize]), chroma(self.long[i as usize]));
            dchroma += f64::from((a[0] - b[0]).abs() + (a[1] - b[1]).abs());
        }
        dchroma /= region.len() as f64;
        let (sd_a, sd_b) = (va.sqrt(), vb.sqrt());
        if dchroma < 0.03 && ((ncc >= 0.7 && sd_b >= 2.0) || (sd_a < 2.0 && sd_b < 2.0)) {
            return Judgement::Lighting;
        }
        // Edges along the region's outline: an object brings its own; a ghost's are in the
        // background only.
        let (mut e_cur, mut e_bg, mut touches_object) = (0f64, 0f64, false);
        let inside = |x: i64, y: i64| {
            x >= 0
                && y >= 0
                && x < i64::from(grid.w)
                && y < i64::from(grid.h)
                && region
                    .binary_search(&((y * i64::from(grid.w) + x) as u32))
                    .is_ok()
        };
        for &i in region {
            let (x, y) = (i64::from(i % grid.w), i64::from(i / grid.w));
            for (dx, dy) in [(1, 0), (-1, 0), (0, 1), (0, -1)] {
                let (nx, ny) = (x + dx, y + dy);
                if inside(nx, ny)
                    || nx < 0
                    || ny < 0
                    || nx >= i64::from(grid.w)
                    || ny >= i64::from(grid.h)
                {
                    continue;
                }
                let j = (ny * i64::from(grid.w) + nx) as usize;
                // Where it borders an object found already, the two are one thing (the rest
                // of a car whose cells settled later): that is no outline.
                if self.owner[j] != 0 {
                    touches_object = true;
                    continue;
                }
                let i = i as usize;
                e_cur += f64::from((luma(self.cur[i]) - luma(self.cur[j])).abs());
                e_bg += f64::from((luma(self.long[i]) - luma(self.long[j])).abs() * self.gain);
            }
        }
        // (Not for the rest of an object already found: a ghost is where something left,
        // and this one stands.)
        if !touches_object && e_bg > 2.0 * e_cur && e_bg > 0.0 {
            return Judgement::Ghost;
        }
        // A change without an edge of its own anywhere is light (a lamp's pool, a patch of sun
        // on plain asphalt, where there is no texture to correlate).
        if let Some(change) = self.soft(region) {
            return Judgement::Light(change);
        }
        if self.relit_ground(region) {
            return Judgement::Lighting;
        }
        Judgement::Object
    }
}

/// A change whose steepest steps (between neighbouring cells, in the ratio of frame to
/// background) are under this share of how far the ratio is from 1 has no edge of its own.
const SOFT_EDGE: f64 = 0.3;

/// The least variance (grey levels²) of the background over a region's box for a gain and
/// offset to be fitted to it.
const TEXTURE_VAR: f64 = 25.0;

/// Cells of a change learned as light that began to differ more than this long before most of
/// it are not the light's.
const LIGHT_ONSET_SECS: f64 = 5.0;

/// A region waits at most this long past `promote_secs` for the rest of its change to settle.
const SETTLE_SECS: f64 = 4.0;

/// The share of a change's neighbour pairs that make its steepest steps.
const STEEPEST: f64 = 0.02;

impl Scene {
    /// Whether object `index`, no longer matching its template, is still there under other
    /// light: the ground around it changed by a clear factor, the object by about the same one,
    /// and the object's cells do not show the ground (it was not taken away).
    fn relit(&self, index: usize, pts: f64) -> bool {
        let grid = self.grid.expect("initialised");
        let o = &self.objects[index];
        let k = self.gain / o.template_gain;
        let visible = |c: usize| self.excluded_until[c] < pts && !self.fg_short[c];
        let ratio = |a: [f32; 3], b: [f32; 3]| (luma(a) + 4.0) / (luma(b) + 4.0);
        let (mut own, mut ground_like) = (Vec::new(), 0usize);
        for (t, &cell) in o.template.iter().zip(&o.cells) {
            let cell = cell as usize;
            if visible(cell) {
                own.push(ratio(self.cur[cell], scaled(*t, k)));
                let long = scaled(self.long[cell], self.gain);
                ground_like += usize::from(!differs(self.cur[cell], long, self.threshold));
            }
        }
        let (w, h) = (i64::from(grid.w), i64::from(grid.h));
        let mut ring = Vec::new();
        for &cell in &o.cells {
            let (x, y) = (i64::from(cell) % w, i64::from(cell) / w);
            for (dx, dy) in [(2, 0), (-2, 0), (0, 2), (0, -2)] {
                let (nx, ny) = (x + dx, y + dy);
                if nx < 0 || ny < 0 || nx >= w || ny >= h {
                    continue;
                }
                let n = (ny * w + nx) as usize;
                if self.owner[n] == 0 && visible(n) {
                    ring.push(ratio(self.cur[n], scaled(self.long[n], self.gain)));
                }
            }
        }
        if own.len() * 10 < o.cells.len() * 3 || ring.len() < 4 || ground_like * 2 >= own.len() {
            return false;
        }
        let median = |v: &mut Vec<f32>| {
            let mid = v.len() / 2;
            *v.select_nth_unstable_by(mid, f32::total_cmp).1
        };
        let (own, ring) = (median(&mut own), median(&mut ring));
        (ring - 1.0).abs() > 0.1 && (own / ring - 1.0).abs() < 0.15
    }

    /// Whether the frame around and over `region` is the background under other light and
    /// haze: per channel, the still frame (short-term model) is an affine function of the
    /// background (gain and offset: a coloured lamp, dusk, the veil of rain) fitted over the
    /// region's box and three cells around it, and what the fit leaves over the region is
    /// small against how much the region differs. Needs a background with texture in the box
    /// (markings, joints) to fit; an object does not follow the ground's texture.
    fn relit_ground(&self, region: &[u32]) -> bool {
        let grid = self.grid.expect("initialised");
        let (x1, y1, x2, y2) = cell_bounds(region, grid.w);
        let (x1, y1) = (x1.saturating_sub(3), y1.saturating_sub(3));
        let (x2, y2) = ((x2 + 3).min(grid.w - 1), (y2 + 3).min(grid.h - 1));
        let (mut residual, mut deviation) = (0f64, 0f64);
        for c in 0..3 {
            // Least squares of short on long over the box (objects' cells left out).
            let (mut n, mut sx, mut sy, mut sxx, mut sxy) = (0f64, 0f64, 0f64, 0f64, 0f64);
            for y in y1..=y2 {
                for x in x1..=x2 {
                    let i = (y * grid.w + x) as usize;
                    if self.owner[i] != 0 {
                        continue;
                    }
                    let (bx, fy) = (
                        f64::from(self.long[i][c] * self.gain),
                        f64::from(self.short[i][c]),
                    );
                    n += 1.0;
                    sx += bx;
                    sy += fy;
                    sxx += bx * bx;
                    sxy += bx * fy;
                }
            }
            let var = sxx / n.max(1.0) - (sx / n.max(1.0)).powi(2);
            if n < 9.0 || var < TEXTURE_VAR {
                return false;
            }
            let a = (sxy / n - sx / n * sy / n) / var;
            let b = sy / n - a * sx / n;
            if !(0.1..=10.0).contains(&a) {
                return false;
            }
            for &i in region {
                let i = i as usize;
                let (bx, fy) = (
                    f64::from(self.long[i][c] * self.gain),
                    f64::from(self.short[i][c]),
                );
                residual += (fy - (a * bx + b)).powi(2);
                deviation += (fy - bx).powi(2);
            }
        }
        residual < (SOFT_EDGE * SOFT_EDGE) * deviation
    }

    /// How many cells touching `region` (through each other) differ from the background and
    /// are becoming static without being ready yet; marks them in `seen`.
    fn pending(&self, region: &[u32], seen: &mut [bool]) -> usize {
        let grid = self.grid.expect("initialised");
        let (w, h) = (i64::from(grid.w), i64::from(grid.h));
        let mut found: Vec<u32> = Vec::new();
        let mut k = 0;
        let mut frontier: Vec<u32> = region.to_vec();
        while k < frontier.len() {
            let i = i64::from(frontier[k]);
            k += 1;
            for dy in -1..=1 {
                for dx in -1..=1 {
                    let (nx, ny) = (i % w + dx, i / w + dy);
                    if nx < 0 || ny < 0 || nx >= w || ny >= h {
                        continue;
                    }
                    let n = (ny * w + nx) as usize;
                    let settling = self.fg_long[n]
                        && self.owner[n] == 0
                        && self.watched[n]
                        && self.static_t[n] > 0.0;
                    if !seen[n] && settling {
                        seen[n] = true;
                        found.push(n as u32);
                        frontier.push(n as u32);
                    }
                }
            }
        }
        found.len()
    }

    /// Whether the change a static region belongs to (every cell that differs from the
    /// background and touches it) fades out instead of ending at an edge: its steepest steps
    /// in the ratio of frame to background between neighbouring cells are small against how
    /// far that ratio is from 1. An object ends at its outline (a step of about its contrast within a
    /// cell or two) however plain it and the ground are; a lamp's pool or a patch of sun fades
    /// over many cells.
    fn soft(&self, region: &[u32]) -> Option<Vec<u32>> {
        let grid = self.grid.expect("initialised");
        let (w, h) = (grid.w as i64, grid.h as i64);
        // The frame over the background, per cell and channel: light multiplies each channel,
        // so under a lamp (of any colour) this is smooth however much the ground's markings
        // step.
        // The short-term model stands for the frame: the region is still, and rain or noise
        // passing over it would make steps of their own.
        let ratio = |i: usize| -> [f64; 3] {
            let (a, b) = (self.short[i], self.long[i]);
            [0, 1, 2].map(|c| f64::from((a[c] + 4.0) / (b[c] * self.gain + 4.0)))
        };
        let apart =
            |a: [f64; 3], b: [f64; 3]| (0..3).map(|c| (a[c] - b[c]).abs()).fold(0.0, f64::max);
        // The region's own steps (inside it and across its outline) against how far its ratio
        // is from 1.
        let mut steps = Vec::with_capacity(region.len() * 4);
        let mut diffs = Vec::with_capacity(region.len());
        for &i in region {
            let i = i64::from(i);
            let d = ratio(i as usize);
            diffs.push(apart(d, [1.0; 3]));
            for (dx, dy) in [(1, 0), (-1, 0), (0, 1), (0, -1)] {
                let (nx, ny) = (i % w + dx, i / w + dy);
                if nx < 0 || ny < 0 || nx >= w || ny >= h {
                    continue;
                }
                let n = (ny * w + nx) as usize;
                // An object's edge beside it is the object's, not the region's.
                if self.owner[n] == 0 {
                    steps.push(apart(d, ratio(n)));
                }
            }
        }
        if steps.is_empty() {
            return None;
        }
        let top = ((steps.len() as f64 * STEEPEST).ceil() as usize).clamp(1, steps.len());
        let cut = steps.len() - top;
        steps.select_nth_unstable_by(cut, f64::total_cmp);
        let steep = steps[cut..].iter().sum::<f64>() / top as f64;
        let mid = (diffs.len() * 9 / 10).min(diffs.len() - 1);
        diffs.select_nth_unstable_by(mid, f64::total_cmp);
        if steep >= SOFT_EDGE * diffs[mid] {
            return None;
        }
        let mut seen = vec![false; grid.len()];
        let mut change: Vec<u32> = region.to_vec();
        for &i in region {
            seen[i as usize] = true;
        }
        let mut k = 0;
        while k < change.len() {
            let i = i64::from(change[k]);
            k += 1;
            for (dx, dy) in [(1, 0), (-1, 0), (0, 1), (0, -1)] {
                let (nx, ny) = (i % w + dx, i / w + dy);
                if nx < 0 || ny < 0 || nx >= w || ny >= h {
                    continue;
                }
                let n = (ny * w + nx) as usize;
                if !seen[n] && self.fg_long[n] && self.owner[n] == 0 {
                    seen[n] = true;
                    change.push(n as u32);
                }
            }
        }
        // Light: the region, and the rest of its change that began with most of it (not what
        // differed well before — an e-bike standing in a lamp's pool when it switched on).
        let mut began: Vec<f64> = change
            .iter()
            .map(|&i| self.fg_since[i as usize])
            .filter(|t| t.is_finite())
            .collect();
        let onset = match began.len() {
            0 => f64::NEG_INFINITY,
            n => *began.select_nth_unstable_by(n / 2, f64::total_cmp).1,
        };
        let in_region = region.len();
        Some(
            change
                .into_iter()
                .enumerate()
                .filter(|&(k, i)| {
                    let t = self.fg_since[i as usize];
                    k < in_region || t.is_nan() || t >= onset - LIGHT_ONSET_SECS
                })
                .map(|(_, i)| i)
                .collect(),
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Judgement {
    Object,
    Lighting,
    /// Light without edges of its own: every cell of the change (touching cells that differ
    /// from the background and are no object's).
    Light(Vec<u32>),
    Ghost,
}

fn cell_bounds(cells: &[u32], w: u32) -> (u32, u32, u32, u32) {
    let mut b = (u32::MAX, u32::MAX, 0, 0);
    for &i in cells {
        let (x, y) = (i % w, i / w);
        b = (b.0.min(x), b.1.min(y), b.2.max(x), b.3.max(y));
    }
    b
}
