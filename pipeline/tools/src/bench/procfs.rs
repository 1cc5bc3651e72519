//! What Linux says about this process: CPU per thread (grouped into pipeline stages by thread
//! name), resident memory, and another process's CPU.

use std::collections::BTreeMap;
use std::path::Path;

/// Clock ticks per second of `/proc/*/stat` (`USER_HZ`; 100 on every Linux vigil runs on).
const TICKS_PER_SEC: f64 = 100.0;

/// CPU seconds of every thread of this process now, by thread id, with its name.
pub fn threads() -> BTreeMap<u32, (String, f64)> {
    let mut out = BTreeMap::new();
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for entry in dir.flatten() {
        let Some(tid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        let path = entry.path();
        let name = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if let Some(cpu) = task_cpu(&path) {
            out.insert(tid, (name.trim().to_string(), cpu));
        }
    }
    out
}

/// A task's CPU seconds: `schedstat` (nanoseconds on a CPU) where the kernel has it, else
/// `stat`'s utime + stime (10 ms ticks).
fn task_cpu(task: &Path) -> Option<f64> {
    if let Ok(s) = std::fs::read_to_string(task.join("schedstat"))
        && let Some(ns) = s
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
    {
        return Some(ns as f64 / 1e9);
    }
    stat_cpu(&std::fs::read_to_string(task.join("stat")).ok()?)
}

/// utime + stime of a `/proc/<pid>/stat` line, in seconds.
fn stat_cpu(stat: &str) -> Option<f64> {
    // The name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, utime field 14, stime field 15 → indices 11 and 12.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SEC)
}

/// Another process's CPU seconds so far (all its threads).
pub fn process_cpu(pid: u32) -> Option<f64> {
    stat_cpu(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Resident set size now and its peak so far (`VmRSS`, `VmHWM`), in MB.
pub fn rss_mb() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = |key: &str| -> f64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (kb("VmRSS:") / 1024.0, kb("VmHWM:") / 1024.0)
}

/// The pipeline stage a thread works for, from its name: vigil names its own threads, and
/// GStreamer names each streaming thread `element:pad` (the camera's decode queue is `dec`, its
/// evidence queue `enc`; threads a decoder starts inherit the name of the thread that made them).
pub fn stage_of(thread: &str) -> &'static str {
    match thread {
        t if t.starts_with("detect-") => "detect",
        "track" => "track",
        "alerts" => "alerts",
        t if t.starts_with("dec:") => "decode",
        // The encoded branch, the recorder, clip writing, snapshot decoding and saving.
        t if t.starts_with("enc:")
            || t.starts_with("evidence-")
            || t.starts_with("snapshots-")
            || t.starts_with("clipsrc:")
            || t.starts_with("snapdemux:") =>
        {
            "evidence"
        }
        t if t.starts_with("fall-") => "falling",
        t if t.starts_with("deliver-") || t == "mqtt-events" => "delivery",
        "http" => "http",
        // Demuxing, parsing and the network side of RTSP (jitter buffers, GStreamer's pooled
        // `taskN` threads, RTCP timers).
        t if t.contains(':')
            || t.starts_with("cam-")
            || t.starts_with("rtsp")
            || t.starts_with("rtpjitterbuffer")
            || t.starts_with("task")
            || t == "timer" =>
        {
            "source"
        }
        _ => "other",
    }
}

/// CPU per stage over a window, read often enough that short-lived threads (a looping file's
/// pipeline is rebuilt at each loop) are counted up to their last reading. GStreamer reuses
/// pooled threads under new names, so each reading's increase goes to the stage the thread's
/// name says at that reading.
pub struct ThreadCpu {
    /// Per thread: CPU at the last reading.
    last: BTreeMap<u32, f64>,
    by_stage: BTreeMap<&'static str, f64>,
}

impl ThreadCpu {
    /// Starts the window now.
    pub fn start() -> Self {
        let last = threads()
            .into_iter()
            .map(|(tid, (_, cpu))| (tid, cpu))
            .collect();
        Self {
            last,
            by_stage: BTreeMap::new(),
        }
    }

    /// Takes a reading (call every ~100 ms).
    pub fn sample(&mut self) {
        for (tid, (name, cpu)) in threads() {
            // A thread born since the last reading counts from zero.
            let was = self.last.insert(tid, cpu).unwrap_or(0.0);
            *self.by_stage.entry(stage_of(&name)).or_insert(0.0) += (cpu - was).max(0.0);
        }
    }

    /// CPU seconds per stage since [`start`](Self::start).
    pub fn by_stage(&self) -> BTreeMap<&'static str, f64> {
        self.by_stage.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_cpu_reads_the_fields_after_a_name_with_spaces_and_parentheses() {
        let line = "42 (dec:src (x) y) S 1 2 3 4 5 6 7 8 9 10 250 150 0 0 20 0 3 0 100";
        assert_eq!(stat_cpu(line), Some(4.0));
    }

    #[test]
    fn threads_are_named_into_stages() {
        assert_eq!(stage_of("detect-1"), "detect");
        assert_eq!(stage_of("dec:src"), "decode");
        assert_eq!(stage_of("enc:src"), "evidence");
        assert_eq!(stage_of("snapshots-lot-1"), "evidence");
        assert_eq!(stage_of("qtdemux0:sink"), "source");
        assert_eq!(stage_of("vigil"), "other");
    }

    #[test]
    fn this_thread_is_listed_and_busy_work_shows_up() {
        let mut window = ThreadCpu::start();
        let start = std::time::Instant::now();
        let mut x = 1u64;
        while start.elapsed() < std::time::Duration::from_millis(200) {
            x = x.wrapping_mul(31).wrapping_add(7);
        }
        std::hint::black_box(x);
        window.sample();
        let total: f64 = window.by_stage().values().sum();
        assert!(total > 0.05, "200 ms of spinning measured as {total} s");
        let (rss, peak) = rss_mb();
        assert!(rss > 0.0 && peak >= rss);
    }
}
