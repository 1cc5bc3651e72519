//! MQTT over TLS with a client certificate, against a real mosquitto that takes only clients with
//! a certificate of the site CA (`require_certificate`, the certificate's name as the user): with
//! vigil's certificate the record is published and a reader receives it; without one vigil never
//! gets in and the record stays in the outbox, undelivered and not lost.

use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use vigil_core::AlertFilter;
use vigil_deliver::mqtt::{Liveness, Mqtt, MqttSettings, MqttTls};
use vigil_deliver::tls::ClientIdentity;
use vigil_deliver::worker::{self, Backoff};
use vigil_deliver::{AlertStore, Outbox, Route};
use vigil_testkit::postgres::{make_certificates, make_client_certificate};

/// A process killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn settings(port: u16, ca: &std::path::Path, identity: Option<ClientIdentity>) -> MqttSettings {
    MqttSettings {
        host: "127.0.0.1".into(),
        port,
        client_id: "vigil-tls-test".into(),
        username: None,
        password: None,
        prefix: "vigil".into(),
        keep_alive: Duration::from_secs(5),
        ack_timeout: Duration::from_secs(5),
        liveness: Liveness::single("vigil"),
        tls: Some(MqttTls {
            ca_file: ca.to_path_buf(),
            identity,
        }),
    }
}

/// A store at `dir` with one alert queued for MQTT, its worker publishing through `settings`.
fn publish(
    dir: &std::path::Path,
    id: &str,
    settings: &MqttSettings,
) -> (Arc<AtomicBool>, worker::Worker) {
    let db = dir.join("alerts.db");
    let mut store = AlertStore::open(&db).unwrap().with_routes(vec![Route {
        sink: "mqtt".into(),
        filter: AlertFilter::default(),
    }]);
    store.insert(&vigil_testkit::alert(id, "gate")).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let backoff = Backoff {
        base: Duration::from_millis(50),
        max: Duration::from_millis(400),
    };
    let mqtt = Mqtt::start(settings).unwrap();
    let w = worker::spawn(
        Outbox::open(&db, "mqtt").unwrap(),
        Box::new(mqtt),
        backoff,
        stop.clone(),
    )
    .unwrap();
    (stop, w)
}

#[test]
fn a_broker_that_wants_a_client_certificate_takes_vigils_and_no_other() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path();
    // Started as root, mosquitto drops to its own user, which must read its files.
    std::fs::set_permissions(certs, std::fs::Permissions::from_mode(0o755)).unwrap();
    make_certificates(certs).unwrap();
    let (cert, key) = make_client_certificate(certs, "vigil").unwrap();
    std::fs::set_permissions(
        certs.join("server.key"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let port = vigil_testkit::free_port();
    let conf = certs.join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!(
            "listener {port} 127.0.0.1\ncafile {0}/ca.pem\ncertfile {0}/server.pem\nkeyfile {0}/server.key\n\
             require_certificate true\nuse_identity_as_username true\nallow_anonymous false\n",
            certs.display()
        ),
    )
    .unwrap();
    let _broker = Running(
        Command::new(vigil_testkit::Mosquitto::BINARY)
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto (scripts/setup installs it)"),
    );
    assert!(vigil_testkit::wait_for_port(port, Duration::from_secs(10)));
    let ca = certs.join("ca.pem");
    let reader = Command::new("mosquitto_sub")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .arg("--cafile")
        .arg(&ca)
        .arg("--cert")
        .arg(&cert)
        .arg("--key")
        .arg(&key)
        .args(["-i", "reader", "-t", "vigil/alerts", "-C", "1", "-W", "60"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));

    // vigil with its certificate: published, read.
    let with = tempfile::tempdir().unwrap();
    let identity = ClientIdentity {
        cert_file: cert.clone(),
        key_file: key.clone(),
    };
    let id = "01a2240a-0000-7000-8000-0000000000d1";
    let (stop, w) = publish(with.path(), id, &settings(port, &ca, Some(identity)));
    let read = reader.wait_with_output().unwrap();
    stop.store(true, Ordering::SeqCst);
    w.join();
    assert!(read.status.success(), "nothing read: {read:?}");
    assert!(String::from_utf8_lossy(&read.stdout).contains(id));

    // Without a certificate: refused by the broker; the record waits in the outbox.
    let without = tempfile::tempdir().unwrap();
    let mut plain = settings(port, &ca, None);
    plain.client_id = "vigil-no-cert".into();
    let (stop, w) = publish(
        without.path(),
        "01a2240a-0000-7000-8000-0000000000d2",
        &plain,
    );
    std::thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::SeqCst);
    w.join();
    let depth = Outbox::open(&without.path().join("alerts.db"), "mqtt")
        .unwrap()
        .depth()
        .unwrap();
    assert_eq!(depth.pending, 1, "published without a certificate");
}
