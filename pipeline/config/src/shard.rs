//! Camera sharding across instances: every instance reads the same camera list and keeps the
//! cameras it wins by **rendezvous (highest-random-weight) hashing** on the camera's name. Each
//! camera belongs to exactly one of `count` shards, the choice needs no coordination, and going
//! from N to N + 1 shards moves only the cameras the new shard wins — about 1/(N + 1) of them —
//! each from wherever it was to the new shard.

use std::fmt;

/// This instance's part of the cameras: shard `index` of `count` (0-based, as StatefulSet pod
/// ordinals are).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Who this instance is among several running the same config: its name (unique among them:
/// the MQTT client id and status topic carry it) and its shard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    pub id: String,
    pub shard: Option<Shard>,
}

impl Instance {
    /// Checks `id` can name an instance: 1–64 of `A–Z a–z 0–9 _ . -` (it goes into MQTT topics
    /// and client ids).
    pub fn new(id: &str, shard: Option<Shard>) -> Result<Self, String> {
        let ok = !id.is_empty()
            && id.len() <= 64
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !ok {
            return Err(format!(
                "\"{id}\" must be 1–64 letters, digits, '_', '.' or '-'"
            ));
        }
        Ok(Self {
            id: id.to_string(),
            shard,
        })
    }
}

/// FNV-1a over the bytes, then a 64-bit finaliser (splitmix64): stable across Rust versions and
/// machines, which the standard library's hasher does not promise.
fn hash(bytes: &[u8], salt: u32) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes.iter().chain(&salt.to_le_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// This machine's host name (a pod's name, in a StatefulSet): `HOSTNAME`, else the kernel's.
pub fn host_name() -> Option<String> {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
}

/// The shard (of `count`) that owns `camera`: the one with the highest weight.
pub fn owner(camera: &str, count: u32) -> u32 {
    (0..count.max(1))
        .max_by_key(|&s| (hash(camera.as_bytes(), s), s))
        .unwrap_or(0)
}

impl Shard {
    /// `I/N` (`0/3`), or `auto`: the index from `VIGIL_SHARD_INDEX`, else the trailing
    /// `-<ordinal>` of the host name (a StatefulSet pod `vigil-2`); the count from
    /// `VIGIL_SHARD_COUNT`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (index, count) = match text.trim() {
            "auto" => {
                let index = match std::env::var("VIGIL_SHARD_INDEX") {
                    Ok(i) => i,
                    Err(_) => {
                        let host = host_name().unwrap_or_default();
                        host.rsplit_once('-').map(|(_, o)| o.to_string()).ok_or_else(|| {
                            format!(
                                "auto: VIGIL_SHARD_INDEX is not set and the host name \"{host}\" does not end in -<ordinal>"
                            )
                        })?
                    }
                };
                let count = std::env::var("VIGIL_SHARD_COUNT")
                    .map_err(|_| "auto: VIGIL_SHARD_COUNT is not set".to_string())?;
                (index, count)
            }
            other => {
                let (i, n) = other.split_once('/').ok_or_else(|| {
                    format!("\"{other}\": expected INDEX/COUNT, e.g. 0/3, or auto")
                })?;
                (i.to_string(), n.to_string())
            }
        };
        let number = |s: &str, what: &str| {
            s.trim()
                .parse::<u32>()
                .map_err(|_| format!("the {what} \"{s}\" is not a whole number"))
        };
        let (index, count) = (number(&index, "index")?, number(&count, "count")?);
        if count == 0 || count > 10_000 || index >= count {
            return Err(format!(
                "{index}/{count}: the count must be 1–10000 and the index below it (0-based)"
            ));
        }
        Ok(Self { index, count })
    }

    /// Whether this shard processes `camera`.
    pub fn owns(&self, camera: &str) -> bool {
        owner(camera, self.count) == self.index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cameras(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("building-{}-cam-{}", i / 7, i % 7))
            .collect()
    }

    #[test]
    fn every_camera_has_exactly_one_shard() {
        for count in 1..=6 {
            for c in cameras(200) {
                let owners = (0..count)
                    .filter(|&i| Shard { index: i, count }.owns(&c))
                    .count();
                assert_eq!(owners, 1, "{c} with {count} shards");
            }
        }
    }

    #[test]
    fn adding_a_shard_moves_only_what_the_new_shard_wins() {
        let cams = cameras(3000);
        for n in 1..=8u32 {
            let moved: Vec<&String> = cams
                .iter()
                .filter(|c| owner(c, n) != owner(c, n + 1))
                .collect();
            // Every moved camera goes to the new shard; none moves between old shards.
            assert!(
                moved.iter().all(|c| owner(c, n + 1) == n),
                "{n} → {}",
                n + 1
            );
            // About 1/(N+1) of them (3000 cameras: within 20 % of the expectation).
            let expected = cams.len() as f64 / f64::from(n + 1);
            let got = moved.len() as f64;
            assert!(
                (got - expected).abs() <= 0.2 * expected,
                "{n} → {}: moved {got}, expected ≈ {expected:.0}",
                n + 1
            );
        }
    }

    #[test]
    fn shards_get_a_fair_share() {
        let cams = cameras(3000);
        let per: Vec<usize> = (0..5)
            .map(|i| cams.iter().filter(|c| owner(c, 5) == i).count())
            .collect();
        assert!(per.iter().all(|&n| (480..=720).contains(&n)), "{per:?}");
    }

    #[test]
    fn the_assignment_is_stable_across_builds() {
        // Pinned: a change of hash would move cameras between running instances on upgrade.
        let got: Vec<u32> = ["gate", "bins-east", "fire-lane-3", "lot"]
            .iter()
            .map(|c| owner(c, 3))
            .collect();
        assert_eq!(got, [1, 0, 2, 0]);
        assert_eq!(hash(b"gate", 0), PINNED_HASH);
    }

    const PINNED_HASH: u64 = 8_053_361_418_699_836_855;

    #[test]
    fn shard_strings() {
        assert_eq!(Shard::parse("1/3"), Ok(Shard { index: 1, count: 3 }));
        for bad in ["3/3", "1", "a/3", "1/0", "-1/3", "1/3/4"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }
}
