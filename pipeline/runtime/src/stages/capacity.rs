//! The capacity of every queue the pipeline builds, in one place. ARCHITECTURE.md's table
//! "Threads and backpressure" gives each edge's policy when full and why; keep the two together.

/// Detector camera → detect workers, live: only the newest sampled frame waits, so a lagging
/// detector sees fresh frames and a frame's age stays within about one round of the cameras.
pub const DETECT_FRAMES_LIVE: usize = 1;
/// Detector camera → detect workers, replay: two, so decoding runs ahead (the queue blocks).
pub const DETECT_FRAMES_REPLAY: usize = 2;
/// Facade camera → its falling-object stage: about a third of a second at 25 fps, since the
/// stage must see every frame.
pub const FALL_FRAMES: usize = 8;
/// Detect workers → track thread (blocks: frames already paid for inference are kept).
pub const DETECTED_FRAMES: usize = 64;
/// Track thread and falling-object stages → alert writer (blocks: alerts never drop).
pub const ALERTS: usize = 256;
/// A camera's encoded branch → its evidence recorder (drops the oldest: evidence never holds
/// up decoding).
pub const ENCODED_UNITS: usize = 512;
/// Alert writer → a recorder: clip requests (small and rare; blocks).
pub const CLIP_REQUESTS: usize = 1024;
/// Recorders → alert writer: clips done (blocks: every alert gets its evidence record).
pub const CLIPS_DONE: usize = 1024;
