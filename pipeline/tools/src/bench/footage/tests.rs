use super::*;
use vigil_core::Size;
use vigil_ingest::rtsp_server::encode;

const W: usize = 64;
const H: usize = 48;

/// A YUV4MPEG2 clip of `n` flat grey frames at 10 frames/s, frame i at luma 20 + 8·i.
fn clip(dir: &Path, n: usize) -> PathBuf {
    let path = dir.join("clip.y4m");
    let mut out = Vec::from(format!("YUV4MPEG2 W{W} H{H} F10:1 Ip A1:1 C420jpeg\n").as_bytes());
    for i in 0..n {
        out.extend_from_slice(b"FRAME\n");
        out.extend(std::iter::repeat_n(20 + 8 * i as u8, W * H));
        out.extend(std::iter::repeat_n(128u8, W * H / 2));
    }
    std::fs::write(&path, out).unwrap();
    path
}

/// Each frame's mean luma in a YUV4MPEG2 file.
fn lumas(path: &Path) -> Vec<f64> {
    let bytes = std::fs::read(path).unwrap();
    let text_end = bytes.iter().position(|&b| b == b'\n').unwrap();
    let header = std::str::from_utf8(&bytes[..text_end]).unwrap();
    let (w, h, _) = y4m_header(header).unwrap();
    let frame = w * h + 2 * w.div_ceil(2) * h.div_ceil(2);
    let mut at = text_end + 1;
    let mut out = Vec::new();
    while at < bytes.len() {
        at += bytes[at..].iter().position(|&b| b == b'\n').unwrap() + 1;
        let y = &bytes[at..at + w * h];
        out.push(y.iter().map(|&v| f64::from(v)).sum::<f64>() / y.len() as f64);
        at += frame;
    }
    out
}

#[test]
fn idle_is_parsed_and_checked() {
    assert_eq!(
        "2-4.2:25".parse::<Idle>(),
        Ok(Idle {
            from: 2.0,
            to: 4.2,
            secs: 25.0
        })
    );
    for bad in [
        "2-4.2", "4-2:25", "2-4:0", "2-4:4000", "-1-2:5", "a-b:c", "2:25",
    ] {
        assert!(bad.parse::<Idle>().is_err(), "{bad}");
    }
}

#[test]
fn ping_pong_goes_forward_and_back_without_repeating_the_ends() {
    let got: Vec<usize> = ping_pong(3, 9).collect();
    assert_eq!(got, [0, 1, 2, 1, 0, 1, 2, 1, 0]);
}

#[test]
fn the_still_stretch_comes_before_the_whole_clip() {
    let dir = tempfile::tempdir().unwrap();
    let raw = clip(dir.path(), 12);
    let out = dir.path().join("idle.y4m");
    // Seconds 0.3–0.6 at 10 frames/s: frames 3, 4, 5; 1 s at 8 frames/s: 8 of them.
    let idle = Idle {
        from: 0.3,
        to: 0.6,
        secs: 1.0,
    };
    write_with_idle(&raw, &out, idle, 8).unwrap();
    let frames: Vec<usize> = lumas(&out)
        .iter()
        .map(|l| ((l - 20.0) / 8.0).round() as usize)
        .collect();
    assert_eq!(
        frames,
        [3, 4, 5, 4, 3, 4, 5, 4, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    );
    // A stretch with under two frames is refused.
    let short = Idle {
        from: 0.3,
        to: 0.35,
        secs: 1.0,
    };
    let err = write_with_idle(&raw, &dir.path().join("short.y4m"), short, 8).unwrap_err();
    assert!(format!("{err:#}").contains("1 frame(s)"), "{err:#}");
}

#[test]
fn a_staggered_stream_starts_at_its_keyframe_and_holds_every_frame() {
    let dir = tempfile::tempdir().unwrap();
    let raw = clip(dir.path(), 30);
    for codec in [Codec::H264, Codec::H265] {
        let stream = dir.path().join(format!("clip.{}", codec.extension()));
        // A keyframe every 10 frames: three of them.
        encode(
            &raw,
            &stream,
            codec,
            Size::new(W as u32, H as u32),
            10,
            10,
            300,
        )
        .unwrap();
        let (keys, _) = keyframes(&std::fs::read(&stream).unwrap(), codec);
        assert_eq!(keys.len(), 3, "{codec:?}: {keys:?}");
        let phases = staggered(&stream, 3).unwrap();
        assert_eq!(phases[0], stream);
        let turned = phases[2].clone();
        assert_ne!(turned, stream);
        let decoded = dir.path().join(format!("turned-{}.y4m", codec.extension()));
        decode_y4m(&turned, &decoded).unwrap();
        let frames: Vec<usize> = lumas(&decoded)
            .iter()
            .map(|l| ((l - 20.0) / 8.0).round() as usize)
            .collect();
        // x265 makes open GOPs: the picture shown just before keyframe 20 is coded after it
        // and refers back past it, so a decoder starting there drops it, as when a client joins
        // a camera's H.265 stream; from the next pass on it is there.
        let open_gop = codec == Codec::H265;
        let want: Vec<usize> = (20..30)
            .chain(0..20)
            .filter(|&f| !(open_gop && f == 19))
            .collect();
        assert_eq!(frames, want, "{codec:?}");
    }
}
