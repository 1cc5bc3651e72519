//! A playable copy of a clip for browsers that cannot decode its codec: an H.265 clip (kept
//! as recorded, the evidence whose sha256 is chained) re-encoded once to H.264 in MP4. The copy
//! is a convenience for viewing, never evidence.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::Duration;

/// The sample entry of an MP4's first video track: `avc1`/`avc3` (H.264), `hvc1`/`hev1`
/// (H.265), … — read from the box tree (`moov/trak/mdia/minf/stbl/stsd`); `None` when there is
/// none. Only the top-level box headers and `moov` are read: the media data (`mdat`) is
/// stepped over, wherever it lies.
pub fn mp4_video_codec(path: &Path) -> std::io::Result<Option<String>> {
    /// A `moov` bigger than this is not one of vigil's clips.
    const MOOV_MAX: u64 = 64 << 20;
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let mut at = 0u64;
    while at + 8 <= len {
        file.seek(SeekFrom::Start(at))?;
        let mut header = [0u8; 16];
        file.read_exact(&mut header[..8])?;
        let (mut size, mut body) = (
            u64::from(u32::from_be_bytes([
                header[0], header[1], header[2], header[3],
            ])),
            8,
        );
        if size == 1 {
            file.read_exact(&mut header[8..])?;
            size = u64::from_be_bytes(header[8..16].try_into().expect("8 bytes"));
            body = 16;
        } else if size == 0 {
            size = len - at;
        }
        if size < body || at + size > len {
            return Ok(None);
        }
        if &header[4..8] == b"moov" {
            if size - body > MOOV_MAX {
                return Ok(None);
            }
            let mut moov = vec![0u8; (size - body) as usize];
            file.read_exact(&mut moov)?;
            return Ok(sample_entry(
                &moov,
                &["trak", "mdia", "minf", "stbl", "stsd"],
            ));
        }
        at += size;
    }
    Ok(None)
}

/// Walks `path` of boxes down from `data` (a sequence of boxes) to `stsd`; its first entry's
/// type when the track is video (`vide` handler checked on the way, by trying every `trak`).
fn sample_entry(data: &[u8], path: &[&str]) -> Option<String> {
    let (want, rest) = path.split_first()?;
    for (kind, body) in boxes(data) {
        if kind != *want {
            continue;
        }
        if rest.is_empty() {
            // stsd: version/flags (4), entry count (4), then the first entry as a box.
            let entries = body.get(8..)?;
            let (entry, _) = boxes(entries).next()?;
            return Some(entry.to_string());
        }
        if kind == "trak" && !is_video(body) {
            continue;
        }
        if let Some(found) = sample_entry(body, rest) {
            return Some(found);
        }
    }
    None
}

/// A `trak` whose `mdia/hdlr` handler is `vide`.
fn is_video(trak: &[u8]) -> bool {
    boxes(trak)
        .filter(|(k, _)| *k == "mdia")
        .flat_map(|(_, mdia)| boxes(mdia))
        .any(|(k, hdlr)| k == "hdlr" && hdlr.get(8..12) == Some(b"vide"))
}

/// The boxes of `data`, in order: (type, body); stops at the first malformed one.
fn boxes(data: &[u8]) -> impl Iterator<Item = (&str, &[u8])> {
    let mut at = 0usize;
    std::iter::from_fn(move || {
        let header = data.get(at..at + 8)?;
        let mut size = u32::from_be_bytes(header[0..4].try_into().ok()?) as usize;
        let kind = std::str::from_utf8(&header[4..8]).ok()?;
        let mut start = at + 8;
        if size == 1 {
            size = usize::try_from(u64::from_be_bytes(
                data.get(at + 8..at + 16)?.try_into().ok()?,
            ))
            .ok()?;
            start += 8;
        } else if size == 0 {
            size = data.len() - at;
        }
        let end = at
            .checked_add(size)
            .filter(|&e| e <= data.len() && size >= start - at)?;
        let body = &data[start..end];
        at = end;
        Some((kind, body))
    })
}

/// Whether a sample entry is H.264.
pub fn is_h264(entry: &str) -> bool {
    matches!(entry, "avc1" | "avc3")
}

/// Re-encodes the video of the MP4 at `src` as H.264 (Main profile, x264 `veryfast`, one
/// thread) into an MP4 at `dst` (written beside it, then renamed): the copy browsers without
/// HEVC play. At most `limit` of work.
pub fn h264_copy(src: &Path, dst: &Path, limit: Duration) -> Result<(), String> {
    use gstreamer as gst;
    use gstreamer::prelude::*;
    gst::init().map_err(|e| e.to_string())?;
    let tmp = dst.with_extension("mp4.part");
    let quote = |p: &Path| {
        p.to_string_lossy()
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
    };
    let description = format!(
        "filesrc location=\"{}\" ! qtdemux ! decodebin ! videoconvert ! x264enc speed-preset=veryfast threads=1 key-int-max=50 ! video/x-h264,profile=main ! h264parse ! mp4mux faststart=true ! filesink location=\"{}\"",
        quote(src),
        quote(&tmp)
    );
    let pipeline = gst::parse::launch(&description).map_err(|e| e.to_string())?;
    let run = || -> Result<(), String> {
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|e| format!("cannot start the transcoder: {e}"))?;
        let bus = pipeline.bus().ok_or("no bus")?;
        let timeout = gst::ClockTime::from_nseconds(limit.as_nanos() as u64);
        match bus.timed_pop_filtered(timeout, &[gst::MessageType::Eos, gst::MessageType::Error]) {
            Some(m) => match m.view() {
                gst::MessageView::Error(e) => Err(format!("transcoding failed: {}", e.error())),
                _ => Ok(()),
            },
            None => Err(format!(
                "transcoding took longer than {} s",
                limit.as_secs()
            )),
        }
    };
    let result = run();
    let _ = pipeline.set_state(gst::State::Null);
    match result {
        Ok(()) => std::fs::rename(&tmp, dst).map_err(|e| e.to_string()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bx(kind: &str, body: &[u8]) -> Vec<u8> {
        let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind.as_bytes());
        v.extend_from_slice(body);
        v
    }

    fn trak(handler: &[u8; 4], entry: &str) -> Vec<u8> {
        let hdlr = bx("hdlr", &[&[0u8; 8][..], handler, &[0u8; 12]].concat());
        let stsd = bx(
            "stsd",
            &[&[0u8, 0, 0, 0, 0, 0, 0, 1][..], &bx(entry, &[0u8; 78])].concat(),
        );
        let stbl = bx("stbl", &stsd);
        let minf = bx("minf", &stbl);
        bx("trak", &bx("mdia", &[hdlr, minf].concat()))
    }

    #[test]
    fn the_video_tracks_sample_entry_is_found_past_other_tracks() {
        let moov = bx(
            "moov",
            &[trak(b"soun", "mp4a"), trak(b"vide", "hvc1")].concat(),
        );
        let file = [bx("ftyp", b"isom\0\0\0\0"), moov, bx("mdat", &[1, 2, 3])].concat();
        assert_eq!(
            sample_entry(&file, &["moov", "trak", "mdia", "minf", "stbl", "stsd"]).as_deref(),
            Some("hvc1")
        );
        assert!(!is_h264("hvc1") && is_h264("avc1"));
    }

    #[test]
    fn truncated_or_garbage_files_have_no_codec() {
        let moov = bx("moov", &trak(b"vide", "avc1"));
        let path = ["moov", "trak", "mdia", "minf", "stbl", "stsd"];
        for cut in [0, 7, 20, moov.len() - 1] {
            assert_eq!(sample_entry(&moov[..cut], &path), None, "cut at {cut}");
        }
        assert_eq!(sample_entry(&moov, &path).as_deref(), Some("avc1"));
        assert_eq!(sample_entry(&[0xff; 64], &path), None);
    }

    #[test]
    fn the_file_is_read_past_its_media_data_to_its_moov() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("late-moov.mp4");
        // The media data first (a clip written without faststart), 4 MB of it, then moov.
        let moov = bx("moov", &trak(b"vide", "hvc1"));
        let file = [
            bx("ftyp", b"isom\0\0\0\0"),
            bx("mdat", &vec![7u8; 4 << 20]),
            moov,
        ]
        .concat();
        std::fs::write(&path, &file).unwrap();
        assert_eq!(mp4_video_codec(&path).unwrap().as_deref(), Some("hvc1"));
        // Cut inside moov, or with no moov at all: none.
        std::fs::write(&path, &file[..file.len() - 10]).unwrap();
        assert_eq!(mp4_video_codec(&path).unwrap(), None);
        std::fs::write(&path, &file[..(4 << 20) + 16]).unwrap();
        assert_eq!(mp4_video_codec(&path).unwrap(), None);
    }
}
