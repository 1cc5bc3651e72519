//! A bounded, keyframe-aligned ring of encoded access units: the pre-roll of every clip.

use std::collections::VecDeque;
use std::time::Duration;
use vigil_core::EncodedUnit;

/// How much a camera's ring keeps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RingLimits {
    /// At least this much stream time before the newest unit (as whole GOPs).
    pub pre_roll: Duration,
    /// Never more than this many bytes, whatever `pre_roll` asks (oldest GOPs go first; the
    /// newest GOP is always kept).
    pub max_bytes: usize,
}

/// Access units of one camera, oldest first, always starting at a keyframe, all of one stream
/// format (caps): when the camera comes back with another format (a reconnect at a new
/// resolution), what was held is dropped, since one MP4 cannot hold both.
#[derive(Debug)]
pub struct EncodedRing {
    limits: RingLimits,
    units: VecDeque<EncodedUnit>,
    bytes: usize,
    /// Units thrown away because no keyframe had been seen yet.
    pub skipped_before_keyframe: u64,
    /// Times the stream format changed (the ring restarted).
    pub format_changes: u64,
}

impl EncodedRing {
    pub fn new(limits: RingLimits) -> Self {
        Self {
            limits,
            units: VecDeque::new(),
            bytes: 0,
            skipped_before_keyframe: 0,
            format_changes: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.units.len()
    }

    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The newest unit's time.
    pub fn newest(&self) -> Option<Duration> {
        self.units.back().and_then(|u| u.pts)
    }

    /// Stream time covered, from the first unit to the newest.
    pub fn span(&self) -> Duration {
        match (
            self.units.front().and_then(|u| u.pts),
            self.units.back().and_then(|u| u.pts),
        ) {
            (Some(a), Some(b)) => b.saturating_sub(a),
            _ => Duration::ZERO,
        }
    }

    /// Adds the newest unit and evicts what the limits no longer need.
    pub fn push(&mut self, unit: EncodedUnit) {
        if self.units.back().is_some_and(|last| last.caps != unit.caps) {
            self.format_changes += 1;
            self.units.clear();
            self.bytes = 0;
        }
        if self.units.is_empty() && !unit.keyframe {
            self.skipped_before_keyframe += 1;
            return;
        }
        self.bytes += unit.data.len();
        self.units.push_back(unit);
        self.evict();
    }

    /// Index of the second keyframe (the start of the second GOP), if any.
    fn second_gop(&self) -> Option<usize> {
        self.units
            .iter()
            .skip(1)
            .position(|u| u.keyframe)
            .map(|i| i + 1)
    }

    fn evict(&mut self) {
        let newest = self.units.back().and_then(|u| u.pts).unwrap_or_default();
        while let Some(cut) = self.second_gop() {
            let second_start = self.units[cut].pts.unwrap_or_default();
            // The oldest GOP is not needed when the next one alone still reaches back pre_roll.
            let enough_time = newest.saturating_sub(second_start) >= self.limits.pre_roll;
            let too_big = self.bytes > self.limits.max_bytes;
            if !(enough_time || too_big) {
                break;
            }
            for u in self.units.drain(..cut) {
                self.bytes -= u.data.len();
            }
        }
    }

    /// Units from the last keyframe at or before `from` (or the oldest held) to the newest.
    pub fn since(&self, from: Duration) -> Vec<EncodedUnit> {
        let start = self
            .units
            .iter()
            .enumerate()
            .filter(|(_, u)| u.keyframe && u.pts.is_some_and(|p| p <= from))
            .map(|(i, _)| i)
            .next_back()
            .unwrap_or(0);
        self.units.iter().skip(start).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use vigil_core::CameraId;

    /// 25 fps, a keyframe every `gop` frames, 1000-byte units.
    fn unit(i: u64, gop: u64) -> EncodedUnit {
        let pts = Duration::from_millis(40 * i);
        EncodedUnit {
            camera: CameraId::new("c"),
            pts: Some(pts),
            dts: Some(pts),
            keyframe: i.is_multiple_of(gop),
            caps: Arc::from("video/x-h264"),
            data: Arc::from(vec![0u8; 1000]),
        }
    }

    #[test]
    fn keeps_pre_roll_in_whole_gops() {
        let mut r = EncodedRing::new(RingLimits {
            pre_roll: Duration::from_secs(2),
            max_bytes: usize::MAX,
        });
        for i in 0..500 {
            r.push(unit(i, 25));
            assert!(r.units.front().unwrap().keyframe);
            if i >= 75 {
                // At least 2 s back, and less than 2 s + one GOP (1 s).
                assert!(r.span() >= Duration::from_secs(2), "{:?} at {i}", r.span());
                assert!(r.span() < Duration::from_secs(3), "{:?} at {i}", r.span());
            }
        }
        assert_eq!(r.bytes(), r.len() * 1000);
    }

    #[test]
    fn byte_cap_wins_but_keeps_the_newest_gop() {
        let mut r = EncodedRing::new(RingLimits {
            pre_roll: Duration::from_secs(60),
            max_bytes: 40_000,
        });
        for i in 0..1000 {
            r.push(unit(i, 25));
            assert!(r.bytes() <= 40_000 || r.second_gop().is_none());
        }
        assert!(r.units.front().unwrap().keyframe);
    }

    #[test]
    fn waits_for_a_keyframe() {
        let mut r = EncodedRing::new(RingLimits {
            pre_roll: Duration::from_secs(1),
            max_bytes: usize::MAX,
        });
        for i in 1..25 {
            r.push(unit(i, 25));
        }
        assert!(r.is_empty());
        assert_eq!(r.skipped_before_keyframe, 24);
        r.push(unit(25, 25));
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn a_format_change_restarts_the_ring_at_the_next_keyframe() {
        let mut r = EncodedRing::new(RingLimits {
            pre_roll: Duration::from_secs(10),
            max_bytes: usize::MAX,
        });
        for i in 0..60 {
            r.push(unit(i, 25));
        }
        let other = |i: u64| EncodedUnit {
            caps: Arc::from("video/x-h264, width=(int)1920"),
            ..unit(i, 25)
        };
        for i in 60..75 {
            r.push(other(i)); // no keyframe in the new format yet
        }
        assert!(r.is_empty());
        assert_eq!(r.format_changes, 1);
        for i in 75..100 {
            r.push(other(i));
        }
        let units = r.since(Duration::ZERO);
        assert_eq!(units[0].pts, Some(Duration::from_millis(40 * 75)));
        assert!(units[0].keyframe);
        assert!(units.iter().all(|u| u.caps == other(0).caps));
    }

    #[test]
    fn since_starts_at_the_last_keyframe_before() {
        let mut r = EncodedRing::new(RingLimits {
            pre_roll: Duration::from_secs(10),
            max_bytes: usize::MAX,
        });
        for i in 0..200 {
            r.push(unit(i, 25));
        }
        // 3.3 s → frame 82; the keyframe at or before it is frame 75 (3.0 s).
        let units = r.since(Duration::from_millis(3300));
        assert_eq!(units[0].pts, Some(Duration::from_secs(3)));
        assert!(units[0].keyframe);
        assert_eq!(
            units.last().unwrap().pts,
            Some(Duration::from_millis(40 * 199))
        );
    }
}
