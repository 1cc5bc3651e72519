//! The static-object detector: a long-term and a short-term background model per cell of a
//! coarse grid over the frame (the classic dual-background approach to abandoned objects).
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
    /// An object still there after this long becomes background.
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
    /// Class groups or classes whose boxes are not waste (people, vehicles). A detection of any
    /// other class over an object names it (COCO's backpack, handbag, suitcase, bottle, cup; a
    /// custom waste model's own classes).
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
}

impl StaticObject {
    /// Takes the class of the most confident detection over it that is not an ignored class.
    fn name_from(&mut self, tracks: &[Track], ignore: &[String]) {
        for t in tracks {
            if ignore.iter().any(|g| **g == *t.group || **g == *t.class) {
                continue;
            }
            let (cx, cy) = self.bbox_px.centre();
            let b = t.bbox_px;
            let over = b.iou(&self.bbox_px) >= 0.3
                || (b.x1 <= cx
                    && cx <= b.x2
                    && b.y1 <= cy
                    && cy <= b.y2
                    && b.area() <= 4.0 * self.bbox_px.area());
            if over && t.score >= self.label_score {
                self.label = Some(t.class.to_string());
                self.label_score = t.score;
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

/// The grid's geometry.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Grid {
    /// Image pixels per cell side.
    cell: u32,
    w: u32,
    h: u32,
    image: Size,
}

impl Grid {
    fn new(image: Size) -> Self {
        let cell = image.width.div_ceil(GRID_WIDTH).max(1);
        Self {
            cell,
            w: (image.width / cell).max(1),
            h: (image.height / cell).max(1),
            image,
        }
    }

    fn len(&self) -> usize {
        (self.w * self.h) as usize
    }

    /// The cell's centre, normalised.
    fn centre(&self, i: usize) -> (f64, f64) {
        let (x, y) = (i as u32 % self.w, i as u32 / self.w);
        (
            (f64::from(x) + 0.5) / f64::from(self.w),
            (f64::from(y) + 0.5) / f64::from(self.h),
        )
    }

    /// Cells covered by a box in source pixels (`source` the source frame's size), inclusive.
    fn cell_range(&self, b: &BBoxPx, source: Size) -> Option<(u32, u32, u32, u32)> {
        let sx = f64::from(self.w) / f64::from(source.width.max(1));
        let sy = f64::from(self.h) / f64::from(source.height.max(1));
        let x1 = (f64::from(b.x1) * sx).floor().max(0.0);
        let y1 = (f64::from(b.y1) * sy).floor().max(0.0);
        let x2 = (f64::from(b.x2) * sx).ceil().min(f64::from(self.w)) - 1.0;
        let y2 = (f64::from(b.y2) * sy).ceil().min(f64::from(self.h)) - 1.0;
        (x2 >= x1 && y2 >= y1).then_some((x1 as u32, y1 as u32, x2 as u32, y2 as u32))
    }

    /// A box of cells in source pixels.
    fn px_box(self, (x1, y1, x2, y2): (u32, u32, u32, u32), source: Size) -> BBoxPx {
        let sx = f64::from(source.width) / f64::from(self.w);
        let sy = f64::from(source.height) / f64::from(self.h);
        BBoxPx::new(
            (f64::from(x1) * sx) as f32,
            (f64::from(y1) * sy) as f32,
            (f64::from(x2 + 1) * sx) as f32,
            (f64::from(y2 + 1) * sy) as f32,
        )
    }
}

fn luma(c: [f32; 3]) -> f32 {
    // Channel order does not matter for the tests below except here; BGR and RGB weigh green
    // the same and red/blue nearly alike, so the mean is used.
    (c[0] + c[1] + c[2]) / 3.0
}

fn differs(a: [f32; 3], b: [f32; 3], threshold: f32) -> bool {
    (a[0] - b[0]).abs() > threshold
        || (a[1] - b[1]).abs() > threshold
        || (a[2] - b[2]).abs() > threshold
}

fn scaled(c: [f32; 3], k: f32) -> [f32; 3] {
    [c[0] * k, c[1] * k, c[2] * k]
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
    last_pts: Option<f64>,
    /// Most of the long-term model has disagreed with the frame since this time.
    off_since: Option<f64>,
    objects: Vec<StaticObject>,
    next_id: u64,
    stats: SceneStats,
    /// People and vehicles seen lately: track id → (last seen, box in source pixels).
    occluders: std::collections::HashMap<u64, (f64, BBoxPx)>,
    /// Per-frame scratch, kept to spare an allocation each frame: the light ratios sampled, the
    /// cells a region search has visited.
    ratios: Vec<f32>,
    seen: Vec<bool>,
}

/// A region counts as a lost person or vehicle when one was seen this long (plus `hold_secs`)
/// before the region began to differ: its cells are hidden `hold_secs` after the last sighting,
/// and detections come only every few frames.
const LOST_SLACK_SECS: f64 = 3.0;

/// People and vehicles are remembered this long after they were last seen.
const OCCLUDER_MEMORY_SECS: f64 = 900.0;

impl Scene {
    /// A detector watching `zones` (objects are only found inside them).
    pub fn new(config: SceneConfig, zones: Vec<PolygonNorm>) -> Self {
        Self {
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
        self.ratios = ratios;
        let gain = self.gain;
        let (mut changed, mut off, mut counted) = (0usize, 0usize, 0usize);
        for i in 0..grid.len() {
            self.fg_long[i] = differs(self.cur[i], scaled(self.long[i], gain), c.threshold);
            self.fg_short[i] = differs(self.cur[i], self.short[i], c.threshold);
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
        self.follow_objects(pts, tracks, &mut events);
        self.promote(pts, source, tracks);
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

    /// Cells under people and vehicles (widened by a sixth of the box each side) are hidden
    /// until `hold_secs` after.
    fn exclude(&mut self, pts: f64, source: Size, tracks: &[Track]) {
        let grid = self.grid.expect("initialised");
        let until = pts + self.config.hold_secs;
        self.occluders
            .retain(|_, (seen, _)| pts - *seen <= OCCLUDER_MEMORY_SECS);
        for t in tracks {
            let ignored = self
                .config
                .ignore
                .iter()
                .any(|g| **g == *t.group || **g == *t.class);
            if !ignored {
                continue;
            }
            let b = t.bbox_px;
            self.occluders.insert(t.id.0, (pts, b));
            let (mx, my) = (b.width() / 6.0, b.height() / 6.0);
            let wide = BBoxPx::new(b.x1 - mx, b.y1 - my, b.x2 + mx, b.y2 + my);
            let Some((x1, y1, x2, y2)) = grid.cell_range(&wide, source) else {
                continue;
            };
            for y in y1..=y2 {
                for x in x1..=x2 {
                    self.excluded_until[(y * grid.w + x) as usize] = until;
                }
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
            o.last_seen = pts;
        }
        tracing::debug!(pts, "scene relearned (lighting or camera change)");
    }

    /// Presence of each object against its template; labels from detections over it.
    fn follow_objects(&mut self, pts: f64, tracks: &[Track], events: &mut SceneEvents) {
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
    fn promote(&mut self, pts: f64, source: Size, tracks: &[Track]) {
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
