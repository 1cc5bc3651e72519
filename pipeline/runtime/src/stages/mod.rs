//! The pipeline's stages, one module each. Every stage is a `Settings` (what it needs from the
//! rest of the pipeline: its queues, counters and parameters) whose `spawn(self)` starts its
//! named thread(s); [`crate::pipeline::run`] only builds the queues between them and wires them.
//!
//! In the order a frame meets them:
//! - [`cameras`]: one GStreamer camera per configured camera (`vigil-ingest`), its frame queue,
//!   and, through [`camera_status`], its online/offline history;
//! - [`detect_pool`]: the detect workers serving every detector camera's queue in turn, each
//!   frame first past its camera's motion [`gate`];
//! - [`falling`]: a facade camera's full-frame-rate falling-object stage;
//! - [`track`]: per camera, tracker → rule engine (→ waste engine), frames put back in order;
//! - [`evidence`]: per camera, the recorder of encoded access units that cuts clips;
//! - [`writer`]: stores every alert record, asks for its clip and records the clip when done,
//!   enforces retention; its [`writer::sink`] is the store, `alerts.jsonl` and the terminal;
//! - [`serve`]: the HTTP API and page, and this instance's presence in the shared store;
//! - [`live`]: the page's live pictures, encoded from frames the detect workers and the
//!   falling-object stages offer while someone watches.

pub mod camera_status;
pub mod cameras;
pub mod capacity;
pub mod detect_pool;
pub mod evidence;
pub mod falling;
pub mod gate;
pub mod live;
pub mod serve;
pub mod track;
pub mod writer;

use std::time::Instant;
use vigil_core::{Alert, BBoxPx, Size};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Cameras at their real rate, for ever; frames drop (oldest first) when detection lags.
    Live,
    /// File cameras as fast as the machine allows, nothing dropped; ends with the input.
    Replay,
}

/// An alert on its way to the writer, with what its snapshot must blur.
pub struct RaisedAlert {
    pub alert: Alert,
    pub blur: Vec<BBoxPx>,
    /// The rule's zone (normalised points), drawn on the snapshot.
    pub zone: Vec<(f64, f64)>,
    /// When the frame that made the rule's condition true arrived from the decoder (the start
    /// of the alert latency, measured to the record's commit).
    pub arrived: Option<Instant>,
    /// The size of the frames whose pixels the alert's boxes are in (the detect stream's).
    pub space: Option<Size>,
}

impl RaisedAlert {
    /// A record with nothing to blur or draw and no latency to measure (the end of an alert
    /// whose rule was removed).
    pub fn bare(alert: Alert) -> Self {
        Self {
            alert,
            blur: Vec::new(),
            zone: Vec::new(),
            arrived: None,
            space: None,
        }
    }
}
