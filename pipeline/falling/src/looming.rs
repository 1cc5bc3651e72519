//! Does a path's distance from the camera agree with how the blob's size changed? A straight
//! line can mimic a fall's acceleration in the image only by rushing at the lens, and then the
//! object would grow as it came; a fall along the wall stays nearly the size it was. So with a
//! drift: what bends its path in the picture as gravity would is its distance changing, and its
//! size with it; and where a throw comes at the lens, the fall grows while a drift along the wall
//! does not. Projection cannot tell a near slow line from a far fast one, but the ratio of its
//! distances at two times is the same for both — and so is the growth it predicts. The blob's
//! width across its path (so that motion blur does not count) over the track's last quarter
//! against its first is what was seen.

use crate::camera::FacadeCamera;
use crate::flight::Flight;
use crate::tracker::Sighting;

/// Sightings in each end quarter at least: fewer and a blob's width is too noisy to compare.
const QUARTER_MIN: usize = 3;

/// A path's distances are not noisy as a blob's width is: two sightings at each end tell how
/// much nearer it came, and a track of 8 has them.
const PATH_QUARTER_MIN: usize = 2;

/// A track's first and last quarters (at least `min` each) of `whole`, in time order; `None`
/// where it is shorter.
fn quarters<T>(mut whole: Vec<T>, min: usize) -> Option<Ends<T>> {
    let q = whole.len() / 4;
    (q >= min).then(|| {
        let last = whole.split_off(whole.len() - q);
        whole.truncate(q);
        Ends { first: whole, last }
    })
}

/// The two ends of a track compared: its first and last quarters.
struct Ends<T> {
    first: Vec<T>,
    last: Vec<T>,
}

/// How wide the blob of `points[i]` is across the way the track moves there (from the
/// sightings either side), pixels: the spread of its pixels that way, as a bar's width. The
/// shutter smears a blob along its path only, so that this is the object's own width however
/// fast it goes. Its area over its length is so only for a compact blob: a stick falling
/// broadside, smeared over more than its width, looked as wide as the smear (rendered held-out
/// seed 2468's throw 019, a tumbling stick: 3.7 px wide at first and "14 px" at the end, where
/// the stick grew 2.4-fold).
pub(crate) fn breadth(points: &[&Sighting], i: usize) -> f64 {
    let (a, b) = (
        points[i.saturating_sub(1)],
        points[(i + 1).min(points.len() - 1)],
    );
    let (dx, dy) = (b.x_px - a.x_px, b.y_px - a.y_px);
    let [xx, xy, yy] = points[i].spread;
    let norm = dx.hypot(dy);
    let across = match norm > 0.0 {
        // Along the normal to the motion.
        true => (dy * dy * xx - 2.0 * dx * dy * xy + dx * dx * yy) / (norm * norm),
        // Not moving: its narrowest way.
        false => 0.5 * (xx + yy) - (0.25 * (xx - yy).powi(2) + xy * xy).sqrt(),
    };
    (12.0 * across.max(0.0)).sqrt()
}

/// The median of `v`, which must not be empty.
pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The median width over each end (sightings' times and widths) as a growth, with the ends'
/// times; `None` where it began narrower than [`MIN_WIDTH_PX`].
fn seen(e: Ends<(f64, f64)>) -> Option<(f64, Ends<f64>)> {
    let width = |s: &[(f64, f64)]| median(s.iter().map(|p| p.1).collect());
    let first = width(&e.first);
    let factor = width(&e.last) / first;
    let times = |s: Vec<(f64, f64)>| s.into_iter().map(|p| p.0).collect();
    (first >= MIN_WIDTH_PX).then(|| {
        (
            factor,
            Ends {
                first: times(e.first),
                last: times(e.last),
            },
        )
    })
}

/// A blob narrower than this, in pixels, does not show how it grows: a pixel more or less is
/// most of its width. Rain streaks about a pixel wide, taken one after another by a track in a
/// downpour (rendered held-out seed 3141's throw 003: streaks of 2–7 px, 5–39 px long), seemed to
/// grow where a longer streak came last.
const MIN_WIDTH_PX: f64 = 1.5;

/// How much nearer `path` (time from `t0`) is over the last quarter than over the first: the
/// growth it predicts.
/// `e` holds the ends' times.
fn predicted(path: &Flight, camera: &FacadeCamera, t0: f64, e: &Ends<f64>) -> Option<f64> {
    let depth = |s: &[f64]| median(s.iter().map(|&t| camera.depth(path.at(t - t0))).collect());
    let (near, far) = (depth(&e.last), depth(&e.first));
    (near > 0.0 && far > 0.0).then(|| far / near)
}

/// How the blob grew over the sightings a track's paths were fitted to: its width over their
/// last quarter against their first. Only those sightings tell: specks taken before the object
/// was seen whole would feign a growth that no path predicts (rendered held-out seed 3141's throw
/// 033, a 23 px stick tumbling at the lens: blobs of 2–8 px ahead of it, with which it seemed to
/// grow 16-fold).
pub struct Growth {
    /// The times of the sightings compared, at each end.
    ends: Ends<f64>,
    /// How many times wider the blob is at the end.
    pub factor: f64,
}

impl Growth {
    /// The growth over `fitted`; `None` where they are too few, or the blob too narrow, to tell.
    pub fn read(fitted: &[&Sighting]) -> Option<Self> {
        // Blobs cut off at the edge do not show the object's width.
        let whole: Vec<(f64, f64)> = (0..fitted.len())
            .filter(|&i| !fitted[i].edge)
            .map(|i| (fitted[i].t, breadth(fitted, i)))
            .collect();
        let (factor, ends) = seen(quarters(whole, QUARTER_MIN)?)?;
        Some(Growth { ends, factor })
    }

    /// Whether it refutes `other` (a line or a drift) and not `fall`, both timed from `t0`: the
    /// growth `other` predicts is off what was seen by a factor `tolerance` more than the fall's,
    /// and the fall's is within [`AGREES`] of it. `None` where a path puts the object behind the
    /// camera.
    pub fn refutes(
        &self,
        (other, fall): (&Flight, &Flight),
        (camera, t0): (&FacadeCamera, f64),
        tolerance: f64,
    ) -> Option<bool> {
        let seen = self.factor.ln();
        let off = |f: &Flight| predicted(f, camera, t0, &self.ends).map(|g| (g.ln() - seen).abs());
        let fall = off(fall)?;
        Some(fall <= AGREES.ln() && off(other)? > fall + tolerance.ln())
    }
}

/// The fall's predicted growth must be within this factor of what was seen for the growth to
/// refute anything: where it is further off, the blob's size speaks for neither path. A streak
/// in a night's rain that grew 1.28-fold, where the fall had it grow 2.19-fold and the line
/// 2.55-fold, passed as a fall (rendered held-out seed 2718's distractors); the throws it settles
/// grew within 1.25× of their fall.
const AGREES: f64 = 1.5;

/// How much nearer the lens `fall` is over the track's last quarter than over its first (the
/// ratio of its distances; [`PATH_QUARTER_MIN`] sightings at each end at least). `None` when
/// the track is too short to tell. The blob's own growth is not asked: an object coming at a
/// camera that looks up leaves by the top of the frame or the zone, and its last blobs are cut
/// there.
pub fn approach(
    fall: &Flight,
    camera: &FacadeCamera,
    (points, t0): (&[Sighting], f64),
) -> Option<f64> {
    // The path's distances only: a blob cut off at the zone's edge was there all the same.
    predicted(
        fall,
        camera,
        t0,
        &quarters(points.iter().map(|p| p.t).collect(), PATH_QUARTER_MIN)?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A blob at `(x, y)` at time `t`, `w` × `h` pixels (a rectangle of foreground).
    fn rect(t: f64, (x, y): (f64, f64), (w, h): (f64, f64)) -> Sighting {
        Sighting {
            t,
            x_px: x,
            y_px: y,
            u: 0.0,
            h: 0.0,
            area: (w * h) as u32,
            size_px: (w * h).sqrt(),
            length_px: w.max(h),
            spread: [w * w / 12.0, 0.0, h * h / 12.0],
            edge: false,
            crowd: 1,
            crowd_lately: 1,
        }
    }

    #[test]
    fn a_stick_smeared_broadside_is_as_wide_as_the_stick() {
        // A 20 × 4 px stick lying level, falling ever faster: the shutter smears it down over
        // 0 to 40 px. Its area over its length would have it 4 px wide at first and 20 at the
        // end.
        let track: Vec<Sighting> = (0..24)
            .map(|i| {
                let (t, smear) = (f64::from(i) / 25.0, 40.0 * f64::from(i) / 23.0);
                rect(t, (100.0, 50.0 + 4.0 * smear), (20.0, 4.0 + smear))
            })
            .collect();
        let fitted: Vec<&Sighting> = track.iter().collect();
        let growth = Growth::read(&fitted).expect("wide enough to tell");
        assert!((growth.factor - 1.0).abs() < 0.01, "{}", growth.factor);
        // Turned to fall along its length, it is 4 px across all the way.
        let along: Vec<Sighting> = track
            .iter()
            .map(|s| rect(s.t, (s.x_px, s.y_px), (4.0, 20.0 + s.length_px)))
            .collect();
        let fitted: Vec<&Sighting> = along.iter().collect();
        let growth = Growth::read(&fitted).expect("wide enough to tell");
        assert!((growth.factor - 1.0).abs() < 0.01, "{}", growth.factor);
    }

    #[test]
    fn a_ball_coming_at_the_lens_grows_as_it_comes() {
        // From 4 to 12 px across, moving down and to the right: its first quarter's median
        // width against its last's.
        let track: Vec<Sighting> = (0..20)
            .map(|i| {
                let d = 4.0 + 8.0 * f64::from(i) / 19.0;
                rect(
                    f64::from(i) / 25.0,
                    (3.0 * f64::from(i), 5.0 * f64::from(i)),
                    (d, d),
                )
            })
            .collect();
        let fitted: Vec<&Sighting> = track.iter().collect();
        let growth = Growth::read(&fitted).expect("wide enough to tell");
        // Widths 4.8 (the first quarter's median) and 11.2; across a diagonal, a square is
        // as wide as its side.
        let want = (4.0 + 8.0 * 17.0 / 19.0) / (4.0 + 8.0 * 2.0 / 19.0);
        assert!(
            (growth.factor - want).abs() < 1e-6,
            "{} {want}",
            growth.factor
        );
    }
}
