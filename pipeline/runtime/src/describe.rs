//! Alert records as one line for a person watching the terminal.

use vigil_core::{Alert, AlertEvent};

/// One line for a person watching the terminal.
pub fn describe(a: &Alert) -> String {
    let zone = a.zone.as_ref().map_or("-", |z| z.as_str());
    let head = format!(
        "{} camera={} rule={} zone={zone}",
        a.kind.as_str(),
        a.camera,
        a.rule
    );
    match a.event {
        AlertEvent::Start if a.trajectory.is_some() => {
            let t = a.trajectory.as_ref().expect("matched");
            let o = &t.origin;
            format!(
                "ALERT {head} from floor {} (floors {}-{}), column {}: fell {:.1} m at {:.1} m/s² over {} frames, released={:.2}s raised={:.2}s {} id={}",
                o.floor,
                o.floor_range[0],
                o.floor_range[1],
                o.column,
                t.drop_m,
                t.acceleration_mps2,
                t.points.len(),
                o.pts_secs,
                a.raised_pts_secs,
                a.wall_time,
                a.id
            )
        }
        AlertEvent::Start => {
            let objects: Vec<String> = a
                .objects
                .iter()
                .map(|o| {
                    let b = o.bbox_px.to_array().map(|v| v.round() as i32);
                    format!("{} {} {:.2} at {:?}", o.object, o.class, o.score, b)
                })
                .collect();
            format!(
                "ALERT {head} started={:.2}s raised={:.2}s {} [{}] id={}",
                a.started_pts_secs,
                a.raised_pts_secs,
                a.wall_time,
                objects.join("; "),
                a.id
            )
        }
        AlertEvent::Update => format!(
            "UPDATE {head} still there {:.1} s after the alert ({:.1} s in all) {} id={}",
            a.updated_pts_secs.unwrap_or(a.raised_pts_secs) - a.raised_pts_secs,
            a.updated_pts_secs.unwrap_or(a.raised_pts_secs) - a.started_pts_secs,
            a.wall_time,
            a.id
        ),
        AlertEvent::End => {
            let ended = a.ended_pts_secs.unwrap_or(a.raised_pts_secs);
            format!(
                "END {head} started={:.2}s ended={ended:.2}s (lasted {:.1} s) id={}",
                a.started_pts_secs,
                ended - a.started_pts_secs,
                a.id
            )
        }
        AlertEvent::Evidence | AlertEvent::EndEvidence => {
            match (&a.evidence.clip, &a.evidence.error) {
                (Some(c), _) => format!(
                    "  {}evidence for {}: clip {} ({:.1} s from {:.2}s, sha256 {})",
                    if a.event == AlertEvent::EndEvidence {
                        "end "
                    } else {
                        ""
                    },
                    a.id,
                    c.path,
                    c.duration_secs,
                    c.first_pts_secs,
                    &c.sha256[..12.min(c.sha256.len())]
                ),
                (None, e) => {
                    format!(
                        "  evidence for {}: no clip ({})",
                        a.id,
                        e.as_deref().unwrap_or("unknown")
                    )
                }
            }
        }
        AlertEvent::Expired | AlertEvent::EndExpired => {
            let reason = a.evidence.error.as_deref().unwrap_or("retention");
            format!("  evidence for {} deleted ({reason})", a.id)
        }
    }
}
