//! vigil's configuration, in two phases: raw serde structs (`deny_unknown_fields` everywhere) are
//! parsed with locations, then [`load`] validates them into runtime types ([`Config`]),
//! collecting **every** error as `file:line:col: message` ([`ConfigErrors`]).
//!
//! Model manifests ([`manifest::ModelManifest`]) are parsed here too, so `vigil check` can check
//! rule classes against the model's labels without loading ONNX Runtime.
//!
//! Relative paths are looked up beside the file that names them, then under the assets folder
//! (`VIGIL_ASSETS`, or `--assets`), which is how tests and the demo reach `../shared`.

mod anchor;
mod assets;
mod camera;
pub mod cases;
mod check;
mod context;
mod detector;
pub mod district;
pub mod edit;
pub mod error;
mod falling;
mod lane;
pub mod manifest;
mod mqtt;
pub mod names;
mod outputs;
pub mod placement;
mod raw;
mod raw_falling;
pub mod robots;
mod rules;
mod runtime;
pub mod shard;
mod tls;
mod waste;

pub use anchor::AnchorConfig;
pub use check::is_id;
pub use detector::{DetectorConfig, ExecutionProvider};
pub use error::{ConfigError, ConfigErrors};
pub use falling::FallRule;
pub use manifest::{ColourOrder, ModelFamily, ModelManifest, Normalise, ResizeMode};
pub use names::Names;
pub use outputs::{Alarm, Live, SharedStoreConfig, TlsFiles};
pub use runtime::{
    ApiConfig, ApiToken, CameraConfig, CameraSource, Config, Decoder, EvidenceConfig, MqttConfig,
    MqttTlsFiles, OutputConfig, Role, RtspTransport, RtspUrl, Rule, Secret, TrackerConfig,
    WebhookConfig, load, load_str, resolve_asset,
};
