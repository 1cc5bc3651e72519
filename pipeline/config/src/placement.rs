//! Where this instance stands among several running the same config: the command line's
//! `--shard`, `--instance` and `--advertise` (or `VIGIL_INSTANCE` / `VIGIL_ADVERTISE`, read by
//! the binary). Checked like the files — every error at once — each located at its flag:
//! `--advertise: "ftp://x": expected http[s]://host:port`.

use crate::shard::{Instance, Shard};
use crate::{Config, ConfigError, ConfigErrors};
use std::path::Path;

/// The placement as given, unchecked.
#[derive(Clone, Debug, Default)]
pub struct Placement {
    /// `INDEX/COUNT` or `auto` (see [`Shard::parse`]).
    pub shard: Option<String>,
    /// This instance's name [default: with a shard, `shard-<index>`].
    pub instance: Option<String>,
    /// `http://host:port` where the other instances reach this one's API.
    pub advertise: Option<String>,
}

/// What [`Placement::apply`] did to the camera list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sharded {
    pub shard: Shard,
    /// Cameras in the config before this shard kept its own.
    pub of: usize,
}

impl Placement {
    /// Checks the placement and puts it in `config`: its instance, its advertised URL and,
    /// with a shard, only the cameras that shard owns.
    pub fn apply(&self, config: &mut Config) -> Result<Option<Sharded>, ConfigErrors> {
        let mut errors = Vec::new();
        let mut at = |flag: &str, message: String| {
            errors.push(ConfigError::new(Path::new(flag), 0, 0, message));
        };
        let shard = match &self.shard {
            Some(text) => Shard::parse(text).map_err(|e| at("--shard", e)).ok(),
            None => None,
        };
        let name = self
            .instance
            .clone()
            .or_else(|| shard.map(|s| format!("shard-{}", s.index)));
        let instance = match name {
            Some(name) => Instance::new(&name, shard)
                .map_err(|e| at("--instance", e))
                .ok(),
            None => None,
        };
        let advertise = match &self.advertise {
            Some(url) => advertised_url(url).map_err(|e| at("--advertise", e)).ok(),
            None => None,
        };
        if !errors.is_empty() {
            return Err(ConfigErrors(errors));
        }
        if instance.is_some() {
            config.instance = instance;
        }
        config.advertise = advertise;
        Ok(shard.map(|shard| {
            let of = config.cameras.len();
            config.cameras.retain(|c| shard.owns(c.id.as_str()));
            Sharded { shard, of }
        }))
    }
}

/// `http[s]://host[:port][/]` without trailing slashes.
pub(crate) fn advertised_url(url: &str) -> Result<String, String> {
    let ok = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .is_some_and(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace));
    match ok {
        true => Ok(url.trim_end_matches('/').to_string()),
        false => Err(format!("\"{url}\": expected http[s]://host:port")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Twelve RTSP cameras and the repository's YOLOX-Nano manifest.
    fn config() -> Config {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let cameras: String = (0..12)
            .map(|i| format!("  - {{name: cam-{i}, rtsp: \"rtsp://10.0.0.{i}/s\"}}\n"))
            .collect();
        let manifest = repo.join("models/yolox-nano.yaml");
        let yaml = format!(
            "cameras:\n{cameras}detector:\n  manifest: {}\n",
            manifest.display()
        );
        let assets = std::env::var_os("VIGIL_ASSETS").map(std::path::PathBuf::from);
        crate::load_str(&repo.join("site.yaml"), &yaml, assets.as_deref())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn every_bad_flag_is_reported_at_its_flag() {
        let mut c = config();
        let bad = Placement {
            shard: Some("3/2".into()),
            instance: Some("has space".into()),
            advertise: Some("ftp://x".into()),
        };
        let errors = bad.apply(&mut c).expect_err("three bad flags");
        let lines: Vec<String> = errors.0.iter().map(|e| e.to_string()).collect();
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(lines[0].starts_with("--shard: 3/2: "), "{lines:?}");
        assert!(
            lines[1].starts_with("--instance: \"has space\" "),
            "{lines:?}"
        );
        assert_eq!(
            lines[2],
            "--advertise: \"ftp://x\": expected http[s]://host:port"
        );
        // Nothing applied.
        assert_eq!(c.cameras.len(), 12);
        assert!(c.instance.is_none() && c.advertise.is_none());
    }

    #[test]
    fn a_shard_keeps_its_cameras_and_names_the_instance() {
        let mut c = config();
        let p = Placement {
            shard: Some("1/3".into()),
            advertise: Some("http://box-1:8080/".into()),
            ..Placement::default()
        };
        let sharded = p.apply(&mut c).expect("valid").expect("sharded");
        assert_eq!(sharded.of, 12);
        assert!(
            c.cameras
                .iter()
                .all(|cam| sharded.shard.owns(cam.id.as_str()))
        );
        assert!(!c.cameras.is_empty() && c.cameras.len() < 12);
        assert_eq!(c.instance_name(), "shard-1");
        assert_eq!(c.advertise.as_deref(), Some("http://box-1:8080"));
    }
}
