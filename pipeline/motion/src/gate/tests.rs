use super::*;
use std::sync::Arc;

fn car(x: f32) -> Detection {
    Detection {
        bbox_px: BBoxPx::new(x, 100.0, x + 200.0, 200.0),
        class_id: 2,
        class: Arc::from("car"),
        group: Arc::from("vehicle"),
        score: 0.8,
    }
}

fn spec() -> MotionGate {
    MotionGate {
        stationary_check: Duration::from_secs(10),
        settle_frames: 3,
        ..MotionGate::default()
    }
}

/// Frames at 5 fps from `t0` for `n` frames, no motion: which the gate looks at.
fn still(
    gate: &mut Gate,
    carry: &mut Carry<Detection>,
    t0: f64,
    n: usize,
    found: &[Detection],
) -> Vec<f64> {
    let mut looked = Vec::new();
    for i in 0..n {
        let t = t0 + i as f64 * 0.2;
        if gate.look(Duration::from_secs_f64(t), false) {
            carry.looked(found, Duration::from_secs_f64(t), false);
            looked.push((t * 10.0).round() / 10.0);
        }
    }
    looked
}

#[test]
fn the_gate_looks_until_finds_settle_then_only_at_motion() {
    let shared = Arc::new(Shared::default());
    let (mut gate, mut carry) = (
        Gate::new(&spec(), shared.clone()),
        Carry::new(&spec(), shared.clone()),
    );
    // An empty scene: three agreeing looks, then nothing until motion.
    assert_eq!(still(&mut gate, &mut carry, 0.0, 50, &[]), [0.0, 0.2, 0.4]);
    assert!(gate.look(Duration::from_secs(11), true));
    assert_eq!((shared.looked(), shared.skipped()), (4, 47));
    assert!(carry.skipped().is_empty());
}

#[test]
fn a_standing_object_is_looked_at_every_stationary_check_and_carried_between() {
    let shared = Arc::new(Shared::default());
    let (mut gate, mut carry) = (
        Gate::new(&spec(), shared.clone()),
        Carry::new(&spec(), shared),
    );
    let parked = [car(500.0)];
    let looked = still(&mut gate, &mut carry, 0.0, 160, &parked);
    assert_eq!(looked, [0.0, 0.2, 0.4, 10.4, 20.4, 30.4]);
    assert_eq!(carry.skipped(), parked);
}

#[test]
fn a_miss_at_a_heartbeat_keeps_the_detector_looking_until_it_settles() {
    let shared = Arc::new(Shared::default());
    let (mut gate, mut carry) = (
        Gate::new(&spec(), shared.clone()),
        Carry::new(&spec(), shared),
    );
    let parked = [car(500.0)];
    still(&mut gate, &mut carry, 0.0, 10, &parked);
    // The heartbeat at 10.4 misses the car: the detector looks at every frame…
    assert!(gate.look(Duration::from_secs_f64(10.4), false));
    carry.looked(&[], Duration::from_secs_f64(10.4), false);
    assert!(carry.skipped().is_empty());
    // …for as long as it misses the car, though the looks agree (nothing moved: it is there)…
    assert_eq!(still(&mut gate, &mut carry, 10.6, 10, &[]).len(), 10);
    // …finds it again, and looks until three looks agree.
    assert!(gate.look(Duration::from_secs_f64(12.6), false));
    carry.looked(&parked, Duration::from_secs_f64(12.6), false);
    assert_eq!(
        still(&mut gate, &mut carry, 10.8, 10, &parked),
        [10.8, 11.0]
    );
    assert_eq!(carry.skipped(), parked);
}

#[test]
fn jitter_is_the_same_place_and_a_moved_or_other_object_is_not() {
    assert!(same_objects(
        &[car(500.0), car(900.0)],
        &[car(905.0), car(503.0)]
    ));
    assert!(
        !same_objects(&[car(500.0)], &[car(600.0)]),
        "moved by half its width"
    );
    assert!(!same_objects(&[car(500.0)], &[car(500.0), car(900.0)]));
    let mut bike = car(500.0);
    bike.class = Arc::from("motorcycle");
    assert!(!same_objects(&[car(500.0)], &[bike]));
    assert!(same_objects::<Detection>(&[], &[]));
}

#[test]
fn stream_time_going_back_is_looked_at() {
    let shared = Arc::new(Shared::default());
    let (mut gate, mut carry) = (
        Gate::new(&spec(), shared.clone()),
        Carry::new(&spec(), shared),
    );
    still(&mut gate, &mut carry, 100.0, 10, &[]);
    assert!(gate.look(Duration::from_secs(5), false));
}

#[test]
fn a_miss_is_looked_through_for_at_most_the_stationary_check() {
    let shared = Arc::new(Shared::default());
    let (mut gate, mut carry) = (
        Gate::new(&spec(), shared.clone()),
        Carry::new(&spec(), shared),
    );
    still(&mut gate, &mut carry, 0.0, 10, &[car(500.0)]);
    // The detector loses the car for good at 10.4: looked at every frame until 20.4, when the
    // car is taken to be gone and only motion wakes the detector.
    let looked = still(&mut gate, &mut carry, 10.4, 100, &[]);
    assert_eq!(looked.first(), Some(&10.4));
    assert_eq!(looked.last(), Some(&20.4), "{looked:?}");
    assert_eq!(looked.len(), 51);
}

#[test]
fn an_object_that_leaves_with_motion_ends_the_heartbeat() {
    let shared = Arc::new(Shared::default());
    let (mut gate, mut carry) = (
        Gate::new(&spec(), shared.clone()),
        Carry::new(&spec(), shared),
    );
    still(&mut gate, &mut carry, 0.0, 10, &[car(500.0)]);
    for t in [2.0, 2.2] {
        assert!(gate.look(Duration::from_secs_f64(t), true));
        carry.looked(&[], Duration::from_secs_f64(t), true);
    }
    assert_eq!(still(&mut gate, &mut carry, 2.4, 200, &[]), [2.4]);
}

/// 12 s at 5 fps without motion of a parked car with detector noise coming and going at 0.2
/// beside it, through a carry with `floor`: the looks taken, and the carry.
fn parked_car_with_noise(floor: f32) -> (usize, Carry<Detection>) {
    let shared = Arc::new(Shared::default());
    let (mut gate, mut carry) = (
        Gate::new(&spec(), shared.clone()),
        Carry::new(&spec(), shared).with_floor(floor),
    );
    let weak = Detection {
        score: 0.2,
        ..car(600.0)
    };
    let mut looked = 0;
    for i in 0..60 {
        let t = Duration::from_millis(200 * i);
        if gate.look(t, false) {
            looked += 1;
            let found = match i % 2 {
                0 => vec![car(100.0), weak.clone()],
                _ => vec![car(100.0)],
            };
            carry.looked(&found, t, false);
        }
    }
    (looked, carry)
}

#[test]
fn finds_below_every_rule_s_score_flickering_on_a_still_picture_settle() {
    let (looked, carry) = parked_car_with_noise(0.5);
    // Three agreeing looks, then the heartbeat 10 s later: the noise does not hold the gate.
    assert_eq!(looked, 4, "looked {looked} times in 12 s");
    // What a skipped frame is given is all the last look found, the weak box too.
    assert_eq!(carry.skipped().len(), 2);
    // Without the floor, the same noise keeps it looking at every frame.
    assert_eq!(parked_car_with_noise(0.0).0, 60);
}
