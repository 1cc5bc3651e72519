//! The gate: per frame, whether the detector looks. It looks when the motion mask saw motion in
//! the watched area, while what it found has not settled, while it misses an object that cannot
//! have left (it vanished from the detector's finds on a frame without motion: a detector miss,
//! the picture did not change), and every `stationary_check` while objects are in view (a parked
//! car is seen to stay). A frame it skips is given what the detector found at its last look
//! ([`Carry`]), so tracking and rules go on as if it had looked.
//!
//! A miss is looked through for at most `stationary_check`; an object not found again by then is
//! taken to be gone (a detector that lost it for good would otherwise be run on every frame).
//!
//! [`Gate`] runs where frames are dispatched to the detector; [`Carry`] where detections come
//! back in frame order. They share [`Shared`], so the gate's view of "settled" and "objects in
//! view" lags by the frames in flight: a few frames more looked at, never fewer.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use vigil_core::{BBoxPx, Detection, Track};
use vigil_spec::motion::MotionGate;

/// Boxes at least this similar (IoU), of one class, are the same object in the same place.
const SAME_PLACE_IOU: f32 = 0.5;

/// What the carry tells the gate, and the gate's counts.
#[derive(Debug)]
pub struct Shared {
    /// What the detector found has not settled: look at every frame.
    hold: AtomicBool,
    /// The detector's last look found objects: the stationary heartbeat applies.
    occupied: AtomicBool,
    looked: AtomicU64,
    skipped: AtomicU64,
}

impl Default for Shared {
    /// Holding: nothing is known yet, the detector looks until its finds settle.
    fn default() -> Self {
        Self {
            hold: AtomicBool::new(true),
            occupied: AtomicBool::new(false),
            looked: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
        }
    }
}

impl Shared {
    /// Frames the detector looked at.
    pub fn looked(&self) -> u64 {
        self.looked.load(Ordering::Relaxed)
    }

    /// Frames the gate kept from the detector.
    pub fn skipped(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }
}

/// Decides, frame by frame in stream order, whether the detector looks.
pub struct Gate {
    stationary_check: Duration,
    last_look: Option<Duration>,
    shared: Arc<Shared>,
}

impl Gate {
    pub fn new(spec: &MotionGate, shared: Arc<Shared>) -> Self {
        Self {
            stationary_check: spec.stationary_check,
            last_look: None,
            shared,
        }
    }

    /// Whether the detector looks at the frame at stream time `pts`, given whether the motion
    /// mask saw motion in the watched area.
    pub fn look(&mut self, pts: Duration, motion: bool) -> bool {
        let heartbeat = match self.last_look {
            None => true,
            Some(last) => {
                pts < last
                    || (self.shared.occupied.load(Ordering::Relaxed)
                        && pts - last >= self.stationary_check)
            }
        };
        let look = motion || heartbeat || self.shared.hold.load(Ordering::Relaxed);
        if look {
            self.last_look = Some(pts);
            self.shared.looked.fetch_add(1, Ordering::Relaxed);
        } else {
            self.shared.skipped.fetch_add(1, Ordering::Relaxed);
        }
        look
    }
}

/// Something the detector finds: a class at a place, with a score.
pub trait Placed {
    fn class(&self) -> &str;
    fn place(&self) -> BBoxPx;
    fn score(&self) -> f32;
}

impl Placed for Detection {
    fn class(&self) -> &str {
        &self.class
    }
    fn place(&self) -> BBoxPx {
        self.bbox_px
    }
    fn score(&self) -> f32 {
        self.score
    }
}

impl Placed for Track {
    fn class(&self) -> &str {
        &self.class
    }
    fn place(&self) -> BBoxPx {
        self.bbox_px
    }
    fn score(&self) -> f32 {
        self.score
    }
}

/// Stands in for the detector on skipped frames, in frame order.
pub struct Carry<T> {
    /// What the last look found.
    last: Option<Vec<T>>,
    /// What of it counts (scored at least `floor`).
    counted: Option<Vec<T>>,
    /// Consecutive looks that found the same objects in the same places.
    run: u32,
    settle: u32,
    /// The objects taken to be in the scene: what a look found, kept through looks that miss
    /// some of them while nothing moved.
    scene: Vec<T>,
    /// Since when a look (on a frame without motion) has missed an object of `scene`.
    missing_since: Option<Duration>,
    /// How long a miss is looked through: `stationary_check`.
    patience: Duration,
    /// Finds scored below this settle nothing and are missed by nobody: no rule of the camera
    /// would act on them (the lowest `min_score` of its rules), so their coming and going on
    /// a still picture — a detector's noise near its threshold — does not keep it looking.
    floor: f32,
    shared: Arc<Shared>,
}

impl<T: Placed + Clone> Carry<T> {
    pub fn new(spec: &MotionGate, shared: Arc<Shared>) -> Self {
        Self {
            last: None,
            counted: None,
            run: 0,
            settle: spec.settle_frames.max(1),
            scene: Vec::new(),
            missing_since: None,
            patience: spec.stationary_check,
            floor: 0.0,
            shared,
        }
    }

    /// Finds scored below `floor` do not count towards settling or missing (see `floor`).
    pub fn with_floor(mut self, floor: f32) -> Self {
        self.floor = floor;
        self
    }

    /// A frame the detector looked at (stream time `pts`; `motion`: the gate saw motion on
    /// it), and what it found.
    pub fn looked(&mut self, all: &[T], pts: Duration, motion: bool) {
        let found: Vec<T> = all
            .iter()
            .filter(|f| f.score() >= self.floor)
            .cloned()
            .collect();
        self.run = match &self.counted {
            Some(last) if same_objects(last, &found) => self.run.saturating_add(1),
            _ => 1,
        };
        let all_found = self
            .scene
            .iter()
            .all(|s| found.iter().any(|f| same_place(s, f)));
        let since = self.missing_since.get_or_insert(pts);
        if motion || all_found || pts < *since || pts - *since >= self.patience {
            self.scene.clone_from(&found);
            self.missing_since = None;
        }
        self.shared.hold.store(
            self.run < self.settle || self.missing_since.is_some(),
            Ordering::Relaxed,
        );
        self.shared
            .occupied
            .store(!self.scene.is_empty(), Ordering::Relaxed);
        self.counted = Some(found);
        self.last = Some(all.to_vec());
    }

    /// What a frame the detector skipped is taken to show: what its last look found.
    pub fn skipped(&self) -> Vec<T> {
        self.last.clone().unwrap_or_default()
    }
}

/// The floor of a camera's [`Carry`]: the lowest of its rules' `min_score`s (0 without rules),
/// the score below which no rule of the camera acts on a find.
pub fn score_floor(min_scores: impl IntoIterator<Item = f32>) -> f32 {
    min_scores.into_iter().reduce(f32::min).unwrap_or(0.0)
}

/// The same objects in the same places: one to one, each pair of one class with boxes at least
/// [`SAME_PLACE_IOU`] alike.
pub fn same_objects<T: Placed>(a: &[T], b: &[T]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut used = vec![false; b.len()];
    a.iter().all(|x| {
        let found = b
            .iter()
            .enumerate()
            .position(|(j, y)| !used[j] && same_place(x, y));
        found.map(|j| used[j] = true).is_some()
    })
}

/// One class, boxes at least [`SAME_PLACE_IOU`] alike.
fn same_place<T: Placed>(a: &T, b: &T) -> bool {
    a.class() == b.class() && a.place().iou(&b.place()) >= SAME_PLACE_IOU
}

#[cfg(test)]
mod tests;
