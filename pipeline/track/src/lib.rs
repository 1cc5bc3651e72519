//! Multi-object tracking: [`Tracker`] turns each frame's [`Detection`]s into [`Track`]s with ids
//! that stay stable while the object is in view.
//!
//! ByteTrack-style two-stage association: confident detections are matched to all live tracks
//! first (IoU against Kalman-predicted boxes, optimal assignment by [`assign::hungarian`]); then
//! the low-score detections — a car half hidden, a frame of motion blur — are matched to tracks
//! still unmatched, which keeps ids through the dips where a single threshold would lose them.
//! Association never crosses class groups, so a car that flickers to `truck` keeps its id.
//!
//! Time is the stream time of the frames (PTS) passed to [`Tracker::step`]; no clock is read, so
//! tests run at any speed. A track unmatched for `max_lost` is removed with all its state.

pub mod assign;
mod kalman;

use kalman::BoxFilter;
use std::sync::Arc;
use std::time::Duration;
use vigil_core::{BBoxPx, Detection, Track, TrackId};
pub use vigil_spec::tracker::TrackerConfig;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Tentative,
    Confirmed,
}

#[derive(Debug)]
struct TrackState {
    id: TrackId,
    group: Arc<str>,
    class: Arc<str>,
    score: f32,
    filter: BoxFilter,
    state: State,
    hits: u32,
    streak: u32,
    first_seen: Duration,
    last_seen: Duration,
    last_bbox: BBoxPx,
    matched: bool,
}

/// One camera's tracker. Keep one per camera; ids are unique within it.
#[derive(Debug)]
pub struct Tracker {
    config: TrackerConfig,
    tracks: Vec<TrackState>,
    next_id: u64,
    last_pts: Option<Duration>,
}

impl Tracker {
    pub fn new(config: TrackerConfig) -> Self {
        Self {
            config,
            tracks: Vec::new(),
            next_id: 1,
            last_pts: None,
        }
    }

    /// Number of tracks held (tentative, confirmed and lost); bounded by the scene, not uptime.
    pub fn len(&self) -> usize {
        self.tracks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tracks.is_empty()
    }

    /// Advances to the frame at `pts` with its detections; returns the confirmed tracks, those
    /// matched in this frame first (`matched = true`), then those coasting on prediction.
    pub fn step(&mut self, pts: Duration, detections: &[Detection]) -> Vec<Track> {
        let dt = match self.last_pts {
            Some(last) if pts > last => (pts - last).as_secs_f32(),
            Some(_) => 0.0,
            None => 0.0,
        };
        self.last_pts = Some(pts.max(self.last_pts.unwrap_or_default()));
        for t in &mut self.tracks {
            t.filter.predict(dt);
            t.matched = false;
        }

        let cfg = self.config.clone();
        let (high, low): (Vec<usize>, Vec<usize>) = (0..detections.len())
            .filter(|&i| detections[i].score >= cfg.low_score)
            .partition(|&i| detections[i].score >= cfg.high_score);

        // Stage 1: confident detections against every track.
        let all: Vec<usize> = (0..self.tracks.len()).collect();
        let (pairs, unmatched_tracks, unmatched_high) =
            self.associate(&all, &high, detections, cfg.match_iou);
        for (t, d) in pairs {
            self.update(t, &detections[d], pts);
        }
        // Stage 2: weak detections against confirmed tracks still unmatched.
        let confirmed: Vec<usize> = unmatched_tracks
            .iter()
            .copied()
            .filter(|&t| self.tracks[t].state == State::Confirmed)
            .collect();
        let (pairs, _, _) = self.associate(&confirmed, &low, detections, cfg.low_match_iou);
        for (t, d) in pairs {
            self.update(t, &detections[d], pts);
        }
        // New tracks from confident detections nobody claimed.
        for d in unmatched_high {
            let det = &detections[d];
            if det.score >= cfg.new_track_score {
                let id = TrackId(self.next_id);
                self.next_id += 1;
                self.tracks.push(TrackState {
                    id,
                    group: det.group.clone(),
                    class: det.class.clone(),
                    score: det.score,
                    filter: BoxFilter::new(&det.bbox_px),
                    state: if cfg.min_hits <= 1 {
                        State::Confirmed
                    } else {
                        State::Tentative
                    },
                    hits: 1,
                    streak: 1,
                    first_seen: pts,
                    last_seen: pts,
                    last_bbox: det.bbox_px,
                    matched: true,
                });
            }
        }
        // Evict: tentative tracks die on their first miss, confirmed ones after `max_lost`.
        self.tracks.retain(|t| {
            t.matched
                || (t.state == State::Confirmed && pts.saturating_sub(t.last_seen) <= cfg.max_lost)
        });
        for t in &mut self.tracks {
            if !t.matched {
                t.streak = 0;
            }
        }

        let mut out: Vec<Track> = self
            .tracks
            .iter()
            .filter(|t| t.state == State::Confirmed)
            .map(|t| Track {
                id: t.id,
                group: t.group.clone(),
                class: t.class.clone(),
                score: t.score,
                bbox_px: if t.matched {
                    t.last_bbox
                } else {
                    t.filter.bbox()
                },
                hits: t.hits,
                first_seen_pts: t.first_seen,
                matched: t.matched,
            })
            .collect();
        out.sort_by_key(|t| (!t.matched, t.id));
        out
    }

    fn update(&mut self, t: usize, det: &Detection, pts: Duration) {
        let min_hits = self.config.min_hits;
        let tr = &mut self.tracks[t];
        tr.filter.update(&det.bbox_px);
        tr.class = det.class.clone();
        tr.score = det.score;
        tr.hits += 1;
        tr.streak += 1;
        tr.last_seen = pts;
        tr.last_bbox = det.bbox_px;
        tr.matched = true;
        if tr.state == State::Tentative && tr.streak >= min_hits {
            tr.state = State::Confirmed;
        }
    }

    /// Optimal IoU assignment of `dets` to `tracks` within each class group.
    /// Returns matched (track, detection) pairs, unmatched tracks and unmatched detections.
    fn associate(
        &self,
        tracks: &[usize],
        dets: &[usize],
        detections: &[Detection],
        min_iou: f32,
    ) -> (Vec<(usize, usize)>, Vec<usize>, Vec<usize>) {
        if tracks.is_empty() || dets.is_empty() {
            return (Vec::new(), tracks.to_vec(), dets.to_vec());
        }
        let predicted: Vec<BBoxPx> = tracks
            .iter()
            .map(|&t| self.tracks[t].filter.bbox())
            .collect();
        let cost: Vec<Vec<f64>> = tracks
            .iter()
            .zip(&predicted)
            .map(|(&t, pred)| {
                dets.iter()
                    .map(|&d| {
                        let det = &detections[d];
                        if det.group != self.tracks[t].group {
                            return assign::FORBIDDEN;
                        }
                        let iou = pred.iou(&det.bbox_px);
                        if iou < min_iou {
                            assign::FORBIDDEN
                        } else {
                            f64::from(1.0 - iou)
                        }
                    })
                    .collect()
            })
            .collect();
        let assignment = assign::hungarian(&cost);
        let mut pairs = Vec::new();
        let mut det_used = vec![false; dets.len()];
        let mut unmatched_tracks = Vec::new();
        for (row, col) in assignment.iter().enumerate() {
            match col {
                Some(c) if cost[row][*c] < assign::FORBIDDEN => {
                    pairs.push((tracks[row], dets[*c]));
                    det_used[*c] = true;
                }
                _ => unmatched_tracks.push(tracks[row]),
            }
        }
        let unmatched_dets = dets
            .iter()
            .zip(&det_used)
            .filter(|(_, u)| !**u)
            .map(|(&d, _)| d)
            .collect();
        (pairs, unmatched_tracks, unmatched_dets)
    }
}

#[cfg(test)]
mod tests;
