//! Waste around bins.
//!
//! - [`scene`]: the static-object detector of one camera — long- and short-term background
//!   models on a coarse grid, people and vehicles excluded, lighting changes and ghosts told
//!   apart from new objects, each object followed by its template until it is removed.
//! - [`engine`]: the `kind: waste` rules over it — `waste_left` (one alert per object, ended
//!   when it is removed) and `bin_overflow` (static rubbish above a bin's fill line).
//! - [`synth`]: deterministic synthetic bin scenes (a bag dropped and picked up, a person
//!   standing a minute, a car parking, dusk, the infrared switch, an overflowing bin) with the
//!   tracks a detector would report, and what the rules must raise for each.
//!
//! `unsorted_waste` (an item of a category the bin does not accept) is a rule over tracks and
//! lives in the rule engine (`vigil-rules`).

pub mod engine;
pub mod scene;
pub mod synth;

pub use engine::{WasteCheck, WasteEngine, WasteRule};
pub use scene::{Gone, Scene, SceneConfig, SceneStats, StaticObject};
