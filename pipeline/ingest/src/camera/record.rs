//! A camera's record stream (its main stream): depayed and parsed, never decoded, its access
//! units stamped in pipeline clock time for the evidence recorder. It runs beside the detect
//! stream on a thread of its own (`rec-<id>`) and reconnects on its own, with the same backoff
//! and stall watchdog (on access units instead of decoded frames).

use super::*;

/// Where a record stream's outputs go.
#[derive(Clone)]
pub struct RecordSinks {
    pub encoded: EncodedSink,
    /// The record stream's own status (online, offline and why).
    pub status: StatusSink,
    /// `received` = access units.
    pub counters: Arc<StageCounters>,
}

/// Starts the record stream of camera `id` from `source` (an RTSP main stream) on a thread
/// named `rec-<id>`. It runs until `stop` is set, reconnecting for ever.
pub fn spawn_record(
    id: CameraId,
    source: CameraSource,
    stall: Duration,
    sinks: RecordSinks,
    stop: Arc<AtomicBool>,
) -> Result<JoinHandle<CameraExit>, IngestError> {
    crate::init()?;
    if !matches!(source, CameraSource::Rtsp { .. }) {
        return Err(IngestError::Build(format!(
            "camera {id}: a record stream is an RTSP main stream"
        )));
    }
    let spec = CameraSpec {
        id,
        source,
        detect_fps: None,
        format: PixelFormat::Gray8,
        target: TargetSize::Source,
        realtime: false,
        stall: Some(stall),
        decode_threads: 0,
        decoder: vigil_config::Decoder::Software,
        loop_period: None,
    };
    // Nothing is decoded, so no frame is ever sent: the queue exists because the pipeline's
    // sinks are shared with the detect stream's.
    let (frames, _) = vigil_core::queue::bounded::<Frame>(
        1,
        vigil_core::WhenFull::DropOldest,
        sinks.counters.clone(),
    );
    let camera_sinks = CameraSinks {
        frames,
        encoded: Some(sinks.encoded),
        status: sinks.status,
        counters: sinks.counters,
        duration_ms: Arc::default(),
        decoder: Arc::default(),
        clock: None,
    };
    let name = format!("rec-{}", spec.id);
    Ok(std::thread::Builder::new().name(name).spawn(move || {
        let _span = tracing::info_span!("record", camera = %spec.id).entered();
        supervise(&spec, &camera_sinks, &stop, Role::Record)
    })?)
}
