//! Checks of the fields that set up TLS and say whether a peer is this machine: PEM files, and
//! loopback hosts (plaintext to them crosses no network).

use crate::check::Validator;
use serde_saphyr::Spanned;

/// Whether `host` (a name or an address) is this machine.
pub(crate) fn loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The PEM file `f` names (relative to the config's folder), when it is readable and holds
/// `marker`; else an error at `f` saying it is not a PEM file of `what`.
pub(crate) fn pem_file(
    v: &mut Validator<'_>,
    base: &std::path::Path,
    f: &Spanned<String>,
    marker: &str,
    what: &str,
) -> Option<std::path::PathBuf> {
    let path = base.join(&f.value);
    let ok = std::fs::read_to_string(&path).is_ok_and(|t| t.contains(marker));
    v.check(
        ok,
        f,
        &format!("{}: not a readable PEM file of {what}", path.display()),
    );
    ok.then_some(path)
}

/// What begins a certificate, and a private key, in a PEM file.
pub(crate) const PEM_CERTIFICATE: &str = "-----BEGIN CERTIFICATE-----";
pub(crate) const PEM_KEY: &str = "PRIVATE KEY-----";
