//! TLS client settings of the receivers that take it (the shared store, MQTT): trust only the
//! CA certificates a file names — the site's own CA, never the system's roots — and, where the
//! server asks for one, present a client certificate. rustls with the ring provider.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;

/// A client's own certificate chain and key, PEM files.
#[derive(Clone, Debug)]
pub struct ClientIdentity {
    pub cert_file: std::path::PathBuf,
    pub key_file: std::path::PathBuf,
}

/// A client configuration trusting the certificates in `ca_file` only, presenting `identity`
/// when given.
pub fn client_config(
    ca_file: &Path,
    identity: Option<&ClientIdentity>,
) -> Result<rustls::ClientConfig, String> {
    let bad = |file: &Path, e: &dyn std::fmt::Display| format!("{}: {e}", file.display());
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca_file).map_err(|e| bad(ca_file, &e))? {
        let cert = cert.map_err(|e| bad(ca_file, &e))?;
        roots.add(cert).map_err(|e| bad(ca_file, &e))?;
    }
    if roots.is_empty() {
        return Err(bad(ca_file, &"no certificate in it"));
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots);
    let Some(id) = identity else {
        return Ok(builder.with_no_client_auth());
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&id.cert_file)
        .map_err(|e| bad(&id.cert_file, &e))?
        .collect::<Result<_, _>>()
        .map_err(|e| bad(&id.cert_file, &e))?;
    if chain.is_empty() {
        return Err(bad(&id.cert_file, &"no certificate in it"));
    }
    let key = PrivateKeyDer::from_pem_file(&id.key_file).map_err(|e| bad(&id.key_file, &e))?;
    builder
        .with_client_auth_cert(chain, key)
        .map_err(|e| bad(&id.cert_file, &e))
}
