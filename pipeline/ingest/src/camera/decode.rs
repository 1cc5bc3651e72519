//! The decode branch: decoded frames sampled, converted to what the detector takes, and handed
//! to the camera's frame queue without copying the pixels.

use super::build::build_err;
use super::*;

/// tee → queue → decodebin → (probe) videoconvertscale → capsfilter → appsink.
pub(super) fn build_decode_branch(
    spec: &CameraSpec,
    sinks: &CameraSinks,
    shared: &Arc<Session>,
    pipeline: &gst::Pipeline,
    tee: &gst::Element,
) -> Result<(), IngestError> {
    let queue = make("queue")?;
    // Named so its streaming thread (which decodes and converts) reads `dec:src`.
    queue.set_property("name", "dec");
    queue.set_property("max-size-buffers", 8u32);
    queue.set_property("max-size-bytes", 0u32);
    queue.set_property("max-size-time", 0u64);
    let decode = make("decodebin")?;
    let convert = make("videoconvertscale")?;
    convert.set_property("add-borders", false);
    let filter = make("capsfilter")?;
    let appsink = gst_app::AppSink::builder()
        .name("frames")
        .sync(spec.realtime)
        .max_buffers(2)
        .drop(false)
        .build();
    pipeline
        .add_many([&queue, &decode, &convert, &filter, appsink.upcast_ref()])
        .map_err(build_err)?;
    tee.link(&queue).map_err(build_err)?;
    queue.link(&decode).map_err(build_err)?;
    gst::Element::link_many([&convert, &filter, appsink.upcast_ref()]).map_err(build_err)?;

    let choice = super::decoder::resolve(spec.decoder, super::decoder::element_works)
        .map_err(IngestError::Build)?;
    super::decoder::restrict(&decode, choice);
    let threads = spec.decode_threads;
    let decode_bin = decode
        .clone()
        .downcast::<gst::Bin>()
        .expect("decodebin is a bin");
    let (camera, told) = (spec.id.clone(), sinks.decoder.clone());
    decode_bin.connect_deep_element_added(move |_, _, element| {
        let Some(factory) = element.factory() else {
            return;
        };
        let name = factory.name();
        if (name == "avdec_h264" || name == "avdec_h265") && threads > 0 {
            element.set_property("max-threads", threads as i32);
        }
        let klass = factory.metadata(gst::ELEMENT_METADATA_KLASS).unwrap_or("");
        if klass.contains("Decoder") && klass.contains("Video") {
            let mut decoder = told.lock().expect("decoder lock");
            if decoder.as_deref() != Some(name.as_str()) {
                tracing::info!(camera = %camera, decoder = %name, "decoding with");
                *decoder = Some(name.to_string());
            }
        }
    });
    let convert_weak = convert.downgrade();
    decode.connect_pad_added(move |_, pad| {
        let Some(convert) = convert_weak.upgrade() else {
            return;
        };
        let sink = convert.static_pad("sink").expect("convert sink");
        if !sink.is_linked() {
            let _ = pad.link(&sink);
        }
    });

    // On the converter's input: learn the source size (and size the output), sample, watchdog.
    let convert_sink = convert.static_pad("sink").expect("convert sink");
    let (target, format, fps) = (spec.target, spec.format, spec.detect_fps);
    let filter_weak = filter.downgrade();
    let probe_shared = shared.clone();
    let counters = sinks.counters.clone();
    // The converter's CPU per handed-on frame: the thread's CPU clock when a buffer enters it,
    // read again when the converted buffer leaves (both on the same streaming thread).
    let entered = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let convert_entered = entered.clone();
    convert_sink.add_probe(
        gst::PadProbeType::BUFFER
            | gst::PadProbeType::EVENT_DOWNSTREAM
            | gst::PadProbeType::EVENT_FLUSH,
        move |pad, info| {
            let ret = match &mut info.data {
                // A looping file's first seek flushes what had prerolled: its frames come again
                // from the start, sampled afresh. Each pass after it is a new segment whose
                // timestamps start over: the repeated-timestamp repair below starts over too.
                Some(gst::PadProbeData::Event(ev))
                    if matches!(
                        ev.type_(),
                        gst::EventType::FlushStop | gst::EventType::Segment
                    ) =>
                {
                    let mut clock = probe_shared.clock.lock().expect("clock lock");
                    if ev.type_() == gst::EventType::FlushStop {
                        clock.next_sample = None;
                    }
                    clock.last_decoded = None;
                    gst::PadProbeReturn::Ok
                }
                Some(gst::PadProbeData::Event(ev)) => {
                    if let gst::EventView::Caps(c) = ev.view()
                        && let Ok(vi) = gst_video::VideoInfo::from_caps(c.caps())
                    {
                        let source = Size::new(vi.width(), vi.height());
                        *probe_shared.source_size.lock().expect("size lock") = Some(source);
                        let out = target.resolve(source);
                        if let Some(filter) = filter_weak.upgrade() {
                            filter.set_property(
                                "caps",
                                gst::Caps::builder("video/x-raw")
                                    .field("format", format.name())
                                    .field("width", out.width as i32)
                                    .field("height", out.height as i32)
                                    .build(),
                            );
                        }
                    }
                    gst::PadProbeReturn::Ok
                }
                Some(gst::PadProbeData::Buffer(buf)) => {
                    convert_entered.store(
                        vigil_core::cpu::thread_time().as_nanos() as u64,
                        Ordering::Relaxed,
                    );
                    probe_shared.arrived(&counters);
                    let mut clock = probe_shared.clock.lock().expect("clock lock");
                    // Some decoders (libav's GIF) stamp every frame 0 but keep the duration:
                    // continue from the previous frame instead of repeating its time.
                    if let (Some(pts), Some(prev), Some(dur)) =
                        (buf.pts(), clock.last_decoded, buf.duration())
                        && pts <= prev
                        && dur > gst::ClockTime::ZERO
                    {
                        buf.make_mut().set_pts(prev + dur);
                    }
                    clock.last_decoded = buf.pts().or(clock.last_decoded);
                    let Some(fps) = fps else {
                        return gst::PadProbeReturn::Ok;
                    };
                    let Some(pts) = buf.pts() else {
                        return gst::PadProbeReturn::Ok;
                    };
                    let t = clock.relative(pad_running_time(probe_shared.looping, pad, pts));
                    let interval = Duration::from_secs_f64(1.0 / fps);
                    let next = *clock.next_sample.get_or_insert(t);
                    // 1 ms tolerance for timestamp rounding.
                    if t + Duration::from_millis(1) >= next {
                        let mut n = next + interval;
                        if n <= t {
                            n = t + interval;
                        }
                        clock.next_sample = Some(n);
                        gst::PadProbeReturn::Ok
                    } else {
                        counters.dropped(DropReason::Sampling);
                        gst::PadProbeReturn::Drop
                    }
                }
                _ => gst::PadProbeReturn::Ok,
            };
            if ret == gst::PadProbeReturn::Drop {
                // Take the buffer and report it handled: returning `Drop` with the buffer still in
                // the probe info makes GStreamer 1.22 unref a NULL pointer (a CRITICAL per frame).
                drop(info.take_buffer());
                return gst::PadProbeReturn::Handled;
            }
            ret
        },
    );

    let convert_counters = sinks.counters.clone();
    convert.static_pad("src").expect("convert src").add_probe(
        gst::PadProbeType::BUFFER,
        move |_, _| {
            let start = entered.swap(0, Ordering::Relaxed);
            if start > 0 {
                let now = vigil_core::cpu::thread_time().as_nanos() as u64;
                convert_counters.add_cpu(Duration::from_nanos(now.saturating_sub(start)));
            }
            gst::PadProbeReturn::Ok
        },
    );

    let app_shared = shared.clone();
    let frames = sinks.frames.clone();
    let camera = spec.id.clone();
    let period = spec.loop_period;
    let stream_clock = sinks.clock.clone();
    appsink.set_callbacks(
        gst_app::AppSinkCallbacks::builder()
            .new_sample(move |sink| {
                let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                let Some(frame) = to_frame(&camera, &sample, &app_shared, format, period) else {
                    tracing::trace!(camera = %camera, "sample without buffer, caps or PTS");
                    return Ok(gst::FlowSuccess::Ok);
                };
                // A live source stamps running time: its clock time adds the base time.
                if let (Some(c), Some(pts), Some(base)) = (
                    &stream_clock,
                    sample.buffer().and_then(|b| b.pts()),
                    sink.base_time(),
                ) {
                    c.observe(
                        frame.meta.pts,
                        Duration::from_nanos((base + pts).nseconds()),
                    );
                }
                // The queue counts `sent` and drop-oldest losses.
                match frames.send(frame) {
                    Ok(()) => Ok(gst::FlowSuccess::Ok),
                    Err(_) => Err(gst::FlowError::Flushing),
                }
            })
            .build(),
    );
    Ok(())
}

/// Mapped GStreamer buffer as frame pixels (no copy).
struct MappedPixels(gst::MappedBuffer<gst::buffer::Readable>);

impl AsRef<[u8]> for MappedPixels {
    fn as_ref(&self) -> &[u8] {
        self.0.as_slice()
    }
}

fn to_frame(
    camera: &CameraId,
    sample: &gst::Sample,
    shared: &Session,
    format: PixelFormat,
    period: Option<Duration>,
) -> Option<Frame> {
    let caps = sample.caps()?;
    let info = gst_video::VideoInfo::from_caps(caps).ok()?;
    let buffer = sample.buffer_owned()?;
    let (pts, duration) = (buffer.pts()?, buffer.duration());
    let stride = usize::try_from(*info.stride().first()?).ok()?;
    let mapped = buffer.into_mapped_buffer_readable().ok()?;
    let size = Size::new(info.width(), info.height());
    let source_size = shared
        .source_size
        .lock()
        .expect("size lock")
        .unwrap_or(size);
    let (pts, pass) = {
        let mut clock = shared.clock.lock().expect("clock lock");
        let running = clock
            .decoded_seams
            .running(shared.looping, sample.segment(), pts, duration);
        let relative = clock.relative(running);
        let t = clock.offset + relative;
        // Monotonic per camera even if a source's timestamps jump back.
        let t = clock
            .last
            .map_or(t, |l| t.max(l + Duration::from_micros(1)));
        clock.last = Some(t);
        let served_passes = period.map_or(0, |p| {
            // Half a millisecond early: a pass's first frame may be stamped a hair before.
            ((relative + Duration::from_micros(500)).as_nanos() / p.as_nanos().max(1)) as u32
        });
        // A looping file's passes: sessions rebuilt, and segments within this one.
        (t, clock.pass + clock.decoded_seams.passes + served_passes)
    };
    Some(Frame {
        meta: FrameMeta {
            camera: camera.clone(),
            seq: shared.seq.fetch_add(1, Ordering::Relaxed),
            pts,
            pass,
            source_size,
            wall_time: SystemTime::now(),
            arrived: Instant::now(),
        },
        image: Image {
            size,
            stride,
            format,
            data: Arc::new(MappedPixels(mapped)),
        },
    })
}
