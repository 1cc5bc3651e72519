//! Finding and loading the ONNX Runtime shared library (`ort` with `load-dynamic`).
//!
//! Search order: `$VIGIL_ORT_LIB`; beside the executable (`libonnxruntime.so`, `lib/…`); then
//! `.vigil/onnxruntime/libonnxruntime.so` in the executable's folder or any folder above it (which
//! covers `target/release/vigil` inside a checkout set up by `scripts/setup`). The file is checked
//! before `ort` loads it, because a missing library is a panic inside `ort`, not an error.

use crate::DetectError;
use ort::environment::Environment;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

const LIB: &str = "libonnxruntime.so";

/// Candidate paths, in search order.
pub fn candidates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(p) = std::env::var_os("VIGIL_ORT_LIB") {
        out.push(PathBuf::from(p));
    }
    if let Ok(exe) = std::env::current_exe() {
        let exe = exe.canonicalize().unwrap_or(exe);
        if let Some(dir) = exe.parent() {
            out.push(dir.join(LIB));
            out.push(dir.join("lib").join(LIB));
            out.push(dir.join("../lib").join(LIB));
            for up in dir.ancestors() {
                out.push(up.join(".vigil/onnxruntime").join(LIB));
            }
        }
    }
    out
}

/// The first candidate that exists.
pub fn find_library() -> Result<PathBuf, DetectError> {
    let c = candidates();
    c.iter().find(|p| p.is_file()).cloned().ok_or_else(|| {
        let shown: Vec<String> = c.iter().take(4).map(|p| p.display().to_string()).collect();
        DetectError::RuntimeMissing(shown.join(", "))
    })
}

static ENV: OnceLock<Environment> = OnceLock::new();
static INIT: Mutex<()> = Mutex::new(());

/// Loads ONNX Runtime once per process and returns its environment.
pub fn environment() -> Result<Environment, DetectError> {
    if let Some(env) = ENV.get() {
        return Ok(env.clone());
    }
    let _guard = INIT.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(env) = ENV.get() {
        return Ok(env.clone());
    }
    let lib = find_library()?;
    let env = ort::init_from(&lib)
        .map_err(|e| DetectError::Runtime(format!("cannot load {}: {e}", lib.display())))?
        .with_name("vigil")
        .build()
        .map_err(|e| DetectError::Runtime(e.to_string()))?;
    tracing::debug!(library = %lib.display(), "ONNX Runtime loaded");
    Ok(ENV.get_or_init(|| env).clone())
}
