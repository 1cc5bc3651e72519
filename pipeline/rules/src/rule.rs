//! How the engine judges a [`Rule`] (defined in `vigil-spec`): which tracks it applies to, and
//! which way an anchor crossed its line.

use vigil_core::{Size, Track};
use vigil_spec::rule::{Direction, Rule, RuleKind};

/// Whether track `t` is one `rule` watches: its score, its size in a frame of `frame`, its class
/// (and, for `unsorted_waste`, a category the bin does not accept).
pub(crate) fn applies_to(rule: &Rule, t: &Track, frame: Size) -> bool {
    let frame_area = f64::from(frame.width) * f64::from(frame.height);
    let b = t.bbox_px;
    let area = f64::from((b.x2 - b.x1).max(0.0)) * f64::from((b.y2 - b.y1).max(0.0));
    let fraction = if frame_area > 0.0 {
        area / frame_area
    } else {
        0.0
    };
    t.score >= rule.min_score
        && (rule.min_area..=rule.max_area).contains(&fraction)
        && rule
            .classes
            .iter()
            .any(|c| *c == *t.group || *c == *t.class)
        && match &rule.kind {
            RuleKind::Unsorted { accepts } => {
                !accepts.iter().any(|c| *c == *t.group || *c == *t.class)
            }
            _ => true,
        }
}

/// Whether a crossing `c` is one the rule's `direction` counts.
pub(crate) fn accepts(direction: Direction, c: Crossed) -> bool {
    match direction {
        Direction::Any => true,
        Direction::LeftToRight => c == Crossed::LeftToRight,
        Direction::RightToLeft => c == Crossed::RightToLeft,
    }
}

/// Which way an anchor moved across a line, as seen walking along it from its first point to its
/// second on the image: from the walker's left to their right, or back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Crossed {
    LeftToRight,
    RightToLeft,
}

/// Whether the move `p → q` crosses the segment `a → b`, and which way.
pub fn crossing(a: (f32, f32), b: (f32, f32), p: (f32, f32), q: (f32, f32)) -> Option<Crossed> {
    // Image y grows downwards: with d = b − a, the walker's left is where cross(d, v) < 0.
    let cross = |o: (f32, f32), u: (f32, f32), v: (f32, f32)| {
        (u.0 - o.0) * (v.1 - o.1) - (u.1 - o.1) * (v.0 - o.0)
    };
    let (sp, sq) = (cross(a, b, p), cross(a, b, q));
    let (sa, sb) = (cross(p, q, a), cross(p, q, b));
    // A point on the line counts as on its right, so touching it and going on is one crossing
    // and touching it and coming back is none.
    let left = |x: f32| x < 0.0;
    let opposite = |x: f32, y: f32| (x < 0.0 && y > 0.0) || (x > 0.0 && y < 0.0);
    if left(sp) == left(sq) || !opposite(sa, sb) {
        return None;
    }
    Some(if sp < 0.0 {
        Crossed::LeftToRight
    } else {
        Crossed::RightToLeft
    })
}
