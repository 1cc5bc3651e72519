//! What loading a config tells the commands and tools that load one: where assets are looked up
//! when no flag says, and a config that cannot be used, with every error found ([`InvalidConfig`],
//! printed by `cmd::exit`). A leaf: the commands, `bench` and the renderers all use it.

use std::fmt;
use std::path::{Path, PathBuf};
use vigil_config::ConfigErrors;

/// `$VIGIL_ASSETS`.
pub fn assets_from_env() -> Option<PathBuf> {
    std::env::var_os("VIGIL_ASSETS").map(PathBuf::from)
}

/// A config (or the flags placing it) that cannot be used, with every error found.
#[derive(Debug)]
pub struct InvalidConfig {
    pub path: PathBuf,
    pub errors: ConfigErrors,
}

impl InvalidConfig {
    pub fn new(path: &Path, errors: ConfigErrors) -> Self {
        Self {
            path: path.to_path_buf(),
            errors,
        }
    }
}

impl fmt::Display for InvalidConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} error(s) in {}",
            self.errors.0.len(),
            self.path.display()
        )
    }
}

impl std::error::Error for InvalidConfig {}

/// `on` or `off`: a switch on the command line.
pub fn on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("expected on or off, not \"{s}\"")),
    }
}
