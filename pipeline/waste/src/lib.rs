//! Waste around bins.
//!
//! - [`scene`]: the static-object detector of one camera — long- and short-term background
//!   models on a coarse grid, people and vehicles excluded, lighting changes and ghosts told
//!   apart from new objects, each object followed by its template until it is removed.
//! - [`engine`]: the `kind: waste` rules over it — `waste_left` (one alert per object, ended
//!   when it is removed) and `bin_overflow` (static rubbish above a bin's fill line).
//!
//! The synthetic bin scenes they are tested and measured on are rendered by `vigil-tools`.
//!
//! `unsorted_waste` (an item of a category the bin does not accept) is a rule over tracks and
//! lives in the rule engine (`vigil-rules`).

pub mod engine;
pub mod scene;

pub use engine::{WasteCheck, WasteEngine, WasteRule};
pub use scene::{Gone, Scene, SceneConfig, SceneStats, StaticObject};
