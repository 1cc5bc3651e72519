//! Static objects over time: each one followed against its template until it is removed or
//! absorbed, and new ones promoted from cells that have stayed static, once judged an object
//! (not a lighting change or the ghost of something that left).

use super::grid::cell_bounds;
use super::judge::{Judgement, NEAR_CELLS};
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
                // (Cells the light just changed still differ from the short-term model: only
                // the hidden ones keep their look.)
                for (t, &cell) in o.template.iter_mut().zip(&o.cells) {
                    let cell = cell as usize;
                    if self.excluded_until[cell] < pts {
                        *t = scaled(self.cur[cell], 1.0 / k);
                    }
                }
                o.matched = 1.0;
                o.last_seen = pts;
                let ring = self.ring_light(&self.objects[i].cells, pts);
                let o = &mut self.objects[i];
                o.ring_light = ring.unwrap_or(o.ring_light);
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
        for start in 0..grid.len() {
            if seen[start] || !ready(self, start) {
                continue;
            }
            seen[start] = true;
            let mut region = grid.grow(vec![start as u32], true, &mut seen, |n| ready(self, n));
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
            // Next to an object already found (a pile growing), or a cell or two from one that
            // arrived with it (one thing found in pieces: parts of it look like the ground at
            // dusk): it joins that object.
            let neighbour = self.touching(&region, 1, |_| true).or_else(|| {
                self.touching(&region, NEAR_CELLS, |o| {
                    (o.since - since).abs() <= PIECES_SECS
                })
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
                        // Around something new the ground is as the background knows it
                        // (measured, it would take in the rest of a thing found in pieces).
                        ring_light: [1.0; 3],
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
}

/// A region waits at most this long past `promote_secs` for the rest of its change to settle.
const SETTLE_SECS: f64 = 4.0;

/// A region [`NEAR_CELLS`] from an object that arrived within this long of it is part of that
/// object.
const PIECES_SECS: f64 = 5.0;

impl Scene {
    /// Object `id` column by column, as the camera sees it stand: for each column of cells it
    /// covers, the middle of the bottom edge of its lowest cell and of its highest one
    /// (normalised image coordinates). What stands up hides the ground behind it, so a column's
    /// lowest cell is the nearest of the object's foot there, and the highest is its top, which
    /// on the ground would lie beyond its far end. Empty for an unknown object.
    pub fn columns(&self, id: u64) -> Vec<[(f64, f64); 2]> {
        let (Some(grid), Some(o)) = (self.grid, self.objects.iter().find(|o| o.id == id)) else {
            return Vec::new();
        };
        let mut rows: std::collections::BTreeMap<u32, (u32, u32)> =
            std::collections::BTreeMap::new();
        for &i in &o.cells {
            let (x, y) = (i % grid.w, i / grid.w);
            let r = rows.entry(x).or_insert((y, y));
            *r = (r.0.max(y), r.1.min(y));
        }
        let (w, h) = (f64::from(grid.image.width), f64::from(grid.image.height));
        let cell = f64::from(grid.cell);
        let at = |x: u32, y: u32| ((f64::from(x) + 0.5) * cell / w, f64::from(y + 1) * cell / h);
        rows.into_iter()
            .map(|(x, (low, high))| [at(x, low), at(x, high)])
            .collect()
    }

    /// The first object with a cell within `reach` cells of `region` that `accept`s.
    pub(super) fn touching(
        &self,
        region: &[u32],
        reach: i64,
        accept: impl Fn(&StaticObject) -> bool,
    ) -> Option<u64> {
        let grid = self.grid.expect("initialised");
        let (w, h) = (i64::from(grid.w), i64::from(grid.h));
        region.iter().find_map(|&i| {
            let (x, y) = (i64::from(i) % w, i64::from(i) / w);
            (-reach..=reach)
                .flat_map(|dy| (-reach..=reach).map(move |dx| (x + dx, y + dy)))
                .filter(|&(nx, ny)| nx >= 0 && ny >= 0 && nx < w && ny < h)
                .map(|(nx, ny)| self.owner[(ny * w + nx) as usize])
                .filter(|&o| o != 0)
                .find(|&id| self.objects.iter().any(|o| o.id == id && accept(o)))
        })
    }

    /// How many cells touching `region` (through each other) differ from the background and
    /// are becoming static without being ready yet; marks them in `seen`.
    fn pending(&self, region: &[u32], seen: &mut [bool]) -> usize {
        let grid = self.grid.expect("initialised");
        let settling = |n: usize| {
            self.fg_long[n] && self.owner[n] == 0 && self.watched[n] && self.static_t[n] > 0.0
        };
        grid.grow(region.to_vec(), true, seen, settling).len() - region.len()
    }
}
