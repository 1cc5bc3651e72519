//! `detector.motion_gate`, range-checked into a [`MotionGate`].

use crate::check::Validator;
use crate::raw::RawMotionGate;
use std::time::Duration;
use vigil_spec::motion::MotionGate;

pub(crate) fn validate(v: &mut Validator<'_>, raw: Option<&RawMotionGate>) -> MotionGate {
    let mut gate = MotionGate::default();
    let Some(raw) = raw else { return gate };
    if let Some(on) = raw.enabled {
        gate.enabled = on;
    }
    if let Some(s) = &raw.stationary_check_secs {
        let ok = s.value.is_finite() && (1.0..=600.0).contains(&s.value);
        v.check(ok, s, "stationary_check_secs must be in [1, 600]");
        if ok {
            gate.stationary_check = Duration::from_secs_f64(s.value);
        }
    }
    if let Some(t) = &raw.threshold {
        let ok = t.value.is_finite() && t.value >= 1.0 && t.value <= 255.0;
        v.check(ok, t, "threshold must be in [1, 255] (luma levels)");
        if ok {
            gate.threshold = t.value;
        }
    }
    if let Some(m) = &raw.margin {
        let ok = m.value.is_finite() && (0.0..=0.5).contains(&m.value);
        v.check(
            ok,
            m,
            "margin must be in [0, 0.5] (a fraction of the frame)",
        );
        if ok {
            gate.margin = m.value;
        }
    }
    if let Some(n) = &raw.settle_frames {
        let ok = (1..=100).contains(&n.value);
        v.check(ok, n, "settle_frames must be between 1 and 100");
        if ok {
            gate.settle_frames = n.value;
        }
    }
    gate
}
