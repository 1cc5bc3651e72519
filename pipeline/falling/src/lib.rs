//! Objects thrown or falling from height (高空抛物).
//!
//! A dedicated camera looks up at a facade. Every decoded frame (not the detector's sampled
//! rate) goes through [`Foreground`] (per-pixel running Gaussian on luma, zone-restricted,
//! global-change guard) → blobs → [`SmallTracker`] (gating by the position predicted under
//! gravity, on the facade plane) → a verdict on each ended track → a [`Fall`] with its
//! [`Origin`] floor and column. The verdict is in 3-D ([`space`]) through the [`FacadeCamera`]
//! recovered from the [`Facade`] calibration (or its known lens): a path under gravity in front of
//! the wall must explain the track and a straight line must not; where the calibration cannot
//! give a camera, it is on the facade plane ([`classify()`]). Tracks of one object — a fall
//! broken where it crossed something of its own brightness, or a fragment or reflection beside
//! it — are one fall: the later ones are continuations, and once the fall is over its best
//! estimate is [`Settled`]. The synthetic facade renderer and its scorer are tools
//! (`vigil-tools`).

pub mod camera;
pub mod classify;
pub mod fit;
pub mod flight;
pub mod foreground;
pub mod looming;
mod pieces;
mod roof;
pub mod space;
pub mod tracker;

pub use camera::FacadeCamera;
pub use classify::{ClassifyParams, Fall, Motion, Origin, Reject, classify};
pub use foreground::{Blob, Foreground, ForegroundParams, GrayFrame};
use pieces::{
    Piece, STOOD_BEFORE, STOOD_TOO_LONG, Standing, alike, carries_on, forget_before, joined,
    picks_up,
};
use tracker::Crowd;
pub use tracker::{FallTrack, Sighting, SmallTracker, TrackerParams};
pub use vigil_spec::facade::{self, Facade};
pub use vigil_spec::falling::{FallConfig, G};

use std::collections::BTreeMap;

/// The verdict on one ended track.
#[derive(Clone, Debug)]
pub struct Verdict {
    pub track: FallTrack,
    pub outcome: Result<Fall, Reject>,
    /// An accepted fall that belongs to an earlier one (the same object: its track broken where
    /// it crossed something of its own brightness, or a fragment or reflection beside it): the
    /// track id of that fall. Not a new alert.
    pub continues: Option<u64>,
}

/// A fall once over (no track has joined it for [`CONTINUATION_SECS`]): its best estimate, for
/// the alert raised on its first track (which needs no change when `tracks` is 1).
#[derive(Clone, Debug)]
pub struct Settled {
    /// The track whose fall was raised.
    pub track: u64,
    /// Tracks that made the fall.
    pub tracks: usize,
    /// Every sighting of the fall's tracks, in time order.
    pub points: Vec<Sighting>,
    /// The estimate with the narrowest origin.
    pub fall: Fall,
}

/// What the detector has seen, for metrics and `--explain`.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct FallStats {
    pub frames: u64,
    /// Frames whose candidates a global change suppressed.
    pub guarded_frames: u64,
    pub warmup_frames: u64,
    pub candidates: u64,
    /// Tracks of fewer than three sightings (noise), not classified one by one.
    pub blips: u64,
    pub falls: u64,
    /// Accepted tracks that belonged to an earlier fall (not raised again).
    pub continuations: u64,
    /// Rejected tracks by reason.
    pub rejected: BTreeMap<String, u64>,
    /// Candidates not tracked because too many tracks were open.
    pub overflow: u64,
    /// Tracks judged in 3-D (the rest on the facade plane).
    pub judged_3d: u64,
}

/// One camera's falling-object detector.
pub struct FallDetector {
    config: FallConfig,
    foreground: Option<Foreground>,
    tracker: SmallTracker,
    crowd: Crowd,
    stats: FallStats,
    /// The source size the camera was recovered for, and the camera (`None`: the calibration
    /// gives none; judged on the plane).
    camera: Option<((u32, u32), Option<FacadeCamera>)>,
    /// Falls accepted lately, which a new track may belong to.
    recent: Vec<RecentFall>,
    /// Tracks rejected lately as a piece of a fall might be, in the order they ended.
    pieces: Vec<Piece>,
    settled: Vec<Settled>,
    /// Times of the frames processed lately (as long as a track may last, and its gap), to
    /// count the frames a track spans.
    frame_times: std::collections::VecDeque<f64>,
    /// Judge on the facade plane even when a camera can be recovered (the classifier before the
    /// 3-D one, for comparison).
    plane_only: bool,
}

struct RecentFall {
    /// The track raised.
    track: u64,
    last_t: f64,
    /// The latest accepted track's fall: where the object is expected.
    fall: Fall,
    /// Sightings of the tracks that followed one another (not those beside them).
    points: Vec<Sighting>,
    tracks: usize,
    best: Fall,
}

/// How long after its last sighting a fall may be continued by another track.
pub const CONTINUATION_SECS: f64 = 1.5;

/// Tracks shorter than this are noise and get no verdict of their own.
const MIN_VERDICT_POINTS: usize = 3;

impl FallDetector {
    pub fn new(config: FallConfig) -> Self {
        let tracker = SmallTracker::new(config.tracker.clone());
        Self {
            config,
            foreground: None,
            tracker,
            crowd: Crowd::default(),
            stats: FallStats::default(),
            camera: None,
            recent: Vec::new(),
            pieces: Vec::new(),
            settled: Vec::new(),
            plane_only: false,
            frame_times: std::collections::VecDeque::new(),
        }
    }

    /// The same detector judging every track on the facade plane, as before the 3-D verdict:
    /// for side-by-side scores.
    pub fn on_the_plane(mut self) -> Self {
        self.plane_only = true;
        self
    }

    pub fn stats(&self) -> FallStats {
        FallStats {
            overflow: self.tracker.overflow,
            ..self.stats.clone()
        }
    }

    /// The camera judged through (recovered at the first frame), if any.
    pub fn camera(&self) -> Option<&FacadeCamera> {
        self.camera.as_ref().and_then(|(_, c)| c.as_ref())
    }

    /// Processes the frame shown at stream time `t` (seconds); `source` is the decoded size
    /// (positions are reported in its pixels). Returns the verdicts on tracks that ended.
    pub fn process(&mut self, t: f64, frame: &GrayFrame<'_>, source: (u32, u32)) -> Vec<Verdict> {
        let size = (frame.width, frame.height);
        if self.foreground.as_ref().is_some_and(|f| f.size() != size) {
            // The camera changed resolution: learn it afresh.
            self.foreground = None;
        }
        if self.camera.as_ref().is_none_or(|(s, _)| *s != source) {
            let camera = FacadeCamera::recover(&self.config.facade, source, self.config.hfov_deg)
                .ok()
                .filter(|_| !self.plane_only);
            self.camera = Some((source, camera));
        }
        let foreground = self.foreground.get_or_insert_with(|| {
            Foreground::new(
                self.config.foreground.clone(),
                size.0,
                size.1,
                &self.config.zone,
            )
        });
        let fg = foreground.process(frame);
        let keep = self.config.tracker.max_track_secs + self.config.tracker.max_gap_secs + 1.0;
        // Time that went back (a stream restarted) starts the count anew.
        if self.frame_times.back().is_some_and(|&f| f > t) {
            self.frame_times.clear();
        }
        while self.frame_times.front().is_some_and(|&f| f < t - keep) {
            self.frame_times.pop_front();
        }
        self.frame_times.push_back(t);
        self.stats.frames += 1;
        self.stats.guarded_frames += u64::from(fg.guarded);
        self.stats.warmup_frames += u64::from(fg.warming_up);
        self.stats.candidates += fg.blobs.len() as u64;
        let (w, h) = (f64::from(size.0), f64::from(size.1));
        let (sw, sh) = (f64::from(source.0), f64::from(source.1));
        let scale = sw / w;
        let facade = &self.config.facade;
        let crowd_lately = self.crowd.count(t, fg.blobs.len());
        let sightings = fg
            .blobs
            .iter()
            .filter_map(|b| {
                let (x, y) = (b.cx / w, b.cy / h);
                let (u, hm) = facade.to_facade((x, y))?;
                Some(Sighting {
                    t,
                    x_px: x * sw,
                    y_px: y * sh,
                    u,
                    h: hm,
                    area: b.area,
                    size_px: f64::from(b.area).sqrt() * scale,
                    length_px: f64::from((b.x1 - b.x0).max(b.y1 - b.y0)) * scale,
                    spread: b.spread.map(|v| v * scale * scale),
                    edge: foreground.cut_off(b),
                    crowd: fg.blobs.len() as u32,
                    crowd_lately,
                })
            })
            .collect();
        let ended = self.tracker.step(t, sightings);
        let verdicts = self.judge(ended);
        self.settle(Some(t));
        verdicts
    }

    /// Ends every open track (end of input) and returns their verdicts; every fall is then
    /// settled.
    pub fn finish(&mut self) -> Vec<Verdict> {
        let ended = self.tracker.flush();
        let verdicts = self.judge(ended);
        self.settle(None);
        verdicts
    }

    /// Falls that are over since the last call.
    pub fn take_settled(&mut self) -> Vec<Settled> {
        std::mem::take(&mut self.settled)
    }

    /// Falls nothing has joined since [`CONTINUATION_SECS`] before `now` (all, without) are
    /// over.
    fn settle(&mut self, now: Option<f64>) {
        // A fall is not over while a track that picked it up is still open: it is judged, and
        // joins, only when it ends.
        let tracker = &self.tracker;
        let (over, open): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.recent).into_iter().partition(|r| {
                now.is_none_or(|t| {
                    t - r.last_t > CONTINUATION_SECS
                        && !tracker
                            .open()
                            .iter()
                            .any(|track| picks_up(r.points.last(), track))
                })
            });
        self.recent = open;
        for r in over {
            let mut points = r.points;
            points.sort_by(|a, b| a.t.total_cmp(&b.t));
            self.settled.push(Settled {
                track: r.track,
                tracks: r.tracks,
                points,
                fall: r.best,
            });
        }
    }

    fn verdict(&mut self, track: &FallTrack) -> Result<Fall, Reject> {
        let (facade, params) = (&self.config.facade, &self.config.classify);
        let camera = self.camera.as_ref().and_then(|(_, c)| c.as_ref());
        self.stats.judged_3d += u64::from(camera.is_some());
        let verdict = match camera {
            Some(camera) => {
                let (first, last) = match (track.points.first(), track.points.last()) {
                    (Some(a), Some(b)) => (a.t, b.t),
                    _ => (0.0, 0.0),
                };
                let frames = self
                    .frame_times
                    .iter()
                    .filter(|&&f| (first..=last).contains(&f))
                    .count()
                    .max(track.points.len());
                space::judge(track, (camera, frames), facade, params)
            }
            None => classify(track, facade, params),
        };
        match self.config.top_floor {
            Some(top_floor) => verdict.and_then(|f| roof::on_the_building(f, facade, top_floor)),
            None => verdict,
        }
    }

    /// Where `fall` puts the object at stream time `t`, on the facade plane.
    fn facade_at(&self, fall: &Fall, t: f64) -> Option<(f64, f64)> {
        let dt = t - fall.t0;
        match &fall.motion {
            Motion::Plane { height, lateral } => Some((lateral.at(dt), height.at(dt))),
            Motion::Space(flight) => {
                let camera = self.camera()?;
                let (x, y) = camera.project(flight.at(dt))?;
                self.config
                    .facade
                    .to_facade((x / camera.width, y / camera.height))
            }
        }
    }

    /// How far (facade metres) a sighting at `t` lies from where `fall` puts the object then,
    /// and how far it may, given its speed there and `gap` seconds unseen.
    fn miss(&self, fall: &Fall, s: &Sighting, gap: f64, per_speed: f64) -> Option<(f64, f64)> {
        let (u, h) = self.facade_at(fall, s.t)?;
        let (u2, h2) = self.facade_at(fall, s.t + 0.01)?;
        let speed = (u2 - u).hypot(h2 - h) / 0.01;
        Some((
            (u - s.u).hypot(h - s.h),
            1.0 + per_speed * speed * gap.max(0.1),
        ))
    }

    /// The recent fall `track` (accepted as `fall`) belongs to: one it continues after a gap,
    /// or one it runs beside (a fragment, a reflection).
    fn belongs_to(&self, track: &FallTrack) -> Option<usize> {
        let first = &track.points[0];
        self.recent.iter().position(|r| {
            let gap = first.t - r.last_t;
            if gap >= -0.1 {
                return picks_up(r.points.last(), track)
                    || self
                        .miss(&r.fall, first, gap, 0.15)
                        .is_some_and(|(d, limit)| d <= limit);
            }
            // At the same time: the sightings while the fall was seen lie beside its path.
            let beside: Vec<f64> = track
                .points
                .iter()
                .filter(|s| s.t <= r.last_t)
                .filter_map(|s| self.miss(&r.fall, s, 0.0, 0.0).map(|(d, _)| d))
                .collect();
            !beside.is_empty() && beside.iter().sum::<f64>() / beside.len() as f64 <= 2.5
        })
    }

    fn judge(&mut self, ended: Vec<FallTrack>) -> Vec<Verdict> {
        let mut out = Vec::new();
        for track in ended {
            if track.points.len() < MIN_VERDICT_POINTS {
                self.stats.blips += 1;
                continue;
            }
            let mut track = track;
            let mut outcome = self.verdict(&track);
            // A stretch where it stood still at either end ([`pieces::Standing`]).
            if outcome.is_err()
                && let Some((moved, moved_outcome)) = self.without_standing(&track, STOOD_BEFORE)
                && moved_outcome.is_ok()
            {
                (track, outcome) = (moved, moved_outcome);
            }
            // The recent fall this track was judged with, as its rest.
            let mut rest_of = None;
            match &outcome {
                Ok(fall) => {
                    if let Some((merged, merged_outcome)) = self.with_prelude(&track, fall) {
                        (track, outcome) = (merged, merged_outcome);
                    }
                }
                Err(r) if r.is_piece() => {
                    if let Some((fall, whole)) = self.rest_of_fall(&track) {
                        (rest_of, outcome) = (Some(fall), whole);
                    } else if let Some(merged) = self.with_fragment(&track) {
                        (track, outcome) = merged;
                    }
                    if let Err(r) = &outcome {
                        self.pieces.push(Piece {
                            track: track.clone(),
                            prelude: !matches!(r, Reject::Straight { .. }),
                        });
                    }
                }
                Err(_) => {}
            }
            // Nothing in flight stands so still so long ([`pieces::STOOD_TOO_LONG`]): a fall
            // passes on what is left.
            if outcome.is_ok()
                && let Some(moved) = self.without_standing(&track, STOOD_TOO_LONG)
            {
                (track, outcome) = moved;
            }
            let mut continues = None;
            if let Ok(fall) = &outcome {
                continues = self.join(&track, fall, rest_of);
            }
            match &outcome {
                Ok(_) if continues.is_some() => self.stats.continuations += 1,
                Ok(_) => self.stats.falls += 1,
                Err(r) => *self.stats.rejected.entry(r.code().into()).or_default() += 1,
            }
            out.push(Verdict {
                track,
                outcome,
                continues,
            });
        }
        out
    }

    /// Joins an accepted track to the recent fall it belongs to (returning that fall's track)
    /// or starts a new one. A track judged as the rest of a recent fall (`rest_of`, that fall's
    /// track) belongs to it, wherever its earlier sightings lie.
    fn join(&mut self, track: &FallTrack, fall: &Fall, rest_of: Option<u64>) -> Option<u64> {
        let first_t = track.points[0].t;
        let last_t = track.points.last().map_or(first_t, |p| p.t);
        let known = rest_of.and_then(|id| self.recent.iter().position(|r| r.track == id));
        let Some(i) = known.or_else(|| self.belongs_to(track)) else {
            self.recent.push(RecentFall {
                track: track.id,
                last_t,
                fall: fall.clone(),
                points: track.points.clone(),
                tracks: 1,
                best: fall.clone(),
            });
            return None;
        };
        let follows = first_t >= self.recent[i].last_t - 0.1;
        let mut best = fall.clone();
        if follows {
            // Fragments in a row: the whole fall judged at once.
            let mut points = self.recent[i].points.clone();
            points.extend(track.points.iter().cloned());
            let whole = FallTrack {
                id: self.recent[i].track,
                points: points.clone(),
            };
            if let Ok(f) = self.verdict(&whole) {
                best = f;
            }
            self.recent[i].points = points;
        }
        let r = &mut self.recent[i];
        if best.origin.sigma_m < r.best.origin.sigma_m {
            r.best = best;
        }
        if follows {
            r.fall = fall.clone();
        }
        r.last_t = r.last_t.max(last_t);
        r.tracks += 1;
        Some(r.track)
    }

    /// `track`, rejected as one piece of a fall might be ([`Reject::is_piece`]), joined to the
    /// piece rejected before it that it picks up where that one was lost, and the two judged as
    /// one: a tumbling stick's blob splits and changes shape, the tracker loses it, and each piece
    /// alone is too short a stretch to tell a fall from a line. Pieces chain: a join that is
    /// still a piece is kept for the next. `None` when no such piece ended lately, or the join is
    /// rejected for another reason (then neither piece is changed).
    fn with_fragment(&mut self, track: &FallTrack) -> Option<(FallTrack, Result<Fall, Reject>)> {
        forget_before(&mut self.pieces, track.points[0].t);
        let i = self.pieces.iter().position(|p| {
            (picks_up(p.track.points.last(), track) || carries_on(&p.track.points, track))
                && alike(&p.track.points, &track.points)
        })?;
        let merged = joined(track.id, &self.pieces[i].track.points, track);
        let outcome = self.verdict(&merged);
        if outcome.as_ref().is_err_and(|r| !r.is_piece()) {
            return None;
        }
        self.pieces.remove(i);
        Some((merged, outcome))
    }

    /// The fall that `track`, rejected alone as a piece ([`Reject::is_piece`]), makes with the
    /// recent fall it picks up where that was lost: the rest of a fall the tracker broke, too
    /// short a stretch to judge alone; with that fall's track. `None` when it picks up none, or
    /// the whole is no fall.
    fn rest_of_fall(&mut self, track: &FallTrack) -> Option<(u64, Result<Fall, Reject>)> {
        let r = self
            .recent
            .iter()
            .find(|r| picks_up(r.points.last(), track) && alike(&r.points, &track.points))?;
        let (id, whole) = (r.track, joined(r.track, &r.points, track));
        let outcome = self.verdict(&whole);
        outcome.is_ok().then_some((id, outcome))
    }

    /// `track` without a stretch where it stood still at either end (`how`), and its verdict;
    /// `None` where it stood so at neither end.
    fn without_standing(
        &mut self,
        track: &FallTrack,
        how: Standing,
    ) -> Option<(FallTrack, Result<Fall, Reject>)> {
        let moved = pieces::without_standing(track, how)?;
        let outcome = self.verdict(&moved);
        Some((moved, outcome))
    }

    /// The fall with the rejected track that its fit passes through just before its first
    /// sighting (the apex of a throw, seen hovering): the start is then observed rather than
    /// extrapolated. `None` when there is no such track or the whole does not pass as a fall.
    fn with_prelude(
        &mut self,
        track: &FallTrack,
        fall: &Fall,
    ) -> Option<(FallTrack, Result<Fall, Reject>)> {
        let first = &track.points[0];
        forget_before(&mut self.pieces, first.t);
        let i = self.pieces.iter().position(|p| {
            let Some(last) = p.track.points.last().filter(|_| p.prelude) else {
                return false;
            };
            let gap = first.t - last.t;
            gap > 0.0
                && self
                    .miss(fall, last, gap, 0.3)
                    .is_some_and(|(d, limit)| d <= limit)
        })?;
        // It ended before the track began: the join keeps every sighting of both.
        let prelude = self.pieces.remove(i);
        let merged = joined(track.id, &prelude.track.points, track);
        let outcome = self.verdict(&merged);
        outcome.is_ok().then_some((merged, outcome))
    }
}

#[cfg(test)]
mod tests;
