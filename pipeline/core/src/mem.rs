//! The allocator: how it is set up at start, and giving freed memory back to the system.

/// Returns memory the allocator holds but no longer uses to the system (glibc's
/// `malloc_trim`, which also releases free pages inside its arenas). Worth calling after a burst
/// of large, short-lived allocations (writing a clip, decoding a snapshot); a no-op elsewhere.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Caps glibc's malloc arenas at `n` (call first thing in `main`, before other threads start).
/// glibc gives each new thread that contends its own arena, up to 8 per core, and each keeps
/// what it once held: a camera that reconnects gets new GStreamer threads each time, and memory
/// crept up by ~0.1 MB a cycle (5 % over 60 kill/restart cycles; 0.9 % with one arena, 1.8 %
/// with two). Returns whether the allocator took the setting.
pub fn limit_arenas(n: usize) -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes the allocator's parameters.
        unsafe { libc::mallopt(libc::M_ARENA_MAX, n.clamp(1, 64) as libc::c_int) == 1 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        let _ = n;
        false
    }
}

/// The allocator as vigil runs best with it (call first thing in `main`, before other threads
/// start): one arena per core ([`limit_arenas`]) and blocks of 1 MiB or more mapped for
/// themselves ([`map_large_blocks`]), each unless the operator set glibc's own variable for it
/// (`MALLOC_ARENA_MAX`, `MALLOC_MMAP_THRESHOLD_`).
pub fn configure_allocator() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        limit_arenas(cores);
    }
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
        map_large_blocks(1 << 20);
    }
}

/// Serves every allocation of `bytes` or more with its own mapping, returned to the system
/// when freed (call first thing in `main`). glibc starts at 128 KiB but raises the bar to the
/// largest block freed so far (up to 32 MiB), after which a decoder's 3 MB pictures come from
/// the arenas and stay there until trimmed: the RSS of a 10-camera bench peaked 40–60 MB
/// higher while 1080p snapshots decoded. Returns whether the allocator took the setting.
pub fn map_large_blocks(bytes: usize) -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let bytes = bytes.clamp(4096, 32 << 20) as libc::c_int;
        // SAFETY: mallopt only changes the allocator's parameters.
        unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, bytes) == 1 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        let _ = bytes;
        false
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    /// Bytes the allocator holds in blocks mapped for themselves.
    fn mapped() -> usize {
        // SAFETY: mallinfo2 only reads the allocator's statistics.
        unsafe { libc::mallinfo2().hblkhd }
    }

    #[test]
    fn large_blocks_stay_mapped_after_a_larger_one_is_freed() {
        assert!(map_large_blocks(1 << 20));
        // Freed, an 8 MiB block would lift glibc's own threshold to 8 MiB…
        drop(std::hint::black_box(vec![1u8; 8 << 20]));
        // …and a 3 MiB picture would then come from an arena. With the threshold fixed it is
        // mapped for itself, and freeing it unmaps it.
        let before = mapped();
        let picture = std::hint::black_box(vec![1u8; 3 << 20]);
        assert!(mapped() >= before + (3 << 20), "a 3 MiB block is mapped");
        drop(picture);
        assert!(mapped() < before + (1 << 20), "and given back when freed");
    }
}
