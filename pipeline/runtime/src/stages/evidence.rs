//! The evidence recorders: per camera an `evidence-<id>` thread (`vigil-evidence`) keeping a
//! ring of the camera's encoded access units, fed by its encoded branch, that cuts a clip (and
//! snapshots) when the alert writer asks and reports it done.

use super::capacity;
use crossbeam_channel::{Receiver, Sender};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use vigil_config::Config;
use vigil_core::{CameraId, EncodedUnit, StageCounters, WhenFull, queue};
use vigil_evidence::caption::CaptionFont;
use vigil_evidence::{
    ClipDone, ClipRequest, RecorderConfig, RingLimits, SecondStream, spawn_recorder,
};
use vigil_ingest::EncodedSink;

/// How much further back than `static_secs` (`dwell_secs` for a lane) a static-object camera's
/// ring reaches: the raise delay measured on the bin scenes runs to `static_secs` + 15 s
/// (`pipeline/app/tests/waste.rs` allows that much), and a clip request reaches the recorder a
/// moment after the alert.
const STATIC_REACH_MARGIN: Duration = Duration::from_secs(15);

/// The running recorders and the ends of their queues the rest of the pipeline holds.
pub struct Recorders {
    pub threads: Vec<JoinHandle<()>>,
    /// Per camera: where its encoded branch hands access units (to the camera).
    pub encoded: HashMap<CameraId, EncodedSink>,
    /// Per camera: clip requests (to the alert writer).
    pub requests: HashMap<CameraId, Sender<ClipRequest>>,
    /// Clips done, from every recorder (to the alert writer); closes when all have ended.
    pub done: Receiver<ClipDone>,
    /// Per camera: access units received and dropped.
    pub counters: BTreeMap<String, Arc<StageCounters>>,
    /// Per camera whose evidence is its main stream (`record:`): the clock mapping and health
    /// its recorder reads (to the cameras, which keep them up to date).
    pub second: HashMap<CameraId, SecondStream>,
}

/// The font snapshot captions are drawn in: `evidence.font_file`, else one found on the system.
/// Display names beyond ASCII need one that has each of their characters; ASCII names are drawn
/// in the bitmap font when no font is found.
pub fn caption_font(config: &Config) -> anyhow::Result<Option<CaptionFont>> {
    let font = CaptionFont::find(config.evidence.font_file.as_deref())
        .map_err(|e| anyhow::anyhow!("evidence.font_file: {e}"))?;
    if !config.names.beyond_ascii() {
        return Ok(font);
    }
    let Some(font) = font else {
        anyhow::bail!(
            "display names beyond ASCII are drawn on snapshots with a CJK font, and none was found (looked for {}): install fonts-wqy-microhei, or set evidence.font_file",
            vigil_evidence::caption::SEARCH.join(", ")
        );
    };
    if let Some(c) = config.names.all().find_map(|n| font.missing(n)) {
        anyhow::bail!(
            "font {} has no glyph for '{c}' of a display name: set evidence.font_file to a font that has it",
            font.path.display()
        );
    }
    Ok(Some(font))
}

/// Starts a recorder per camera writing under `OUT/evidence`; none when evidence is off.
pub fn spawn(config: &Config, out_dir: &Path) -> anyhow::Result<Recorders> {
    let evidence = &config.evidence;
    let (done_tx, done) = crossbeam_channel::bounded::<ClipDone>(capacity::CLIPS_DONE);
    let mut recorders = Recorders {
        threads: Vec::new(),
        encoded: HashMap::new(),
        requests: HashMap::new(),
        done,
        counters: BTreeMap::new(),
        second: HashMap::new(),
    };
    if !evidence.enabled {
        return Ok(recorders);
    }
    let font = caption_font(config)?;
    if let Some(f) = &font {
        tracing::info!(font = %f.path.display(), "snapshot captions");
    }
    for cam in &config.cameras {
        let counters = Arc::new(StageCounters::default());
        // Evidence never holds up decoding: oldest units go first, counted.
        let (unit_tx, unit_rx) = queue::bounded::<EncodedUnit>(
            capacity::ENCODED_UNITS,
            WhenFull::DropOldest,
            counters.clone(),
        );
        let (req_tx, req_rx) = crossbeam_channel::bounded::<ClipRequest>(capacity::CLIP_REQUESTS);
        // A left object's or an obstruction's alert comes `static_secs` (`dwell_secs`) after it
        // appeared, and then some (the short-term model confirms it, the request crosses the
        // stages under load): the ring reaches back that far and [`STATIC_REACH_MARGIN`] more,
        // so the clip shows it being left (and by whom), bytes permitting.
        let left = config
            .waste
            .iter()
            .filter(|r| r.camera == cam.id && r.check == vigil_waste::WasteCheck::Left)
            .map(|r| r.static_secs);
        let lane = config.lane_rules(&cam.id).into_iter().map(|r| r.dwell_secs);
        let reach = left
            .chain(lane)
            .map(|s| Duration::from_secs_f64(s) + STATIC_REACH_MARGIN)
            .max()
            .unwrap_or_default();
        let recorder = RecorderConfig {
            limits: RingLimits {
                pre_roll: evidence.pre_roll + reach,
                max_bytes: evidence.max_ring_bytes,
            },
            max_clip: evidence
                .max_clip
                .max(evidence.pre_roll + reach + evidence.post_roll),
            dir: out_dir.join("evidence"),
            font: font.clone(),
            second: cam.record.as_ref().map(|_| SecondStream {
                clock: Arc::default(),
                health: Arc::default(),
            }),
        };
        if let Some(second) = &recorder.second {
            recorders.second.insert(cam.id.clone(), second.clone());
        }
        recorders.threads.push(spawn_recorder(
            cam.id.clone(),
            recorder,
            unit_rx,
            req_rx,
            done_tx.clone(),
        )?);
        recorders.requests.insert(cam.id.clone(), req_tx);
        let sink: EncodedSink = Arc::new(move |u| {
            let _ = unit_tx.send(u);
        });
        recorders.encoded.insert(cam.id.clone(), sink);
        recorders.counters.insert(cam.id.to_string(), counters);
    }
    Ok(recorders)
}
