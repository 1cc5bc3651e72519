//! Validation of `outputs.mqtt`: the broker alerts are published to, how vigil signs in there,
//! and TLS — required for a broker on another machine unless `insecure_plaintext: true`.

use crate::check::Validator;
use crate::outputs::{Secret, env_secret, filter};
use crate::raw::{RawMqtt, RawMqttTls};
use crate::tls::{PEM_CERTIFICATE, PEM_KEY, loopback_host, pem_file};
use std::path::{Path, PathBuf};
use vigil_core::AlertFilter;

/// The MQTT broker alerts are published to.
#[derive(Clone, Debug, PartialEq)]
pub struct MqttConfig {
    pub host: String,
    /// 1883, or 8883 with TLS, unless the file says.
    pub port: u16,
    pub client_id: String,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub topic_prefix: String,
    /// Between keep-alives (the last will follows 1.5 of them without word).
    pub keep_alive: std::time::Duration,
    pub filter: AlertFilter,
    pub tls: Option<MqttTlsFiles>,
}

/// TLS to the broker: the CA its certificate is checked against, and vigil's own certificate
/// and key when the broker asks for one.
#[derive(Clone, Debug, PartialEq)]
pub struct MqttTlsFiles {
    pub ca_file: PathBuf,
    /// (certificate chain, key)
    pub client: Option<(PathBuf, PathBuf)>,
}

/// The `outputs.mqtt` section, its files relative to `base`.
pub(crate) fn validate(
    v: &mut Validator<'_>,
    m: &RawMqtt,
    cameras: &[&str],
    base: &Path,
) -> MqttConfig {
    v.check(!m.host.value.is_empty(), &m.host, "mqtt host is empty");
    let prefix = m
        .topic_prefix
        .as_ref()
        .map_or("vigil".to_string(), |p| p.value.clone());
    if let Some(p) = &m.topic_prefix {
        let ok = !p.value.is_empty()
            && !p.value.contains(['+', '#'])
            && !p.value.starts_with('/')
            && !p.value.ends_with('/');
        v.check(
            ok,
            p,
            "topic_prefix must be a topic without wildcards or outer '/'",
        );
    }
    let client_id = m
        .client_id
        .as_ref()
        .map_or("vigil".to_string(), |c| c.value.clone());
    if let Some(c) = &m.client_id {
        v.check(
            !c.value.is_empty() && c.value.len() <= 23,
            c,
            "client_id must be 1 to 23 characters (MQTT 3.1.1)",
        );
    }
    let keep_alive = m.keep_alive_secs.as_ref().map_or(15, |k| k.value);
    if let Some(k) = &m.keep_alive_secs {
        v.check(
            (1..=600).contains(&k.value),
            k,
            "keep_alive_secs must be between 1 and 600",
        );
    }
    let tls = m.tls.as_ref().map(|t| tls(v, t, base));
    let plaintext_allowed = m.insecure_plaintext.as_ref().is_some_and(|p| p.value);
    if m.tls.is_none() && !plaintext_allowed && !loopback_host(&m.host.value) {
        v.error(
            &m.host,
            "alerts and the broker password would cross the network in the clear: give tls (ca_file), or insecure_plaintext: true",
        );
    }
    if m.username.is_some() != m.password_env.is_some() {
        let at = m.password_env.as_ref().unwrap_or(&m.host);
        v.error(at, "give username and password_env together");
    }
    MqttConfig {
        host: m.host.value.clone(),
        port: match &m.port {
            Some(p) => {
                v.check(p.value != 0, p, "port must be between 1 and 65535");
                p.value
            }
            None if m.tls.is_some() => 8883,
            None => 1883,
        },
        client_id,
        username: m.username.clone(),
        password: m.password_env.as_ref().and_then(|p| env_secret(v, p)),
        topic_prefix: prefix,
        keep_alive: std::time::Duration::from_secs(keep_alive),
        filter: filter(v, &m.filter, cameras),
        tls: tls.flatten(),
    }
}

fn tls(v: &mut Validator<'_>, t: &RawMqttTls, base: &Path) -> Option<MqttTlsFiles> {
    let ca_file = pem_file(v, base, &t.ca_file, PEM_CERTIFICATE, "CA certificates");
    let identity = match (&t.cert_file, &t.key_file) {
        (None, None) => Some(None),
        (Some(cert), Some(key)) => {
            let cert_file = pem_file(v, base, cert, PEM_CERTIFICATE, "certificates");
            let key_file = pem_file(v, base, key, PEM_KEY, "a private key");
            cert_file.zip(key_file).map(Some)
        }
        (Some(f), None) | (None, Some(f)) => {
            v.error(
                f,
                "give cert_file and key_file together (the client certificate)",
            );
            None
        }
    };
    Some(MqttTlsFiles {
        ca_file: ca_file?,
        client: identity?,
    })
}
