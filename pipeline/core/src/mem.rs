//! Giving freed memory back to the system.

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
