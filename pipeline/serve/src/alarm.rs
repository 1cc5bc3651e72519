//! The page's alarm sound, built in: a hi–lo two-tone (960 Hz then 770 Hz, half a second each,
//! the pattern of a European emergency siren), made once as a 16-bit mono WAV and served at
//! `/alarm.wav`. Nothing is downloaded; the page loops it while an alert at or above
//! `api.alarm.min_severity` waits for acknowledgement.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::sync::OnceLock;

/// Samples per second.
const RATE: u32 = 22_050;
/// The two tones, each sounded for half of one loop of the sound.
const TONES_HZ: [f32; 2] = [960.0, 770.0];
/// Each tone fades in and out over this long, so the loop does not click.
const FADE_SECS: f32 = 0.008;

/// `GET /alarm.wav`.
pub(crate) async fn sound() -> Response {
    (
        [
            (header::CONTENT_TYPE, "audio/wav"),
            (header::CACHE_CONTROL, "max-age=86400"),
        ],
        wav(),
    )
        .into_response()
}

/// The sound, one loop of it (one second).
pub fn wav() -> &'static [u8] {
    static WAV: OnceLock<Vec<u8>> = OnceLock::new();
    WAV.get_or_init(|| {
        let half = RATE as usize / 2;
        let fade = (FADE_SECS * RATE as f32) as usize;
        let samples = TONES_HZ.iter().flat_map(|&hz| {
            (0..half).map(move |i| {
                let t = i as f32 / RATE as f32;
                let edge = i.min(half - 1 - i);
                let envelope = (edge as f32 / fade as f32).min(1.0);
                // The tone with a third of its third harmonic: a harder edge that carries.
                let phase = std::f32::consts::TAU * hz * t;
                let v = (phase.sin() + (3.0 * phase).sin() / 3.0) * 0.6 * envelope;
                (v * i16::MAX as f32) as i16
            })
        });
        encode(samples, RATE)
    })
}

/// A RIFF/WAVE file of 16-bit mono PCM `samples` at `rate`.
fn encode(samples: impl Iterator<Item = i16>, rate: u32) -> Vec<u8> {
    let pcm: Vec<u8> = samples.flat_map(i16::to_le_bytes).collect();
    let mut out = Vec::with_capacity(44 + pcm.len());
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + pcm.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes()); // bytes per second
    out.extend_from_slice(&2u16.to_le_bytes()); // block align
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(pcm.len() as u32).to_le_bytes());
    out.extend_from_slice(&pcm);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(wav: &[u8]) -> Vec<i16> {
        wav[44..]
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect()
    }

    /// Upward zero crossings per second over `s`: the pitch of a tone.
    fn pitch(s: &[i16]) -> f32 {
        let ups = s.windows(2).filter(|w| w[0] < 0 && w[1] >= 0).count();
        ups as f32 * RATE as f32 / s.len() as f32
    }

    #[test]
    fn the_sound_is_a_wav_of_two_tones_that_loops_without_a_click() {
        let wav = wav();
        assert_eq!(&wav[..4], b"RIFF");
        assert_eq!(&wav[8..16], b"WAVEfmt ");
        assert_eq!(
            u32::from_le_bytes(wav[4..8].try_into().unwrap()) as usize,
            wav.len() - 8
        );
        assert_eq!(u32::from_le_bytes(wav[24..28].try_into().unwrap()), RATE);
        let s = samples(wav);
        assert_eq!(s.len(), RATE as usize, "one second");
        let (hi, lo) = s.split_at(s.len() / 2);
        assert!((pitch(hi) - 960.0).abs() < 15.0, "first tone {}", pitch(hi));
        assert!(
            (pitch(lo) - 770.0).abs() < 15.0,
            "second tone {}",
            pitch(lo)
        );
        // Loud enough to be heard in a guard room, not clipped.
        let peak = s.iter().map(|v| v.unsigned_abs()).max().unwrap();
        assert!((16_000..i16::MAX as u16).contains(&peak), "peak {peak}");
        // The ends meet at silence, so a looped sound has no step in it.
        assert!(s[0].unsigned_abs() < 200 && s[s.len() - 1].unsigned_abs() < 200);
    }
}
