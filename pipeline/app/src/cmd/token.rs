//! `vigil token --name N --role R`: mint an API token; prints the token (shown once, stored
//! nowhere) and the `api.tokens` entry holding its sha256.

use anyhow::{Context, Result};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Who will hold it (shown as the acknowledger).
    #[arg(long)]
    pub name: String,
    /// viewer (reads) or operator (also acknowledges).
    #[arg(long, default_value = "viewer")]
    pub role: vigil_config::Role,
}

pub fn exec(args: Args) -> Result<ExitCode> {
    let Args { name, role } = args;
    // 32 bytes from the kernel's CSPRNG.
    let mut bytes = [0u8; 32];
    std::io::Read::read_exact(
        &mut std::fs::File::open("/dev/urandom").context("cannot open /dev/urandom")?,
        &mut bytes,
    )
    .context("cannot read /dev/urandom")?;
    let token = vigil_core::hex::encode(&bytes);
    let hash = vigil_deliver::sha256_hex(token.as_bytes());
    eprintln!("token for {name} (give it to them; vigil keeps only its sha256):");
    println!("{token}");
    eprintln!("add under api.tokens in the config:");
    eprintln!(
        "    - name: {name}\n      role: {}\n      sha256: {hash}",
        role.as_str()
    );
    Ok(ExitCode::SUCCESS)
}
