//! Newtype ids, so a camera name is never passed where a rule name was expected.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

macro_rules! name_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Arc<str>);

        impl $name {
            pub fn new(name: impl AsRef<str>) -> Self {
                Self(Arc::from(name.as_ref()))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

name_id!(
    /// A camera's configured name (`gate_2`); cheap to clone.
    CameraId
);
name_id!(
    /// A rule's configured name (`fire_lane_block`).
    RuleId
);
name_id!(
    /// A zone's configured name (`lane_a`), unique per camera.
    ZoneId
);

name_id!(
    /// An alert's id (a UUIDv7, made by [`crate::Alert::start`]), shared by all its records.
    AlertId
);

impl AlertId {
    /// A fresh id: a UUIDv7, so ids sort by creation time.
    pub fn fresh() -> Self {
        Self::new(uuid::Uuid::now_v7().to_string())
    }
}

impl PartialEq<str> for AlertId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for AlertId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl From<&str> for AlertId {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

impl From<String> for AlertId {
    fn from(s: String) -> Self {
        Self::new(s)
    }
}

/// A tracker-assigned id, unique per camera for the life of the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TrackId(pub u64);

impl fmt::Display for TrackId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
