//! What vigil's engines are asked to do — the vocabulary of a configured site, between the
//! config files that describe it (`vigil-config`) and the engines that run it (`vigil-track`,
//! `vigil-rules`, `vigil-falling`, `vigil-waste`, `vigil-lane`):
//!
//! - [`rule`]: a rule over tracks (`dwell`, `enter`, `count`, `line_cross`, `unsorted_waste`);
//! - [`schedule`]: when a rule is in force;
//! - [`tracker`]: the tracker's thresholds;
//! - [`facade`] and [`falling`]: a facade camera's calibration and falling-object parameters;
//! - [`waste`]: the `waste_left` and `bin_overflow` rules;
//! - [`lane`]: the `lane_obstructed` rule (a fire lane kept clear of anything);
//! - [`motion`]: when the detector may skip a frame in which nothing moved.
//!
//! Data, and the small pure functions that read it (a schedule's hours, a facade's homography);
//! no engine state. Config builds on this crate alone, so a change inside an engine rebuilds
//! neither config nor the crates that read it (ingest, detect, serve).

pub mod facade;
pub mod falling;
pub mod lane;
pub mod motion;
pub mod rule;
pub mod schedule;
pub mod tracker;
pub mod waste;
