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
//!   `vigil eval-falls` (replayed and scored, [`falls::score`]; or rendered straight into the
//!   detector, [`falls::memory`]).
//! - [`bins`]: `vigil synth-waste`, the bin scenes encoded with a config and labels for `vigil
//!   eval`.
//! - [`lanes`]: `vigil eval-lanes`, the fire-lane scenes of a seed through `lane_obstructed`,
//!   scored; [`lane_synth`]: `vigil synth-lanes`, the same scenes encoded for `vigil eval`.

pub mod bench;
pub mod bins;
pub mod eval;
pub mod falls;
pub mod lane_synth;
pub mod lanes;
pub mod scenes;

/// `f` of each of `items`, each on a thread of its own named `name-<index>`, in their order
/// (rendered scenes are independent: this keeps every core busy).
pub(crate) fn on_threads<T: Sync, R: Send>(
    items: &[T],
    name: &str,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let f = &f;
                std::thread::Builder::new()
                    .name(format!("{name}-{i}"))
                    .spawn_scoped(s, move || f(item))
                    .expect("a scene thread")
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("scene thread"))
            .collect()
    })
}
