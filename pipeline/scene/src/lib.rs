//! The static-object detector of one camera, read by the waste rules (`vigil-waste`: bags left
//! by bins, overflowing bins) and the fire-lane rules (`vigil-lane`: anything left standing in a
//! lane): a long-term and a short-term background model per cell of a coarse grid over the frame
//! (the classic dual-background approach to abandoned objects). Main types: [`Scene`],
//! [`SceneConfig`] (what each user sets differently: which detections hide the ground, whether a
//! long stay becomes background), [`StaticObject`].
//!
//! - The **short-term** model follows the scene within seconds (`short_secs`): anything that
//!   stops moving soon matches it.
//! - The **long-term** model is the empty scene. It is normalised by the frame's overall lighting
//!   (the median ratio of frame to model, `gain`), and only cells that match it are updated, so a
//!   bag never fades into it however long it stays, while dusk and auto-exposure do not tear it.
//! - A cell that differs from the long-term model but matches the short-term one holds something
//!   new and still; it accumulates *static time*. Cells under people and vehicles (the object
//!   detector's tracks, widened, held `hold_secs` after they leave) accumulate nothing and do not
//!   teach the long-term model, so someone standing by a bin or a car parked beside it is never
//!   waste, and the ground they covered is still known when they go.
//! - A connected region of cells in a watched zone that has been static for `promote_secs`
//!   is checked before it becomes an object: if its texture is the background's under other
//!   light (normalised correlation, same chromaticity) it is a lighting change; if the old
//!   background had edges along its outline that the frame does not, it is a ghost (something
//!   left that the model had learned). Either is learned into the background and counted.
//! - An object keeps the look it had when found (its template). It is present while most of its
//!   visible cells match that template; hidden cells (under a person, or something moving in
//!   front) do not count. It is removed once it has not matched for `gone_secs`; its ground is
//!   then learned again.
//! - A change of most of the frame at once (lights switched at dusk, the camera's switch to
//!   infrared) relearns both models; objects already found keep going with templates retaken.

mod grid;
mod judge;
mod objects;
mod occluders;

use grid::{Grid, differs, luma, scaled};
use occluders::Named;

use vigil_core::{BBoxPx, Image, PolygonNorm, Size, Track};

/// How the detector judges what is new and static.
#[derive(Clone, Debug, PartialEq)]
pub struct SceneConfig {
    /// Static time before a region becomes an object (the shortest `static_secs` of the rules).
    pub promote_secs: f64,
    /// Time constant of the short-term model.
    pub short_secs: f64,
    /// Time constant of the long-term model (cells that match it).
    pub long_secs: f64,
    /// An object still there after this long becomes background (`f64::INFINITY`: never — a
    /// car left in a fire lane for a day is still an obstruction).
    pub absorb_secs: f64,
    /// Colour difference (0–255, any channel) that counts as different.
    pub threshold: f32,
    /// Smallest object, as a fraction of the frame's area.
    pub min_area: f64,
    /// An object not seen for this long (and not hidden) is removed.
    pub gone_secs: f64,
    /// Cells stay excluded this long after the person or vehicle over them is gone.
    pub hold_secs: f64,
    /// Fraction of the frame changing at once that counts as a lighting or camera change.
    pub global_change: f64,
    /// Class groups or classes whose boxes hide the ground instead of being objects (for waste:
    /// people and vehicles; for a fire lane: people only). A detection of any other class over an
    /// object names it (COCO's backpack, handbag, suitcase, bottle, cup, car; a custom model's
    /// own classes).
    pub ignore: Vec<String>,
}

impl Default for SceneConfig {
    fn default() -> Self {
        Self {
            promote_secs: 30.0,
            short_secs: 2.0,
            long_secs: 60.0,
            absorb_secs: 3600.0,
            threshold: 30.0,
            min_area: 0.0008,
            gone_secs: 3.0,
            hold_secs: 2.0,
            global_change: 0.5,
            ignore: vec!["person".into(), "vehicle".into()],
        }
    }
}

/// Grid cells are at most this many across.
const GRID_WIDTH: u32 = 240;

/// How full part of a zone is ([`Scene::fill`]).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Fill {
    pub fraction: f64,
    /// The full cells' box, in source pixels.
    pub bbox: Option<BBoxPx>,
}

/// What the detector counts (for `summary.json` and `/metrics`).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct SceneStats {
    pub frames: u64,
    /// Objects found, removed, absorbed into the background.
    pub objects: u64,
    pub removed: u64,
    pub absorbed: u64,
    /// Regions rejected as a lighting change or a ghost.
    pub lighting: u64,
    pub ghosts: u64,
    /// Regions rejected as a person or vehicle the detector lost for a while (the region is
    /// where one was seen since it began to differ).
    pub lost_occluders: u64,
    /// Whole-scene relearns (lights, infrared switch, a moved camera) and size changes.
    pub relearns: u64,
}

/// Why an object stopped being one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gone {
    Removed,
    Absorbed,
}

/// Something new and static in a watched zone.
#[derive(Clone, Debug)]
pub struct StaticObject {
    pub id: u64,
    /// Stream time (s) its cells began to differ from the background (median over them).
    pub since: f64,
    /// Stream time (s) it last matched its template.
    pub last_seen: f64,
    /// Its box in source-frame pixels.
    pub bbox_px: BBoxPx,
    /// The label of a detection over it (`backpack`), if any.
    pub label: Option<String>,
    pub label_score: f32,
    /// Fraction of its visible cells that matched at the last frame.
    pub matched: f32,
    cells: Vec<u32>,
    template: Vec<[f32; 3]>,
    /// `gain` when the template was taken.
    template_gain: f32,
    /// How the ground around it was lit against the background when the template was taken
    /// ([`Scene::ring_light`]): a relit object changed since as the ground around it did.
    ring_light: [f32; 3],
    /// Whether the long-term model still holds the ground under it (false once a relearn took
    /// the object itself into the model).
    ground_known: bool,
}

impl StaticObject {
    /// What an alert record says of it: its id, its name (`object` when no detection named
    /// it), how well it matched its look, its box within the frame.
    pub fn alert_object(&self, source: Size) -> vigil_core::AlertObject {
        vigil_core::AlertObject {
            object: vigil_core::ObjectRef::Static(self.id),
            class: self.label.clone().unwrap_or_else(|| "object".into()),
            score: self.matched,
            bbox_px: self.bbox_px.clamp_to(source),
        }
    }

    /// Takes the class of the most confident detection over it among `named` (the detections
    /// of the last few seconds that are not of an ignored class).
    fn name_from(&mut self, named: &std::collections::HashMap<u64, Named>) {
        for n in named.values() {
            let (cx, cy) = self.bbox_px.centre();
            let b = n.bbox;
            let over = b.iou(&self.bbox_px) >= 0.3
                || (b.x1 <= cx
                    && cx <= b.x2
                    && b.y1 <= cy
                    && cy <= b.y2
                    && b.area() <= 4.0 * self.bbox_px.area());
            if over && n.score >= self.label_score {
                self.label = Some(n.class.to_string());
                self.label_score = n.score;
            }
        }
    }
}

/// What one frame changed.
#[derive(Debug, Default)]
pub struct SceneEvents {
    /// Objects that stopped being one at this frame.
    pub gone: Vec<(StaticObject, Gone)>,
}

/// The static-object detector of one camera.
pub struct Scene {
    config: SceneConfig,
    zones: Vec<PolygonNorm>,
    grid: Option<Grid>,
    /// Per cell: in any watched zone.
    watched: Vec<bool>,
    /// Per zone: its cells.
    zone_cells: Vec<Vec<u32>>,
    cur: Vec<[f32; 3]>,
    long: Vec<[f32; 3]>,
    short: Vec<[f32; 3]>,
    static_t: Vec<f32>,
    fg_since: Vec<f64>,
    excluded_until: Vec<f64>,
    /// Object id owning the cell (0: none).
    owner: Vec<u64>,
    /// Frame minus long-term model, per cell, this frame (`differs` of the long-term model).
    fg_long: Vec<bool>,
    fg_short: Vec<bool>,
    gain: f32,
    /// `threshold` scaled to the frame's brightness (see [`BRIGHT_LUMA`]).
    threshold: f32,
    last_pts: Option<f64>,
    /// Most of the long-term model has disagreed with the frame since this time.
    off_since: Option<f64>,
    objects: Vec<StaticObject>,
    next_id: u64,
    stats: SceneStats,
    /// People and vehicles seen lately: track id → (last seen, box in source pixels).
    occluders: std::collections::HashMap<u64, (f64, BBoxPx)>,
    /// Other detections seen lately, by track id.
    named: std::collections::HashMap<u64, Named>,
    /// Per-frame scratch, kept to spare an allocation each frame: the light ratios sampled, the
    /// cells a region search has visited.
    ratios: Vec<f32>,
    seen: Vec<bool>,
}

/// A region counts as a lost person or vehicle when one was seen this long (plus `hold_secs`)
/// before the region began to differ: its cells are hidden `hold_secs` after the last sighting,
/// and detections come only every few frames.
const LOST_SLACK_SECS: f64 = 3.0;

/// A frame whose median luma is this bright or brighter takes `threshold` as set; a darker one a
/// proportionally smaller one (a blue e-bike on asphalt differs by 60 grey levels by day and by
/// 20 at dusk).
const BRIGHT_LUMA: f32 = 100.0;

/// The smallest share of `threshold` a dark frame takes (sensor noise does not shrink with the
/// light).
const DARKEST: f32 = 0.35;

impl Scene {
    /// A detector watching `zones` (objects are only found inside them).
    pub fn new(config: SceneConfig, zones: Vec<PolygonNorm>) -> Self {
        Self {
            threshold: config.threshold,
            config,
            zones,
            grid: None,
            watched: Vec::new(),
            zone_cells: Vec::new(),
            cur: Vec::new(),
            long: Vec::new(),
            short: Vec::new(),
            static_t: Vec::new(),
            fg_since: Vec::new(),
            excluded_until: Vec::new(),
            owner: Vec::new(),
            fg_long: Vec::new(),
            fg_short: Vec::new(),
            gain: 1.0,
            last_pts: None,
            off_since: None,
            objects: Vec::new(),
            next_id: 1,
            stats: SceneStats::default(),
            occluders: std::collections::HashMap::new(),
            named: std::collections::HashMap::new(),
            ratios: Vec::new(),
            seen: Vec::new(),
        }
    }

    pub fn objects(&self) -> &[StaticObject] {
        &self.objects
    }

    pub fn stats(&self) -> &SceneStats {
        &self.stats
    }

    /// The fraction of zone `zone`'s cells that object `id` covers (0 when either is unknown).
    pub fn covered(&self, zone: usize, id: u64) -> f64 {
        match self.zone_cells.get(zone) {
            Some(cells) if !cells.is_empty() => {
                let owned = cells
                    .iter()
                    .filter(|&&i| self.owner[i as usize] == id)
                    .count();
                owned as f64 / cells.len() as f64
            }
            _ => 0.0,
        }
    }

    /// How full zone `zone` is: the fraction of its cells that have been static for `secs` or
    /// belong to an object, and the box of those cells in source pixels — over the whole zone
    /// and over its part where `upper(x, y)` holds (normalised cell centres), in one pass.
    pub fn fill(
        &self,
        zone: usize,
        secs: f64,
        source: Size,
        upper: impl Fn(f64, f64) -> bool,
    ) -> [Fill; 2] {
        let (Some(grid), Some(cells)) = (self.grid, self.zone_cells.get(zone)) else {
            return [Fill::default(); 2];
        };
        // Per part: cells, full cells, and the full cells' bounds.
        let mut parts = [(0usize, 0usize, None::<(u32, u32, u32, u32)>); 2];
        for &i in cells {
            let i = i as usize;
            let (x, y) = grid.centre(i);
            let is_full = self.owner[i] != 0 || f64::from(self.static_t[i]) >= secs;
            let (cx, cy) = (i as u32 % grid.w, i as u32 / grid.w);
            for part in if upper(x, y) {
                &mut parts[..]
            } else {
                &mut parts[..1]
            } {
                part.0 += 1;
                if is_full {
                    part.1 += 1;
                    part.2 = Some(match part.2 {
                        None => (cx, cy, cx, cy),
                        Some((a, b, c, d)) => (a.min(cx), b.min(cy), c.max(cx), d.max(cy)),
                    });
                }
            }
        }
        parts.map(|(total, full, bounds)| Fill {
            fraction: if total == 0 {
                0.0
            } else {
                full as f64 / total as f64
            },
            bbox: bounds.map(|b| grid.px_box(b, source)),
        })
    }

    /// Processes one frame at stream time `pts` (seconds) with the tracks of the same frame;
    /// `source` is the size of the source frame the tracks' boxes are in.
    pub fn step(&mut self, pts: f64, image: &Image, source: Size, tracks: &[Track]) -> SceneEvents {
        let mut events = SceneEvents::default();
        // A frame too small for a grid (or shorter than its stride says) is not a scene.
        let row = image.size.width as usize * image.format.channels();
        let (w, h) = (image.size.width as usize, image.size.height as usize);
        if w < 8
            || h < 8
            || image.stride < row
            || image.bytes().len() < image.stride * (h - 1) + row
        {
            return events;
        }
        self.stats.frames += 1;
        if self.grid.map(|g| g.image) != Some(image.size) {
            if self.grid.is_some() {
                self.stats.relearns += 1;
            }
            self.init(image.size);
            self.sample(image);
            self.long.clone_from(&self.cur);
            self.short.clone_from(&self.cur);
            // Objects found at another frame size cannot be followed (the camera's stream
            // changed): they end here.
            for o in std::mem::take(&mut self.objects) {
                events.gone.push((o, Gone::Removed));
            }
            self.last_pts = Some(pts);
            return events;
        }
        let grid = self.grid.expect("initialised above");
        let dt = self.last_pts.map_or(0.0, |l| (pts - l).clamp(0.0, 2.0));
        self.last_pts = Some(pts);
        self.sample(image);
        self.exclude(pts, source, tracks);
        let c = &self.config;

        // Lighting: the median ratio of the frame to the long-term model over cells that are
        // neither hidden nor objects.
        let mut ratios = std::mem::take(&mut self.ratios);
        ratios.clear();
        ratios.extend(
            (0..grid.len())
                .step_by(3)
                .filter(|&i| self.excluded_until[i] < pts && self.owner[i] == 0)
                .map(|i| (luma(self.cur[i]) + 4.0) / (luma(self.long[i]) + 4.0)),
        );
        if !ratios.is_empty() {
            let mid = ratios.len() / 2;
            let (_, m, _) = ratios.select_nth_unstable_by(mid, f32::total_cmp);
            self.gain = m.clamp(0.05, 20.0);
        }
        // How bright the frame is (its median luma): in the dark every contrast shrinks with
        // the light, and so does the difference that counts.
        ratios.clear();
        ratios.extend((0..grid.len()).step_by(3).map(|i| luma(self.cur[i])));
        if !ratios.is_empty() {
            let mid = ratios.len() / 2;
            let (_, m, _) = ratios.select_nth_unstable_by(mid, f32::total_cmp);
            self.threshold = c.threshold * (*m / BRIGHT_LUMA).clamp(DARKEST, 1.0);
        }
        self.ratios = ratios;
        let gain = self.gain;
        let threshold = self.threshold;
        let (mut changed, mut off, mut counted) = (0usize, 0usize, 0usize);
        for i in 0..grid.len() {
            self.fg_long[i] = differs(self.cur[i], scaled(self.long[i], gain), threshold);
            self.fg_short[i] = differs(self.cur[i], self.short[i], threshold);
            if self.excluded_until[i] < pts {
                counted += 1;
                changed += usize::from(self.fg_short[i]);
                off += usize::from(self.fg_long[i]);
            }
        }
        let counted = counted.max(1) as f64;
        // Most of the scene changed at once, or the long-term model has been wrong for most
        // of it for a while: relearn.
        let off_long = if off as f64 / counted > c.global_change {
            let since = *self.off_since.get_or_insert(pts);
            pts - since > 4.0 * c.short_secs
        } else {
            self.off_since = None;
            false
        };
        // Colour gone from the frame, or back (the infrared switch at dusk and dawn): grey
        // parts barely change, so the share of changed cells says nothing.
        let colour = |v: &[[f32; 3]], k: f32| {
            let sum: f32 = v
                .iter()
                .step_by(3)
                .map(|p| (p[0].max(p[1]).max(p[2]) - p[0].min(p[1]).min(p[2])) * k)
                .sum();
            sum / v.len().div_ceil(3).max(1) as f32
        };
        let (now, before) = (colour(&self.cur, 1.0), colour(&self.long, gain));
        let switched = (now < 3.0 && before > 8.0) || (now > 8.0 && before < 3.0);
        if changed as f64 / counted > c.global_change || off_long || switched {
            self.relearn(pts);
            return events;
        }

        let a_short = (1.0 - (-dt / c.short_secs).exp()) as f32;
        let a_long = (1.0 - (-dt / c.long_secs).exp()) as f32;
        let dtf = dt as f32;
        for i in 0..grid.len() {
            let cur = self.cur[i];
            let s = &mut self.short[i];
            for k in 0..3 {
                s[k] += a_short * (cur[k] - s[k]);
            }
            let hidden = self.excluded_until[i] >= pts;
            if !hidden && !self.fg_long[i] && self.owner[i] == 0 {
                let l = &mut self.long[i];
                for k in 0..3 {
                    l[k] += a_long * (cur[k] / gain - l[k]);
                }
            }
            if hidden || self.owner[i] != 0 {
                continue;
            }
            match (self.fg_long[i], self.fg_short[i]) {
                (true, false) => {
                    self.static_t[i] += dtf;
                    if self.fg_since[i].is_nan() {
                        self.fg_since[i] = pts;
                    }
                }
                // Something moving over it: hold.
                (true, true) => {
                    if self.fg_since[i].is_nan() {
                        self.fg_since[i] = pts;
                    }
                }
                (false, _) => {
                    self.static_t[i] = (self.static_t[i] - 3.0 * dtf).max(0.0);
                    if self.static_t[i] == 0.0 {
                        self.fg_since[i] = f64::NAN;
                    }
                }
            }
        }
        self.follow_objects(pts, &mut events);
        self.promote(pts, source);
        events
    }

    fn init(&mut self, size: Size) {
        let grid = Grid::new(size);
        let n = grid.len();
        self.grid = Some(grid);
        self.zone_cells = self
            .zones
            .iter()
            .map(|z| {
                (0..n as u32)
                    .filter(|&i| {
                        let (x, y) = grid.centre(i as usize);
                        z.contains(vigil_core::PointNorm { x, y })
                    })
                    .collect()
            })
            .collect();
        self.watched = vec![false; n];
        for &i in self.zone_cells.iter().flatten() {
            self.watched[i as usize] = true;
        }
        self.seen = vec![false; n];
        self.cur = vec![[0.0; 3]; n];
        self.long = vec![[0.0; 3]; n];
        self.short = vec![[0.0; 3]; n];
        self.static_t = vec![0.0; n];
        self.fg_since = vec![f64::NAN; n];
        self.excluded_until = vec![f64::NEG_INFINITY; n];
        self.owner = vec![0; n];
        self.fg_long = vec![false; n];
        self.fg_short = vec![false; n];
        self.gain = 1.0;
        self.off_since = None;
    }

    /// Mean colour of each cell into `cur`.
    fn sample(&mut self, image: &Image) {
        let grid = self.grid.expect("initialised");
        let ch = image.format.channels();
        let bytes = image.bytes();
        let cell = grid.cell as usize;
        let norm = 1.0 / (cell * cell) as f32;
        for cy in 0..grid.h as usize {
            for cx in 0..grid.w as usize {
                let mut sum = [0u32; 3];
                for y in cy * cell..(cy + 1) * cell {
                    let row = &bytes[y * image.stride + cx * cell * ch..][..cell * ch];
                    for p in row.chunks_exact(ch) {
                        for (s, &v) in sum.iter_mut().zip(p) {
                            *s += u32::from(v);
                        }
                    }
                }
                // Grey frames: the one channel stands for all three.
                if ch == 1 {
                    sum = [sum[0]; 3];
                }
                self.cur[cy * grid.w as usize + cx] = sum.map(|s| s as f32 * norm);
            }
        }
    }

    fn relearn(&mut self, pts: f64) {
        self.stats.relearns += 1;
        self.long.clone_from(&self.cur);
        self.short.clone_from(&self.cur);
        self.gain = 1.0;
        self.off_since = None;
        self.static_t.fill(0.0);
        self.fg_since.fill(f64::NAN);
        // Objects already found are assumed still there: their templates are retaken.
        for o in &mut self.objects {
            for (t, &i) in o.template.iter_mut().zip(&o.cells) {
                *t = self.cur[i as usize];
            }
            o.template_gain = 1.0;
            o.ring_light = [1.0; 3];
            o.ground_known = false;
            o.last_seen = pts;
        }
        tracing::debug!(pts, "scene relearned (lighting or camera change)");
    }
}

/// Stream seconds, as the scene keeps them, as alert records take them (before the stream's
/// start: its start).
pub fn stream_time(secs: f64) -> std::time::Duration {
    std::time::Duration::try_from_secs_f64(secs.max(0.0)).unwrap_or_default()
}
