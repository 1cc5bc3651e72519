//! The camera's exposure followed ([`crate::foreground::exposure`]): a step of the gain over
//! the whole picture, and a veil of light that lifts parts of it more than others.

use super::*;

/// Level `v` seen through a gain `gain` about video-range black (16), the sensor clipping at 255.
fn exposed(v: u8, gain: f64) -> u8 {
    (16.0 + (f64::from(v) - 16.0) * gain).round().min(255.0) as u8
}

#[test]
fn an_object_is_kept_through_an_auto_exposure_step_that_clips_the_highlights() {
    let (w, h) = (120, 90);
    let mut fg = Foreground::new(ForegroundParams::default(), w, h, &[]);
    // The gain about video-range black steps up to 1.6 over three frames: the 140-level
    // squares clip (16 + 124 × 1.6 = 214, and noise on top), the 90-level ones do not.
    let gain = |t: u32| match t {
        0..30 => 1.0,
        30..33 => 1.0 + 0.2 * f64::from(t - 29),
        _ => 1.6,
    };
    for t in 0..60 {
        let mut img: Vec<u8> = background(w, h, t)
            .into_iter()
            .map(|v| exposed(v, gain(t)))
            .collect();
        // A dark object crossing the picture, 1.5 px a frame.
        let x = 5 + 3 * t / 2;
        square(&mut img, w, (x, 40), 5, 30);
        let out = fg.process(&frame(w, h, &img));
        if t < 20 {
            continue;
        }
        assert!(!out.guarded, "frame {t}: the step dropped the candidates");
        assert_eq!(out.exposure_moved, (30..33).contains(&t), "frame {t}");
        assert_eq!(out.blobs.len(), 1, "frame {t}: {:?}", out.blobs);
        let b = &out.blobs[0];
        assert!((f64::from(x) + 2.5 - b.cx).abs() < 1.5, "frame {t}: {b:?}");
    }
}

#[test]
fn a_veil_brighter_at_the_top_is_followed_as_a_veil_not_as_the_exposure() {
    // A sun just above the picture: its glare lifts the top half by 8 levels and the bottom by
    // 2. Every band moved, but not alike across the frame: not an exposure step, which would
    // write one shift everywhere. Followed cell by cell, nothing stands out.
    let (w, h) = (320, 240);
    let mut fg = settled(w, h);
    let mut img = background(w, h, 20);
    for (i, v) in img.iter_mut().enumerate() {
        *v += if (i as u32) < w * h / 2 { 8 } else { 2 };
    }
    let out = fg.process(&frame(w, h, &img));
    assert!(out.exposure_moved && out.blobs.is_empty(), "{out:?}");
    // The same lift everywhere is the exposure's, and the veil is gone with it.
    let mut img = background(w, h, 21);
    for v in &mut img {
        *v += 16;
    }
    let out = fg.process(&frame(w, h, &img));
    assert!(out.exposure_moved && out.blobs.is_empty(), "{out:?}");
}

#[test]
fn a_suns_glare_dimmed_by_a_frond_is_followed_and_an_object_in_it_is_kept() {
    // A sun just beyond the top right of the picture: its glare, a halo falling off with the
    // distance from it and a faint veil everywhere, lifts the picture by 12–50 levels. A frond
    // crosses the sun and the glare dims to 65 %: 17 levels near the sun, 4 far from it. The
    // quadrants disagree on every band; followed as a veil, only the object stands out.
    let (w, h) = (320, 240);
    let (sx, sy, core) = (0.8 * f64::from(w), -0.1 * f64::from(h), 10.0);
    let glare = |i: u32, strength: f64| {
        let (x, y) = (f64::from(i % w) - sx, f64::from(i / w) - sy);
        let halo = (core / ((x * x + y * y).sqrt() + core)).powf(1.3);
        (strength * (200.0 * halo + 10.0)).round() as u8
    };
    // Blocks of 8 px at levels spread over 40–190, so that every band lies all over the picture.
    let level = |i: u32| {
        let block = (i % w / 8) * 131 + (i / w / 8) * 71;
        40 + (block.wrapping_mul(2_654_435_761) >> 7) % 150
    };
    let lit = |t: u32, strength: f64| -> Vec<u8> {
        (0..w * h)
            .map(|i| (level(i) as i32 + noise(i, t)) as u8 + glare(i, strength))
            .collect()
    };
    let mut fg = Foreground::new(ForegroundParams::default(), w, h, &[]);
    for t in 0..20 {
        fg.process(&frame(w, h, &lit(t, 1.0)));
    }
    for t in 20..23 {
        let mut img = lit(t, 0.65);
        square(&mut img, w, (100 + 2 * t, 150), 5, 30);
        let out = fg.process(&frame(w, h, &img));
        assert_eq!(out.exposure_moved, t == 20, "frame {t}");
        assert_eq!(out.blobs.len(), 1, "frame {t}: {:?}", out.blobs);
        let b = &out.blobs[0];
        assert!(
            (f64::from(102 + 2 * t) + 0.5 - b.cx).abs() < 1.0,
            "frame {t}: {b:?}"
        );
    }
}

#[test]
fn a_few_pixels_of_a_band_that_stay_put_in_one_quadrant_do_not_gainsay_the_exposure() {
    // At night: a dark sky over the top half (40 levels), a lit wall below (120), and in the
    // top left quadrant a patch at the wall's level that the gain leaves where it was, 32 × 24
    // px (a thirteenth of that band's samples). The gain about black steps to 1.25: the sky
    // moves 6 levels, the wall 26, and the patch's quadrant holds nothing else of that band.
    let (w, h) = (160, 120);
    let mut fg = Foreground::new(ForegroundParams::default(), w, h, &[]);
    let patch = |i: u32| i % w < 32 && i / w < 24;
    let night = |t| -> Vec<u8> {
        (0..w * h)
            .map(|i| {
                let level = match i / w < h / 2 && !patch(i) {
                    true => 40,
                    false => 120,
                };
                (level + noise(i, t)) as u8
            })
            .collect()
    };
    for t in 0..20 {
        fg.process(&frame(w, h, &night(t)));
    }
    let stepped: Vec<u8> = (0..w * h)
        .zip(night(20))
        .map(|(i, v)| match patch(i) {
            true => v,
            false => exposed(v, 1.25),
        })
        .collect();
    let out = fg.process(&frame(w, h, &stepped));
    assert!(out.exposure_moved, "{out:?}");
    assert!(out.blobs.len() <= 1, "{:?}", out.blobs);
}
