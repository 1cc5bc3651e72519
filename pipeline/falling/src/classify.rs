//! Is a track a ballistic fall? Heights on the facade must follow a parabola with a downward
//! acceleration near gravity (drag lowers it), the horizontal motion must be near-linear, and
//! the object must drop far enough over enough frames. Everything else is rejected with a reason:
//! birds (level or rising flight), leaves and paper (little acceleration, lateral swing), rain
//! and snow (constant speed), insects at the lens (large, erratic), swaying branches and lights
//! (no drop).
//!
//! This is the facade-plane verdict, for a camera the calibration cannot be recovered from (a
//! wall seen square on with no `hfov_deg`); otherwise [`crate::space`] judges in 3-D.

use crate::facade::Facade;
use crate::fit::{Poly, fit};
use crate::flight::Flight;
use crate::tracker::FallTrack;
use serde::Serialize;
use std::fmt;
pub use vigil_spec::falling::ClassifyParams;

/// Why a track is not a fall.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Reject {
    TooShort {
        frames: usize,
    },
    NotFalling {
        drop_m: f64,
    },
    Rising {
        accel_mps2: f64,
    },
    NoAcceleration {
        accel_mps2: f64,
    },
    TooMuchAcceleration {
        accel_mps2: f64,
    },
    Erratic {
        rms_m: f64,
        limit_m: f64,
    },
    Lateral {
        rms_m: f64,
        limit_m: f64,
    },
    TooFast {
        speed_mps: f64,
    },
    /// In 3-D: no path under gravity explains the pixels.
    Unexplained {
        rms_px: f64,
        limit_px: f64,
    },
    /// In 3-D: a straight line at constant speed explains them as well as a fall.
    Straight {
        line_rms_px: f64,
        fall_rms_px: f64,
    },
    /// In 3-D: something carried by the air (a constant vertical speed, a gust's push sideways)
    /// explains them as well as a fall.
    Drifting {
        drift_rms_px: f64,
        fall_rms_px: f64,
    },
    /// In 3-D: the path would start behind the wall, or too far in front of it.
    OffTheWall {
        out_m: f64,
    },
    /// The blob's length jumps from sighting to sighting (median factor): sightings of
    /// different things, such as rain streaks at different depths.
    Inconsistent {
        jump: f64,
    },
    /// In 3-D: the path closes on the wall.
    TowardsWall {
        speed_mps: f64,
    },
    /// Seen in too few of the frames its track spans.
    Sparse {
        coverage: f64,
    },
    /// In 3-D: it rises on the facade plane, and its path does not come at the lens enough to
    /// be a throw at the camera (the ratio of its distances over its first and last quarters).
    Climbing {
        approach: f64,
    },
    /// Its path starts well above the building's roof ([`crate::roof`]): nothing is thrown
    /// from there.
    AboveRoof {
        h_m: f64,
        roof_m: f64,
    },
}

impl Reject {
    /// A reason one piece of a fall may be given when the tracker broke it up (too short a
    /// stretch, hovering at the apex, or too short to tell from a line or a drift): the pieces
    /// are judged again joined.
    pub fn is_piece(&self) -> bool {
        matches!(
            self,
            Reject::TooShort { .. }
                | Reject::NotFalling { .. }
                | Reject::Straight { .. }
                | Reject::Drifting { .. }
        )
    }

    /// The reason's name, as serialised (`too_short`, `no_acceleration`, …).
    pub fn code(&self) -> &'static str {
        match self {
            Reject::TooShort { .. } => "too_short",
            Reject::NotFalling { .. } => "not_falling",
            Reject::Rising { .. } => "rising",
            Reject::NoAcceleration { .. } => "no_acceleration",
            Reject::TooMuchAcceleration { .. } => "too_much_acceleration",
            Reject::Erratic { .. } => "erratic",
            Reject::Lateral { .. } => "lateral",
            Reject::TooFast { .. } => "too_fast",
            Reject::Unexplained { .. } => "unexplained",
            Reject::Straight { .. } => "straight",
            Reject::Drifting { .. } => "drifting",
            Reject::OffTheWall { .. } => "off_the_wall",
            Reject::Inconsistent { .. } => "inconsistent",
            Reject::TowardsWall { .. } => "towards_wall",
            Reject::Sparse { .. } => "sparse",
            Reject::Climbing { .. } => "climbing",
            Reject::AboveRoof { .. } => "above_roof",
        }
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reject::TooShort { frames } => write!(f, "seen in {frames} frames only"),
            Reject::NotFalling { drop_m } => {
                write!(
                    f,
                    "dropped {drop_m:.1} m only (a light, a branch, level flight)"
                )
            }
            Reject::Rising { accel_mps2 } => write!(
                f,
                "accelerates upwards ({accel_mps2:.1} m/s²): a bird taking off, not a fall"
            ),
            Reject::NoAcceleration { accel_mps2 } => write!(
                f,
                "near-constant speed ({accel_mps2:.1} m/s²): rain, snow, a leaf or a gliding bird"
            ),
            Reject::TooMuchAcceleration { accel_mps2 } => {
                write!(f, "accelerates faster than gravity ({accel_mps2:.1} m/s²)")
            }
            Reject::Erratic { rms_m, limit_m } => write!(
                f,
                "not a parabola (residual {rms_m:.2} m > {limit_m:.2} m): erratic, an insect near the lens"
            ),
            Reject::Lateral { rms_m, limit_m } => write!(
                f,
                "swings sideways (residual {rms_m:.2} m > {limit_m:.2} m): a leaf, paper or a bird"
            ),
            Reject::TooFast { speed_mps } => {
                write!(
                    f,
                    "moves at {speed_mps:.0} m/s: faster than anything falling here"
                )
            }
            Reject::Unexplained { rms_px, limit_px } => write!(
                f,
                "no path under gravity explains it (residual {rms_px:.1} px > {limit_px:.1} px): erratic, a fluttering leaf, an insect near the lens, or sightings of different things"
            ),
            Reject::Straight {
                line_rms_px,
                fall_rms_px,
            } => write!(
                f,
                "a straight line at constant speed explains it as well as a fall ({line_rms_px:.1} px against {fall_rms_px:.1} px): rain, snow, a gliding bird or a drifting leaf"
            ),
            Reject::Drifting {
                drift_rms_px,
                fall_rms_px,
            } => write!(
                f,
                "a drift at constant falling speed, pushed sideways by the wind, explains it as well as a fall ({drift_rms_px:.1} px against {fall_rms_px:.1} px): rain or snow in a gust, a leaf"
            ),
            Reject::OffTheWall { out_m } if *out_m < 0.0 => write!(
                f,
                "only a path starting {:.1} m behind the wall explains it: not from this facade",
                -out_m
            ),
            Reject::OffTheWall { out_m } => write!(
                f,
                "only a path starting {out_m:.1} m in front of the wall explains it: not thrown from this facade"
            ),
            Reject::TowardsWall { speed_mps } => write!(
                f,
                "it comes towards the wall at {speed_mps:.1} m/s: nothing thrown from it does (rain, a bird)"
            ),
            Reject::Sparse { coverage } => write!(
                f,
                "seen in {:.0} % of the frames it spans: sightings of different things, such as rain streaks",
                100.0 * coverage
            ),
            Reject::Inconsistent { jump } => write!(
                f,
                "its size jumps by {jump:.1}× from one sighting to the next: sightings of different things, such as rain streaks"
            ),
            Reject::Climbing { approach } => write!(
                f,
                "it climbs the picture and its path comes only {approach:.2}× nearer the lens: a bird or a leaf rising, not a throw at the camera"
            ),
            Reject::AboveRoof { h_m, roof_m } => write!(
                f,
                "its path starts {:.1} m above the roof ({h_m:.1} m up the facade): nothing is thrown from there (rain near the lens, a bird)",
                h_m - roof_m
            ),
        }
    }
}

/// Where the fall started.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Origin {
    pub floor: i32,
    pub column: u32,
    /// In normalised image coordinates.
    pub x: f64,
    pub y: f64,
    /// Metres on the facade.
    pub u_m: f64,
    pub h_m: f64,
    /// Metres in front of the wall, when fitted in 3-D.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out_m: Option<f64>,
    /// One standard deviation of the height, metres.
    pub sigma_m: f64,
    /// Floors within two standard deviations.
    pub floor_range: [i32; 2],
    /// Stream time of the release (extrapolated), seconds.
    pub t: f64,
    /// `apex`: extrapolated back to where the vertical speed was zero; `first_sighting`: the
    /// extrapolation was too long to trust.
    pub method: &'static str,
}

/// How an accepted fall moved.
#[derive(Clone, Debug, PartialEq)]
pub enum Motion {
    /// On the facade plane: height and sideways position over time since the first sighting.
    Plane { height: Poly, lateral: Poly },
    /// In 3-D in front of the wall.
    Space(Flight),
}

/// An accepted fall.
#[derive(Clone, Debug, PartialEq)]
pub struct Fall {
    /// Downward acceleration (on the facade plane; in 3-D, gravity less drag), m/s².
    pub accel_mps2: f64,
    pub drop_m: f64,
    /// Speed at the last sighting, m/s.
    pub speed_mps: f64,
    /// How well the track fits: 1 exactly, 0.5 at the residual limit.
    pub quality: f64,
    /// Stream time of the first sighting, where the motion's time starts.
    pub t0: f64,
    pub motion: Motion,
    pub origin: Origin,
}

/// Whether the frames a track was seen in held more than `crowded` candidates (median over the
/// track): rain, where a track can hop from one streak to another.
pub(crate) fn crowded(track: &FallTrack, params: &ClassifyParams) -> bool {
    over_half(track.points.iter().map(|p| p.crowd), params.crowded)
}

/// Whether the frames before each of a track's sightings held more than `crowded` candidates
/// lately ([`crate::tracker::Crowd`], median over the track): a downpour, which may be in a
/// lull while the track lasts.
pub(crate) fn rained_lately(track: &FallTrack, params: &ClassifyParams) -> bool {
    over_half(track.points.iter().map(|p| p.crowd_lately), params.crowded)
}

/// Whether the median of `counts` is over `limit`.
fn over_half(counts: impl Iterator<Item = u32>, limit: u32) -> bool {
    let mut counts: Vec<u32> = counts.collect();
    counts.sort_unstable();
    counts.get(counts.len() / 2).is_some_and(|&c| c > limit)
}

/// The sightings and seconds a track needs to be judged: twice as many and 0.6 s where its
/// frames were `crowded` with candidates (rain, clutter).
pub(crate) fn needs(crowded: bool, params: &ClassifyParams) -> (usize, f64) {
    match crowded {
        true => (2 * params.min_frames, params.min_secs.max(0.6)),
        false => (params.min_frames, params.min_secs),
    }
}

/// Too few sightings, or too short a time, to judge ([`needs`]).
pub(crate) fn too_short(track: &FallTrack, params: &ClassifyParams) -> Result<(), Reject> {
    let pts = &track.points;
    let n = pts.len();
    if n == 0 {
        return Err(Reject::TooShort { frames: 0 });
    }
    let (min_frames, min_secs) = needs(crowded(track, params), params);
    if n < min_frames || pts[n - 1].t - pts[0].t < min_secs {
        return Err(Reject::TooShort { frames: n });
    }
    Ok(())
}

/// The verdict on one track, on the facade plane.
pub fn classify(
    track: &FallTrack,
    facade: &Facade,
    params: &ClassifyParams,
) -> Result<Fall, Reject> {
    too_short(track, params)?;
    let pts = &track.points;
    let n = pts.len();
    let t0 = pts[0].t;
    let ts: Vec<f64> = pts.iter().map(|p| p.t - t0).collect();
    let hs: Vec<f64> = pts.iter().map(|p| p.h).collect();
    let us: Vec<f64> = pts.iter().map(|p| p.u).collect();
    let top = hs.iter().copied().fold(f64::MIN, f64::max);
    let drop_m = top - hs[n - 1];
    if drop_m < params.min_drop_m {
        return Err(Reject::NotFalling { drop_m });
    }
    let height_fit = fit(&ts, &hs, 2).ok_or(Reject::TooShort { frames: n })?;
    let accel = -2.0 * height_fit.c[2];
    let limit = params.max_rms_m + params.rms_per_drop * drop_m;
    if height_fit.rms > limit {
        return Err(Reject::Erratic {
            rms_m: height_fit.rms,
            limit_m: limit,
        });
    }
    if accel < -params.accel_min {
        return Err(Reject::Rising { accel_mps2: accel });
    }
    if accel < params.accel_min {
        return Err(Reject::NoAcceleration { accel_mps2: accel });
    }
    if accel > params.accel_max {
        return Err(Reject::TooMuchAcceleration { accel_mps2: accel });
    }
    let lateral_fit = fit(&ts, &us, 1).ok_or(Reject::TooShort { frames: n })?;
    let lateral_limit = params.max_lateral_m + params.lateral_per_drop * drop_m;
    if lateral_fit.rms > lateral_limit {
        return Err(Reject::Lateral {
            rms_m: lateral_fit.rms,
            limit_m: lateral_limit,
        });
    }
    let t_end = ts[n - 1];
    let speed_mps = height_fit.slope(t_end).hypot(lateral_fit.c[1]);
    let fastest = height_fit.slope(0.0).abs().max(speed_mps);
    if fastest > params.max_speed {
        return Err(Reject::TooFast { speed_mps: fastest });
    }
    // The release is extrapolated from the start of the track, where drag has not yet bent
    // the parabola (a bag of rubbish falls ever slower than a stone).
    let early = ts
        .iter()
        .position(|&t| t > params.origin_fit_secs)
        .unwrap_or(n)
        .max(params.min_frames)
        .min(n);
    let early_fit = match early < n {
        true => fit(&ts[..early], &hs[..early], 2)
            .filter(|f| (params.accel_min..=params.accel_max).contains(&(-2.0 * f.c[2])))
            .unwrap_or_else(|| height_fit.clone()),
        false => height_fit.clone(),
    };
    let early_accel = -2.0 * early_fit.c[2];
    let origin = origin(&early_fit, &lateral_fit, early_accel, t0, facade, params);
    Ok(Fall {
        accel_mps2: accel,
        drop_m,
        speed_mps,
        quality: 1.0 - 0.5 * (height_fit.rms / limit).min(1.0),
        t0,
        motion: Motion::Plane {
            height: height_fit,
            lateral: lateral_fit,
        },
        origin,
    })
}

/// Back to where the vertical speed was zero (the apex of a throw, the release of a drop):
/// `h = c0 + c1² / 2a` at `t = c1 / a`, with its standard deviation from the fit's covariance.
fn origin(
    hf: &Poly,
    lf: &Poly,
    accel: f64,
    t0: f64,
    facade: &Facade,
    params: &ClassifyParams,
) -> Origin {
    let [c0, c1, c2] = hf.c;
    let t_apex = c1 / accel;
    let (t, h, grad, method) = if t_apex >= -params.max_extrapolation_secs {
        // ∂h/∂c for h = c0 − c1² / (4 c2).
        let grad = [1.0, -c1 / (2.0 * c2), c1 * c1 / (4.0 * c2 * c2)];
        (t_apex, c0 + c1 * c1 / (2.0 * accel), grad, "apex")
    } else {
        (0.0, c0, [1.0, 0.0, 0.0], "first_sighting")
    };
    let var: f64 = (0..3)
        .flat_map(|i| (0..3).map(move |j| (i, j)))
        .map(|(i, j)| grad[i] * hf.cov[i][j] * grad[j])
        .sum();
    // The fit's own spread, and never less than a tenth of a floor.
    let sigma_m = var
        .max(0.0)
        .sqrt()
        .max(hf.rms)
        .max(0.1 * facade.floor_height_m);
    let u = lf.at(t);
    let (x, y) = facade.to_image((u, h)).unwrap_or((f64::NAN, f64::NAN));
    Origin {
        floor: facade.floor_at(h),
        column: facade.column_at(u),
        x,
        y,
        u_m: u,
        h_m: h,
        out_m: None,
        sigma_m,
        floor_range: [
            facade.floor_at(h - 2.0 * sigma_m),
            facade.floor_at(h + 2.0 * sigma_m),
        ],
        t: t0 + t,
        method,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::G;
    use crate::tracker::Sighting;

    fn facade() -> Facade {
        crate::facade::skewed()
    }

    fn track(fps: f64, n: usize, f: impl Fn(f64) -> (f64, f64)) -> FallTrack {
        FallTrack {
            id: 1,
            points: (0..n)
                .map(|i| {
                    let t = 10.0 + i as f64 / fps;
                    let (u, h) = f(t - 10.0);
                    Sighting {
                        t,
                        x_px: 0.0,
                        y_px: 0.0,
                        u,
                        h,
                        area: 20,
                        size_px: 4.5,
                        length_px: 5.0,
                        spread: [1.7, 0.0, 1.7],
                        edge: false,
                        crowd: 1,
                        crowd_lately: 1,
                    }
                })
                .collect(),
        }
    }

    #[test]
    fn a_drop_is_a_fall_from_its_floor() {
        // Released at rest from 37.5 m (floor 13 of 3 m storeys) at t = 9.7 s; first seen 0.3 s
        // later, tracked for 2 s.
        let tr = track(25.0, 50, |t| {
            let s = t + 0.3;
            (13.0 + 0.4 * s, 37.5 - 0.5 * G * s * s)
        });
        let fall = classify(&tr, &facade(), &ClassifyParams::default()).unwrap();
        assert!((fall.accel_mps2 - G).abs() < 1e-6);
        assert_eq!(fall.origin.floor, 13);
        assert_eq!(fall.origin.column, 5);
        assert_eq!(fall.origin.method, "apex");
        assert!((fall.origin.h_m - 37.5).abs() < 1e-6);
        assert!((fall.origin.t - 9.7).abs() < 1e-6);
        assert!(fall.origin.floor_range[0] <= 13 && fall.origin.floor_range[1] >= 13);
    }

    #[test]
    fn a_throw_upwards_starts_at_its_apex() {
        let tr = track(30.0, 60, |t| {
            (8.0 - 1.0 * t, 20.0 + 3.0 * t - 0.5 * G * t * t)
        });
        let fall = classify(&tr, &facade(), &ClassifyParams::default()).unwrap();
        let apex = 20.0 + 9.0 / (2.0 * G);
        assert!((fall.origin.h_m - apex).abs() < 1e-6);
        assert_eq!(fall.origin.floor, 7);
    }

    #[test]
    fn distractors_are_rejected_with_their_reason() {
        let f = facade();
        let p = ClassifyParams::default();
        let reason = |tr: FallTrack| classify(&tr, &f, &p).unwrap_err();
        // Rain: constant 9 m/s downwards.
        assert!(matches!(
            reason(track(25.0, 30, |t| (5.0, 50.0 - 9.0 * t))),
            Reject::NoAcceleration { .. }
        ));
        // A bird climbing away.
        assert!(matches!(
            reason(track(25.0, 30, |t| (
                5.0 + 8.0 * t,
                20.0 + 1.0 * t + 2.0 * t * t
            ))),
            Reject::NotFalling { .. }
        ));
        // A bird diving and pulling up: drops 4 m, then rises.
        assert!(matches!(
            reason(track(25.0, 40, |t| (
                5.0 + 6.0 * t,
                30.0 - 8.0 * t + 3.0 * t * t
            ))),
            Reject::Rising { .. }
        ));
        // A leaf: 1.5 m/s with a 1 m sideways swing.
        assert!(matches!(
            reason(track(25.0, 100, |t| (
                5.0 + (t * 6.0).sin(),
                40.0 - 1.5 * t
            ))),
            Reject::NoAcceleration { .. } | Reject::Lateral { .. }
        ));
        // A swaying branch: back and forth in place.
        assert!(matches!(
            reason(track(25.0, 50, |t| (
                5.0 + 0.3 * (t * 3.0).sin(),
                10.0 + 0.5 * (t * 3.0).cos()
            ))),
            Reject::NotFalling { .. }
        ));
        // An insect at the lens: jumps about.
        let erratic = track(25.0, 30, |t| {
            let k = (t * 25.0).round() as i64;
            (
                5.0 + ((k * 7919) % 13) as f64,
                40.0 - 4.0 * t - ((k * 104_729) % 11) as f64,
            )
        });
        assert!(matches!(reason(erratic), Reject::Erratic { .. }));
        // A blip.
        assert!(matches!(
            reason(track(25.0, 7, |t| (5.0, 40.0 - 0.5 * G * t * t))),
            Reject::TooShort { frames: 7 }
        ));
        let rain = Reject::NoAcceleration { accel_mps2: 0.2 };
        assert!(rain.to_string().contains("rain"), "{rain}");
        let json = serde_json::to_value(&rain).unwrap();
        assert_eq!(json["reason"], rain.code());
    }
}
