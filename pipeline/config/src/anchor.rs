//! `evidence.anchor`: where the chain's head is signed and published, checked.

use crate::check::{Validator, seconds};
use crate::raw::RawAnchor;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The chain's head signed with `key_file` and appended to `file`, every `every_records` records
/// or every `every` when anything was added.
#[derive(Clone, Debug, PartialEq)]
pub struct AnchorConfig {
    pub key_file: PathBuf,
    pub file: PathBuf,
    pub every_records: u32,
    pub every: Duration,
}

/// The validated `evidence.anchor` (paths relative to the config's folder), or `None` with its
/// errors reported. The key must exist (`vigil keygen` makes one); the anchor file is created
/// when first written.
pub(crate) fn anchor(v: &mut Validator<'_>, raw: &RawAnchor, base: &Path) -> Option<AnchorConfig> {
    let key_file = base.join(&raw.key_file.value);
    let key_ok = key_file.is_file();
    v.check(
        key_ok,
        &raw.key_file,
        "anchor key_file not found: make one with `vigil keygen --out FILE` (outside the output folder)",
    );
    let file = base.join(&raw.file.value);
    let folder_ok = file.parent().is_some_and(Path::is_dir);
    v.check(
        folder_ok,
        &raw.file,
        "the folder of the anchor file does not exist (another mount, in a real site)",
    );
    let every_records = match &raw.every_records {
        Some(n) if (1..=1_000_000).contains(&n.value) => Some(n.value),
        Some(n) => {
            v.error(n, "every_records must be between 1 and 1000000");
            None
        }
        None => Some(100),
    };
    let every = match seconds(v, &raw.every_secs, "every_secs", 1.0) {
        Ok(d) => Some(d.unwrap_or(Duration::from_secs(60))),
        Err(()) => None,
    };
    let (true, true, Some(every_records), Some(every)) = (key_ok, folder_ok, every_records, every)
    else {
        return None;
    };
    Some(AnchorConfig {
        key_file,
        file,
        every_records,
        every,
    })
}
