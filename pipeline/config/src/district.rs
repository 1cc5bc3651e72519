//! `outputs.postgres.identity_key` and `instances`: who this instance is to the others, and the
//! only instances it forwards requests to or takes them from. The list is kept by an admin in the
//! config, not read from the shared store, so whoever can write the database cannot redirect a
//! forwarded request (or add an instance).

use crate::check::Validator;
use crate::raw::RawPostgres;
use std::path::{Path, PathBuf};

/// An instance of the district, as registered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisteredInstance {
    pub name: String,
    /// `http[s]://host:port` of its API.
    pub url: String,
    /// Its identity key's public half, 64 hex digits.
    pub public_key: String,
}

/// This instance's identity key (none: it neither forwards nor takes forwarded requests) and the
/// registered instances.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DistrictIdentity {
    pub key_file: Option<PathBuf>,
    pub instances: Vec<RegisteredInstance>,
    /// The CA the `https://` instances' certificates are checked against.
    pub ca_file: Option<PathBuf>,
}

pub(crate) fn identity(v: &mut Validator<'_>, raw: &RawPostgres, base: &Path) -> DistrictIdentity {
    let key_file = raw.identity_key.as_ref().and_then(|k| {
        let path = base.join(&k.value);
        let ok = path.is_file();
        v.check(
            ok,
            k,
            "identity_key not found: make one with `vigil keygen --out FILE`",
        );
        ok.then_some(path)
    });
    let mut instances: Vec<RegisteredInstance> = Vec::new();
    for i in &raw.instances {
        let name = &i.name.value;
        let valid_name = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
        v.check(
            valid_name,
            &i.name,
            "instance names use letters, digits, '_', '-' and '.'",
        );
        if instances.iter().any(|o| &o.name == name) {
            v.error(&i.name, format!("instance \"{name}\" is listed twice"));
        }
        let url = match crate::placement::advertised_url(i.url.value.trim()) {
            Ok(u) => u,
            Err(e) => {
                v.error(&i.url, format!("instance \"{name}\": {e}"));
                continue;
            }
        };
        if url.starts_with("https://") && raw.instances_ca_file.is_none() {
            v.error(
                &i.url,
                format!("instance \"{name}\" speaks https: give instances_ca_file, the CA its certificate is checked against"),
            );
        }
        let key = i.public_key.value.trim();
        let key_ok = key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit());
        v.check(
            key_ok,
            &i.public_key,
            "public_key must be 64 hex digits (what `vigil keygen` printed for that instance)",
        );
        instances.push(RegisteredInstance {
            name: name.clone(),
            url,
            public_key: key.to_ascii_lowercase(),
        });
    }
    if key_file.is_none()
        && raw.identity_key.is_none()
        && let Some(first) = raw.instances.first()
    {
        v.error(
            &first.name,
            "instances are listed but this instance has no identity_key to sign with",
        );
    }
    let ca_file = raw.instances_ca_file.as_ref().and_then(|f| {
        crate::tls::pem_file(v, base, f, crate::tls::PEM_CERTIFICATE, "CA certificates")
    });
    DistrictIdentity {
        key_file,
        instances,
        ca_file,
    }
}
