//! A camera as the config describes it: its source (an RTSP URL whose credentials are never
//! printed, or a file), zones, sampling and privacy settings, and how a camera block is
//! validated.

use crate::assets::resolve_asset;
use crate::check::Validator;
use crate::raw::{RawCamera, RawTransport};
use serde_saphyr::Spanned;
use std::fmt;
use std::path::Path;
use std::path::PathBuf;
use std::time::Duration;
use vigil_core::{CameraId, PointNorm, PolygonNorm, ZoneId};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RtspTransport {
    Tcp,
    Udp,
}

/// An RTSP URL whose credentials are kept apart and never printed: `Display` and `Debug` show
/// `rtsp://***@host/path` when credentials are set.
#[derive(Clone, PartialEq, Eq)]
pub struct RtspUrl {
    /// The URL without user-info.
    url: String,
    username: Option<String>,
    password: Option<String>,
}

impl RtspUrl {
    /// Splits user-info out of `url`; explicit `username`/`password` take precedence.
    pub fn parse(
        url: &str,
        username: Option<String>,
        password: Option<String>,
    ) -> Result<Self, String> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| "RTSP URL must look like rtsp://host[:port]/path".to_string())?;
        if scheme != "rtsp" && scheme != "rtsps" && scheme != "rtspt" {
            return Err(format!(
                "unsupported URL scheme \"{scheme}\": expected rtsp, rtsps or rtspt"
            ));
        }
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let (userinfo, host) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        if host.is_empty() {
            return Err("RTSP URL has no host".to_string());
        }
        let (mut user, mut pass) = (None, None);
        if let Some(u) = userinfo {
            let (a, b) = u.split_once(':').map_or((u, None), |(a, b)| (a, Some(b)));
            user = Some(a.to_string());
            pass = b.map(str::to_string);
        }
        Ok(Self {
            url: format!("{scheme}://{host}{path}"),
            username: username.or(user),
            password: password.or(pass),
        })
    }

    /// This URL with `other`'s credentials when it carries none of its own (a camera's main
    /// stream signs in as its sub-stream does).
    pub fn or_credentials_of(mut self, other: &RtspUrl) -> Self {
        if self.username.is_none() && self.password.is_none() {
            self.username.clone_from(&other.username);
            self.password.clone_from(&other.password);
        }
        self
    }

    /// The URL to hand to the source, without credentials (they go in separate properties).
    pub fn url_without_credentials(&self) -> &str {
        &self.url
    }

    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }
}

impl fmt::Display for RtspUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.username.is_some() || self.password.is_some() {
            let (scheme, rest) = self.url.split_once("://").unwrap_or(("rtsp", &self.url));
            write!(f, "{scheme}://***@{rest}")
        } else {
            f.write_str(&self.url)
        }
    }
}

impl fmt::Debug for RtspUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RtspUrl({self})")
    }
}

#[derive(Clone, Debug)]
pub enum CameraSource {
    Rtsp {
        url: RtspUrl,
        transport: RtspTransport,
        latency_ms: u32,
    },
    File {
        path: PathBuf,
        looping: bool,
    },
}

#[derive(Clone, Debug)]
pub struct CameraConfig {
    pub id: CameraId,
    /// The stream decoded for detection (the sub-stream of a camera that has two).
    pub source: CameraSource,
    /// `record:`: the main stream, whose access units are the evidence (never decoded); `None`
    /// records `source` itself.
    pub record: Option<CameraSource>,
    /// Frames per second handed to the detector; `None` means every decoded frame.
    pub detect_fps: Option<f64>,
    pub zones: Vec<(ZoneId, PolygonNorm)>,
    /// Classes or groups blurred in exported snapshots (`[person]` by default for views that
    /// face windows).
    pub privacy_blur: Vec<String>,
    /// Live: no frame for this long on an open session counts as a drop (reconnect).
    pub stall: Duration,
    pub decoder: Decoder,
    /// Footage vigil itself serves in a loop over RTSP (`vigil demo`): one pass's length, so
    /// frames carry their pass. Never read from a config file.
    pub served_loop: Option<Duration>,
    /// (model label, the label it stands for here): `class_map`.
    pub class_map: Vec<(String, String)>,
    /// The smallest box renamed, as a fraction of the frame.
    pub class_map_min_area: f64,
    /// `motion_gate:` on the camera; `None` follows `detector.motion_gate.enabled`.
    pub motion_gate: Option<bool>,
}

/// `class_map_min_area` when not set: 0.5 % of the frame (a car seen from above at 768×432 is
/// about 1.5 %).
pub const CLASS_MAP_MIN_AREA: f64 = 0.005;

/// Which video decoder a camera's stream goes through: `decoder:` on the camera, else at the top
/// of the config, else `auto`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Decoder {
    /// A hardware decoder that works on this machine (VA-API, then NVDEC), else software.
    #[default]
    Auto,
    /// libav on the CPU.
    Software,
    /// VA-API (Intel and AMD GPUs): `vah264dec` / `vah265dec`.
    Vaapi,
    /// NVIDIA's NVDEC: `nvh264dec` / `nvh265dec`.
    Nvdec,
}

impl Decoder {
    pub const ALL: [Decoder; 4] = [
        Decoder::Auto,
        Decoder::Software,
        Decoder::Vaapi,
        Decoder::Nvdec,
    ];

    /// The decoder named `name` (as written in the config), if any.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Decoder::Auto => "auto",
            Decoder::Software => "software",
            Decoder::Vaapi => "vaapi",
            Decoder::Nvdec => "nvdec",
        }
    }
}

impl fmt::Display for Decoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Validator<'_> {
    /// A `decoder:` value: one of [`Decoder::ALL`].
    pub(crate) fn decoder(&mut self, d: &Spanned<String>) -> Decoder {
        let found = Decoder::parse(&d.value);
        if found.is_none() {
            self.error(
                d,
                format!(
                    "decoder \"{}\": expected auto, software, vaapi or nvdec",
                    d.value
                ),
            );
        }
        found.unwrap_or_default()
    }

    pub(crate) fn fps(&mut self, f: &Spanned<f64>) -> f64 {
        self.check(
            f.value.is_finite() && f.value > 0.0 && f.value <= 240.0,
            f,
            "detect_fps must be in (0, 240]",
        );
        f.value
    }

    /// The jitter buffer of an RTSP camera, in milliseconds (default 200).
    fn latency(&mut self, field: &Option<Spanned<u32>>) -> u32 {
        let Some(l) = field else { return 200 };
        let ok = l.value <= 10_000;
        self.check(ok, l, "latency_ms must be between 0 and 10000");
        if ok { l.value } else { 200 }
    }

    /// The RTSP stream of `cam` at `url`, with the camera's credentials, transport and latency.
    fn rtsp_source(&mut self, cam: &RawCamera, url: &Spanned<String>) -> Option<CameraSource> {
        let password = match &cam.password_env {
            Some(name) => crate::outputs::env_secret(self, name).map(|s| s.expose().to_string()),
            None => cam.password.clone(),
        };
        let latency_ms = self.latency(&cam.latency_ms);
        match RtspUrl::parse(&url.value, cam.username.clone(), password) {
            Ok(u) => Some(CameraSource::Rtsp {
                url: u,
                transport: match cam.transport {
                    RawTransport::Tcp => RtspTransport::Tcp,
                    RawTransport::Udp => RtspTransport::Udp,
                },
                latency_ms,
            }),
            Err(e) => {
                self.error(url, format!("camera \"{}\": {e}", cam.name.value));
                None
            }
        }
    }

    pub(crate) fn camera(
        &mut self,
        cam: &RawCamera,
        base: &Path,
        assets: Option<&Path>,
        default_decoder: Decoder,
    ) -> Option<CameraConfig> {
        let name = &cam.name.value;
        self.check(
            crate::check::is_id(name),
            &cam.name,
            "camera names use letters, digits, '_' and '-' (they name topics and folders)",
        );
        let source = match (&cam.rtsp, &cam.file) {
            (Some(url), None) => self.rtsp_source(cam, url),
            (None, Some(file)) => {
                let path = resolve_asset(base, &file.value, assets, "footage");
                if path.is_file() {
                    Some(CameraSource::File {
                        path,
                        looping: cam.looping,
                    })
                } else {
                    self.error(
                        file,
                        format!(
                            "camera \"{name}\": file {} not found (relative paths are looked up beside the config, then under VIGIL_ASSETS)",
                            path.display()
                        ),
                    );
                    None
                }
            }
            _ => {
                self.error(
                    &cam.name,
                    format!("camera \"{name}\" needs exactly one of `rtsp:` or `file:`"),
                );
                None
            }
        };
        let record = match (&cam.record, &cam.rtsp) {
            // The sub-stream's session settings and credentials, unless the main stream's URL
            // carries its own user-info.
            (Some(url), Some(_)) => match (RtspUrl::parse(&url.value, None, None), &source) {
                (Err(e), _) => {
                    self.error(url, format!("camera \"{name}\": {e}"));
                    None
                }
                (
                    Ok(main),
                    Some(CameraSource::Rtsp {
                        url: sub,
                        transport,
                        latency_ms,
                    }),
                ) => Some(CameraSource::Rtsp {
                    url: main.or_credentials_of(sub),
                    transport: *transport,
                    latency_ms: *latency_ms,
                }),
                // The sub-stream's URL has its error already.
                (Ok(_), _) => None,
            },
            (Some(url), None) => {
                self.error(
                    url,
                    format!("camera \"{name}\": `record:` is the main stream of an RTSP camera whose `rtsp:` is its sub-stream; a file camera records itself"),
                );
                None
            }
            (None, _) => None,
        };
        let detect_fps = cam.detect_fps.as_ref().map(|f| self.fps(f));
        let stall = match &cam.stall_secs {
            Some(s) => {
                let ok = (0.5..=600.0).contains(&s.value);
                self.check(ok, s, "stall_secs must be in [0.5, 600]");
                Duration::from_secs_f64(if ok { s.value } else { 5.0 })
            }
            None => Duration::from_secs(5),
        };
        let mut zones = Vec::new();
        for (zone, pts) in &cam.zones {
            let points = pts.value.iter().map(|&[x, y]| PointNorm { x, y }).collect();
            match PolygonNorm::new(points) {
                Ok(p) => zones.push((ZoneId::new(zone), p)),
                Err(e) => self.error(pts, format!("zone \"{zone}\" of camera \"{name}\": {e}")),
            }
        }
        let privacy_blur = match &cam.privacy {
            Some(p) => match &p.blur {
                Some(list) => list.iter().map(|c| c.value.clone()).collect(),
                None if p.faces_windows => vec!["person".to_string()],
                None => Vec::new(),
            },
            None => Vec::new(),
        };
        let class_map_min_area = match &cam.class_map_min_area {
            Some(a) => {
                let ok = (0.0..=1.0).contains(&a.value);
                self.check(
                    ok,
                    a,
                    "class_map_min_area must be in [0, 1] (a fraction of the frame)",
                );
                if ok { a.value } else { CLASS_MAP_MIN_AREA }
            }
            None => CLASS_MAP_MIN_AREA,
        };
        Some(CameraConfig {
            id: CameraId::new(name),
            source: source?,
            record,
            detect_fps,
            zones,
            privacy_blur,
            stall,
            decoder: cam
                .decoder
                .as_ref()
                .map_or(default_decoder, |d| self.decoder(d)),
            served_loop: None,
            class_map: cam
                .class_map
                .iter()
                .map(|(from, to)| (from.clone(), to.value.clone()))
                .collect(),
            class_map_min_area,
            motion_gate: cam.motion_gate,
        })
    }
}
