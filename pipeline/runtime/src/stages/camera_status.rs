//! A camera's online/offline reports (from its `cam-<id>` thread, and from its record stream's
//! `rec-<id>` thread when it has one): logged, kept in the store's status history (by stream),
//! shown on `/metrics` (`vigil_camera_up`, `vigil_camera_stream_up`) and sent to the page as
//! live events.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use vigil_core::CameraId;
use vigil_core::streams::StreamHealth;
use vigil_deliver::AlertStore;
use vigil_ingest::{CameraStatus, StatusSink};

/// Where status reports go; shared by every camera.
#[derive(Clone)]
pub struct Settings {
    /// The status history, on a connection of its own (the camera threads write it).
    pub store: Arc<Mutex<AlertStore>>,
    pub events: vigil_serve::Events,
    /// Per camera: online or not, for `/metrics`.
    pub up: Arc<Mutex<BTreeMap<String, bool>>>,
    /// Per camera with a record stream: that stream online or not, for `/metrics`.
    pub record_up: Arc<Mutex<BTreeMap<String, bool>>>,
}

impl Settings {
    /// The status callback of one camera (its detect stream: the camera's status).
    pub fn sink(&self) -> StatusSink {
        self.stream_sink(vigil_deliver::DETECT, "camera", None)
    }

    /// The status callback of a camera's record stream: logged, kept in `health` for its
    /// recorder (clips asked for while it is down say so), in the status history as stream
    /// `record`, on `/metrics` (`vigil_camera_stream_up{stream="record"}`) and on the page. MQTT
    /// keeps the camera's (its detect stream's) status.
    pub fn record_sink(&self, health: Arc<StreamHealth>) -> StatusSink {
        self.stream_sink(vigil_deliver::RECORD, "record stream", Some(health))
    }

    /// The status callback of one stream of a camera (`what` names it in the log).
    fn stream_sink(
        &self,
        stream: &'static str,
        what: &'static str,
        health: Option<Arc<StreamHealth>>,
    ) -> StatusSink {
        let this = self.clone();
        // When the stream went offline, to report how long it was away.
        let down_since: Mutex<Option<Instant>> = Mutex::new(None);
        Arc::new(move |camera, status| {
            let (online, detail) = {
                let mut since = down_since.lock().unwrap_or_else(|p| p.into_inner());
                describe(&status, &mut since)
            };
            match (&health, &status) {
                (Some(h), CameraStatus::Online) => h.set_up(),
                (Some(h), CameraStatus::Offline { reason }) => h.set_down(reason),
                (None, _) => {}
            }
            this.record(camera, stream, online, detail.clone());
            // Logged once stored and on `/metrics`: whoever reads the line sees the same there.
            match &status {
                CameraStatus::Online if detail.is_empty() => {
                    tracing::info!(%camera, "{what} online")
                }
                CameraStatus::Online => tracing::info!(%camera, %detail, "{what} online"),
                CameraStatus::Offline { reason } => {
                    tracing::warn!(%camera, %reason, "{what} offline")
                }
            }
        })
    }

    /// A status of one of `camera`'s streams: in the history, on `/metrics` and to the page.
    fn record(&self, camera: &CameraId, stream: &str, online: bool, detail: String) {
        let recorded = self
            .store
            .lock()
            .map_err(|_| "status store lock poisoned".to_string())
            .and_then(|mut s| {
                s.record_stream_status(camera, stream, online, &detail)
                    .map_err(|e| e.to_string())
            });
        if let Err(error) = recorded {
            tracing::warn!(%camera, %error, "cannot record camera status");
        }
        let up = match stream {
            vigil_deliver::DETECT => &self.up,
            _ => &self.record_up,
        };
        if let Ok(mut up) = up.lock() {
            up.insert(camera.to_string(), online);
        }
        self.events.publish(vigil_serve::LiveEvent::Camera {
            status: vigil_deliver::CameraStatusEntry {
                camera: camera.to_string(),
                online,
                at_ms: vigil_deliver::now_ms(),
                detail,
                stream: stream.to_string(),
            },
        });
    }
}

/// Whether a status is online, with the detail to record: the reason it went offline, or how
/// long it was away.
fn describe(status: &CameraStatus, down_since: &mut Option<Instant>) -> (bool, String) {
    match status {
        CameraStatus::Online => match down_since.take() {
            Some(t) => {
                let offline_secs = t.elapsed().as_secs_f64();
                (true, format!("back after {offline_secs:.1} s offline"))
            }
            None => (true, String::new()),
        },
        CameraStatus::Offline { reason } => {
            down_since.get_or_insert_with(Instant::now);
            (false, reason.clone())
        }
    }
}
