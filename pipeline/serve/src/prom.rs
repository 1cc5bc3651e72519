//! Prometheus text exposition (format 0.0.4), written by hand: a family header, then samples.

use std::fmt::Write;
use vigil_core::metrics::{HistogramSnapshot, StageSnapshot};
use vigil_deliver::outbox::Depth;
use vigil_deliver::store::AlertCount;

/// `# HELP` and `# TYPE` lines of a metric family.
/// Unlabelled counters: (name, help, value) each.
pub fn counters(out: &mut String, counters: &[(&str, &str, &std::sync::atomic::AtomicU64)]) {
    for (name, help, n) in counters {
        family(out, name, help, "counter");
        let n = n.load(std::sync::atomic::Ordering::Relaxed);
        sample(out, name, &[], n as f64);
    }
}

pub fn family(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Escapes a label value.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// One sample line.
pub fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"{}\"", escape(v));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

/// Received / sent / dropped (by reason) of one stage, under `vigil_stage_*_total` with
/// `stage` (and any extra) labels. Call [`stage_families`] once before the samples.
pub fn stage(out: &mut String, labels: &[(&str, &str)], s: &StageSnapshot) {
    sample(out, "vigil_stage_received_total", labels, s.received as f64);
    sample(out, "vigil_stage_sent_total", labels, s.sent as f64);
    for (reason, n) in [
        ("queue_full", s.dropped_queue_full),
        ("sampling", s.dropped_sampling),
        ("error", s.dropped_error),
        ("stale", s.dropped_stale),
    ] {
        let mut l = labels.to_vec();
        l.push(("reason", reason));
        sample(out, "vigil_stage_dropped_total", &l, n as f64);
    }
    sample(
        out,
        "vigil_stage_cpu_seconds_total",
        labels,
        s.cpu_us as f64 / 1e6,
    );
}

pub fn stage_families(out: &mut String) {
    family(
        out,
        "vigil_stage_received_total",
        "Items a pipeline stage received.",
        "counter",
    );
    family(
        out,
        "vigil_stage_sent_total",
        "Items a pipeline stage passed on.",
        "counter",
    );
    family(
        out,
        "vigil_stage_dropped_total",
        "Items a pipeline stage dropped, by reason.",
        "counter",
    );
    family(
        out,
        "vigil_stage_cpu_seconds_total",
        "CPU time of a stage's own work (ingest: colour conversion and scaling; detect: preprocessing, inference, decoding; track: tracker and rules; alerts: storing).",
        "counter",
    );
}

/// A histogram in seconds.
pub fn histogram(out: &mut String, name: &str, help: &str, h: &HistogramSnapshot) {
    family(out, name, help, "histogram");
    for (b, c) in h.bounds_secs.iter().zip(&h.cumulative) {
        let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {c}");
    }
    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", h.count);
    let _ = writeln!(out, "{name}_sum {}", h.sum_secs);
    let _ = writeln!(out, "{name}_count {}", h.count);
}

/// What the store knows: alerts raised, and each outbox's depth and oldest age.
pub fn store_metrics(
    out: &mut String,
    counts: &[AlertCount],
    depths: &[(String, Depth)],
    now_ms: i64,
) {
    family(
        out,
        "vigil_alerts_total",
        "Alerts raised, by camera and kind.",
        "counter",
    );
    for c in counts {
        sample(
            out,
            "vigil_alerts_total",
            &[("camera", &c.camera), ("kind", &c.kind)],
            c.count as f64,
        );
    }
    family(
        out,
        "vigil_outbox_pending",
        "Records waiting for a receiver.",
        "gauge",
    );
    for (sink, d) in depths {
        sample(
            out,
            "vigil_outbox_pending",
            &[("sink", sink)],
            d.pending as f64,
        );
    }
    family(
        out,
        "vigil_outbox_oldest_age_seconds",
        "Age of the oldest record waiting for a receiver.",
        "gauge",
    );
    for (sink, d) in depths {
        let age = d
            .oldest_created_ms
            .map_or(0.0, |c| (now_ms - c).max(0) as f64 / 1e3);
        sample(
            out,
            "vigil_outbox_oldest_age_seconds",
            &[("sink", sink)],
            age,
        );
    }
}

/// Open connections, slots in use and requests shed per route class ([`crate::limits`]).
pub fn http_limits(out: &mut String, limits: &crate::limits::Limits) {
    use crate::limits::Class;
    family(
        out,
        "vigil_http_connections",
        "HTTP connections open now.",
        "gauge",
    );
    sample(
        out,
        "vigil_http_connections",
        &[],
        limits.open_connections() as f64,
    );
    family(
        out,
        "vigil_http_connections_refused_total",
        "Connections closed on arrival because the server had as many open as it takes.",
        "counter",
    );
    let refused = limits
        .connections_refused
        .load(std::sync::atomic::Ordering::Relaxed);
    sample(
        out,
        "vigil_http_connections_refused_total",
        &[],
        refused as f64,
    );
    family(
        out,
        "vigil_http_in_flight",
        "Requests being served now, by route class.",
        "gauge",
    );
    for c in Class::ALL {
        sample(
            out,
            "vigil_http_in_flight",
            &[("class", c.name())],
            limits.in_use(c) as f64,
        );
    }
    family(
        out,
        "vigil_http_refused_total",
        "Requests answered 503 because their route class was at its limit, by class.",
        "counter",
    );
    for c in Class::ALL {
        sample(
            out,
            "vigil_http_refused_total",
            &[("class", c.name())],
            limits.refused(c) as f64,
        );
    }
}

/// The live view: viewers, watched cameras, pictures encoded and sent, viewers refused.
pub fn live(out: &mut String, live: &crate::live::LiveHub) {
    for (name, help, value) in [
        (
            "vigil_live_viewers",
            "Live-view viewers watching now.",
            live.viewers(),
        ),
        (
            "vigil_live_cameras_watched",
            "Cameras whose live pictures are being made now.",
            live.watched(),
        ),
    ] {
        family(out, name, help, "gauge");
        sample(out, name, &[], value as f64);
    }
    let c = &live.counters;
    counters(
        out,
        &[
            (
                "vigil_live_pictures_total",
                "Live pictures encoded (JPEG).",
                &c.pictures,
            ),
            (
                "vigil_live_picture_bytes_total",
                "Bytes of live pictures encoded.",
                &c.bytes,
            ),
            (
                "vigil_live_replaced_total",
                "Frames for the live view replaced by a newer one before they were encoded.",
                &c.replaced,
            ),
            (
                "vigil_live_refused_total",
                "Viewers refused: api.live.max_viewers already watching.",
                &c.refused,
            ),
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_escape_labels_and_histograms_end_with_inf() {
        let mut out = String::new();
        sample(&mut out, "m", &[("camera", "a\"b")], 2.0);
        assert_eq!(out, "m{camera=\"a\\\"b\"} 2\n");
        let mut out = String::new();
        let h = HistogramSnapshot {
            bounds_secs: vec![0.01],
            cumulative: vec![3],
            count: 4,
            sum_secs: 0.5,
        };
        histogram(&mut out, "lat", "help", &h);
        assert!(out.contains(
            "lat_bucket{le=\"0.01\"} 3\nlat_bucket{le=\"+Inf\"} 4\nlat_sum 0.5\nlat_count 4\n"
        ));
    }
}
