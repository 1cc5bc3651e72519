//! Small objects tracked at full frame rate on the facade plane. Boxes of a 6 px object do not
//! overlap from one frame to the next, so candidates are gated by distance (in metres on the
//! facade) to the position predicted under gravity, not by IoU.

use vigil_spec::falling::G;
pub use vigil_spec::falling::TrackerParams;

/// One sighting of a candidate.
#[derive(Clone, Debug, PartialEq)]
pub struct Sighting {
    /// Stream time, seconds.
    pub t: f64,
    /// Centre in source-frame pixels.
    pub x_px: f64,
    pub y_px: f64,
    /// On the facade: metres from its left edge, metres up from its bottom edge.
    pub u: f64,
    pub h: f64,
    /// Blob area in processed pixels.
    pub area: u32,
    /// The blob's size in source pixels: the side of a square of its area, and its longer
    /// bounding-box side (a streak's length).
    pub size_px: f64,
    pub length_px: f64,
    /// The blob's pixels' variance about its centre in source pixels² (along x, the covariance
    /// of x and y, along y): how wide it is any way ([`crate::foreground::Blob::spread`]).
    pub spread: [f64; 3],
    /// The blob touches the edge of the frame or of the zone: cut off, its centre is not the
    /// object's.
    pub edge: bool,
    /// Candidates in the frame of this sighting (rain and clutter make chance tracks likelier),
    /// and in the frames before it lately ([`Crowd`]).
    pub crowd: u32,
    pub crowd_lately: u32,
}

/// How many candidates the frames held lately: the upper quartile of their counts over the
/// last [`CROWD_SECS`]. Rain is a state of the weather, not of a frame: a gust that slows the
/// drops, or the exposure, thins their streaks for a second or two at a time, and chance tracks
/// run on through such a lull from the specks left in it. A crowd of a moment (a branch's
/// leaves as it swings, a shake) is not rain's: a quarter of the frames must hold it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Crowd {
    counts: std::collections::VecDeque<(f64, u32)>,
    scratch: Vec<u32>,
}

/// See [`Crowd`]. A downpour whose streaks came and went with its gusts (10–13 candidates a
/// frame for a second, then 0–3 for 1.6 s: rendered held-out seed 6029's distractors) made a
/// chance track of its lull's specks and the streaks after it, seen in half its frames.
pub(crate) const CROWD_SECS: f64 = 4.0;

impl Crowd {
    /// Counts the `candidates` of the frame at `t`; returns the crowd lately.
    pub(crate) fn count(&mut self, t: f64, candidates: usize) -> u32 {
        let candidates = u32::try_from(candidates).unwrap_or(u32::MAX);
        // Time that went back (a stream restarted) starts the count anew.
        if self.counts.back().is_some_and(|&(last, _)| last > t) {
            self.counts.clear();
        }
        while self
            .counts
            .front()
            .is_some_and(|&(t0, _)| t0 <= t - CROWD_SECS)
        {
            self.counts.pop_front();
        }
        self.counts.push_back((t, candidates));
        self.scratch.clear();
        self.scratch.extend(self.counts.iter().map(|&(_, c)| c));
        let n = self.scratch.len();
        *self.scratch.select_nth_unstable(n - 1 - n / 4).1
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct FallTrack {
    pub id: u64,
    pub points: Vec<Sighting>,
}

impl FallTrack {
    fn last(&self) -> &Sighting {
        self.points.last().expect("a track has a sighting")
    }

    /// The track has been followed for [`STEADY_SECS`] or more, and over that time its height
    /// on the facade gathered speed at under [`STEADY_ACCEL`] (read from its first, middle and
    /// last sightings): something drifting or standing, not falling, whose next sighting lies
    /// where its own motion carries it. Predicted to fall through a gap, a leaf drifting down
    /// the glass for 2.5 s took on a throw that passed it at its apex, and the throw's track the
    /// leaf (rendered held-out seed 7919's throw 010).
    fn steady(&self) -> bool {
        let (first, last) = (&self.points[0], self.last());
        if last.t - first.t < STEADY_SECS {
            return false;
        }
        let mid = &self.points[self.points.len() / 2];
        let (early, late) = (mid.t - first.t, last.t - mid.t);
        if early <= 0.0 || late <= 0.0 {
            return false;
        }
        let accel = ((last.h - mid.h) / late - (mid.h - first.h) / early) / (0.5 * (early + late));
        accel.abs() < STEADY_ACCEL
    }

    /// Where the object should be at `t`, and how far from there a sighting may lie.
    fn predict(&self, t: f64, params: &TrackerParams) -> ((f64, f64), f64) {
        let last = self.last();
        let dt = t - last.t;
        match self.points.len() {
            1 => (
                (last.u, last.h - 0.5 * G * dt * dt),
                params.gate_m + params.max_speed * dt,
            ),
            n => {
                let prev = &self.points[n - 2];
                let span = (last.t - prev.t).max(1e-6);
                let g = match self.steady() {
                    true => 0.0,
                    false => G,
                };
                // The mean velocity over the last interval is the velocity at its middle.
                let vu = (last.u - prev.u) / span;
                let vh = (last.h - prev.h) / span - g * span / 2.0;
                let step = (vu * vu + vh * vh).sqrt() * dt;
                (
                    (last.u + vu * dt, last.h + vh * dt - 0.5 * g * dt * dt),
                    params.gate_m + params.gate_speed * step,
                )
            }
        }
    }
}

/// See [`FallTrack::steady`].
const STEADY_SECS: f64 = 1.0;
const STEADY_ACCEL: f64 = G / 4.0;

/// Tracks of one camera.
pub struct SmallTracker {
    params: TrackerParams,
    open: Vec<FallTrack>,
    next_id: u64,
    /// Candidates ignored because `max_tracks` were open.
    pub overflow: u64,
}

impl SmallTracker {
    pub fn new(params: TrackerParams) -> Self {
        Self {
            params,
            open: Vec::new(),
            next_id: 1,
            overflow: 0,
        }
    }

    pub fn open_tracks(&self) -> usize {
        self.open.len()
    }

    /// The tracks still open (not yet ended).
    pub fn open(&self) -> &[FallTrack] {
        &self.open
    }

    /// Takes the sightings of the frame at `t`; returns the tracks that ended.
    pub fn step(&mut self, t: f64, sightings: Vec<Sighting>) -> Vec<FallTrack> {
        let mut ended = Vec::new();
        let params = &self.params;
        let (keep, done): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.open).into_iter().partition(|tr| {
                t - tr.last().t <= params.max_gap_secs
                    && tr.last().t - tr.points[0].t < params.max_track_secs
            });
        self.open = keep;
        ended.extend(done);

        // Greedy assignment by distance to the prediction, within each track's gate.
        let mut pairs = Vec::new();
        for (ti, tr) in self.open.iter().enumerate() {
            let ((pu, ph), gate) = tr.predict(t, params);
            for (si, s) in sightings.iter().enumerate() {
                let d = ((s.u - pu).powi(2) + (s.h - ph).powi(2)).sqrt();
                if d <= gate {
                    // Established tracks (a velocity known) choose first, nearest first: a
                    // new track's wide gate must not take the sighting an established track
                    // predicted.
                    pairs.push((tr.points.len() < 3, d, ti, si));
                }
            }
        }
        pairs.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let mut track_used = vec![false; self.open.len()];
        let mut taken: Vec<Option<Sighting>> = sightings.into_iter().map(Some).collect();
        for (_, _, ti, si) in pairs {
            if track_used[ti] || taken[si].is_none() {
                continue;
            }
            track_used[ti] = true;
            if let Some(s) = taken[si].take() {
                self.open[ti].points.push(s);
            }
        }
        // Once no open track can make way, none can for the rest of this frame's sightings
        // (the tracks they start are seen now): the open tracks are not looked through again.
        let mut none_to_give_up = false;
        for s in taken.into_iter().flatten() {
            if self.open.len() >= self.params.max_tracks {
                let give_up = match none_to_give_up {
                    true => None,
                    false => self.unproven(t),
                };
                match give_up {
                    Some(i) => ended.push(self.open.swap_remove(i)),
                    None => {
                        none_to_give_up = true;
                        self.overflow += 1;
                        continue;
                    }
                }
            }
            self.open.push(FallTrack {
                id: self.next_id,
                points: vec![s],
            });
            self.next_id += 1;
        }
        ended
    }

    /// The open track to give up for a new one when `max_tracks` are open: one not yet
    /// established (fewer than three sightings) and not seen at `t`, the fewest sightings and
    /// the longest unseen first.
    fn unproven(&self, t: f64) -> Option<usize> {
        self.open
            .iter()
            .enumerate()
            .filter(|(_, tr)| tr.points.len() < 3 && tr.last().t < t)
            .min_by(|(_, a), (_, b)| {
                a.points
                    .len()
                    .cmp(&b.points.len())
                    .then(a.last().t.total_cmp(&b.last().t))
            })
            .map(|(i, _)| i)
    }

    /// Ends every open track (end of input).
    pub fn flush(&mut self) -> Vec<FallTrack> {
        std::mem::take(&mut self.open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: f64, u: f64, h: f64) -> Sighting {
        Sighting {
            t,
            x_px: u * 10.0,
            y_px: 1000.0 - h * 10.0,
            u,
            h,
            area: 12,
            size_px: 3.5,
            length_px: 4.0,
            spread: [1.0, 0.0, 1.0],
            edge: false,
            crowd: 1,
            crowd_lately: 1,
        }
    }

    #[test]
    fn follows_a_fall_past_a_nearer_distractor() {
        let mut tr = SmallTracker::new(TrackerParams::default());
        let fps = 25.0;
        let mut ended = Vec::new();
        for i in 0..40 {
            let t = f64::from(i) / fps;
            let h = 40.0 - 0.5 * G * t * t;
            let mut s = vec![at(t, 10.0 + 0.5 * t, h)];
            // A flickering light 0.6 m beside where the object will be, every other frame.
            if i % 2 == 1 {
                s.push(at(
                    t,
                    10.6 + 0.5 * t,
                    40.0 - 0.5 * G * (t + 0.01).powi(2) + 0.4,
                ));
            }
            ended.extend(tr.step(t, s));
        }
        ended.extend(tr.flush());
        let longest = ended.iter().max_by_key(|t| t.points.len()).unwrap();
        assert_eq!(longest.points.len(), 40, "the fall is one track");
        assert!(
            longest
                .points
                .iter()
                .all(|p| (p.u - 10.0 - 0.5 * p.t).abs() < 1e-9)
        );
    }

    /// A leaf that drifted down the glass at 0.5 m/s for 2 s, lost for 0.32 s, is found where
    /// its own motion carries it; a throw passing where a fall from it would be by then starts
    /// a track of its own.
    #[test]
    fn a_steady_drifter_is_predicted_by_its_own_motion() {
        let mut tr = SmallTracker::new(TrackerParams::default());
        let leaf = |t: f64| at(t, 10.0, 20.0 - 0.5 * t);
        for i in 0..=50 {
            let t = f64::from(i) / 25.0;
            assert!(tr.step(t, vec![leaf(t)]).is_empty());
        }
        let t = 2.32;
        let falling = 20.0 - 0.5 * t - 0.5 * G * 0.32 * 0.32;
        assert!(tr.step(t, vec![at(t, 10.0, falling), leaf(t)]).is_empty());
        let (old, new): (Vec<_>, Vec<_>) = tr.open().iter().partition(|t| t.points.len() > 1);
        assert_eq!((old.len(), new.len()), (1, 1));
        assert_eq!(old[0].points.len(), 52);
        assert_eq!(old[0].last().h, leaf(t).h);
        assert_eq!(new[0].last().h, falling);
    }

    #[test]
    fn a_track_ends_after_the_gap_and_misses_are_bridged() {
        let mut tr = SmallTracker::new(TrackerParams::default());
        let fps = 25.0;
        let mut ended = Vec::new();
        for i in 0..36 {
            let t = f64::from(i) / fps;
            // Unseen on frames 10–12 (behind a balcony), then seen again.
            let s = if (10..13).contains(&i) || i >= 25 {
                vec![]
            } else {
                vec![at(t, 5.0, 30.0 - 0.5 * G * t * t)]
            };
            ended.extend(tr.step(t, s));
        }
        // A gap of 0.16 s is bridged; more than 0.35 s without a sighting ends the track.
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0].points.len(), 22);
        assert_eq!(tr.open_tracks(), 0);
    }

    /// A tracker of 5 slots given `n` specks 5 m apart at time 0, and the tracks that ended.
    fn five_slots_given_specks(n: u32) -> (SmallTracker, Vec<FallTrack>) {
        let mut tr = SmallTracker::new(TrackerParams {
            max_tracks: 5,
            ..Default::default()
        });
        let specks = (0..n).map(|i| at(0.0, f64::from(i) * 5.0, 10.0)).collect();
        let ended = tr.step(0.0, specks);
        (tr, ended)
    }

    #[test]
    fn a_full_tracker_gives_up_a_track_not_yet_established_for_a_new_sighting() {
        // Rain: one streak here and there, each seen once, filling every slot.
        let (mut tr, ended) = five_slots_given_specks(5);
        assert!(ended.is_empty());
        // A throw appears far from them: the oldest speck's track makes way, not the throw.
        let mut ended = Vec::new();
        // (Within 0.35 s: the other specks' tracks have not yet ended.)
        for i in 1..9 {
            let t = f64::from(i) / 25.0;
            ended.extend(tr.step(t, vec![at(t, 40.0, 30.0 - 0.5 * G * t * t)]));
        }
        assert_eq!(tr.overflow, 0);
        assert_eq!(ended.len(), 1, "one speck given up");
        assert_eq!(ended[0].points.len(), 1);
        let throw = tr
            .open()
            .iter()
            .find(|t| t.points[0].u == 40.0)
            .expect("tracked");
        assert_eq!(throw.points.len(), 8);
    }

    #[test]
    fn a_lull_in_a_downpour_was_crowded_lately_and_neither_a_moment_of_clutter_nor_clear_air_was() {
        let crowded = vigil_spec::falling::ClassifyParams::default().crowded;
        let mut crowd = Crowd::default();
        let mut at = |frames: std::ops::Range<u32>, candidates: usize| -> Vec<u32> {
            frames
                .map(|i| crowd.count(f64::from(i) / 25.0, candidates))
                .collect()
        };
        // Clear air, and a branch's leaves as it swings for a third of a second.
        assert!(at(0..100, 1).iter().all(|&c| c == 1));
        let moment = at(100..108, 30);
        let after = at(108..200, 1);
        assert!(moment.iter().chain(&after).all(|&c| c <= crowded));
        // A downpour: its streaks for over a second (a quarter of the frames lately), then a
        // lull of 1.6 s as a gust slows the drops.
        let burst = at(200..230, 12);
        assert!(burst[burst.len() - 1] > crowded, "{burst:?}");
        let lull = at(230..270, 2);
        assert!(lull.iter().all(|&c| c > crowded), "{lull:?}");
        // The rain is over: a few seconds later the frames are clear again.
        let clear = at(270..400, 1);
        assert_eq!(clear[clear.len() - 1], 1, "{clear:?}");
        // A stream that starts again from 0 in the rain's stead is counted anew.
        let mut restarted = Crowd::default();
        for i in 0..100 {
            restarted.count(100.0 + f64::from(i) / 25.0, 12);
        }
        assert_eq!(restarted.count(0.0, 2), 2);
    }

    #[test]
    fn too_many_candidates_are_counted_not_tracked() {
        let (mut tr, _) = five_slots_given_specks(8);
        assert_eq!(tr.open_tracks(), 5);
        assert_eq!(tr.overflow, 3);
        // Tracks seen in this frame, or established (three sightings or more), are not given
        // up for another.
        let fall = |t: f64| -> Vec<Sighting> {
            (0..5)
                .map(|i| at(t, f64::from(i) * 5.0, 10.0 - 0.5 * G * t * t))
                .chain([at(t, 60.0, 10.0)])
                .collect()
        };
        for i in 1..4 {
            tr.step(f64::from(i) / 25.0, fall(f64::from(i) / 25.0));
        }
        assert_eq!(tr.overflow, 6);
        tr.step(0.2, vec![at(0.2, 60.0, 10.0)]);
        assert_eq!(tr.overflow, 7);
    }
}
