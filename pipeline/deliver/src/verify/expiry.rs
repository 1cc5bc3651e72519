//! Is an `expired` record what retention would have written? A clip deleted by hand and covered
//! by a made-up `expired` record must not pass as retention: the record must carry the rule that
//! deleted the clip ([`RetentionGrounds`]), its measurement must exceed the rule's limit, an age
//! must agree with the alert's own time, and — given the site's retention policy — the limit must
//! be the one configured.

use std::time::Duration;
use vigil_core::time::parse_rfc3339;
use vigil_core::{Alert, RetentionGrounds};

/// The retention limits a site configures (`evidence.max_age_days`, …), for [`check`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RetentionPolicy {
    pub max_age_days: Option<f64>,
    pub max_mb_per_camera: Option<f64>,
    pub max_total_mb: Option<f64>,
}

/// What is wrong with the `expired` record `record` of an alert first stored at `stored_at`
/// (RFC 3339), if anything.
pub fn check(record: &Alert, stored_at: &str, policy: Option<&RetentionPolicy>) -> Option<String> {
    let Some(g) = &record.evidence.retention else {
        return Some(
            "clip deleted with no retention rule recorded (deleted by hand, or a forged expiry)"
                .into(),
        );
    };
    let RetentionGrounds {
        rule,
        limit,
        measured,
        deleted_at,
    } = g;
    let configured = policy.map(|p| match rule.as_str() {
        "max_age_days" => p.max_age_days,
        "max_mb_per_camera" => p.max_mb_per_camera,
        "max_total_mb" => p.max_total_mb,
        _ => None,
    });
    if !matches!(
        rule.as_str(),
        "max_age_days" | "max_mb_per_camera" | "max_total_mb"
    ) {
        return Some(format!(
            "clip deleted under an unknown retention rule \"{rule}\""
        ));
    }
    if measured <= limit || measured.is_nan() || limit.is_nan() {
        return Some(format!(
            "clip deleted under {rule} {limit}, but what it measured ({measured}) does not exceed it"
        ));
    }
    if let Some(configured) = configured {
        match configured {
            None => {
                return Some(format!(
                    "clip deleted under {rule}, which the configuration does not set"
                ));
            }
            // Budgets are kept in whole bytes and ages in milliseconds: a byte is 1e-6 MB.
            Some(c) if (c - limit).abs() > 2e-6 + c.abs() * 1e-9 => {
                return Some(format!(
                    "clip deleted under {rule} {limit}, but the configuration says {c}"
                ));
            }
            Some(_) => {}
        }
    }
    if rule == "max_age_days" {
        let (Some(stored), Some(deleted)) = (parse_rfc3339(stored_at), parse_rfc3339(deleted_at))
        else {
            return Some(format!(
                "expired record's times cannot be read ({stored_at}, {deleted_at})"
            ));
        };
        let age = deleted.duration_since(stored).unwrap_or(Duration::ZERO);
        let days = age.as_secs_f64() / 86_400.0;
        if days < *limit {
            return Some(format!(
                "clip deleted as older than {limit} days, but the alert was stored {days:.2} days before the deletion"
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expired(rule: &str, limit: f64, measured: f64, deleted_at: &str) -> Alert {
        let mut a = vigil_testkit::alert("a", "gate");
        a.event = vigil_core::AlertEvent::Expired;
        a.evidence.retention = Some(RetentionGrounds {
            rule: rule.into(),
            limit,
            measured,
            deleted_at: deleted_at.into(),
        });
        a
    }

    const STORED: &str = "2026-11-01T00:00:00.000Z";
    const POLICY: RetentionPolicy = RetentionPolicy {
        max_age_days: Some(30.0),
        max_mb_per_camera: Some(2048.0),
        max_total_mb: None,
    };

    #[test]
    fn retention_as_configured_passes() {
        let age = expired("max_age_days", 30.0, 30.5, "2026-12-01T12:00:00.000Z");
        assert_eq!(check(&age, STORED, Some(&POLICY)), None);
        let budget = expired(
            "max_mb_per_camera",
            2048.0,
            2050.0,
            "2026-11-02T00:00:00.000Z",
        );
        assert_eq!(check(&budget, STORED, Some(&POLICY)), None);
        assert_eq!(check(&budget, STORED, None), None);
    }

    #[test]
    fn forged_expiries_are_named() {
        let mut bare = vigil_testkit::alert("a", "gate");
        bare.event = vigil_core::AlertEvent::Expired;
        let cases = [
            (bare, "no retention rule recorded"),
            (
                expired("max_age_days", 30.0, 30.5, "2026-11-03T00:00:00.000Z"),
                "stored 2.00 days before the deletion",
            ),
            (
                expired("max_age_days", 0.001, 2.0, "2026-11-03T00:00:00.000Z"),
                "but the configuration says 30",
            ),
            (
                expired(
                    "max_mb_per_camera",
                    2048.0,
                    100.0,
                    "2026-11-03T00:00:00.000Z",
                ),
                "does not exceed it",
            ),
            (
                expired("max_total_mb", 10.0, 20.0, "2026-11-03T00:00:00.000Z"),
                "which the configuration does not set",
            ),
            (
                expired("because", 1.0, 2.0, "2026-11-03T00:00:00.000Z"),
                "unknown retention rule",
            ),
        ];
        for (record, says) in cases {
            let found = check(&record, STORED, Some(&POLICY)).unwrap_or_default();
            assert!(found.contains(says), "{found:?} should say {says:?}");
        }
    }
}
