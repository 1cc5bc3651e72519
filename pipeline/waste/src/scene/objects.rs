//! Static objects over time: each one followed against its template until it is removed or
//! absorbed, and new ones promoted from cells that have stayed static, once judged an object
//! (not a lighting change or the ghost of something that left).

use super::*;

impl Scene {
    /// Presence of each object against its template; labels from detections over it.
    pub(super) fn follow_objects(&mut self, pts: f64, tracks: &[Track], events: &mut SceneEvents) {
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
                matched += usize::from(!differs(self.cur[cell], scaled(*t, k), c.threshold));
            }
            if visible * 10 >= o.cells.len() * 3 {
                o.matched = matched as f32 / visible as f32;
                if o.matched >= 0.5 {
                    o.last_seen = pts;
                }
            }
            o.name_from(tracks, &c.ignore);
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
                    // What is there now is the ground (removed) or the scene (absorbed).
                    for &cell in &o.cells {
                        let cell = cell as usize;
                        self.long[cell] = scaled(self.cur[cell], 1.0 / self.gain);
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
    pub(super) fn promote(&mut self, pts: f64, source: Size, tracks: &[Track]) {
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
            match self.judge(&region) {
                Judgement::Object => {}
                other => {
                    match other {
                        Judgement::Lighting => self.stats.lighting += 1,
                        _ => self.stats.ghosts += 1,
                    }
                    tracing::debug!(
                        pts,
                        cells = region.len(),
                        ?other,
                        "static region learned as background"
                    );
                    for &i in &region {
                        let i = i as usize;
                        self.long[i] = scaled(self.cur[i], 1.0 / self.gain);
                        self.static_t[i] = 0.0;
                        self.fg_since[i] = f64::NAN;
                    }
                    continue;
                }
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
                    };
                    o.name_from(tracks, &self.config.ignore);
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
        let (mut e_cur, mut e_bg) = (0f64, 0f64);
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
                let i = i as usize;
                e_cur += f64::from((luma(self.cur[i]) - luma(self.cur[j])).abs());
                e_bg += f64::from((luma(self.long[i]) - luma(self.long[j])).abs() * self.gain);
            }
        }
        if e_bg > 2.0 * e_cur && e_bg > 0.0 {
            return Judgement::Ghost;
        }
        Judgement::Object
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Judgement {
    Object,
    Lighting,
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
