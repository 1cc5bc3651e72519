//! The GStreamer pipeline of one session: the source (file or RTSP), the tee, and both branches.

use super::decode::build_decode_branch;
use super::encoded::encoded_branch_factory;
use super::*;

/// Builds the pipeline for one session.
pub(super) fn build(
    spec: &CameraSpec,
    sinks: &CameraSinks,
    shared: &Arc<Session>,
) -> Result<gst::Pipeline, IngestError> {
    let pipeline = gst::Pipeline::with_name(&format!("cam-{}", spec.id));
    let tee = make("tee")?;
    pipeline.add(&tee).map_err(build_err)?;
    build_decode_branch(spec, sinks, shared, &pipeline, &tee)?;

    match &spec.source {
        CameraSource::File { path, .. } => {
            let src = make("filesrc")?;
            src.set_property("location", path.to_string_lossy().as_ref());
            let parse = make("parsebin")?;
            pipeline.add_many([&src, &parse]).map_err(build_err)?;
            src.link(&parse).map_err(build_err)?;
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
    Ok(pipeline)
}

pub(super) fn build_err(e: impl std::fmt::Display) -> IngestError {
    IngestError::Build(e.to_string())
}
