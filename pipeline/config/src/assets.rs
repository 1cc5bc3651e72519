//! Where a path named in a config, rule file or manifest is found: beside that file, then under
//! the assets folder (`--assets` / `VIGIL_ASSETS`). A leaf module.

use std::path::{Path, PathBuf};

/// Resolves a path named in a file under `base`: absolute paths as they are; else `base/rel`,
/// `assets/rel`, `assets/subdir/rel`, the first that exists (or `base/rel` when none does, so the
/// error names where it was expected).
pub fn resolve_asset(base: &Path, rel: &str, assets: Option<&Path>, subdir: &str) -> PathBuf {
    let p = Path::new(rel);
    if p.is_absolute() {
        return p.to_path_buf();
    }
    let mut candidates = vec![base.join(p)];
    if let Some(a) = assets {
        candidates.push(a.join(p));
        candidates.push(a.join(subdir).join(p));
    }
    candidates
        .iter()
        .find(|c| c.exists())
        .cloned()
        .unwrap_or_else(|| base.join(p))
}
