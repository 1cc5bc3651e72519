//! CPU clocks for measuring what a stage costs, not how long it waited.

use std::time::Duration;

/// CPU time consumed so far by the calling thread (`CLOCK_THREAD_CPUTIME_ID`); the difference
/// of two readings on one thread is the CPU that thread spent between them.
pub fn thread_time() -> Duration {
    clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// CPU time consumed so far by the whole process, all threads (`CLOCK_PROCESS_CPUTIME_ID`).
pub fn process_time() -> Duration {
    clock(libc::CLOCK_PROCESS_CPUTIME_ID)
}

/// Lowers the calling thread's scheduling priority to nice `n` (0–19; threads it starts after
/// inherit it): work that may wait for the pipeline, not the other way round. `false` when the
/// system refused.
pub fn lower_this_thread(n: i32) -> bool {
    // SAFETY: setpriority takes plain integers; on Linux `who = 0` with PRIO_PROCESS is the
    // calling thread (nice values are per thread).
    unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, n.clamp(0, 19)) == 0 }
}

fn clock(id: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; both clock ids exist on every Linux.
    let rc = unsafe { libc::clock_gettime(id, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lowered_thread_is_lowered_and_others_are_not() {
        let nice = || unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
        let before = nice();
        let spawn = |name: &str, f: fn() -> (i32, i32)| {
            std::thread::Builder::new()
                .name(name.into())
                .spawn(f)
                .unwrap()
                .join()
                .unwrap()
        };
        let inside = spawn("lowered", || {
            assert!(lower_this_thread(15));
            let child = std::thread::Builder::new()
                .name("child".into())
                .spawn(|| unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) })
                .unwrap()
                .join()
                .unwrap();
            (unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) }, child)
        });
        assert_eq!(inside, (15, 15), "the thread and the threads it starts");
        assert_eq!(nice(), before, "other threads keep theirs");
    }

    #[test]
    fn thread_time_counts_work_and_not_sleep() {
        let t0 = thread_time();
        std::thread::sleep(Duration::from_millis(50));
        let slept = thread_time() - t0;
        let t1 = thread_time();
        let mut x = 0u64;
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_millis(30) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
        let worked = thread_time() - t1;
        assert!(slept < Duration::from_millis(10), "sleeping cost {slept:?}");
        assert!(
            worked >= Duration::from_millis(5),
            "spinning 30 ms cost only {worked:?}"
        );
        assert!(process_time() >= worked);
    }
}
