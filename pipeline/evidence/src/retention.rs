//! Retention: which evidence files to delete so that each camera and the whole store stay within
//! their budgets. Oldest first — acknowledged evidence before unacknowledged when
//! `keep_unacknowledged_longest` is set (the default: what nobody has looked at yet is what a
//! person still needs); files older than `max_age` always go, acknowledged or not (privacy). A pure function over a list
//! of files, so the policy is tested without a disk; the caller deletes and records the deletions.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// Budgets; `None` means no limit.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RetentionLimits {
    pub max_age: Option<Duration>,
    pub max_bytes_per_camera: Option<u64>,
    pub max_bytes_total: Option<u64>,
    /// Budgets delete acknowledged evidence (oldest first) before any unacknowledged evidence.
    pub keep_unacknowledged_longest: bool,
}

/// One evidence file as the store knows it.
#[derive(Clone, Debug, PartialEq)]
pub struct EvidenceFile {
    pub camera: String,
    pub path: String,
    pub bytes: u64,
    /// When the evidence was recorded (orders "oldest first").
    pub created: SystemTime,
    /// Every alert the file is evidence of has been acknowledged.
    pub acknowledged: bool,
}

/// Why a file is to be deleted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expiry {
    Age,
    CameraBudget,
    TotalBudget,
}

impl Expiry {
    pub fn describe(&self) -> &'static str {
        match self {
            Expiry::Age => "older than max_age_days",
            Expiry::CameraBudget => "camera over max_mb_per_camera",
            Expiry::TotalBudget => "evidence over max_total_mb",
        }
    }
}

/// What `plan` measured against the rule that dooms `files[i]`, recorded in its `expired`
/// record: the clip's age in days (`max_age_days`), or its camera's or all clips' megabytes when
/// the plan was made (the budgets).
pub fn grounds(
    files: &[EvidenceFile],
    i: usize,
    why: &Expiry,
    limits: RetentionLimits,
    now: SystemTime,
) -> vigil_core::RetentionGrounds {
    const MB: f64 = 1024.0 * 1024.0;
    let megabytes = |f: &dyn Fn(&EvidenceFile) -> bool| {
        files.iter().filter(|x| f(x)).map(|x| x.bytes).sum::<u64>() as f64 / MB
    };
    let (rule, limit, measured) = match why {
        Expiry::Age => (
            "max_age_days",
            limits.max_age.unwrap_or_default().as_secs_f64() / 86_400.0,
            now.duration_since(files[i].created)
                .unwrap_or_default()
                .as_secs_f64()
                / 86_400.0,
        ),
        Expiry::CameraBudget => (
            "max_mb_per_camera",
            limits.max_bytes_per_camera.unwrap_or_default() as f64 / MB,
            megabytes(&|x| x.camera == files[i].camera),
        ),
        Expiry::TotalBudget => (
            "max_total_mb",
            limits.max_bytes_total.unwrap_or_default() as f64 / MB,
            megabytes(&|_| true),
        ),
    };
    vigil_core::RetentionGrounds {
        rule: rule.to_string(),
        limit,
        measured,
        deleted_at: vigil_core::time::rfc3339(now),
    }
}

/// Files to delete (indices into `files`) with the reason, oldest first.
pub fn plan(
    files: &[EvidenceFile],
    limits: RetentionLimits,
    now: SystemTime,
) -> Vec<(usize, Expiry)> {
    let mut order: Vec<usize> = (0..files.len()).collect();
    // Deletion order for the budgets: oldest first, acknowledged ones before the others if asked.
    order.sort_by_key(|&i| {
        let f = &files[i];
        (
            limits.keep_unacknowledged_longest && !f.acknowledged,
            f.created,
        )
    });
    let mut doomed: BTreeMap<usize, Expiry> = BTreeMap::new();
    if let Some(max_age) = limits.max_age {
        for &i in &order {
            if now.duration_since(files[i].created).unwrap_or_default() > max_age {
                doomed.insert(i, Expiry::Age);
            }
        }
    }
    if let Some(budget) = limits.max_bytes_per_camera {
        let mut per_camera: BTreeMap<&str, u64> = BTreeMap::new();
        for (i, f) in files.iter().enumerate() {
            if !doomed.contains_key(&i) {
                *per_camera.entry(&f.camera).or_default() += f.bytes;
            }
        }
        for &i in &order {
            let f = &files[i];
            if doomed.contains_key(&i) {
                continue;
            }
            let used = per_camera
                .get_mut(f.camera.as_str())
                .expect("counted above");
            if *used > budget {
                *used -= f.bytes;
                doomed.insert(i, Expiry::CameraBudget);
            }
        }
    }
    if let Some(budget) = limits.max_bytes_total {
        let mut used: u64 = files
            .iter()
            .enumerate()
            .filter(|(i, _)| !doomed.contains_key(i))
            .map(|(_, f)| f.bytes)
            .sum();
        for &i in &order {
            if used > budget && !doomed.contains_key(&i) {
                used -= files[i].bytes;
                doomed.insert(i, Expiry::TotalBudget);
            }
        }
    }
    let mut out: Vec<(usize, Expiry)> = doomed.into_iter().collect();
    out.sort_by_key(|(i, _)| files[*i].created);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    fn file(camera: &str, bytes: u64, age_days: u64, now: SystemTime) -> EvidenceFile {
        EvidenceFile {
            camera: camera.into(),
            path: format!("{camera}-{age_days}"),
            bytes,
            created: now - DAY * age_days as u32,
            acknowledged: false,
        }
    }

    #[test]
    fn within_budgets_nothing_goes() {
        let now = SystemTime::now();
        let files = vec![file("a", 10, 1, now), file("b", 10, 2, now)];
        let limits = RetentionLimits {
            max_age: Some(DAY * 30),
            max_bytes_per_camera: Some(100),
            max_bytes_total: Some(100),
            keep_unacknowledged_longest: true,
        };
        assert!(plan(&files, limits, now).is_empty());
    }

    #[test]
    fn oldest_go_first_per_camera_then_in_total_and_old_ones_always() {
        let now = SystemTime::now();
        let files = vec![
            file("a", 40, 5, now), // 0
            file("a", 40, 4, now), // 1
            file("a", 40, 1, now), // 2
            file("b", 40, 3, now), // 3
            file("b", 40, 2, now), // 4
            file("c", 1, 40, now), // 5: too old
        ];
        let limits = RetentionLimits {
            max_age: Some(DAY * 30),
            max_bytes_per_camera: Some(80),
            max_bytes_total: Some(120),
            keep_unacknowledged_longest: true,
        };
        let got = plan(&files, limits, now);
        // c's file by age; a's oldest for a's budget (120 > 80); then total 160 > 120: the oldest
        // left (a's day-4 file) goes.
        assert_eq!(
            got,
            vec![
                (5, Expiry::Age),
                (0, Expiry::CameraBudget),
                (1, Expiry::TotalBudget)
            ]
        );
    }

    #[test]
    fn acknowledged_evidence_goes_before_unacknowledged_but_age_spares_none() {
        let now = SystemTime::now();
        let mut files = vec![
            file("a", 40, 5, now), // 0: oldest, not acknowledged
            file("a", 40, 3, now), // 1: acknowledged
            file("a", 40, 1, now), // 2: acknowledged
            file("a", 1, 40, now), // 3: too old, not acknowledged
        ];
        files[1].acknowledged = true;
        files[2].acknowledged = true;
        let mut limits = RetentionLimits {
            max_age: Some(DAY * 30),
            max_bytes_per_camera: Some(50),
            max_bytes_total: None,
            keep_unacknowledged_longest: true,
        };
        let got = plan(&files, limits, now);
        assert_eq!(
            got,
            vec![
                (3, Expiry::Age),
                (1, Expiry::CameraBudget),
                (2, Expiry::CameraBudget)
            ],
            "the unacknowledged day-5 clip outlives newer acknowledged ones"
        );
        limits.keep_unacknowledged_longest = false;
        let got = plan(&files, limits, now);
        assert_eq!(
            got,
            vec![
                (3, Expiry::Age),
                (0, Expiry::CameraBudget),
                (1, Expiry::CameraBudget)
            ]
        );
    }
}
