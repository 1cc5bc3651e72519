//! The vigil pipeline as a library: [`pipeline::run`] wires the stages (one module each under
//! [`stages`], `Settings` + `spawn`) from cameras to stored, delivered alerts, and gathers the
//! run's [`pipeline::Summary`]. The `vigil` binary's commands (`pipeline/app`) and the tools
//! (`vigil-tools`: bench, eval, the synthetic sets) run it through here.

pub mod delivery;
pub mod describe;
pub mod loading;
pub mod metrics;
pub mod pipeline;
pub mod progress;
pub mod reload;
pub mod stages;
