//! Deterministic synthetic footage with its ground truth: the same spec renders the same bytes on
//! every machine.

pub mod bins;
pub mod falls;
