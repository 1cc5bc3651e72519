use super::*;
use crate::foreground::tests::frame;

/// A value from 100 to 103 for pixel `i` of frame `t`: noise that differs from frame to frame.
fn noise(i: usize, t: u32) -> u8 {
    100 + ((i as u32 * 7 + t * 13 + (i as u32 * t) % 5) % 4) as u8
}

#[test]
fn a_stream_that_copies_still_pixels_shows_its_keyframes_and_a_noisy_one_none() {
    let (w, h) = (64, 48);
    let spans = vec![vec![(0, w)]; h as usize];
    // Compressed: 9 in 10 pixels copied from the frame before, the rest drawn anew; a
    // keyframe every 10 frames draws every pixel anew.
    let mut k = Keyframes::default();
    let mut keyframes = Vec::new();
    let mut img = vec![100u8; (w * h) as usize];
    for t in 1..40u32 {
        let key = t.is_multiple_of(10);
        for (i, p) in img.iter_mut().enumerate() {
            if key || (i as u32 + t).is_multiple_of(10) {
                *p = noise(i, t);
            }
        }
        if k.observe(&frame(w, h, &img), &spans) {
            keyframes.push(t);
        }
    }
    assert_eq!(keyframes, vec![10, 20, 30]);
    // Fresh noise in every pixel of every frame: nothing is copied, nothing is a keyframe.
    let mut k = Keyframes::default();
    for t in 1..40u32 {
        let img: Vec<u8> = (0..(w * h) as usize).map(|i| noise(i, t)).collect();
        assert!(!k.observe(&frame(w, h, &img), &spans), "frame {t}");
    }
}

#[test]
fn an_exposure_step_in_a_compressed_stream_is_no_keyframe() {
    let (w, h) = (64, 48);
    let spans = vec![vec![(0, w)]; h as usize];
    let mut k = Keyframes::default();
    let mut img = vec![100u8; (w * h) as usize];
    for t in 1..30u32 {
        for (i, p) in img.iter_mut().enumerate() {
            if t == 20 {
                // Every pixel 12 levels brighter.
                *p = noise(i, t) + 12;
            } else if (i as u32 + t).is_multiple_of(10) {
                *p = noise(i, t) + if t > 20 { 12 } else { 0 };
            }
        }
        assert!(!k.observe(&frame(w, h, &img), &spans), "frame {t}");
    }
}

#[test]
fn the_frame_after_a_keyframe_settles_what_it_copied_and_not_what_moved_or_stands_apart() {
    let (w, h) = (8u32, 1u32);
    let key: Vec<u8> = (0..w as usize).map(|i| noise(i, 1)).collect();
    let mut k = Keyframes::default();
    assert!(k.take().is_none());
    k.keep(&frame(w, h, &key));
    let held = k
        .take()
        .expect("the keyframe is held for the next frame")
        .to_vec();
    assert!(k.take().is_none(), "held for one frame only");
    // The next frame copies all but pixels 2 and 3, where an object now is; pixel 6 is the
    // inside of a bright object that stood there, copied as it moves.
    let mut key_with_object = held.clone();
    key_with_object[6] = 200;
    let mut now = held.clone();
    now[2] = 60;
    now[3] = 61;
    now[6] = 200;
    let mut mean = vec![95.0f32; w as usize];
    settle(&now, &key_with_object, &mut mean, 12.0);
    let want: Vec<f32> = (0..w as usize)
        .map(|i| match i {
            2 | 3 | 6 => 95.0,
            _ => f32::from(key[i]),
        })
        .collect();
    assert_eq!(mean, want);
}
