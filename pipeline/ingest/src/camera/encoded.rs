//! The encoded branch: the camera's own access units, stamped in stream time, for the evidence
//! recorder.

use super::build::build_err;
use super::*;

/// Returns a closure that adds the encoded branch (tee → queue → appsink) once the stream's caps
/// are known; only H.264/H.265 streams get one, and only when someone consumes it.
pub(super) fn encoded_branch_factory(
    spec: &CameraSpec,
    sinks: &CameraSinks,
    shared: &Arc<Session>,
    pipeline: &gst::Pipeline,
) -> impl Fn(&gst::Element, &gst::Caps) + Send + Sync + 'static {
    let sink_fn = sinks.encoded.clone();
    let counters = sinks.counters.clone();
    let shared = shared.clone();
    let pipeline_weak = pipeline.downgrade();
    let camera = spec.id.clone();
    move |tee, caps| {
        let Some(sink_fn) = sink_fn.clone() else {
            return;
        };
        let Some(pipeline) = pipeline_weak.upgrade() else {
            return;
        };
        let codec = caps
            .structure(0)
            .map(|s| s.name().to_string())
            .unwrap_or_default();
        if codec != "video/x-h264" && codec != "video/x-h265" {
            tracing::debug!(camera = %camera, %codec, "no encoded branch for this codec");
            return;
        }
        let result = (|| -> Result<(), IngestError> {
            let queue = make("queue")?;
            queue.set_property("name", "enc"); // its thread reads `enc:src`
            // Evidence must never hold up decoding: this queue leaks, oldest first.
            queue.set_property_from_str("leaky", "downstream");
            queue.set_property("max-size-buffers", 256u32);
            let appsink = gst_app::AppSink::builder()
                .name("encoded")
                .sync(false)
                .build();
            pipeline
                .add_many([&queue, appsink.upcast_ref()])
                .map_err(build_err)?;
            tee.link(&queue).map_err(build_err)?;
            queue.link(&appsink).map_err(build_err)?;
            let camera = camera.clone();
            let shared = shared.clone();
            let counters = counters.clone();
            let caps_text: Mutex<Option<(gst::Caps, Arc<str>)>> = Mutex::new(None);
            appsink.set_callbacks(
                gst_app::AppSinkCallbacks::builder()
                    .new_sample(move |sink| {
                        let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                        let (Some(buffer), Some(caps)) = (sample.buffer(), sample.caps()) else {
                            return Ok(gst::FlowSuccess::Ok);
                        };
                        let caps_str = {
                            let mut cached = caps_text.lock().expect("caps lock");
                            match cached.as_ref() {
                                Some((c, s)) if c == caps => s.clone(),
                                _ => {
                                    let s: Arc<str> = Arc::from(caps.to_string());
                                    *cached = Some((caps.to_owned(), s.clone()));
                                    s
                                }
                            }
                        };
                        let Ok(map) = buffer.map_readable() else {
                            return Ok(gst::FlowSuccess::Ok);
                        };
                        // The same stream time as decoded frames, so alerts and clips line up.
                        // A unit without a PTS (an RTP stream whose timestamps do not advance)
                        // continues one frame interval after the previous unit.
                        let segment = sample.segment();
                        if shared.role == Role::Record {
                            shared.arrived(&counters);
                        }
                        let (pts, dts) = if shared.role == Role::Record {
                            clock_stamps(sink, buffer, caps, &shared)
                        } else {
                            let mut clock = shared.clock.lock().expect("clock lock");
                            let offset = clock.offset;
                            let duration = buffer.duration();
                            let pts = match buffer.pts() {
                                Some(t) => {
                                    let running = clock.encoded_seams.running(
                                        shared.looping,
                                        segment,
                                        t,
                                        duration,
                                    );
                                    offset + clock.relative(running)
                                }
                                None => match clock.last_unit {
                                    Some(prev) => prev + frame_interval(caps),
                                    None => offset,
                                },
                            };
                            let dts = buffer
                                .dts()
                                .map(|t| {
                                    let shift = clock.encoded_seams.shift;
                                    offset
                                        + clock.relative(
                                            running_time(shared.looping, segment, t) + shift,
                                        )
                                })
                                .filter(|d| *d <= pts);
                            clock.last_unit = Some(pts);
                            (Some(pts), dts)
                        };
                        sink_fn(EncodedUnit {
                            camera: camera.clone(),
                            pts,
                            dts,
                            keyframe: !buffer.flags().contains(gst::BufferFlags::DELTA_UNIT),
                            caps: caps_str,
                            data: Arc::from(map.as_slice()),
                        });
                        Ok(gst::FlowSuccess::Ok)
                    })
                    .build(),
            );
            for e in [&queue, appsink.upcast_ref()] {
                e.sync_state_with_parent().map_err(build_err)?;
            }
            Ok(())
        })();
        if let Err(e) = result {
            tracing::error!(camera = %camera, error = %e, "cannot add encoded branch");
        }
    }
}

/// A record stream's unit times: the pipeline clock's time at its capture (the element's base
/// time plus the running time a live source stamps), which [`StreamClock`] maps onto the
/// detect stream's time. A unit without a PTS continues one frame interval after the previous.
fn clock_stamps(
    sink: &gst_app::AppSink,
    buffer: &gst::BufferRef,
    caps: &gst::CapsRef,
    shared: &Session,
) -> (Option<Duration>, Option<Duration>) {
    let base = sink.base_time().unwrap_or(gst::ClockTime::ZERO);
    let at = |t: gst::ClockTime| Duration::from_nanos((base + t).nseconds());
    let mut clock = shared.clock.lock().expect("clock lock");
    let pts = match buffer.pts() {
        Some(t) => at(t),
        None => match clock.last_unit {
            Some(prev) => prev + frame_interval(caps),
            None => return (None, None),
        },
    };
    clock.last_unit = Some(pts);
    let dts = buffer.dts().map(at).filter(|d| *d <= pts);
    (Some(pts), dts)
}

/// Frame interval from the caps' frame rate (25 fps when the caps do not say).
fn frame_interval(caps: &gst::CapsRef) -> Duration {
    caps.structure(0)
        .and_then(|s| s.get::<gst::Fraction>("framerate").ok())
        .filter(|f| f.numer() > 0 && f.denom() > 0)
        .map_or(Duration::from_millis(40), |f| {
            Duration::from_secs_f64(f64::from(f.denom()) / f64::from(f.numer()))
        })
}
