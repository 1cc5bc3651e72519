//! The camera's exposure followed ([`crate::foreground::exposure`]): a step of the gain over
//! the whole picture, and a veil of light that lifts parts of it more than others; an edge of
//! light is neither.

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

/// Blocks of 8 px at levels spread over 40–190, so that every band lies all over the picture,
/// with noise.
fn spread(w: u32, h: u32, t: u32) -> Vec<u8> {
    (0..w * h)
        .map(|i| {
            let block = (i % w / 8) * 131 + (i / w / 8) * 71;
            let level = 40 + (block.wrapping_mul(2_654_435_761) >> 7) % 150;
            (level as i32 + noise(i, t)) as u8
        })
        .collect()
}

#[test]
fn light_from_above_is_followed_as_a_veil_and_floodlights_on_the_wall_are_not_followed() {
    // Light from above lifts the top half by 8 levels and the bottom by 2, with an edge
    // between them. Every band moved, but not alike across the frame: not an exposure step,
    // which would write one shift everywhere, but a veil, which laid between the centres of its
    // cells leaves the edge's rows 2–3 levels off: nothing stands out.
    let (w, h) = (640, 480);
    let lit = |t: u32, top: u8, bottom: u8| -> Vec<u8> {
        let mut img = spread(w, h, t);
        for (i, v) in img.iter_mut().enumerate() {
            *v += if (i as u32) < w * h / 2 { top } else { bottom };
        }
        img
    };
    let mut fg = Foreground::new(ForegroundParams::default(), w, h, &[]);
    for t in 0..20 {
        fg.process(&frame(w, h, &lit(t, 0, 0)));
    }
    let out = fg.process(&frame(w, h, &lit(20, 8, 2)));
    assert!(out.exposure_moved && out.blobs.is_empty(), "{out:?}");
    // Floodlights that lift the wall below by 24 levels more are neither: the change is the
    // guard's.
    let out = fg.process(&frame(w, h, &lit(21, 8, 26)));
    assert!(!out.exposure_moved, "{out:?}");
}

#[test]
fn a_suns_glare_dimmed_by_a_frond_is_followed_and_an_object_in_it_is_kept() {
    // A sun just beyond the top right of the picture: its glare, a halo falling off with the
    // distance from it and a faint veil everywhere, lifts the picture by 12–50 levels. A frond
    // crosses the sun and the glare dims to 65 %: 17 levels near the sun, 4 far from it. The
    // quadrants disagree on every band; followed as a veil, only the object stands out.
    let (w, h) = (640, 480);
    let (sx, sy, core) = (0.8 * f64::from(w), -0.1 * f64::from(h), 0.03 * f64::from(w));
    let glare = |i: u32, strength: f64| {
        let (x, y) = (f64::from(i % w) - sx, f64::from(i / w) - sy);
        let halo = (core / ((x * x + y * y).sqrt() + core)).powf(1.3);
        (strength * (200.0 * halo + 10.0)).round() as u8
    };
    let lit = |t: u32, strength: f64| -> Vec<u8> {
        (0..w * h)
            .zip(spread(w, h, t))
            .map(|(i, v)| v + glare(i, strength))
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
