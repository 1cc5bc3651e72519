//! The GStreamer pipeline of one session: the source (file or RTSP), the tee, and both branches.

use super::decode::build_decode_branch;
use super::encoded::encoded_branch_factory;
use super::*;

/// One session's pipeline, and the elements that produce its data (downstream first).
pub(super) struct Built {
    pub pipeline: gst::Pipeline,
    /// A file's `parsebin` and `filesrc`, locked in `Null` until the rest of the pipeline is
    /// ready for data: see [`start`].
    pub sources: Vec<gst::Element>,
}

/// Builds the pipeline for one session.
pub(super) fn build(
    spec: &CameraSpec,
    sinks: &CameraSinks,
    shared: &Arc<Session>,
) -> Result<Built, IngestError> {
    let pipeline = gst::Pipeline::with_name(&format!("cam-{}", spec.id));
    let tee = make("tee")?;
    pipeline.add(&tee).map_err(build_err)?;
    base_from_first_buffer(&tee, shared);
    if shared.role == Role::Detect {
        build_decode_branch(spec, sinks, shared, &pipeline, &tee)?;
    }

    let sources: Vec<gst::Element>;
    match &spec.source {
        CameraSource::File { path, .. } => {
            let src = make("filesrc")?;
            src.set_property("location", path.to_string_lossy().as_ref());
            let parse = make("parsebin")?;
            pipeline.add_many([&src, &parse]).map_err(build_err)?;
            src.link(&parse).map_err(build_err)?;
            sources = vec![parse.clone(), src.clone()];
            let tee_weak = tee.downgrade();
            let encoded = encoded_branch_factory(spec, sinks, shared, &pipeline);
            parse.connect_pad_added(move |_, pad| {
                let Some(tee) = tee_weak.upgrade() else {
                    return;
                };
                let caps = pad.current_caps().or_else(|| Some(pad.query_caps(None)));
                let is_video = caps.as_ref().and_then(|c| c.structure(0)).is_some_and(|s| {
                    s.name().starts_with("video/") || s.name().starts_with("image/")
                });
                if !is_video {
                    return;
                }
                let Some(sink) = tee.static_pad("sink") else {
                    return;
                };
                if sink.is_linked() {
                    return; // first video stream only
                }
                if let Err(e) = pad.link(&sink) {
                    tracing::error!(error = ?e, "cannot link parsed stream to tee");
                    return;
                }
                if let Some(c) = caps {
                    encoded(&tee, &c);
                }
            });
        }
        CameraSource::Rtsp {
            url,
            transport,
            latency_ms,
        } => {
            let src = make("rtspsrc")?;
            src.set_property("location", url.url_without_credentials());
            if let Some(u) = url.username() {
                src.set_property("user-id", u);
            }
            if let Some(p) = url.password() {
                src.set_property("user-pw", p);
            }
            src.set_property("latency", *latency_ms);
            // Fail fast on a dead server instead of rtspsrc's default 20 s.
            src.set_property("tcp-timeout", 3_000_000u64);
            src.set_property_from_str(
                "protocols",
                match transport {
                    RtspTransport::Tcp => "tcp",
                    RtspTransport::Udp => "udp",
                },
            );
            pipeline.add(&src).map_err(build_err)?;
            // A live source sends nothing before `Playing`, which the pipeline reaches only
            // once every element is `Paused`: it starts with the rest.
            sources = Vec::new();
            let pipeline_weak = pipeline.downgrade();
            let tee_weak = tee.downgrade();
            let encoded = encoded_branch_factory(spec, sinks, shared, &pipeline);
            let camera = spec.id.clone();
            src.connect_pad_added(move |_, pad| {
                let (Some(pipeline), Some(tee)) = (pipeline_weak.upgrade(), tee_weak.upgrade())
                else {
                    return;
                };
                let caps = pad.current_caps().unwrap_or_else(|| pad.query_caps(None));
                let Some(s) = caps.structure(0) else { return };
                let media = s.get::<&str>("media").unwrap_or("");
                let encoding = s.get::<&str>("encoding-name").unwrap_or("");
                if media != "video" {
                    return;
                }
                let (depay, parse, codec) = match encoding {
                    "H264" => ("rtph264depay", "h264parse", "video/x-h264"),
                    "H265" => ("rtph265depay", "h265parse", "video/x-h265"),
                    other => {
                        tracing::error!(camera = %camera, encoding = other, "unsupported RTSP video encoding");
                        return;
                    }
                };
                let result = (|| -> Result<(), IngestError> {
                    let depay = make(depay)?;
                    // Whole access units in AVC form: keyframes arrive as one buffer with a PTS.
                    let filter = make("capsfilter")?;
                    filter.set_property(
                        "caps",
                        gst::Caps::builder(codec)
                            .field("stream-format", if codec == "video/x-h264" { "avc" } else { "hvc1" })
                            .field("alignment", "au")
                            .build(),
                    );
                    let parse = make(parse)?;
                    pipeline.add_many([&depay, &filter, &parse]).map_err(build_err)?;
                    gst::Element::link_many([&depay, &filter, &parse, &tee]).map_err(build_err)?;
                    for e in [&depay, &filter, &parse] {
                        e.sync_state_with_parent().map_err(build_err)?;
                    }
                    pad.link(&depay.static_pad("sink").expect("depay sink")).map_err(build_err)?;
                    encoded(&tee, &gst::Caps::builder(codec).build());
                    Ok(())
                })();
                if let Err(e) = result {
                    tracing::error!(camera = %camera, error = %e, "cannot link RTSP stream");
                }
            });
        }
    }
    for s in &sources {
        s.set_locked_state(true);
    }
    Ok(Built { pipeline, sources })
}

/// Starts a built pipeline: everything but the sources first, then the sources.
///
/// A file's parser links to the tee only once it knows the stream (a pad added at run time), so
/// the bin cannot order it after the tee and the branches: started together, the parser could
/// reach `Paused`, which for a file already streams, and push its first buffer into a tee still
/// in `Ready`. That push returns
/// `Flushing`, which the demuxer takes as a quiet stop: no error, no frame, the session hung
/// until the first-frame watchdog (issue 20; `examples/loop_sessions` reproduced it 7 times in
/// 90 s on a loaded 2-core box). Held in `Null` until the rest is at least `Paused`, they can
/// only push into a pipeline that takes data.
pub(super) fn start(built: &Built) -> Result<(), gst::StateChangeError> {
    built.pipeline.set_state(gst::State::Playing)?;
    start_sources(built)
}

/// The sources, held in `Null` by [`build`], join the pipeline's state.
fn start_sources(built: &Built) -> Result<(), gst::StateChangeError> {
    for s in &built.sources {
        s.set_locked_state(false);
        s.sync_state_with_parent()
            .map_err(|_| gst::StateChangeError)?;
    }
    Ok(())
}

/// Starts a looping file so that it loops without a new session: prerolled in `Paused` (sources
/// last, as in [`start`]), a flushing *segment* seek to its start, then `Playing`. Its end then
/// posts `SEGMENT_DONE` instead of EOS, and [`loop_again`] sends it back to the start without a
/// flush: decoding, the running time and every element carry on. Returns false when the file
/// cannot seek (it then plays once to EOS and the session is rebuilt, as before).
pub(super) fn start_looping(built: &Built) -> Result<bool, gst::StateChangeError> {
    const PREROLL: gst::ClockTime = gst::ClockTime::from_seconds(10);
    let pipeline = &built.pipeline;
    pipeline.set_state(gst::State::Paused)?;
    start_sources(built)?;
    pipeline.state(PREROLL).0?;
    let seeked = pipeline
        .seek(
            1.0,
            gst::SeekFlags::FLUSH | gst::SeekFlags::SEGMENT,
            gst::SeekType::Set,
            gst::ClockTime::ZERO,
            gst::SeekType::None,
            gst::ClockTime::NONE,
        )
        .is_ok();
    if seeked {
        pipeline.state(PREROLL).0?;
    }
    pipeline.set_state(gst::State::Playing)?;
    Ok(seeked)
}

/// At a looping file's `SEGMENT_DONE`: back to its start, without a flush (the next pass follows
/// the last frame in the same running time). False when the seek is refused.
pub(super) fn loop_again(built: &Built) -> bool {
    built
        .pipeline
        .seek(
            1.0,
            gst::SeekFlags::SEGMENT,
            gst::SeekType::Set,
            gst::ClockTime::ZERO,
            gst::SeekType::None,
            gst::ClockTime::NONE,
        )
        .is_ok()
}

/// The session's time base is the PTS of its first buffer *through the tee* (decode order),
/// before either branch sees it. Taken by whichever branch reached `Clock::relative` first, it
/// raced: on the synthetic bin scenes the base came out 0, 0.2 or 0.6 s run to run, and decoded
/// frames before it clipped to session time 0 and were dropped by sampling — up to three frames
/// of a replay lost or not, and every later sample's time shifted with them.
fn base_from_first_buffer(tee: &gst::Element, shared: &Arc<Session>) {
    let Some(pad) = tee.static_pad("sink") else {
        return;
    };
    let shared = shared.clone();
    // One pipeline per session: once the base is set, the probe leaves the buffer path.
    pad.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
        let Some(pts) = info.buffer().and_then(|b| b.pts()) else {
            return gst::PadProbeReturn::Ok;
        };
        let pts = pad_running_time(shared.looping, pad, pts);
        let mut clock = shared.clock.lock().expect("clock lock");
        if clock.base.is_none() {
            clock.base = Some(pts);
        }
        gst::PadProbeReturn::Remove
    });
}

pub(super) fn build_err(e: impl std::fmt::Display) -> IngestError {
    IngestError::Build(e.to_string())
}
