use super::*;

fn frame(w: u32, h: u32, data: &[u8]) -> GrayFrame<'_> {
    GrayFrame {
        width: w,
        height: h,
        stride: w as usize,
        data,
    }
}

/// A textured static background with deterministic noise.
fn background(w: u32, h: u32, t: u32) -> Vec<u8> {
    (0..w * h)
        .map(|i| {
            let texture = if (i % w / 8 + i / w / 8).is_multiple_of(2) {
                90
            } else {
                140
            };
            let noise = (i
                .wrapping_add(t.wrapping_mul(7919))
                .wrapping_mul(2_654_435_761)
                >> 29) as i32
                - 4;
            (texture + noise) as u8
        })
        .collect()
}

fn square(img: &mut [u8], w: u32, (x, y): (u32, u32), size: u32, v: u8) {
    for yy in y..y + size {
        for xx in x..x + size {
            img[(yy * w + xx) as usize] = v;
        }
    }
}

#[test]
fn a_small_object_is_one_blob_and_noise_is_none() {
    let (w, h) = (160, 120);
    let mut fg = Foreground::new(ForegroundParams::default(), w, h, &[]);
    for t in 0..30 {
        let out = fg.process(&frame(w, h, &background(w, h, t)));
        if t > 12 {
            assert!(out.blobs.is_empty(), "frame {t}: {:?}", out.blobs);
        }
    }
    let mut img = background(w, h, 31);
    square(&mut img, w, (50, 40), 4, 250);
    square(&mut img, w, (100, 80), 1, 250); // a single hot pixel: too small
    let out = fg.process(&frame(w, h, &img));
    assert_eq!(out.blobs.len(), 1, "{:?}", out.blobs);
    let b = &out.blobs[0];
    assert_eq!(b.area, 16);
    assert_eq!((b.cx, b.cy), (52.0, 42.0));
    assert_eq!((b.x0, b.y0, b.x1, b.y1), (50, 40, 54, 44));
    assert_eq!(out.too_small, 1);
}

#[test]
fn touching_diagonals_join_and_separate_objects_do_not() {
    let (w, h) = (64, 64);
    let mut fg = Foreground::new(ForegroundParams::default(), w, h, &[]);
    let flat = vec![100u8; (w * h) as usize];
    for _ in 0..20 {
        fg.process(&frame(w, h, &flat));
    }
    let mut img = flat.clone();
    // A diagonal staircase of 2×2 squares (8-connected), and a separate square.
    for i in 0..4 {
        square(&mut img, w, (10 + 2 * i, 10 + 2 * i), 2, 200);
    }
    square(&mut img, w, (40, 40), 3, 10);
    let out = fg.process(&frame(w, h, &img));
    let mut areas: Vec<u32> = out.blobs.iter().map(|b| b.area).collect();
    areas.sort();
    assert_eq!(areas, vec![9, 16]);
}

#[test]
fn the_zone_limits_where_anything_is_seen() {
    let (w, h) = (100, 100);
    let left_half = [(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)];
    let mut fg = Foreground::new(ForegroundParams::default(), w, h, &left_half);
    assert_eq!(fg.zone_pixels(), 50 * 100);
    let flat = vec![100u8; (w * h) as usize];
    for _ in 0..20 {
        fg.process(&frame(w, h, &flat));
    }
    let mut img = flat.clone();
    square(&mut img, w, (20, 20), 4, 220);
    square(&mut img, w, (70, 20), 4, 220);
    let out = fg.process(&frame(w, h, &img));
    assert_eq!(out.blobs.len(), 1);
    assert!(out.blobs[0].cx < 50.0);
}

#[test]
fn a_global_change_raises_no_candidates_and_is_learnt_quickly() {
    let (w, h) = (100, 80);
    let mut fg = Foreground::new(ForegroundParams::default(), w, h, &[]);
    for t in 0..20 {
        fg.process(&frame(w, h, &background(w, h, t)));
    }
    // The IR cut filter switches: everything is 60 levels brighter from now on.
    let bright = |t| {
        background(w, h, t)
            .into_iter()
            .map(|v| v.saturating_add(60))
            .collect::<Vec<_>>()
    };
    let out = fg.process(&frame(w, h, &bright(20)));
    assert!(out.guarded && out.blobs.is_empty());
    let mut settled = None;
    for t in 21..80 {
        let out = fg.process(&frame(w, h, &bright(t)));
        assert!(
            out.blobs.len() <= 1,
            "frame {t}: a global change is not objects"
        );
        if !out.guarded && out.fg_pixels == 0 {
            settled = Some(t);
            break;
        }
    }
    let settled = settled.expect("the model learns the new light");
    assert!(settled < 40, "settled after {} frames", settled - 20);
}

#[test]
fn a_swaying_region_raises_its_own_threshold() {
    let (w, h) = (64, 64);
    let mut fg = Foreground::new(ForegroundParams::default(), w, h, &[]);
    let mut last = ForegroundFrame::default();
    for t in 0..400u32 {
        // A 10×10 patch flickers by ±16 levels every few frames (leaves in the wind).
        let mut img = vec![100u8; (w * h) as usize];
        let v = if (t / 3) % 2 == 0 { 84 } else { 116 };
        square(&mut img, w, (20, 20), 10, v);
        last = fg.process(&frame(w, h, &img));
    }
    assert!(last.blobs.is_empty(), "{:?}", last.blobs);
}

#[test]
fn spans_follow_a_triangle() {
    let spans = zone_spans(10, 10, &[(0.0, 0.0), (1.0, 1.0), (0.0, 1.0)]);
    // Row y (centre y + 0.5) covers the pixels whose centres lie left of x = y + 0.5.
    assert!(spans[0].is_empty());
    for (y, s) in spans.iter().enumerate().skip(1) {
        assert_eq!(s, &vec![(0, y as u32)], "row {y}");
    }
}
