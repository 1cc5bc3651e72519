//! Waste around bins.
//!
//! - [`engine`]: the `kind: waste` rules over one camera's static-object detector
//!   (`vigil-scene`, shared with the fire-lane rules; here people and vehicles hide the ground
//!   and are never waste) — `waste_left` (one alert per object, ended
//!   when it is removed) and `bin_overflow` (static rubbish above a bin's fill line).
//!
//! The synthetic bin scenes they are tested and measured on are rendered by `vigil-tools`.
//!
//! `unsorted_waste` (an item of a category the bin does not accept) is a rule over tracks and
//! lives in the rule engine (`vigil-rules`).

pub mod engine;

pub use engine::{WasteCheck, WasteEngine, WasteRule};
pub use vigil_scene::{Gone, Scene, SceneConfig, SceneStats, StaticObject};
