use super::*;

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
    assert!(m.step(&scene(0, 100, 8, &[])).first);
    for seed in 1..50 {
        let got = m.step(&scene(seed, 100, 8, &[]));
        assert!(!got.any(), "frame {seed}: {got:?}");
    }
}

#[test]
fn an_object_appearing_in_the_watched_area_is_motion_and_outside_it_is_not() {
    // Watched: the left half only.
    let mut m = MotionDetector::new(12.0, vec![[0.0, 0.0, 0.5, 1.0]]);
    m.step(&scene(0, 100, 4, &[]));
    let outside = m.step(&scene(1, 100, 4, &[(120, 40, 24, 24, 40)]));
    assert_eq!(outside.moved, 0, "{outside:?}");
    assert!(
        outside.changed > 0.0,
        "the change was seen, only not watched"
    );
    let inside = m.step(&scene(2, 100, 4, &[(20, 40, 24, 24, 40)]));
    assert!(inside.moved >= 4, "{inside:?}");
    assert!(inside.any());
}

#[test]
fn a_small_object_of_one_cell_is_seen() {
    let mut m = MotionDetector::new(12.0, whole());
    m.step(&scene(0, 100, 4, &[]));
    let got = m.step(&scene(1, 100, 4, &[(64, 32, 8, 8, 160)]));
    assert_eq!(got.moved, 1, "{got:?}");
}

#[test]
fn a_brightness_change_of_the_whole_picture_is_not_motion() {
    let mut m = MotionDetector::new(12.0, whole());
    m.step(&scene(0, 100, 4, &[(20, 20, 30, 30, 60)]));
    // Auto exposure: everything 40 levels brighter, the dark box too.
    let got = m.step(&scene(1, 140, 4, &[(20, 20, 30, 30, 100)]));
    assert!(!got.any(), "{got:?}");
    // …and an object appearing while it is brighter still is.
    let got = m.step(&scene(
        2,
        140,
        4,
        &[(20, 20, 30, 30, 100), (100, 40, 16, 16, 250)],
    ));
    assert!(got.moved >= 2, "{got:?}");
}

#[test]
fn a_change_over_most_of_the_picture_is_relearnt_at_once() {
    let mut m = MotionDetector::new(12.0, whole());
    m.step(&scene(0, 100, 4, &[]));
    // Lights on over the left three quarters: not a global shift (the median cell is lit).
    let lit = |seed| scene(seed, 100, 4, &[(0, 0, 120, 96, 200)]);
    let got = m.step(&lit(1));
    assert!(got.relearned && got.any(), "{got:?}");
    let after = m.step(&lit(2));
    assert!(!after.any(), "the new picture is the background: {after:?}");
}

#[test]
fn an_object_that_stops_becomes_background() {
    let mut m = MotionDetector::new(12.0, whole());
    m.step(&scene(0, 100, 4, &[]));
    let parked = |seed| scene(seed, 100, 4, &[(40, 40, 32, 24, 30)]);
    assert!(m.step(&parked(1)).any());
    let still_at = (2..200).find(|&s| !m.step(&parked(s)).any());
    let n = still_at.expect("the parked object never became background");
    // 70 levels of contrast fall under 12 after ln(12/70)/ln(0.95) ≈ 35 frames.
    assert!((20..60).contains(&n), "background after {n} frames");
    assert!(!m.step(&parked(300)).any());
    // It drives off: the empty road is motion again.
    assert!(m.step(&scene(301, 100, 4, &[])).moved >= 6);
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
    m.step(&scene(0, 100, 4, &[]));
    let small = Image::from_packed(Size::new(20, 10), PixelFormat::Gray8, vec![7; 200]);
    assert!(m.step(&small).first);
    assert!(!m.step(&small).any());
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
    m.step(&frame(50));
    assert!(!m.step(&frame(50)).any());
}
