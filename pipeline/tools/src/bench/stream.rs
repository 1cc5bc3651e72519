//! The RTSP server a live bench reads from, in a child process (`vigil bench-server`, a command
//! of the binary) so its
//! CPU is measured apart from the pipeline's. Footage is prepared once as an H.264 byte stream
//! (remuxed, or encoded to a chosen size) and served without re-encoding, looped, at its rate.

use super::footage::{self, Idle};
use anyhow::{Context, Result, bail, ensure};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use vigil_core::Size;
use vigil_ingest::rtsp_server::{Codec, encode, prepare_h264};

/// How the footage is shaped before it is served (see [`footage`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct Shape {
    /// A still stretch before each pass.
    pub idle: Option<Idle>,
    /// Each camera starts at another keyframe.
    pub stagger: bool,
}

/// `WIDTHxHEIGHT@FPS[:h265]`, e.g. `1280x720@25` (H.264) or `1920x1080@25:h265`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StreamFormat {
    pub size: Size,
    pub fps: u32,
    pub hevc: bool,
}

impl FromStr for StreamFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "{s:?}: expected WIDTHxHEIGHT@FPS[:h264|:h265], e.g. 1280x720@25 or 1920x1080@25:h265"
            )
        };
        let (s, hevc) = match s.rsplit_once(':') {
            Some((f, "h265")) => (f, true),
            Some((f, "h264")) => (f, false),
            Some(_) => return Err(bad()),
            None => (s, false),
        };
        let (dims, fps) = s.split_once('@').ok_or_else(bad)?;
        let (w, h) = dims.split_once('x').ok_or_else(bad)?;
        let (w, h, fps): (u32, u32, u32) = (
            w.parse().map_err(|_| bad())?,
            h.parse().map_err(|_| bad())?,
            fps.parse().map_err(|_| bad())?,
        );
        if w == 0 || h == 0 || fps == 0 || w % 2 == 1 || h % 2 == 1 {
            return Err(bad());
        }
        Ok(Self {
            size: Size::new(w, h),
            fps,
            hevc,
        })
    }
}

impl std::fmt::Display for StreamFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let codec = if self.hevc { "h265" } else { "h264" };
        let (w, h) = (self.size.width, self.size.height);
        write!(f, "{w}x{h}@{}:{codec}", self.fps)
    }
}

impl StreamFormat {
    /// `clip` encoded once at this format under `cache`, and the rate to serve it at. The
    /// encoding runs in a child process (`vigil bench-encode`): it is the camera's work, not
    /// vigil's, and an encoder keeps memory for the life of its process (x265 ≈ 14 MB of cost
    /// tables, besides what its frames leave in the allocator), which the bench would otherwise
    /// measure as vigil's.
    fn encoded(self, clip: &Path, cache: &Path) -> Result<(PathBuf, (i32, i32))> {
        let stem = clip.file_stem().unwrap_or_default().to_string_lossy();
        let (w, h, fps) = (self.size.width, self.size.height, self.fps);
        let codec = self.codec();
        let stream = cache.join(format!("{stem}-{w}x{h}-{fps}.{}", codec.extension()));
        if !stream.is_file() {
            let exe = std::env::current_exe().context("cannot find the vigil executable")?;
            let status = Command::new(exe)
                .arg("bench-encode")
                .arg("--format")
                .arg(self.to_string())
                .arg(clip)
                .arg(&stream)
                .status()
                .context("cannot start the encoding process")?;
            ensure!(status.success(), "cannot encode {}", clip.display());
        }
        Ok((stream, (fps as i32, 1)))
    }

    fn codec(self) -> Codec {
        match self.hevc {
            true => Codec::H265,
            false => Codec::H264,
        }
    }

    /// Encodes `clip` at this format into `out` in this process (what `vigil bench-encode`
    /// runs): a keyframe every 2 s and about what a camera sends, ≈ 0.07 bits per pixel per
    /// frame in H.264, 0.05 in H.265 (1.6 Mbit/s at 720p25 H.264, 2.6 at 1080p25 H.265).
    pub fn encode(self, clip: &Path, out: &Path) -> Result<()> {
        let bits = if self.hevc { 0.05 } else { 0.07 };
        let (w, h, fps) = (self.size.width, self.size.height, self.fps);
        let kbps = (f64::from(w * h * fps) * bits / 1000.0) as u32;
        encode(
            clip,
            out,
            self.codec(),
            self.size,
            fps,
            2 * fps,
            kbps.max(200),
        )
        .with_context(|| format!("cannot encode {}", clip.display()))
    }
}

/// The mount serving `camera`'s main stream.
pub fn main_mount(camera: &str) -> String {
    format!("{camera}-main")
}

/// A running `vigil bench-server` child; killed when dropped.
pub struct ServerProcess {
    child: Child,
    port: u16,
    /// Frames per second served, all mounts together.
    fps: f64,
}

impl ServerProcess {
    /// Prepares each clip under `cache` (shaped by `shape`) and starts the server with one mount
    /// per camera (`/<camera>`, each its own server pipeline, as separate cameras would be);
    /// `cameras` pairs each camera with the index of its clip. With a `record` format each
    /// camera also gets its main stream, H.265 at that format, at [`main_mount`].
    pub fn start(
        clips: &[PathBuf],
        cameras: &[(String, usize)],
        (format, record): (Option<StreamFormat>, Option<StreamFormat>),
        shape: Shape,
        cache: &Path,
    ) -> Result<Self> {
        std::fs::create_dir_all(cache)?;
        let clips = match (shape.idle, format) {
            (None, _) => clips.to_vec(),
            (Some(idle), Some(f)) => clips
                .iter()
                .map(|clip| footage::with_idle(clip, idle, f.fps, cache))
                .collect::<Result<Vec<_>>>()?,
            (Some(_), None) => bail!("--idle needs --stream: the footage is encoded anew"),
        };
        let mut streams = Vec::new();
        for clip in &clips {
            let stem = clip.file_stem().unwrap_or_default().to_string_lossy();
            let (stream, fps) = match format {
                Some(f) => f.encoded(clip, cache)?,
                None => {
                    let stream = cache.join(format!("{stem}.h264"));
                    let fps = prepare_h264(clip, &stream, 25)
                        .with_context(|| format!("cannot prepare {}", clip.display()))?;
                    (stream, fps)
                }
            };
            streams.push((stream, fps));
        }
        let mains = match record {
            Some(f) => clips
                .iter()
                .map(|clip| f.encoded(clip, cache))
                .collect::<Result<Vec<_>>>()?,
            None => Vec::new(),
        };
        let fps: f64 = cameras
            .iter()
            .map(|(_, clip)| {
                let (n, d) = streams[*clip].1;
                f64::from(n) / f64::from(d.max(1))
            })
            .sum();
        let mount = |name: &str, (stream, fps): &(PathBuf, (i32, i32))| {
            format!("{name}={}:{}/{}", stream.display(), fps.0, fps.1)
        };
        // Out of step: camera i of n starts at keyframe i/n of the way through its stream.
        let phases = |stream: &(PathBuf, (i32, i32))| -> Result<Vec<(PathBuf, (i32, i32))>> {
            let files = match shape.stagger {
                true => footage::staggered(&stream.0, cameras.len())?,
                false => vec![stream.0.clone(); cameras.len()],
            };
            Ok(files.into_iter().map(|f| (f, stream.1)).collect())
        };
        let streams: Vec<_> = streams.iter().map(phases).collect::<Result<_>>()?;
        let mains: Vec<_> = mains.iter().map(phases).collect::<Result<_>>()?;
        let mut args = Vec::new();
        for (i, (name, clip)) in cameras.iter().enumerate() {
            args.push(mount(name, &streams[*clip][i]));
            if let Some(main) = mains.get(*clip) {
                args.push(mount(&main_mount(name), &main[i]));
            }
        }
        let exe = std::env::current_exe().context("cannot find the vigil executable")?;
        let mut child = Command::new(exe)
            .arg("bench-server")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start the RTSP server process")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let Some(port) = line
            .trim()
            .strip_prefix("port ")
            .and_then(|p| p.parse().ok())
        else {
            let _ = child.kill();
            bail!("the RTSP server process did not start (said {line:?})");
        };
        Ok(Self { child, port, fps })
    }

    /// Frames per second the server sends, all cameras together.
    pub fn fps(&self) -> f64 {
        self.fps
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The URL of mount `name` (a camera's name, or its [`main_mount`]).
    pub fn url(&self, name: &str) -> String {
        format!("rtsp://127.0.0.1:{}/{name}", self.port)
    }

    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        // Closing its stdin tells it to stop; kill it if it does not.
        drop(self.child.stdin.take());
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_formats_parse_and_odd_sizes_are_refused() {
        assert_eq!(
            "1280x720@25".parse::<StreamFormat>(),
            Ok(StreamFormat {
                size: Size::new(1280, 720),
                fps: 25,
                hevc: false
            })
        );
        assert_eq!(
            "1920x1080@25:h265".parse::<StreamFormat>(),
            Ok(StreamFormat {
                size: Size::new(1920, 1080),
                fps: 25,
                hevc: true
            })
        );
        for bad in [
            "1280x720",
            "1280@25",
            "0x720@25",
            "1281x720@25",
            "axb@c",
            "640x360@25:vp9",
        ] {
            assert!(bad.parse::<StreamFormat>().is_err(), "{bad}");
        }
        // What the bench hands its encoding process reads back the same.
        for good in ["640x360@25:h264", "1920x1080@30:h265"] {
            let f: StreamFormat = good.parse().unwrap();
            assert_eq!(f.to_string(), good);
        }
    }
}
