//! ed25519 keys of a site: one signs the alert chain's heads ([`crate::anchor`]), one per instance
//! signs the requests it forwards to the others (`vigil-serve`'s district). A key is a PKCS#8 file
//! made by [`generate`] (`vigil keygen`); its public half travels as 64 hex digits.

use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use std::io::Write;
use std::path::Path;

/// A signing key read from its PKCS#8 file.
pub struct SigningKey(Ed25519KeyPair);

impl SigningKey {
    /// Reads the key at `path`.
    pub fn load(path: &Path) -> Result<Self, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ed25519KeyPair::from_pkcs8(&bytes)
            .map(Self)
            .map_err(|e| format!("{}: not an ed25519 PKCS#8 key ({e})", path.display()))
    }

    /// The public key, 64 hex digits.
    pub fn public_hex(&self) -> String {
        vigil_core::hex::encode(self.0.public_key().as_ref())
    }

    /// The signature of `message`, 128 hex digits.
    pub fn sign_bytes(&self, message: &[u8]) -> String {
        vigil_core::hex::encode(self.0.sign(message).as_ref())
    }
}

/// A public key, checked to be 64 hex digits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey(Vec<u8>);

impl PublicKey {
    pub fn parse(hex: &str) -> Result<Self, String> {
        vigil_core::hex::decode(hex.trim())
            .filter(|k| k.len() == 32)
            .map(Self)
            .ok_or_else(|| "a public key is 64 hex digits (vigil keygen prints it)".to_string())
    }

    /// Whether `signature` (hex) is this key's signature of `message`.
    pub fn verifies(&self, message: &[u8], signature: &str) -> bool {
        vigil_core::hex::decode(signature).is_some_and(|sig| {
            UnparsedPublicKey::new(&ED25519, &self.0)
                .verify(message, &sig)
                .is_ok()
        })
    }
}

/// A new key: writes the PKCS#8 key to `key` (mode 0600, never over an existing file) and returns
/// the public key in hex.
pub fn generate(key: &Path) -> Result<String, String> {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|e| e.to_string())?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(key)
        .map_err(|e| format!("{}: {e}", key.display()))?;
    file.write_all(pkcs8.as_ref())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("{}: {e}", key.display()))?;
    SigningKey::load(key).map(|k| k.public_hex())
}
