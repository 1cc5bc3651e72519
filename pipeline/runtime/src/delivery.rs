//! The receivers a config names — webhooks, MQTT — as outbox routes and running workers.

use anyhow::{Context, Result};
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use vigil_config::Config;
use vigil_config::robots::RobotKind;
use vigil_deliver::mqtt::{Liveness, Mqtt, MqttSettings, MqttTls};
use vigil_deliver::robots::{Kind, Robot, RobotSettings};
use vigil_deliver::shared::SharedStore;
use vigil_deliver::tls::ClientIdentity;
use vigil_deliver::webhook::Webhook;
use vigil_deliver::worker::{self, Backoff, Transport, Worker};
use vigil_deliver::{AlertStore, Outbox, Route};

/// The outbox name of webhook `name`.
fn webhook_sink(name: &str) -> String {
    format!("webhook:{name}")
}

const MQTT_SINK: &str = "mqtt";

/// The outbox name of the shared PostgreSQL store.
const SHARED_SINK: &str = vigil_deliver::shared::SINK;

/// Where the shared store is, as the config says.
pub fn shared_database(p: &vigil_config::SharedStoreConfig) -> vigil_deliver::shared::Database {
    vigil_deliver::shared::Database {
        url: p.url.clone(),
        password: p.password.as_ref().map(|s| s.expose().to_string()),
        ca_file: p.ca_file.clone(),
    }
}

/// Every receiver the config names, with its filter.
pub fn routes(config: &Config) -> Vec<Route> {
    let mut routes: Vec<Route> = config
        .outputs
        .webhooks
        .iter()
        .map(|w| Route {
            sink: webhook_sink(&w.name),
            filter: w.filter.clone(),
        })
        .collect();
    if let Some(m) = &config.outputs.mqtt {
        routes.push(Route {
            sink: MQTT_SINK.into(),
            filter: m.filter.clone(),
        });
    }
    if let Some(p) = &config.outputs.postgres {
        routes.push(Route {
            sink: SHARED_SINK.into(),
            filter: p.filter.clone(),
        });
    }
    routes.extend(config.outputs.robots.iter().map(|r| Route {
        sink: robot_sink(&r.name),
        filter: r.filter.clone(),
    }));
    routes
}

/// The outbox name of robot `name`.
pub fn robot_sink(name: &str) -> String {
    format!("robot:{name}")
}

/// What one receiver's worker did this run, and what is left for it.
#[derive(Clone, Debug, Serialize)]
pub struct DeliverySnapshot {
    pub delivered: u64,
    pub failed_attempts: u64,
    pub pending: u64,
    /// Milliseconds from storing a record to the receiver's acknowledgement, over the records
    /// delivered this run (records left by an earlier run included).
    pub latency_ms_p50: Option<i64>,
    pub latency_ms_p99: Option<i64>,
}

/// The running delivery workers.
pub struct Delivery {
    workers: Vec<Worker>,
    stop: Arc<AtomicBool>,
    /// A connection of its own for outbox depths and the delivery log.
    store: AlertStore,
    started_ms: i64,
    /// Signs the chain's head off the box (`evidence.anchor`).
    anchoring: Option<vigil_deliver::anchor::Anchoring>,
}

impl Delivery {
    /// Starts a worker per receiver on the store `db`; each begins with whatever an earlier run
    /// left in its outbox.
    pub fn start(config: &Config, db: &Path) -> Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let mut workers = Vec::new();
        let mut add = |sink: String, transport: Box<dyn Transport>| -> Result<()> {
            let outbox = Outbox::open(db, &sink)?;
            workers.push(
                worker::spawn(outbox, transport, Backoff::default(), stop.clone())
                    .with_context(|| format!("cannot start the {sink} worker"))?,
            );
            Ok(())
        };
        for w in &config.outputs.webhooks {
            let secret = w.secret.as_ref().map(|s| s.expose().as_bytes().to_vec());
            add(
                webhook_sink(&w.name),
                Box::new(Webhook::new(&w.url, secret, w.timeout)),
            )?;
        }
        let out_dir = db.parent().unwrap_or(Path::new(".")).to_path_buf();
        for r in &config.outputs.robots {
            let settings = RobotSettings {
                kind: match r.kind {
                    RobotKind::WeCom => Kind::WeCom,
                    RobotKind::DingTalk => Kind::DingTalk,
                    RobotKind::Feishu => Kind::Feishu,
                },
                url: r.url.expose().to_string(),
                secret: r.secret.as_ref().map(|s| s.expose().as_bytes().to_vec()),
                link_base: r.link_base.clone(),
                out_dir: out_dir.clone(),
                timeout: Duration::from_secs(10),
            };
            add(robot_sink(&r.name), Box::new(Robot::new(settings)))?;
        }
        if let Some(m) = &config.outputs.mqtt {
            let (client_id, liveness) = match &config.instance {
                // Several instances on one broker: each its own client id (a broker drops the
                // older of two connections with the same id) and its own liveness topic.
                Some(i) => (
                    format!("{}-{}", m.client_id, i.id),
                    Liveness::instance(
                        &m.topic_prefix,
                        &i.id,
                        i.shard.map(|s| s.to_string()),
                        &config.camera_names(),
                    ),
                ),
                None => (m.client_id.clone(), Liveness::single(&m.topic_prefix)),
            };
            let settings = MqttSettings {
                host: m.host.clone(),
                port: m.port,
                client_id,
                username: m.username.clone(),
                password: m.password.as_ref().map(|p| p.expose().to_string()),
                prefix: m.topic_prefix.clone(),
                keep_alive: m.keep_alive,
                ack_timeout: Duration::from_secs(10),
                liveness,
                tls: m.tls.as_ref().map(|t| MqttTls {
                    ca_file: t.ca_file.clone(),
                    identity: t.client.as_ref().map(|(cert, key)| ClientIdentity {
                        cert_file: cert.clone(),
                        key_file: key.clone(),
                    }),
                }),
            };
            add(
                MQTT_SINK.into(),
                Box::new(Mqtt::start(&settings).context("cannot start the MQTT client")?),
            )?;
        }
        if let Some(p) = &config.outputs.postgres {
            let shared = SharedStore::new(&shared_database(p), config.instance_name())
                .map_err(anyhow::Error::msg)?;
            add(SHARED_SINK.into(), Box::new(shared))?;
        }
        let anchoring = match &config.evidence.anchor {
            Some(a) => {
                let target = vigil_deliver::anchor::AnchorTarget {
                    key: a.key_file.clone(),
                    file: a.file.clone(),
                    every_records: a.every_records,
                    every: a.every,
                };
                let out = db.parent().unwrap_or(Path::new("."));
                Some(
                    vigil_deliver::anchor::spawn(out, &target, config.instance_name())
                        .map_err(anyhow::Error::msg)?,
                )
            }
            None => None,
        };
        Ok(Self {
            workers,
            stop,
            store: AlertStore::open(db)?,
            started_ms: vigil_deliver::now_ms(),
            anchoring,
        })
    }

    /// Each receiver's live counters, for `/metrics`.
    pub fn counters(&self) -> Vec<(String, Arc<vigil_deliver::worker::DeliveryCounters>)> {
        self.workers
            .iter()
            .map(|w| (w.sink.clone(), w.counters.clone()))
            .collect()
    }

    /// One sender per worker: `try_send(())` wakes it for a new record.
    pub fn nudgers(&self) -> Vec<crossbeam_channel::Sender<()>> {
        self.workers.iter().map(|w| w.nudger()).collect()
    }

    /// Waits up to `within` for every outbox to empty; warns of what is still pending (it stays
    /// in the outbox for the next run).
    pub fn drain(&self, within: Duration) {
        let left = self.drained(within);
        if left > 0 {
            tracing::warn!(
                pending = left,
                "receivers did not take every record; they stay in the outbox for the next run"
            );
        }
    }

    /// Waits up to `within` for every outbox to empty; returns what is still pending.
    fn drained(&self, within: Duration) -> u64 {
        let deadline = Instant::now() + within;
        loop {
            for w in &self.workers {
                let _ = w.nudger().try_send(());
            }
            // Only this run's receivers: rows of a receiver no longer configured wait for it.
            let depths = self.pending();
            let pending: u64 = self
                .workers
                .iter()
                .map(|w| depths.get(&w.sink).copied().unwrap_or(0))
                .sum();
            if pending == 0 || Instant::now() >= deadline {
                return pending;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Records waiting, per receiver with any (none when the store cannot be read: the workers
    /// log that).
    fn pending(&self) -> std::collections::HashMap<String, u64> {
        self.store
            .outbox_depths()
            .map(|d| d.into_iter().map(|(sink, d)| (sink, d.pending)).collect())
            .unwrap_or_default()
    }

    /// Stops the workers (each finishes the record in hand) and reports what they did.
    pub fn stop(mut self) -> std::collections::BTreeMap<String, DeliverySnapshot> {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(a) = self.anchoring.take() {
            a.stop();
        }
        let mut out = std::collections::BTreeMap::new();
        let workers = std::mem::take(&mut self.workers);
        let sinks: Vec<_> = workers
            .iter()
            .map(|w| (w.sink.clone(), w.counters.clone()))
            .collect();
        for w in workers {
            w.join();
        }
        let pending = self.pending();
        for (sink, c) in sinks {
            let latencies = self
                .store
                .delivery_latencies_ms(&sink, self.started_ms)
                .unwrap_or_default();
            let at = |q: f64| {
                (!latencies.is_empty())
                    .then(|| latencies[((latencies.len() - 1) as f64 * q).round() as usize])
            };
            let snapshot = DeliverySnapshot {
                delivered: c.delivered.load(Ordering::Relaxed),
                failed_attempts: c.failed_attempts.load(Ordering::Relaxed),
                pending: pending.get(&sink).copied().unwrap_or(0),
                latency_ms_p50: at(0.5),
                latency_ms_p99: at(0.99),
            };
            out.insert(sink, snapshot);
        }
        out
    }
}
