//! vigil's tools, apart from the product: what measures the pipeline and what renders and scores
//! the synthetic sets it is developed against. The `vigil` binary carries them as commands by
//! default (its `tools` feature); a build without it ships none of this.
//!
//! - [`bench`]: `vigil bench`, the pipeline under measured load, and the limit it is held to.
//! - [`eval`]: `vigil eval`, a config's replayed alerts scored against labelled events.
//! - [`scenes`]: the deterministic renderers — a facade seen from below with throws and
//!   distractors ([`scenes::falls`]), bin points with bags, people, cars and light changes
//!   ([`scenes::bins`]), fire lanes seen from 3–10 m up ([`scenes::lanes`]).
//! - [`falls`]: `vigil synth` (a rendered falling-object set, encoded as a camera sends it) and
//!   `vigil eval-falls` (replayed and scored, [`falls::score`]).
//! - [`bins`]: `vigil synth-waste`, the bin scenes encoded with a config and labels for `vigil
//!   eval`.
//! - [`lanes`]: `vigil eval-lanes`, the fire-lane scenes of a seed through `lane_obstructed`,
//!   scored.

pub mod bench;
pub mod bins;
pub mod eval;
pub mod falls;
pub mod lane_synth;
pub mod lanes;
pub mod scenes;
