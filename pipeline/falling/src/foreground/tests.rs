use super::*;

pub(super) fn frame(w: u32, h: u32, data: &[u8]) -> GrayFrame<'_> {
    GrayFrame {
        width: w,
        height: h,
        stride: w as usize,
        data,
    }
}

/// Deterministic noise at pixel `i` of frame `t`: −4 to 3 grey levels (σ about 2.3).
pub(super) fn noise(i: u32, t: u32) -> i32 {
    (i.wrapping_add(t.wrapping_mul(7919))
        .wrapping_mul(2_654_435_761)
        >> 29) as i32
        - 4
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
            (texture + noise(i, t)) as u8
        })
        .collect()
}

/// A foreground that has learnt [`background`] over its first 20 frames.
fn settled(w: u32, h: u32) -> Foreground {
    let mut fg = Foreground::new(ForegroundParams::default(), w, h, &[]);
    for t in 0..20 {
        fg.process(&frame(w, h, &background(w, h, t)));
    }
    fg
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
    // A 4 px square's pixels spread as a 4 px bar's: 4²/12 each way, none across.
    let want = [16.0 / 12.0, 0.0, 16.0 / 12.0];
    assert!(
        b.spread.iter().zip(want).all(|(s, w)| (s - w).abs() < 1e-9),
        "{:?}",
        b.spread
    );
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
fn a_blob_the_zone_or_the_frame_cuts_is_cut_off_and_one_inside_is_not() {
    let (w, h) = (100, 100);
    // Everything below y = 30: a throw enters it from above.
    let below = [(0.0, 0.3), (1.0, 0.3), (1.0, 1.0), (0.0, 1.0)];
    let mut fg = Foreground::new(ForegroundParams::default(), w, h, &below);
    let flat = vec![100u8; (w * h) as usize];
    for _ in 0..20 {
        fg.process(&frame(w, h, &flat));
    }
    let mut img = flat.clone();
    square(&mut img, w, (20, 27), 6, 220); // half above the zone's top
    square(&mut img, w, (50, 50), 6, 220); // inside
    square(&mut img, w, (94, 70), 6, 220); // against the frame's right edge
    square(&mut img, w, (70, 31), 4, 220); // a row below the zone's top: not cut
    let out = fg.process(&frame(w, h, &img));
    let mut cut: Vec<(u32, u32, bool)> = out
        .blobs
        .iter()
        .map(|b| (b.x0, b.y0, fg.cut_off(b)))
        .collect();
    cut.sort();
    assert_eq!(
        cut,
        vec![
            (20, 30, true),
            (50, 50, false),
            (70, 31, false),
            (94, 70, true)
        ]
    );
}

#[test]
fn a_global_change_raises_no_candidates_and_is_learnt_quickly() {
    let (w, h) = (100, 80);
    let mut fg = settled(w, h);
    // The IR cut filter switches: everything is 60 levels brighter from now on.
    let bright = |t| {
        background(w, h, t)
            .into_iter()
            .map(|v| v.saturating_add(60))
            .collect::<Vec<_>>()
    };
    // 90 → 150 and 140 → 200 is more than an exposure step (an IR cut filter): the frame's
    // candidates are dropped and the model learnt anew.
    let out = fg.process(&frame(w, h, &bright(20)));
    assert!(out.guarded && !out.exposure_moved && out.blobs.is_empty());
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

/// An object that stops (at the apex of a toss, caught on a ledge) is still seen whole after a
/// second and more, and what stays is taken into the background in the end. With the variance
/// learning under foreground as fast as the mean, every pixel of it was taken in after 16
/// frames, however far it stood from the background.
#[test]
fn an_object_that_stops_stands_out_for_a_second_and_is_taken_in_later() {
    let (w, h) = (160, 120);
    let mut fg = learnt(w, h);
    let mut gone = None;
    for t in 30..300u32 {
        let mut img = background(w, h, t);
        square(&mut img, w, (52, 36), 8, 200);
        let out = fg.process(&frame(w, h, &img));
        let whole = out.blobs.iter().any(|b| b.area == 64);
        if t < 30 + 36 {
            assert!(whole, "frame {} of it: {:?}", t - 30, out.blobs);
        }
        if out.blobs.is_empty() && gone.is_none() {
            gone = Some(t - 30);
        }
    }
    let gone = gone.expect("the object is taken in within 270 frames (11 s)");
    assert!(gone < 120, "taken in after {gone} frames");
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

/// A model that has learnt 30 frames of the textured background.
fn learnt(w: u32, h: u32) -> Foreground {
    let mut fg = Foreground::new(ForegroundParams::default(), w, h, &[]);
    for t in 0..30 {
        fg.process(&frame(w, h, &background(w, h, t)));
    }
    fg
}

/// A textured background with its noise (σ ≈ 3); a 4×4 object 10 grey levels brighter than the
/// cell it crosses appears at frame 31. Few of its pixels pass `min_diff` and `k_sigma`.
fn faint_object(fg: &mut Foreground, (w, h): (u32, u32)) -> ForegroundFrame {
    for t in 0..30 {
        let out = fg.process(&frame(w, h, &background(w, h, t)));
        if t > 12 {
            assert!(out.blobs.is_empty(), "frame {t}: {:?}", out.blobs);
        }
    }
    let mut img = background(w, h, 31);
    for yy in 40..44 {
        for xx in 50..54 {
            img[(yy * w + xx) as usize] += 10;
        }
    }
    fg.process(&frame(w, h, &img))
}

#[test]
fn a_faint_object_few_pixels_of_which_pass_is_found_over_blocks() {
    let (w, h) = (160, 120);
    let mut fg = Foreground::new(ForegroundParams::default(), w, h, &[]);
    let out = faint_object(&mut fg, (w, h));
    assert_eq!(out.blobs.len(), 1, "{:?}", out.blobs);
    let b = &out.blobs[0];
    assert_eq!((b.x0, b.y0, b.x1, b.y1), (50, 40, 54, 44));
    assert_eq!(b.area, 16);

    let off = ForegroundParams {
        faint_diff: 0.0,
        ..ForegroundParams::default()
    };
    let mut fg = Foreground::new(off, w, h, &[]);
    let out = faint_object(&mut fg, (w, h));
    let seen: u32 = out.blobs.iter().map(|b| b.area).sum();
    assert!(
        seen < 8,
        "pixel by pixel, a fragment at most: {:?}",
        out.blobs
    );
}

#[test]
fn a_soft_edge_moving_a_pixel_is_no_faint_object() {
    let (w, h) = (96, 64);
    // A ramp 6 levels a pixel across a 10-pixel band (a blurred edge), flat elsewhere.
    let ramp = |shift: u32| -> Vec<u8> {
        (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                if !(20..40).contains(&y) {
                    return 100;
                }
                let x = (x + shift).clamp(40, 50);
                (100 + 6 * (x - 40)) as u8
            })
            .collect()
    };
    let mut fg = Foreground::new(ForegroundParams::default(), w, h, &[]);
    for _ in 0..30 {
        fg.process(&frame(w, h, &ramp(0)));
    }
    let out = fg.process(&frame(w, h, &ramp(1)));
    assert!(out.blobs.is_empty(), "{:?}", out.blobs);
    assert!(!out.guarded);
}

#[test]
fn among_many_blobs_a_faint_one_is_not_looked_for_until_they_pass() {
    let (w, h) = (160, 120);
    let mut fg = learnt(w, h);
    // A faint 4×4 object crossing the frame 4 pixels a frame (a still one is soon background).
    let faint = |img: &mut Vec<u8>, t: u32| {
        let x0 = 20 + 4 * (t - 31);
        for yy in 40..44 {
            for xx in x0..x0 + 4 {
                img[(yy * w + xx) as usize] += 10;
            }
        }
    };
    // Seven bright drops about the frame: rain.
    let mut img = background(w, h, 31);
    faint(&mut img, 31);
    for i in 0..7 {
        square(&mut img, w, (8 + 20 * i, 90), 3, 250);
    }
    let out = fg.process(&frame(w, h, &img));
    let object = |out: &ForegroundFrame| out.blobs.iter().find(|b| b.y0 < 50).map(|b| b.area);
    assert_eq!(out.blobs.iter().filter(|b| b.y0 == 90).count(), 7);
    // What the per-pixel test took of it, and no more.
    assert!(object(&out).is_none_or(|a| a < 16), "{:?}", out.blobs);
    // One drop from now on: the faint object is found beside it once the clutter has passed.
    let mut found = None;
    for t in 32..60 {
        let mut img = background(w, h, t);
        faint(&mut img, t);
        square(&mut img, w, (8, 90), 3, 250);
        let out = fg.process(&frame(w, h, &img));
        if object(&out) == Some(16) {
            found = Some(t - 31);
            break;
        }
        assert!(
            object(&out).is_none_or(|a| a < 16),
            "frame {t}: {:?}",
            out.blobs
        );
    }
    let found = found.expect("the faint object is found when the rain has passed");
    assert!((2..=10).contains(&found), "{found} frames after");
}

#[test]
fn a_bright_object_keeps_its_shape_without_its_faint_halo() {
    let (w, h) = (160, 120);
    let mut fg = learnt(w, h);
    let mut img = background(w, h, 31);
    // A glow 10 levels bright, 2 pixels wide, around a 10×10 object 100 levels bright.
    for yy in 38..52 {
        for xx in 48..62 {
            img[(yy * w + xx) as usize] += 10;
        }
    }
    square(&mut img, w, (50, 40), 10, 240);
    let out = fg.process(&frame(w, h, &img));
    assert_eq!(out.blobs.len(), 1, "{:?}", out.blobs);
    let b = &out.blobs[0];
    // What the per-pixel test took (the object and a few pixels of glow), no faint pixel.
    assert_eq!(b.strong, b.area, "{b:?}");
    assert!((100..116).contains(&b.area), "{b:?}");
}

/// 160×120: facade (180) above a window (70), the edge between them one row (60) of `edge`,
/// and a vertical edge as well: the window's side, column 100 of `edge`, the facade right of it.
fn window_corner(img: &mut [u8], w: u32, edge: u8) {
    for (i, p) in img.iter_mut().enumerate() {
        let (x, y) = (i as u32 % w, i as u32 / w);
        *p = match (x, y) {
            (101.., _) | (_, 0..60) => 180,
            (100, _) | (_, 60) => edge,
            _ => 70,
        };
    }
}

/// A 160×120 model that learnt [`window_corner`]'s edges at 125 (predicted frames copy the
/// edges as the last keyframe drew them), and that picture.
fn learnt_corner() -> (Foreground, Vec<u8>, (u32, u32)) {
    let (w, h) = (160, 120);
    let mut fg = Foreground::new(ForegroundParams::default(), w, h, &[]);
    let mut img = vec![0u8; (w * h) as usize];
    window_corner(&mut img, w, 125);
    for _ in 0..40 {
        fg.process(&frame(w, h, &img));
    }
    (fg, img, (w, h))
}

#[test]
fn an_edge_drawn_anew_by_a_keyframe_is_no_object_and_an_object_beside_it_keeps_its_box() {
    let (mut fg, mut img, (w, h)) = learnt_corner();
    // The next keyframe draws them 30 levels lighter, still between their two sides: a line
    // one pixel high along the window's top and one wide along its side, each matching neither
    // side nor its neighbours along the edge.
    window_corner(&mut img, w, 155);
    // An object two rows under the top edge, darker than the window: without the rule the
    // line would merge into it.
    square(&mut img, w, (30, 63), 4, 20);
    // Another across the edge itself: the line's run is cut about it.
    square(&mut img, w, (60, 58), 4, 20);
    let out = fg.process(&frame(w, h, &img));
    let mut boxes: Vec<_> = out.blobs.iter().map(|b| (b.x0, b.y0, b.x1, b.y1)).collect();
    boxes.sort();
    assert_eq!(
        boxes,
        [(30, 63, 34, 67), (60, 58, 64, 62)],
        "{:?}",
        out.blobs
    );
    // The top edge's 100 pixels less the 4 under the second object, and the side's 59 below
    // the corner. The corner, with the other edge redrawn across it either way, stays: a pixel
    // alone, too small for a blob.
    assert_eq!(out.redrawn, 155, "{out:?}");
    // The frames after it copy the edges as the keyframe drew them: the model took them so.
    window_corner(&mut img, w, 155);
    let out = fg.process(&frame(w, h, &img));
    assert_eq!((out.redrawn, out.blobs.len()), (0, 0), "{out:?}");
    // The next keyframe redraws a few of them only, too few to tell a keyframe by: the stream
    // is one whose keyframes redraw its edges, so they are taken out all the same.
    for x in 40..46 {
        img[(60 * w + x) as usize] = 135;
    }
    let out = fg.process(&frame(w, h, &img));
    assert_eq!((out.redrawn, out.blobs.len()), (6, 0), "{out:?}");
}

#[test]
fn a_line_on_a_plain_wall_or_lighter_than_both_sides_of_an_edge_is_kept() {
    let (mut fg, mut img, (w, h)) = learnt_corner();
    // A wire across the plain facade, and the window's top edge lit past the facade's 180.
    for x in 20..80 {
        img[(30 * w + x) as usize] = 230;
        img[(60 * w + x) as usize] = 215;
    }
    let out = fg.process(&frame(w, h, &img));
    let mut rows: Vec<_> = out.blobs.iter().map(|b| (b.y0, b.y1)).collect();
    rows.sort();
    assert_eq!(rows, [(30, 31), (60, 61)], "{:?}", out.blobs);
    assert_eq!(out.redrawn, 0);
}

#[test]
fn a_small_object_on_an_edge_is_kept_when_no_keyframe_redraws_the_rest() {
    let (mut fg, mut img, (w, h)) = learnt_corner();
    // Two pixels wide on the window's side, between its two sides, the rest as learnt: it
    // looks like the edge drawn anew, but nothing else was.
    for y in 80..83 {
        for x in 99..101 {
            img[(y * w + x) as usize] = 155;
        }
    }
    let out = fg.process(&frame(w, h, &img));
    assert_eq!(out.redrawn, 0, "{out:?}");
    assert_eq!(out.blobs.len(), 1, "{:?}", out.blobs);
    assert_eq!(out.blobs[0].area, 6, "{:?}", out.blobs);
}

/// A compressed stream's keyframe `k`: the texture, drawn with noise of its own (a quarter of
/// the 4×4 blocks 4 grey levels off, every pixel ±1), that the frames up to the next keyframe
/// copy exactly.
fn keyframe(w: u32, h: u32, k: u32) -> Vec<u8> {
    let hash = |v: u32| v.wrapping_mul(2_654_435_761) >> 24;
    (0..w * h)
        .map(|i| {
            let (x, y) = (i % w, i / w);
            let texture = if (x / 8 + y / 8).is_multiple_of(2) {
                90
            } else {
                140
            };
            let block = hash((y / 4) * 64 + x / 4 + k * 7919);
            let offset = match block % 8 {
                0 => 4,
                1 => -4,
                _ => 0,
            };
            (texture + offset + (hash(i + k * 104_729) % 3) as i32 - 1) as u8
        })
        .collect()
}

#[test]
fn a_keyframe_s_noise_is_no_clutter_and_a_faint_object_after_it_is_found() {
    let (w, h) = (160, 120);
    let mut fg = Foreground::new(ForegroundParams::default(), w, h, &[]);
    // Keyframes every 10 frames, copied in between.
    for t in 0..60 {
        let out = fg.process(&frame(w, h, &keyframe(w, h, t / 10)));
        if t > 12 && t % 10 != 0 {
            assert!(out.blobs.is_empty(), "frame {t}: {:?}", out.blobs);
        }
    }
    // At frame 60 a keyframe; a faint 4×4 object 10 levels bright crosses from frame 61 on.
    let key = keyframe(w, h, 6);
    let out = fg.process(&frame(w, h, &key));
    assert!(
        out.blobs.is_empty(),
        "the keyframe's noise: {:?}",
        out.blobs
    );
    for t in 61..64 {
        let mut img = key.clone();
        let x0 = 20 + 4 * (t - 61);
        for yy in 60..64 {
            for xx in x0..x0 + 4 {
                img[(yy * w + xx) as usize] += 10;
            }
        }
        let out = fg.process(&frame(w, h, &img));
        let boxes: Vec<_> = out.blobs.iter().map(|b| (b.x0, b.y0, b.x1, b.y1)).collect();
        assert_eq!(
            boxes,
            vec![(x0, 60, x0 + 4, 64)],
            "frame {t}: {:?}",
            out.blobs
        );
    }
}

#[test]
fn the_next_set_byte_is_found_across_words_and_tails() {
    // Masks of every length around the word size, each byte set alone (and none), searched
    // from every start: the first set byte at or after it, or none.
    for n in 0..40 {
        for set in (0..n).map(Some).chain([None]) {
            let mut mask = vec![0u8; n];
            if let Some(k) = set {
                mask[k] = 1;
            }
            for from in 0..=n {
                let want = set.filter(|&k| k >= from);
                assert_eq!(
                    blobs::next_set(&mask, from),
                    want,
                    "{n} bytes, {set:?}, from {from}"
                );
            }
        }
    }
}

mod exposure;
