//! Footage shaped as a fleet sees it, for a live bench: long still stretches between the moments
//! something moves (`--idle`: the clip's own still frames played forward and back before each
//! pass, so sensor noise and compression stay real), and cameras out of step with each other
//! (`--stagger`: each camera's stream starts at another keyframe, the byte stream cut and turned
//! round there, nothing re-encoded).

use anyhow::{Context, Result, bail, ensure};
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use vigil_ingest::rtsp_server::{Codec, decode_y4m};

/// Longest still stretch a pass may start with.
const MAX_IDLE_SECS: f64 = 3600.0;

/// `FROM-TO:SECS`: before each pass, `secs` of the clip's seconds `from`–`to` (where nothing
/// moves) played forward and back.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Idle {
    pub from: f64,
    pub to: f64,
    pub secs: f64,
}

impl FromStr for Idle {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("{s:?}: {why} (expected FROM-TO:SECS, e.g. 2-4.2:25)");
        let (range, secs) = s.split_once(':').ok_or_else(|| bad("no ':'"))?;
        let (from, to) = range.split_once('-').ok_or_else(|| bad("no '-'"))?;
        let num = |v: &str| v.trim().parse::<f64>().map_err(|_| bad("not a number"));
        let idle = Self {
            from: num(from)?,
            to: num(to)?,
            secs: num(secs)?,
        };
        if !(idle.from >= 0.0 && idle.to > idle.from && idle.to.is_finite()) {
            return Err(bad("FROM must be ≥ 0 and TO after it"));
        }
        if !(idle.secs > 0.0 && idle.secs <= MAX_IDLE_SECS) {
            return Err(bad("SECS must be over 0 and at most 3600"));
        }
        Ok(idle)
    }
}

/// `clip` with `idle` before it, as a YUV4MPEG2 file under `cache` (made once), for a stream
/// served at `fps` frames per second (the still stretch lasts `idle.secs` at that rate).
pub fn with_idle(clip: &Path, idle: Idle, fps: u32, cache: &Path) -> Result<PathBuf> {
    let stem = clip.file_stem().unwrap_or_default().to_string_lossy();
    let out = cache.join(format!(
        "{stem}-idle{}-{}x{}at{fps}.y4m",
        idle.from, idle.to, idle.secs
    ));
    if out.is_file() {
        return Ok(out);
    }
    let raw = cache.join(format!("{stem}.y4m"));
    decode_y4m(clip, &raw).with_context(|| format!("cannot decode {}", clip.display()))?;
    let tmp = out.with_extension("part");
    write_with_idle(&raw, &tmp, idle, fps)
        .with_context(|| format!("cannot make {}", out.display()))?;
    std::fs::rename(&tmp, &out)?;
    let _ = std::fs::remove_file(&raw);
    Ok(out)
}

/// Copies the YUV4MPEG2 file `raw` to `out` with the still stretch before its frames.
fn write_with_idle(raw: &Path, out: &Path, idle: Idle, fps: u32) -> Result<()> {
    let mut input = BufReader::new(std::fs::File::open(raw)?);
    let mut header = String::new();
    input.read_line(&mut header)?;
    let (width, height, rate) = y4m_header(&header)?;
    let frame_len = width * height + 2 * width.div_ceil(2) * height.div_ceil(2);
    let mut frames = Vec::new();
    let mut frame = vec![0u8; frame_len];
    let (first, last) = (idle.from * rate, idle.to * rate);
    for index in 0.. {
        let mut marker = String::new();
        if input.read_line(&mut marker)? == 0 {
            break;
        }
        ensure!(marker.starts_with("FRAME"), "frame {index}: {marker:?}");
        input.read_exact(&mut frame)?;
        let i = f64::from(index);
        if i >= first && i < last {
            frames.push(frame.clone());
        }
    }
    ensure!(
        frames.len() >= 2,
        "the clip has {} frame(s) between {} s and {} s",
        frames.len(),
        idle.from,
        idle.to
    );
    let mut output = BufWriter::new(std::fs::File::create(out)?);
    output.write_all(header.as_bytes())?;
    for i in ping_pong(frames.len(), (idle.secs * f64::from(fps)).round() as usize) {
        output.write_all(b"FRAME\n")?;
        output.write_all(&frames[i])?;
    }
    drop(frames);
    // Then the clip itself, read again from the start.
    let mut input = BufReader::new(std::fs::File::open(raw)?);
    std::io::copy(
        &mut input.by_ref().take(header.len() as u64),
        &mut std::io::sink(),
    )?;
    std::io::copy(&mut input, &mut output)?;
    output.flush()?;
    Ok(())
}

/// `count` indices over `n` frames, forward then back: 0, 1, …, n−1, n−2, …, 1, 0, 1, …
fn ping_pong(n: usize, count: usize) -> impl Iterator<Item = usize> {
    let period = 2 * (n - 1);
    (0..count).map(move |k| {
        let k = k % period;
        if k < n { k } else { period - k }
    })
}

/// Width, height and frames per second of a YUV4MPEG2 stream header (I420 frames only).
fn y4m_header(line: &str) -> Result<(usize, usize, f64)> {
    let mut fields = line.split_whitespace();
    ensure!(
        fields.next() == Some("YUV4MPEG2"),
        "not YUV4MPEG2: {line:?}"
    );
    let (mut w, mut h, mut fps) = (0, 0, 0.0);
    for field in fields {
        let (key, value) = field.split_at(1);
        match key {
            "W" => w = value.parse()?,
            "H" => h = value.parse()?,
            "F" => {
                let (n, d) = value.split_once(':').context("frame rate")?;
                fps = n.parse::<f64>()? / d.parse::<f64>()?;
            }
            "C" if !value.starts_with("420") => bail!("frames are not 4:2:0: {line:?}"),
            _ => {}
        }
    }
    ensure!(w > 0 && h > 0 && fps > 0.0, "incomplete header {line:?}");
    Ok((w, h, fps))
}

/// The byte stream `stream` for each of `cameras` cameras, camera `i` starting at keyframe
/// `i/cameras` of the way through it: a copy turned round there (what came before follows, so
/// it loops as before), or the stream itself for camera 0 or a stream of one keyframe. The
/// stream is read once; parameter sets are carried to the front of a copy whose keyframe has
/// none of its own (x265 sends them once). Its codec is told by its name
/// ([`Codec::of_file`]).
pub fn staggered(stream: &Path, cameras: usize) -> Result<Vec<PathBuf>> {
    let codec = Codec::of_file(stream);
    let bytes =
        std::fs::read(stream).with_context(|| format!("cannot read {}", stream.display()))?;
    let (keys, headers) = keyframes(&bytes, codec);
    let ext = codec.extension();
    (0..cameras)
        .map(|i| {
            let at = keys.len() * i / cameras;
            if at == 0 || keys.len() < 2 {
                return Ok(stream.to_path_buf());
            }
            let (start, own_headers) = keys[at];
            let out = stream.with_extension(format!("from{at}of{}.{ext}", keys.len()));
            if !out.is_file() {
                let mut turned = Vec::with_capacity(bytes.len() + headers.len());
                if !own_headers {
                    turned.extend_from_slice(&bytes[headers.clone()]);
                }
                turned.extend_from_slice(&bytes[start..]);
                turned.extend_from_slice(&bytes[..start]);
                std::fs::write(&out, turned)
                    .with_context(|| format!("cannot write {}", out.display()))?;
            }
            Ok(out)
        })
        .collect()
}

/// Where each keyframe's access unit starts in `bytes` (and whether parameter sets open it),
/// and the range of the stream's first parameter sets.
fn keyframes(bytes: &[u8], codec: Codec) -> (Vec<(usize, bool)>, std::ops::Range<usize>) {
    let (mut keys, mut headers) = (Vec::new(), 0..0);
    // The non-VCL units since the last picture: the next picture's access unit starts there.
    let (mut unit_start, mut has_headers) = (None, false);
    for (at, nal) in nal_units(bytes) {
        // Whether the unit is a picture's, a keyframe's, a parameter set, or one that closes
        // the access unit before it (end of sequence or stream, filler, suffix SEI) rather than
        // opening the next.
        let (vcl, key, parameters, closing) = match codec {
            Codec::H264 => {
                let t = nal & 0x1f;
                ((1..=5).contains(&t), t == 5, t == 7, (10..=12).contains(&t))
            }
            Codec::H265 => {
                let t = (nal >> 1) & 0x3f;
                let closing = (36..=38).contains(&t) || t == 40;
                (t < 32, (16..=23).contains(&t), t == 32 || t == 33, closing)
            }
        };
        if closing {
            continue;
        }
        if !vcl {
            unit_start.get_or_insert(at);
            has_headers |= parameters;
            continue;
        }
        if headers.is_empty() && has_headers {
            headers = unit_start.unwrap_or(0)..at;
        }
        if key {
            keys.push((unit_start.unwrap_or(at), has_headers));
        }
        (unit_start, has_headers) = (None, false);
    }
    (keys, headers)
}

/// Each NAL unit of an Annex B byte stream: where its start code begins (a 4-byte one counted
/// from its leading zero), and its first header byte.
fn nal_units(bytes: &[u8]) -> impl Iterator<Item = (usize, u8)> + '_ {
    (0..bytes.len().saturating_sub(3))
        .filter(|&i| bytes[i] == 0 && bytes[i + 1] == 0 && bytes[i + 2] == 1)
        .map(|i| {
            let start = if i > 0 && bytes[i - 1] == 0 { i - 1 } else { i };
            (start, bytes[i + 3])
        })
}

#[cfg(test)]
mod tests;
