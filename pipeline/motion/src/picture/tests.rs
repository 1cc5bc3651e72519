use super::*;

/// Stream time of frame `n` at 5 frames/s.
fn at(n: u32) -> Duration {
    Duration::from_millis(200 * u64::from(n))
}

const W: u32 = 160;
const H: u32 = 96;

/// A grey scene: `base` plus deterministic noise of ± `noise` levels per pixel, with `boxes`
/// (x, y, w, h, value) painted over it, as an RGB frame.
fn scene(seed: u32, base: i32, noise: i32, boxes: &[(u32, u32, u32, u32, u8)]) -> Image {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    let mut px = Vec::with_capacity((W * H * 3) as usize);
    for y in 0..H {
        for x in 0..W {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let n = (state >> 16) as i32 % (2 * noise + 1) - noise;
            let mut v = (base + n).clamp(0, 255) as u8;
            for &(bx, by, bw, bh, bv) in boxes {
                if (bx..bx + bw).contains(&x) && (by..by + bh).contains(&y) {
                    v = bv;
                }
            }
            px.extend_from_slice(&[v, v, v]);
        }
    }
    Image::from_packed(Size::new(W, H), PixelFormat::Rgb8, px)
}

fn whole() -> Vec<RectNorm> {
    vec![[0.0, 0.0, 1.0, 1.0]]
}

#[test]
fn sensor_noise_is_not_motion() {
    let mut m = MotionDetector::new(12.0, whole());
    assert!(m.step(&scene(0, 100, 8, &[]), at(0)).first);
    for seed in 1..50 {
        let got = m.step(&scene(seed, 100, 8, &[]), at(seed));
        assert!(!got.any(), "frame {seed}: {got:?}");
    }
}

#[test]
fn an_object_appearing_in_the_watched_area_is_motion_and_outside_it_is_not() {
    // Watched: the left half only.
    let mut m = MotionDetector::new(12.0, vec![[0.0, 0.0, 0.5, 1.0]]);
    m.step(&scene(0, 100, 4, &[]), at(0));
    let outside = m.step(&scene(1, 100, 4, &[(120, 40, 24, 24, 40)]), at(1));
    assert_eq!(outside.moved, 0, "{outside:?}");
    assert!(
        outside.changed > 0.0,
        "the change was seen, only not watched"
    );
    let inside = m.step(&scene(2, 100, 4, &[(20, 40, 24, 24, 40)]), at(2));
    assert!(inside.moved >= 4, "{inside:?}");
    assert!(inside.any());
}

#[test]
fn a_small_object_of_one_cell_is_seen() {
    let mut m = MotionDetector::new(12.0, whole());
    m.step(&scene(0, 100, 4, &[]), at(0));
    let got = m.step(&scene(1, 100, 4, &[(64, 32, 8, 8, 160)]), at(1));
    assert_eq!(got.moved, 1, "{got:?}");
}

#[test]
fn a_brightness_change_of_the_whole_picture_is_not_motion() {
    let mut m = MotionDetector::new(12.0, whole());
    m.step(&scene(0, 100, 4, &[(20, 20, 30, 30, 60)]), at(0));
    // Auto exposure: everything 40 levels brighter, the dark box too.
    let got = m.step(&scene(1, 140, 4, &[(20, 20, 30, 30, 100)]), at(1));
    assert!(!got.any(), "{got:?}");
    // …and an object appearing while it is brighter still is.
    let got = m.step(
        &scene(2, 140, 4, &[(20, 20, 30, 30, 100), (100, 40, 16, 16, 250)]),
        at(2),
    );
    assert!(got.moved >= 2, "{got:?}");
}

/// A scene of patches from 40 to 220 (`level` scales them: an exposure step) with noise of
/// ± 2, and `boxes` (x, y, w, h, value) over it, as a grey frame.
fn patches(seed: u32, level: f32, boxes: &[(u32, u32, u32, u32, u8)]) -> Image {
    let noise = scene(seed, 2, 2, &[]);
    let mut px = Vec::with_capacity((W * H) as usize);
    for y in 0..H {
        for x in 0..W {
            let patch = (40 + ((x / 16) * 37 + (y / 16) * 61) % 181) as f32;
            let n = f32::from(noise.row(y)[3 * x as usize]) - 2.0;
            let mut v = (patch * level + n).clamp(0.0, 255.0) as u8;
            for &(bx, by, bw, bh, bv) in boxes {
                if (bx..bx + bw).contains(&x) && (by..by + bh).contains(&y) {
                    v = bv;
                }
            }
            px.push(v);
        }
    }
    Image::from_packed(Size::new(W, H), PixelFormat::Gray8, px)
}

#[test]
fn an_exposure_step_that_scales_bright_parts_more_is_not_motion() {
    let mut m = MotionDetector::new(12.0, whole());
    m.step(&patches(0, 1.0, &[]), at(0));
    // The camera's gain drops 20 %: a 220 patch loses 44 levels, a 40 patch 8.
    let got = m.step(&patches(1, 0.8, &[]), at(1));
    assert!(!got.any(), "{got:?}");
    // A car drives in under the new exposure: it alone is motion.
    let got = m.step(&patches(2, 0.8, &[(60, 30, 24, 16, 250)]), at(2));
    assert!((2..=12).contains(&got.moved), "{got:?}");
}

#[test]
fn an_object_passing_leaves_no_ghost() {
    let mut m = MotionDetector::new(12.0, whole());
    m.step(&scene(0, 100, 4, &[]), at(0));
    // A dark car crawls across the picture for 6 s, 4 px a frame, an exposure step halfway
    // (as a camera adapts to a car filling its view), then the road is empty.
    for n in 1..=30 {
        let base = if n < 15 { 100 } else { 80 };
        let car = (4 * n, 30, 40, 24, 20);
        let got = m.step(&scene(n, base, 4, &[car]), at(n));
        assert!(got.moved >= 6 && !got.relearned, "frame {n}: {got:?}");
    }
    let gone = m.step(&scene(31, 80, 4, &[]), at(31));
    assert!(!gone.any(), "the road it crossed is no motion: {gone:?}");
}

#[test]
fn a_new_picture_is_relearnt_at_once() {
    let mut m = MotionDetector::new(12.0, whole());
    m.step(&patches(0, 1.0, &[]), at(0));
    // The camera turned: other patches everywhere, which no change of light explains.
    let turned = |n| scene(n, 180, 4, &[(0, 0, 80, 96, 30)]);
    let got = m.step(&turned(1), at(1));
    assert!(got.relearned && got.any(), "{got:?}");
    let after = m.step(&turned(2), at(2));
    assert!(!after.any(), "the new picture is the background: {after:?}");
}

#[test]
fn an_object_that_stops_becomes_background_after_the_same_time_at_any_rate() {
    for fps in [2u32, 5, 25] {
        let mut m = MotionDetector::new(12.0, whole());
        let t = |n: u32| Duration::from_secs_f64(f64::from(n) / f64::from(fps));
        m.step(&scene(0, 100, 4, &[]), t(0));
        let parked = |n| scene(n, 100, 4, &[(40, 40, 32, 24, 30)]);
        assert!(m.step(&parked(1), t(1)).any());
        let still_at = (2..2000).find(|&n| !m.step(&parked(n), t(n)).any());
        let n = still_at.expect("the parked object never became background");
        let secs = t(n - 1).as_secs_f32();
        assert!(
            (ABSORB_SECS..ABSORB_SECS + 1.0).contains(&secs),
            "{fps} frames/s: background after {secs} s"
        );
        assert!(!m.step(&parked(3000), t(3000)).any());
        // It drives off: the empty road is motion again.
        assert!(m.step(&scene(3001, 100, 4, &[]), t(3001)).moved >= 6);
    }
}

#[test]
fn watched_area_is_the_outlines_grown_by_the_margin() {
    let area = watched_area(&[vec![(0.2, 0.5), (0.6, 0.5), (0.4, 0.9)]], 0.05);
    let r = area[0];
    let expect = [0.15, 0.45, 0.65, 0.95];
    for (got, want) in r.iter().zip(expect) {
        assert!((got - want).abs() < 1e-9, "{r:?}");
    }
    assert_eq!(
        watched_area(&[vec![(0.0, 0.0), (1.0, 1.0)]], 0.1)[0],
        [0.0, 0.0, 1.0, 1.0]
    );
    assert_eq!(watched_area(&[], 0.1), vec![[0.0, 0.0, 1.0, 1.0]]);
}

#[test]
fn a_new_frame_size_starts_over() {
    let mut m = MotionDetector::new(12.0, whole());
    m.step(&scene(0, 100, 4, &[]), at(0));
    let small = Image::from_packed(Size::new(20, 10), PixelFormat::Gray8, vec![7; 200]);
    assert!(m.step(&small, at(1)).first);
    assert!(!m.step(&small, at(2)).any());
}

#[test]
fn grey_frames_with_padded_rows_are_read_by_row() {
    // 10 px wide rows padded to 16 bytes; the padding is garbage that must not count.
    let (w, h, stride) = (10u32, 8u32, 16usize);
    let frame = |v: u8| {
        let mut data = vec![255u8; stride * h as usize];
        for y in 0..h as usize {
            data[y * stride..y * stride + w as usize].fill(v);
        }
        Image {
            size: Size::new(w, h),
            stride,
            format: PixelFormat::Gray8,
            data: std::sync::Arc::new(data),
        }
    };
    let mut m = MotionDetector::new(12.0, whole());
    m.step(&frame(50), at(0));
    assert!(!m.step(&frame(50), at(1)).any());
}
