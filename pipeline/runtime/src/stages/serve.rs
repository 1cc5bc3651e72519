//! The HTTP API and page (`vigil-serve`, on its own tokio runtime) and, with a shared store,
//! this instance's presence there: where its API is, and its operators' acknowledgements.

use crate::metrics::PipelineMetrics;
use anyhow::{Context, Result};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use vigil_config::Config;
use vigil_deliver::shared::presence::{self, Announce, Presence, PresenceCounters};

/// What the API and the presence keeper need.
pub struct Settings<'a> {
    pub config: &'a Config,
    pub db: PathBuf,
    pub out_dir: PathBuf,
    pub events: vigil_serve::Events,
    /// Every counter, for `/metrics`.
    pub metrics: Arc<PipelineMetrics>,
    /// The presence keeper's counters (with `outputs.postgres`).
    pub presence: Option<Arc<PresenceCounters>>,
    /// The cameras' live pictures.
    pub live: Option<Arc<vigil_serve::live::LiveHub>>,
    /// The assets folder the config was loaded with (the zone editor validates with it).
    pub assets: Option<PathBuf>,
}

/// The running API and presence keeper; [`Serving::stop`] stops both.
pub struct Serving {
    server: Option<vigil_serve::Server>,
    presence: Option<Presence>,
}

impl Settings<'_> {
    /// Starts the API when the config has one, then the presence keeper when it has a shared
    /// store (advertising the API's address unless `--advertise` says otherwise).
    pub fn spawn(self) -> Result<Serving> {
        let config = self.config;
        let shared = config
            .outputs
            .postgres
            .as_ref()
            .map(crate::delivery::shared_database);
        let identity = config
            .outputs
            .postgres
            .as_ref()
            .map(|p| identity(&p.district))
            .transpose()?
            .flatten();
        let server = match &config.api {
            Some(api) => {
                let metrics = self.metrics.clone();
                let serve = vigil_serve::ServeConfig {
                    listen: api.listen,
                    tokens: api.tokens.clone(),
                    db: self.db.clone(),
                    out_dir: self.out_dir.clone(),
                    cameras: config.camera_names(),
                    district: shared.clone().map(|database| {
                        vigil_serve::district::DistrictConfig {
                            database,
                            instance: config.instance_name().to_string(),
                            identity: identity.clone(),
                        }
                    }),
                    tls: api.tls.clone(),
                    users: api.users.clone(),
                    alarm: api.alarm,
                    names: config.names.clone(),
                    live: self.live.clone(),
                    rules: Some(vigil_serve::api::zones::RuleSource {
                        config: config.path.clone(),
                        assets: self.assets.clone(),
                    }),
                    transcoder: Some(Arc::new(Copies)),
                };
                let server = vigil_serve::start(
                    serve,
                    self.events.clone(),
                    Arc::new(move |out: &mut String| metrics.write(out)),
                )
                .context("cannot start the HTTP API")?;
                eprintln!("page and API on http://{}/", server.addr());
                Some(server)
            }
            None => None,
        };
        let presence = match (shared, self.presence) {
            (Some(shared), Some(counters)) => {
                let announce = Announce {
                    instance: config.instance_name().to_string(),
                    url: config
                        .advertise
                        .clone()
                        .or_else(|| server.as_ref().map(|s| advertised(s.addr()))),
                    shard: config
                        .instance
                        .as_ref()
                        .and_then(|i| i.shard)
                        .map(|s| s.to_string()),
                    cameras: config.camera_names(),
                };
                Some(
                    presence::spawn(&self.db, &shared, announce, counters)
                        .map_err(anyhow::Error::msg)?,
                )
            }
            _ => None,
        };
        Ok(Serving { server, presence })
    }
}

impl Serving {
    pub fn stop(self) {
        if let Some(p) = self.presence {
            p.stop();
        }
        if let Some(server) = self.server {
            server.stop();
        }
    }
}

/// Where the other instances reach an API listening on `addr`: the address itself, or this
/// host's name when it listens on every interface (a pod's name, in a StatefulSet).
fn advertised(addr: SocketAddr) -> String {
    if !addr.ip().is_unspecified() {
        return format!("http://{addr}");
    }
    let host = vigil_config::shard::host_name().unwrap_or_else(|| "localhost".into());
    format!("http://{host}:{}", addr.port())
}

/// This instance's identity key and the registered instances (`outputs.postgres.identity_key`,
/// `instances`); none without a key.
fn identity(
    d: &vigil_config::district::DistrictIdentity,
) -> Result<Option<Arc<vigil_serve::peers::Identity>>> {
    use vigil_serve::peers::{Identity, Peer};
    let Some(key_file) = &d.key_file else {
        return Ok(None);
    };
    let key = vigil_deliver::keys::SigningKey::load(key_file).map_err(anyhow::Error::msg)?;
    let peers = d
        .instances
        .iter()
        .map(|i| {
            Ok(Peer {
                name: i.name.clone(),
                url: i.url.clone(),
                key: vigil_deliver::keys::PublicKey::parse(&i.public_key)
                    .map_err(anyhow::Error::msg)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let tls = d
        .ca_file
        .as_deref()
        .map(|ca| vigil_deliver::tls::client_config(ca, None))
        .transpose()
        .map_err(anyhow::Error::msg)?
        .map(Arc::new);
    Ok(Some(Arc::new(Identity {
        key: Arc::new(key),
        peers,
        tls,
    })))
}

/// H.264 copies of clips for the page (`vigil_serve::rendition`), made by the evidence code on
/// a thread of its own at nice 15, so detection and recording keep their CPU.
#[derive(Debug)]
struct Copies;

/// The most one copy may take (a clip is at most `evidence.max_clip_secs`, a minute by default;
/// x264 `veryfast` on one thread makes a 720p minute in well under this here).
const COPY_LIMIT: std::time::Duration = std::time::Duration::from_secs(600);

impl vigil_serve::rendition::Transcoder for Copies {
    fn is_h264(&self, clip: &std::path::Path) -> bool {
        vigil_evidence::rendition::mp4_video_codec(clip)
            .ok()
            .flatten()
            .is_some_and(|c| vigil_evidence::rendition::is_h264(&c))
    }

    fn h264_copy(&self, clip: &std::path::Path, copy: &std::path::Path) -> Result<(), String> {
        let (clip, copy) = (clip.to_path_buf(), copy.to_path_buf());
        std::thread::Builder::new()
            .name("clip-copy".into())
            .spawn(move || {
                vigil_core::cpu::lower_this_thread(15);
                vigil_evidence::rendition::h264_copy(&clip, &copy, COPY_LIMIT)
            })
            .map_err(|e| e.to_string())?
            .join()
            .map_err(|_| "the transcoder panicked".to_string())?
    }
}
