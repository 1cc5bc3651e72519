//! MQTT delivery (rumqttc, MQTT 3.1.1): each record is published at QoS 1 to `<prefix>/alerts`
//! and `<prefix>/<camera>/alerts`, and counts as delivered only when the broker acknowledged both
//! (PUBACK). Camera status goes to `<prefix>/<camera>/status` (retained JSON
//! `{"state": "online"|"offline", "at_ms": …, "detail": reason or how long it was away}`,
//! republished on every connection); `<prefix>/status` is retained `online` while vigil is
//! connected, and the broker publishes the last will `offline` there if vigil vanishes — or, for
//! one of several instances, `<prefix>/instance/<id>/status` with JSON saying which shard and
//! cameras it has ([`Liveness`]).
//!
//! A named thread drives the client's event loop (keep-alives, reconnection every second) and
//! passes what the worker needs — connected, published, acknowledged — over a bounded channel.

use crate::outbox::OutboxItem;
use crate::store::latest_camera_status;
use crate::worker::Transport;
use crossbeam_channel::{Receiver, RecvTimeoutError};
use rumqttc::{Client, Event, LastWill, MqttOptions, Outgoing, Packet, QoS, TlsConfiguration};
use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

/// Broker connection settings.
#[derive(Clone)]
pub struct MqttSettings {
    pub host: String,
    pub port: u16,
    pub client_id: String,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Topic prefix (`vigil`).
    pub prefix: String,
    pub keep_alive: Duration,
    /// How long to wait for the broker's acknowledgements of one record.
    pub ack_timeout: Duration,
    /// Where and what vigil says of itself: retained `online` on every connection, and the
    /// last will `offline` the broker publishes if vigil vanishes.
    pub liveness: Liveness,
    /// TLS to the broker, checked against these CA certificates (PEM), with a client
    /// certificate when given. Without: plain TCP.
    pub tls: Option<MqttTls>,
}

/// TLS settings of a broker connection.
#[derive(Clone, Debug)]
pub struct MqttTls {
    pub ca_file: std::path::PathBuf,
    pub identity: Option<crate::tls::ClientIdentity>,
}

/// vigil's own status topic and its two payloads.
#[derive(Clone, Debug, PartialEq)]
pub struct Liveness {
    pub topic: String,
    pub online: String,
    pub offline: String,
}

impl Liveness {
    /// One box: `<prefix>/status`, `online` / `offline`.
    pub fn single(prefix: &str) -> Self {
        Self {
            topic: format!("{prefix}/status"),
            online: "online".into(),
            offline: "offline".into(),
        }
    }

    /// One of several instances: `<prefix>/instance/<id>/status`, JSON
    /// `{"state", "instance", "shard", "cameras", "since_ms"}` online and
    /// `{"state": "offline", "instance"}` as the last will.
    pub fn instance(prefix: &str, id: &str, shard: Option<String>, cameras: &[String]) -> Self {
        let online = serde_json::json!({
            "state": "online",
            "instance": id,
            "shard": shard,
            "cameras": cameras,
            "since_ms": crate::now_ms(),
        });
        let offline = serde_json::json!({"state": "offline", "instance": id});
        Self {
            topic: format!("{prefix}/instance/{id}/status"),
            online: online.to_string(),
            offline: offline.to_string(),
        }
    }
}

impl std::fmt::Debug for MqttSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MqttSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("prefix", &self.prefix)
            .field("tls", &self.tls)
            .finish()
    }
}

enum Note {
    Connected,
    Disconnected(String),
    Published(u16),
    Acked(u16),
}

/// The MQTT transport of one broker.
pub struct Mqtt {
    client: Client,
    notes: Receiver<Note>,
    connected: bool,
    prefix: String,
    liveness: Liveness,
    ack_timeout: Duration,
    /// Camera statuses as last published on this connection.
    published_status: BTreeMap<String, bool>,
}

impl Mqtt {
    /// Starts the client; it connects (and reconnects) in the background.
    pub fn start(settings: &MqttSettings) -> std::io::Result<Self> {
        let mut options = MqttOptions::new(&settings.client_id, &settings.host, settings.port);
        options.set_keep_alive(settings.keep_alive.max(Duration::from_secs(1)));
        options.set_clean_session(true);
        options.set_last_will(LastWill::new(
            settings.liveness.topic.clone(),
            settings.liveness.offline.clone(),
            QoS::AtLeastOnce,
            true,
        ));
        if let (Some(u), Some(p)) = (&settings.username, &settings.password) {
            options.set_credentials(u, p);
        }
        if let Some(tls) = &settings.tls {
            let config = crate::tls::client_config(&tls.ca_file, tls.identity.as_ref())
                .map_err(std::io::Error::other)?;
            options.set_transport(rumqttc::Transport::tls_with_config(
                TlsConfiguration::Rustls(std::sync::Arc::new(config)),
            ));
        }
        let (client, mut connection) = Client::new(options, 64);
        let (tx, notes) = crossbeam_channel::bounded(256);
        let broker = format!("{}:{}", settings.host, settings.port);
        std::thread::Builder::new()
            .name("mqtt-events".into())
            .spawn(move || {
                let mut last_warning: Option<Instant> = None;
                for event in connection.iter() {
                    let note = match event {
                        Ok(Event::Incoming(Packet::ConnAck(_))) => {
                            tracing::info!(%broker, "MQTT connected");
                            Note::Connected
                        }
                        Ok(Event::Incoming(Packet::PubAck(ack))) => Note::Acked(ack.pkid),
                        Ok(Event::Outgoing(Outgoing::Publish(pkid))) => Note::Published(pkid),
                        Ok(Event::Outgoing(Outgoing::Disconnect)) => break,
                        Ok(_) => continue,
                        Err(e) => {
                            if last_warning.is_none_or(|t| t.elapsed() > Duration::from_secs(30)) {
                                last_warning = Some(Instant::now());
                                tracing::warn!(%broker, error = %e, "MQTT disconnected; retrying every second");
                            }
                            if tx.send(Note::Disconnected(e.to_string())).is_err() {
                                break;
                            }
                            std::thread::sleep(Duration::from_secs(1));
                            continue;
                        }
                    };
                    // Blocks when the worker is behind (it drains notes on every tick).
                    if tx.send(note).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Self {
            client,
            notes,
            connected: false,
            prefix: settings.prefix.clone(),
            liveness: settings.liveness.clone(),
            ack_timeout: settings.ack_timeout,
            published_status: BTreeMap::new(),
        })
    }

    fn on_note(&mut self, note: &Note) {
        match note {
            Note::Connected => {
                self.connected = true;
                self.published_status.clear();
                let _ = self.client.try_publish(
                    self.liveness.topic.clone(),
                    QoS::AtMostOnce,
                    true,
                    self.liveness.online.clone(),
                );
            }
            Note::Disconnected(_) => self.connected = false,
            Note::Published(_) | Note::Acked(_) => {}
        }
    }

    fn drain_notes(&mut self) {
        while let Ok(note) = self.notes.try_recv() {
            self.on_note(&note);
        }
    }

    /// Topics may not carry the wildcards `+` and `#`; camera names cannot, but be sure.
    fn topic(&self, camera: &str, leaf: &str) -> String {
        let camera: String = camera
            .chars()
            .map(|c| if matches!(c, '+' | '#' | '/') { '_' } else { c })
            .collect();
        format!("{}/{camera}/{leaf}", self.prefix)
    }
}

impl Transport for Mqtt {
    fn send(&mut self, item: &OutboxItem) -> Result<(), String> {
        self.drain_notes();
        if !self.connected {
            return Err("not connected to the broker".into());
        }
        let payload = item.json.as_bytes().to_vec();
        for topic in [
            format!("{}/alerts", self.prefix),
            self.topic(&item.camera, "alerts"),
        ] {
            self.client
                .try_publish(topic, QoS::AtLeastOnce, false, payload.clone())
                .map_err(|e| format!("cannot queue publish: {e}"))?;
        }
        // QoS 1 publishes get packet ids > 0; ours are the next two the event loop sends.
        let mut ours: HashSet<u16> = HashSet::new();
        let mut published = 0;
        let mut acked = 0;
        let deadline = Instant::now() + self.ack_timeout;
        while acked < 2 {
            let left = deadline.saturating_duration_since(Instant::now());
            let note = match self.notes.recv_timeout(left) {
                Ok(n) => n,
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!("no PUBACK within {:?}", self.ack_timeout));
                }
                Err(RecvTimeoutError::Disconnected) => return Err("MQTT client stopped".into()),
            };
            match note {
                Note::Published(pkid) if pkid != 0 && published < 2 => {
                    published += 1;
                    ours.insert(pkid);
                }
                Note::Acked(pkid) if ours.remove(&pkid) => acked += 1,
                Note::Disconnected(e) => {
                    self.connected = false;
                    return Err(format!("connection lost before PUBACK: {e}"));
                }
                other => self.on_note(&other),
            }
        }
        Ok(())
    }

    fn tick(&mut self, store: &rusqlite::Connection) {
        self.drain_notes();
        if !self.connected {
            return;
        }
        let statuses = match latest_camera_status(store) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read camera status");
                return;
            }
        };
        for s in statuses {
            if self.published_status.get(&s.camera) == Some(&s.online) {
                continue;
            }
            let topic = self.topic(&s.camera, "status");
            let state = serde_json::json!({
                "state": if s.online { "online" } else { "offline" },
                "at_ms": s.at_ms,
                "detail": s.detail,
            })
            .to_string();
            // Retained state, republished on every connection: QoS 0 suffices.
            if self
                .client
                .try_publish(topic, QoS::AtMostOnce, true, state)
                .is_ok()
            {
                self.published_status.insert(s.camera, s.online);
            }
        }
    }

    fn close(&mut self) {
        // A clean disconnect suppresses the last will, so say it ourselves.
        if self.connected {
            let _ = self.client.try_publish(
                self.liveness.topic.clone(),
                QoS::AtMostOnce,
                true,
                self.liveness.offline.clone(),
            );
        }
        let _ = self.client.try_disconnect();
    }
}
