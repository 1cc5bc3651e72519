//! Which decoder element a camera's stream goes through (`decoder:` in the config). `auto` prefers
//! a hardware decoder that starts on this machine (VA-API, then NVDEC) and uses software
//! otherwise; `vaapi` and `nvdec` use only their family, and a family none of whose elements can
//! start is an error naming them — never a quiet fall back to the CPU. The choice is made once per
//! session and applied to `decodebin` through its `autoplug-select` signal.

use super::*;
use std::collections::HashMap;
use std::sync::OnceLock;
use vigil_config::Decoder;

/// The VA-API decoders, H.264 then H.265.
const VAAPI: &[&str] = &["vah264dec", "vah265dec"];
/// NVIDIA's NVDEC decoders, H.264 then H.265.
const NVDEC: &[&str] = &["nvh264dec", "nvh265dec"];

/// What a session's `decodebin` may plug as its video decoder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Choice {
    /// Software decoders only.
    Software,
    /// Only these elements (an explicit hardware family).
    Only(Vec<&'static str>),
    /// These hardware elements where one can take the stream, software otherwise (`auto`).
    Prefer(Vec<&'static str>),
}

/// Resolves `decoder` with `works(element)` saying whether an element is installed and starts.
pub(super) fn resolve(decoder: Decoder, works: impl Fn(&str) -> bool) -> Result<Choice, String> {
    let working = |family: &[&'static str]| -> Vec<&'static str> {
        family.iter().copied().filter(|e| works(e)).collect()
    };
    match decoder {
        Decoder::Software => Ok(Choice::Software),
        Decoder::Auto => {
            let hardware: Vec<_> = working(VAAPI).into_iter().chain(working(NVDEC)).collect();
            Ok(match hardware.is_empty() {
                true => Choice::Software,
                false => Choice::Prefer(hardware),
            })
        }
        Decoder::Vaapi | Decoder::Nvdec => {
            let family = if decoder == Decoder::Vaapi {
                VAAPI
            } else {
                NVDEC
            };
            let found = working(family);
            match found.is_empty() {
                true => Err(format!(
                    "decoder {decoder}: none of {} can start on this machine (not installed, or no device)",
                    family.join(", ")
                )),
                false => Ok(Choice::Only(found)),
            }
        }
    }
}

impl Choice {
    /// Whether `decodebin` may try the element `name` of class `klass` for a stream of `caps`;
    /// `can_take(element)` says whether that element accepts the stream.
    pub(super) fn allows(&self, name: &str, klass: &str, can_take: impl Fn(&str) -> bool) -> bool {
        let video_decoder = klass.contains("Decoder") && klass.contains("Video");
        if !video_decoder {
            return true;
        }
        match self {
            Choice::Software => !klass.contains("Hardware"),
            Choice::Only(list) => list.contains(&name),
            Choice::Prefer(list) => list.contains(&name) || !list.iter().any(|e| can_take(e)),
        }
    }
}

/// Whether the element `name` is installed and reaches `Ready` (where a hardware decoder opens its
/// device). Asked once per element and process.
pub fn element_works(name: &str) -> bool {
    static CACHE: OnceLock<Mutex<HashMap<String, bool>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(&known) = cache.lock().expect("decoder cache").get(name) {
        return known;
    }
    let works = gst::ElementFactory::make(name).build().is_ok_and(|e| {
        let ok = e.set_state(gst::State::Ready).is_ok();
        let _ = e.set_state(gst::State::Null);
        ok
    });
    cache
        .lock()
        .expect("decoder cache")
        .insert(name.to_string(), works);
    works
}

/// Applies `choice` to `decodebin`: decoders it does not allow are skipped.
pub(super) fn restrict(decodebin: &gst::Element, choice: Choice) {
    // GstAutoplugSelectResult: 0 try, 2 skip (a GLib enum that decodebin registers).
    let Some(result) = gst::glib::Type::from_name("GstAutoplugSelectResult") else {
        tracing::error!("decodebin's autoplug-select result type is not registered");
        return;
    };
    decodebin.connect("autoplug-select", false, move |args| {
        let caps = args.get(2).and_then(|v| v.get::<gst::Caps>().ok());
        let factory = args
            .get(3)
            .and_then(|v| v.get::<gst::ElementFactory>().ok())?;
        let klass = factory.metadata(gst::ELEMENT_METADATA_KLASS).unwrap_or("");
        let can_take = |e: &str| {
            caps.as_ref().is_some_and(|c| {
                gst::ElementFactory::find(e).is_some_and(|f| f.can_sink_any_caps(c))
            })
        };
        let verdict = match choice.allows(factory.name().as_str(), klass, can_take) {
            true => 0,
            false => 2,
        };
        gst::glib::EnumClass::with_type(result)?.to_value(verdict)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const SW: &str = "Codec/Decoder/Video";
    const HW: &str = "Codec/Decoder/Video/Hardware";

    #[test]
    fn auto_prefers_working_hardware_and_falls_back_to_software_per_stream() {
        let none = |_: &str| false;
        assert_eq!(resolve(Decoder::Auto, none), Ok(Choice::Software));
        let va_h264 = |e: &str| e == "vah264dec";
        let choice = resolve(Decoder::Auto, va_h264).unwrap();
        assert_eq!(choice, Choice::Prefer(vec!["vah264dec"]));
        // An H.264 stream goes to VA-API; an H.265 stream, which it cannot take, to software.
        assert!(choice.allows("vah264dec", HW, |e| e == "vah264dec"));
        assert!(!choice.allows("avdec_h264", SW, |e| e == "vah264dec"));
        assert!(choice.allows("avdec_h265", SW, |_| false));
        // Parsers and demuxers are never held back.
        assert!(choice.allows("h264parse", "Codec/Parser/Converter/Video", |_| true));
    }

    #[test]
    fn an_explicit_family_is_used_alone_or_is_an_error_naming_its_elements() {
        let nv = |e: &str| e.starts_with("nv");
        assert_eq!(
            resolve(Decoder::Nvdec, nv),
            Ok(Choice::Only(vec!["nvh264dec", "nvh265dec"]))
        );
        let only = resolve(Decoder::Nvdec, nv).unwrap();
        assert!(only.allows("nvh265dec", HW, |_| true));
        assert!(!only.allows("avdec_h265", SW, |_| true));
        assert_eq!(
            resolve(Decoder::Vaapi, nv),
            Err("decoder vaapi: none of vah264dec, vah265dec can start on this machine (not installed, or no device)".into())
        );
        let software = resolve(Decoder::Software, nv).unwrap();
        assert!(!software.allows("nvh264dec", HW, |_| true));
        assert!(software.allows("avdec_h264", SW, |_| true));
    }

    /// `restrict` reaches decodebin: with only an element this machine lacks, the real H.264 clip
    /// finds no decoder (an error); with software, it decodes to the end.
    #[test]
    fn decodebin_follows_the_choice() {
        crate::init().unwrap();
        let clip = std::path::PathBuf::from(
            std::env::var_os("VIGIL_ASSETS").expect("VIGIL_ASSETS must point at the shared assets"),
        )
        .join("footage/car-detection.mp4");
        let play = |choice: Choice| {
            let pipeline = gst::parse::launch(&format!(
                "filesrc location=\"{}\" num-buffers=40 ! qtdemux ! h264parse ! decodebin name=d ! fakesink",
                clip.display()
            ))
            .unwrap()
            .downcast::<gst::Pipeline>()
            .unwrap();
            restrict(&pipeline.by_name("d").unwrap(), choice);
            pipeline.set_state(gst::State::Playing).unwrap();
            let msg = pipeline
                .bus()
                .unwrap()
                .timed_pop_filtered(
                    gst::ClockTime::from_seconds(20),
                    &[gst::MessageType::Eos, gst::MessageType::Error],
                )
                .expect("an end or an error");
            let ended = matches!(msg.view(), gst::MessageView::Eos(_));
            pipeline.set_state(gst::State::Null).unwrap();
            ended
        };
        assert!(!play(Choice::Only(vec!["vigil-no-such-decoder"])));
        assert!(play(Choice::Software));
    }
}
