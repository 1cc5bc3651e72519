//! The live view's pictures: each watched camera's latest detect frame (what the detector saw,
//! at its size) with that frame's boxes, as JPEG at most `api.live.fps` a second.
//!
//! The pipeline offers frames ([`LiveHub::offer`]); a frame is copied only when someone watches
//! the camera and the camera's next picture is due, so an unwatched box pays one lock per frame.
//! Each camera keeps one raw frame waiting to be encoded (a newer one replaces it: the bound and
//! the drop policy) and one encoded picture, which every viewer of the camera shares — a second
//! viewer costs bandwidth, not encoding. The encoding runs on a thread of the pipeline's
//! ([`LiveHub::take`], [`LiveHub::publish`]), never on the HTTP runtime.
//!
//! A camera is watched while a viewer asked for it within [`WATCH_TTL`]; then its pictures stop.
//! At most `api.live.max_viewers` viewers (distinct callers' page instances) watch at once;
//! one more is refused (`503`) until a viewer leaves.

use serde::Serialize;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::watch;
use vigil_core::{Image, Size};

/// A camera stays watched this long after a viewer last asked for it.
pub const WATCH_TTL: Duration = Duration::from_secs(5);

/// One box drawn over the picture, in fractions of the frame.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LiveBox {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
    /// The class (`car`), or what the stage calls the object.
    pub label: String,
    pub score: f32,
}

/// A frame waiting to be encoded.
pub struct RawPicture {
    pub image: Image,
    pub boxes: Vec<LiveBox>,
    pub wall_time: SystemTime,
    /// The camera's frame size (the picture may be smaller, or stretched).
    pub source: Size,
}

/// An encoded picture, shared by the camera's viewers.
#[derive(Debug)]
pub struct LivePicture {
    /// Counts the camera's pictures from 1.
    pub seq: u64,
    /// Shared by every response that sends it (cloning it copies no bytes).
    pub jpeg: axum::body::Bytes,
    pub boxes: Vec<LiveBox>,
    /// When the frame arrived, milliseconds since the Unix epoch.
    pub wall_ms: i64,
    pub source: Size,
}

/// Why a viewer gets no pictures.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    UnknownCamera,
    /// Already this many viewers.
    Full(u32),
}

struct Camera {
    state: Mutex<CameraState>,
    latest: watch::Sender<Option<Arc<LivePicture>>>,
}

#[derive(Default)]
struct CameraState {
    watched_until: Option<Instant>,
    next_due: Option<Instant>,
    raw: Option<RawPicture>,
}

/// What the live view did, for `/metrics`.
#[derive(Default)]
pub struct LiveCounters {
    pub pictures: AtomicU64,
    pub bytes: AtomicU64,
    /// Frames replaced before they were encoded.
    pub replaced: AtomicU64,
    pub refused: AtomicU64,
}

/// The cameras' live pictures and who watches them.
pub struct LiveHub {
    settings: vigil_config::Live,
    cameras: BTreeMap<String, Camera>,
    viewers: Mutex<HashMap<String, Instant>>,
    queue: Mutex<VecDeque<String>>,
    wake: Condvar,
    closed: AtomicBool,
    pub counters: LiveCounters,
}

impl LiveHub {
    pub fn new(settings: vigil_config::Live, cameras: &[String]) -> Self {
        Self {
            settings,
            cameras: cameras
                .iter()
                .map(|c| {
                    let camera = Camera {
                        state: Mutex::default(),
                        latest: watch::channel(None).0,
                    };
                    (c.clone(), camera)
                })
                .collect(),
            viewers: Mutex::default(),
            queue: Mutex::default(),
            wake: Condvar::new(),
            closed: AtomicBool::new(false),
            counters: LiveCounters::default(),
        }
    }

    pub fn settings(&self) -> vigil_config::Live {
        self.settings
    }

    /// Offers `camera`'s newest frame: `make` runs (and copies it) only when the camera is
    /// watched and its next picture is due.
    pub fn offer(&self, camera: &str, make: impl FnOnce() -> RawPicture) {
        let Some(cam) = self.cameras.get(camera) else {
            return;
        };
        let now = Instant::now();
        let mut state = lock(&cam.state);
        if state.watched_until.is_none_or(|until| now > until)
            || state.next_due.is_some_and(|due| now < due)
        {
            return;
        }
        state.next_due = Some(now + Duration::from_secs_f64(1.0 / self.settings.fps));
        let waiting = state.raw.replace(make()).is_some();
        drop(state);
        if waiting {
            self.counters.replaced.fetch_add(1, Ordering::Relaxed);
        } else {
            lock(&self.queue).push_back(camera.to_string());
            self.wake.notify_one();
        }
    }

    /// The next frame to encode, waiting up to `timeout`; none when there is none yet (or the
    /// hub is closed: [`LiveHub::closed`]).
    pub fn take(&self, timeout: Duration) -> Option<(String, RawPicture)> {
        let mut queue = lock(&self.queue);
        if queue.is_empty() && !self.closed.load(Ordering::Acquire) {
            queue = self
                .wake
                .wait_timeout(queue, timeout)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        while let Some(camera) = queue.pop_front() {
            let raw = self
                .cameras
                .get(&camera)
                .and_then(|c| lock(&c.state).raw.take());
            if let Some(raw) = raw {
                return Some((camera, raw));
            }
        }
        None
    }

    /// Makes `jpeg` the camera's current picture, numbered after the one it replaces; its
    /// viewers wake. One encoder publishes.
    pub fn publish(&self, camera: &str, jpeg: Vec<u8>, raw: RawPicture) {
        let Some(cam) = self.cameras.get(camera) else {
            return;
        };
        let seq = cam.latest.borrow().as_ref().map_or(0, |p| p.seq) + 1;
        self.counters.pictures.fetch_add(1, Ordering::Relaxed);
        self.counters
            .bytes
            .fetch_add(jpeg.len() as u64, Ordering::Relaxed);
        let wall_ms = raw
            .wall_time
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        cam.latest.send_replace(Some(Arc::new(LivePicture {
            seq,
            jpeg: jpeg.into(),
            boxes: raw.boxes,
            wall_ms,
            source: raw.source,
        })));
    }

    /// `viewer` asks for `camera`'s pictures: the camera is watched for [`WATCH_TTL`] more, and
    /// the viewer counts against the cap.
    pub fn watch(
        &self,
        camera: &str,
        viewer: &str,
    ) -> Result<watch::Receiver<Option<Arc<LivePicture>>>, Refused> {
        let cam = self.cameras.get(camera).ok_or(Refused::UnknownCamera)?;
        let now = Instant::now();
        {
            let mut viewers = lock(&self.viewers);
            viewers.retain(|_, seen| now.duration_since(*seen) < WATCH_TTL);
            if !viewers.contains_key(viewer) && viewers.len() >= self.settings.max_viewers as usize
            {
                self.counters.refused.fetch_add(1, Ordering::Relaxed);
                return Err(Refused::Full(self.settings.max_viewers));
            }
            viewers.insert(viewer.to_string(), now);
        }
        let mut state = lock(&cam.state);
        let was_watched = state.watched_until.is_some_and(|until| now <= until);
        state.watched_until = Some(now + WATCH_TTL);
        if !was_watched {
            state.next_due = None; // the first picture is due at once
        }
        Ok(cam.latest.subscribe())
    }

    /// Viewers that asked within [`WATCH_TTL`].
    pub fn viewers(&self) -> usize {
        let now = Instant::now();
        lock(&self.viewers)
            .values()
            .filter(|seen| now.duration_since(**seen) < WATCH_TTL)
            .count()
    }

    /// Cameras being watched now.
    pub fn watched(&self) -> usize {
        let now = Instant::now();
        self.cameras
            .values()
            .filter(|c| lock(&c.state).watched_until.is_some_and(|u| now <= u))
            .count()
    }

    /// Ends [`LiveHub::take`]'s waiting: the encoder stops.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.wake.notify_all();
    }

    pub fn closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}

impl std::fmt::Debug for LiveHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveHub")
            .field("settings", &self.settings)
            .field("cameras", &self.cameras.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_core::PixelFormat;

    fn raw() -> RawPicture {
        RawPicture {
            image: Image::from_packed(Size::new(2, 2), PixelFormat::Gray8, vec![0; 4]),
            boxes: Vec::new(),
            wall_time: SystemTime::now(),
            source: Size::new(2, 2),
        }
    }

    fn hub(max_viewers: u32) -> LiveHub {
        let settings = vigil_config::Live {
            fps: 1.0,
            max_viewers,
            quality: 70,
        };
        LiveHub::new(settings, &["a".to_string(), "b".to_string()])
    }

    #[test]
    fn frames_are_copied_only_for_watched_cameras_at_the_rate() {
        let hub = hub(4);
        let mut made = 0;
        hub.offer("a", || {
            made += 1;
            raw()
        });
        assert_eq!(made, 0, "nobody watches: nothing is copied");
        let _rx = hub.watch("a", "v1").unwrap();
        for _ in 0..5 {
            hub.offer("a", || {
                made += 1;
                raw()
            });
        }
        assert_eq!(made, 1, "one picture a second at fps 1");
        let (camera, raw) = hub.take(Duration::ZERO).unwrap();
        assert_eq!(camera, "a");
        hub.publish("a", vec![1, 2, 3], raw);
        let latest = hub.cameras["a"].latest.borrow().clone().unwrap();
        assert_eq!((latest.seq, latest.jpeg.len()), (1, 3));
        assert!(hub.take(Duration::ZERO).is_none());
    }

    #[test]
    fn viewers_over_the_cap_are_refused_and_a_known_viewer_is_not() {
        let hub = hub(2);
        assert!(hub.watch("a", "v1").is_ok());
        assert!(hub.watch("b", "v2").is_ok());
        assert_eq!(hub.watch("a", "v3").unwrap_err(), Refused::Full(2));
        assert!(hub.watch("b", "v1").is_ok(), "v1 already watches");
        assert_eq!(hub.watch("c", "v1").unwrap_err(), Refused::UnknownCamera);
        assert_eq!((hub.viewers(), hub.watched()), (2, 2));
    }

    #[test]
    fn closing_ends_the_wait() {
        let hub = hub(1);
        hub.close();
        let started = Instant::now();
        assert!(hub.take(Duration::from_secs(5)).is_none());
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
