//! The HTTP side of vigil: a JSON API over the alert store, evidence served by alert id (with
//! HTTP Range, so video seeks), a Server-Sent-Events stream of what happens, Prometheus metrics,
//! and the page security staff keep open — all from one axum router, served by an accept loop of
//! its own ([`listen`]: connection cap, request-head deadline, stalled peers cut) on a small tokio
//! runtime (network I/O only; nothing here decodes or infers). What is served at once is capped
//! per route class ([`limits`]).
//!
//! Main types: [`Server`] (started by [`start`]), [`Events`] (where the pipeline publishes live
//! events; a bounded broadcast — a client that falls behind gets a `resync` event and reloads,
//! nothing upstream ever waits on it), and [`auth::Tokens`] (bearer tokens kept as sha256, roles
//! `viewer` and `operator`).

pub mod alarm;
pub mod api;
pub mod audit;
pub mod auth;
pub mod district;
mod error;
pub mod limits;
mod listen;
pub mod live;
pub mod peers;
pub mod prom;
pub mod rendition;
pub mod session;
mod stall;
mod store;
pub mod users;

use axum::Router;
use axum::http::{HeaderValue, header};
use serde::Serialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;
use vigil_config::ApiToken;
use vigil_core::Alert;
use vigil_deliver::{Ack, AlertStore, CameraStatusEntry};

/// What the server needs to know.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    pub tokens: Vec<ApiToken>,
    /// The alert store (`<out>/alerts.db`).
    pub db: PathBuf,
    /// The output folder; evidence lives in `<out>/evidence` and is served from there only.
    pub out_dir: PathBuf,
    /// The configured cameras, listed even before their first status change.
    pub cameras: Vec<String>,
    /// The shared store of many instances (`outputs.postgres`): the district's alerts, live
    /// events, and other instances' alerts forwarded to them.
    pub district: Option<district::DistrictConfig>,
    /// HTTPS with this certificate and key; plain HTTP without.
    pub tls: Option<vigil_config::TlsFiles>,
    /// The named accounts' database ([`users`]); none: configured tokens only.
    pub users: Option<PathBuf>,
    /// When the page sounds its alarm ([`alarm`]).
    pub alarm: vigil_config::Alarm,
    /// What people call the cameras (listed with them).
    pub names: vigil_config::Names,
    /// The cameras' live pictures (none: the API runs without the pipeline).
    pub live: Option<Arc<live::LiveHub>>,
    /// The config and its rule files, for the zone editor (none: nothing to edit).
    pub rules: Option<api::zones::RuleSource>,
    /// Makes H.264 copies of clips browsers cannot play (none: clips are served as recorded).
    pub transcoder: Option<Arc<dyn rendition::Transcoder>>,
}

/// Something that happened, as the page and other SSE clients see it.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveEvent {
    /// A record was stored (start, end, evidence, expired).
    Alert { record: Box<Alert> },
    /// Someone acknowledged an alert.
    Ack { id: String, ack: Ack },
    /// A step in an alert's handling (`camera`: whose alert, for scoped callers).
    Handling {
        id: String,
        camera: String,
        handling: vigil_deliver::handling::Handling,
    },
    /// A camera went online or offline.
    Camera { status: CameraStatusEntry },
    /// Another instance stored a record (from the shared store).
    DistrictAlert {
        instance: String,
        record: Box<Alert>,
    },
    /// An acknowledgement reached the shared store.
    DistrictAck {
        id: String,
        instance: String,
        ack: Ack,
    },
    /// The shared store's events were interrupted: read the district list again.
    DistrictResync,
}

impl LiveEvent {
    /// The SSE event name.
    pub fn name(&self) -> &'static str {
        match self {
            LiveEvent::Alert { .. } => "alert",
            LiveEvent::Ack { .. } => "ack",
            LiveEvent::Handling { .. } => "handling",
            LiveEvent::Camera { .. } => "camera",
            LiveEvent::DistrictAlert { .. } => "district_alert",
            LiveEvent::DistrictAck { .. } => "district_ack",
            LiveEvent::DistrictResync => "district_resync",
        }
    }
}

/// How many events a slow SSE client may fall behind before it is told to resync.
pub const EVENT_BACKLOG: usize = 1024;

/// Where live events are published; cheap to clone, never blocks.
#[derive(Clone)]
pub struct Events(broadcast::Sender<LiveEvent>);

impl Default for Events {
    fn default() -> Self {
        Self(broadcast::channel(EVENT_BACKLOG).0)
    }
}

impl Events {
    /// Publishes `event` to every connected client (none connected: dropped, by design — the
    /// store has everything; clients load the list when they connect).
    pub fn publish(&self, event: LiveEvent) {
        let _ = self.0.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.0.subscribe()
    }

    /// Clients connected right now.
    pub fn clients(&self) -> usize {
        self.0.receiver_count()
    }
}

/// Writes the pipeline's own metrics (Prometheus text) after the server's.
pub type MetricsFn = Arc<dyn Fn(&mut String) + Send + Sync>;

/// Shared by every request.
pub struct AppState {
    pub store: Mutex<AlertStore>,
    pub tokens: auth::Tokens,
    pub events: Events,
    pub metrics: MetricsFn,
    pub out_dir: PathBuf,
    pub cameras: Vec<String>,
    pub district: Option<district::District>,
    /// What is served at once, per route class ([`limits`]).
    pub limits: Arc<limits::Limits>,
    /// The session cookie is `Secure` (the API speaks HTTPS).
    pub secure_cookies: bool,
    /// Accesses recorded lately, so repeats are recorded once ([`audit`]).
    pub recent_access: audit::Recent,
    /// The named accounts, when configured ([`users`]).
    pub users: Option<Mutex<users::Users>>,
    /// Failed sign-ins per name and address ([`session`]).
    pub throttle: session::Throttle,
    /// Password verifications running at once ([`session::CHECKS`]).
    pub password_checks: Arc<tokio::sync::Semaphore>,
    /// When the page sounds its alarm.
    pub alarm: vigil_config::Alarm,
    /// What people call the cameras.
    pub names: vigil_config::Names,
    /// The cameras' live pictures.
    pub live: Option<Arc<live::LiveHub>>,
    /// The rules the zone editor changes.
    pub rules: Option<api::zones::RuleSource>,
    /// Zone edits are made one at a time.
    pub zone_edits: tokio::sync::Mutex<()>,
    /// H.264 copies of clips, for browsers without the recorded codec.
    pub renditions: Option<rendition::Renditions>,
}

/// A running server.
pub struct Server {
    addr: SocketAddr,
    runtime: tokio::runtime::Runtime,
    shutdown: tokio::sync::oneshot::Sender<()>,
    /// Stops the shared store's listener.
    stop_listening: Arc<std::sync::atomic::AtomicBool>,
}

impl Server {
    /// The address it listens on (the configured port, or the one picked for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets open requests finish (SSE streams are cut), and returns.
    pub fn stop(self) {
        self.stop_listening
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = self.shutdown.send(());
        self.runtime
            .shutdown_timeout(std::time::Duration::from_secs(2));
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot start the HTTP runtime: {0}")]
    Runtime(std::io::Error),
    #[error(transparent)]
    Store(#[from] vigil_deliver::DeliverError),
    #[error("shared store: {0}")]
    District(String),
    #[error("api.tls: {0}")]
    Tls(String),
    #[error("api.users: {0}")]
    Users(users::UserError),
}

/// Starts the server on threads of its own.
pub fn start(
    config: ServeConfig,
    events: Events,
    metrics: MetricsFn,
) -> Result<Server, ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("http")
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    let state = Arc::new(AppState {
        store: Mutex::new(AlertStore::open(&config.db)?),
        tokens: auth::Tokens::new(config.tokens.clone()),
        events,
        metrics,
        out_dir: config.out_dir.clone(),
        cameras: config.cameras.clone(),
        district: config
            .district
            .as_ref()
            .map(district::District::new)
            .transpose()
            .map_err(ServeError::District)?,
        limits: Arc::default(),
        secure_cookies: config.tls.is_some(),
        recent_access: audit::Recent::default(),
        users: config
            .users
            .as_deref()
            .map(users::Users::open)
            .transpose()
            .map_err(ServeError::Users)?
            .map(Mutex::new),
        throttle: session::Throttle::default(),
        password_checks: Arc::new(tokio::sync::Semaphore::new(session::CHECKS)),
        alarm: config.alarm,
        names: config.names.clone(),
        live: config.live.clone(),
        rules: config.rules.clone(),
        zone_edits: tokio::sync::Mutex::new(()),
        renditions: config
            .transcoder
            .clone()
            .map(|t| rendition::Renditions::new(t, &config.out_dir)),
    });
    let tls = config
        .tls
        .as_ref()
        .map(listen::acceptor)
        .transpose()
        .map_err(ServeError::Tls)?;
    let stop_listening = Arc::new(std::sync::atomic::AtomicBool::new(false));
    if let (Some(d), Some(district)) = (&config.district, &state.district) {
        let counters = district.counters.clone();
        district::listen(d, state.events.clone(), counters, stop_listening.clone())
            .map_err(ServeError::District)?;
    }
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(config.listen))
        .map_err(|source| ServeError::Listen {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Listen {
        addr: config.listen,
        source,
    })?;
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    let limits = state.limits.clone();
    let app = router(state);
    runtime.spawn(listen::serve(listener, app, limits, tls, async {
        let _ = stopped.await;
    }));
    tracing::info!(%addr, "HTTP API and page listening");
    Ok(Server {
        addr,
        runtime,
        shutdown,
        stop_listening,
    })
}

/// Every route, with the security headers every response carries.
pub fn router(state: Arc<AppState>) -> Router {
    api::routes(state).layer(axum::middleware::map_response(
        |mut response: axum::response::Response| async move {
            let h = response.headers_mut();
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'self'; img-src 'self' blob: data:; media-src 'self'; \
                     style-src 'self'; script-src 'self'; connect-src 'self'; \
                     frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
                ),
            );
            h.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            h.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
            h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            response
        },
    ))
}
