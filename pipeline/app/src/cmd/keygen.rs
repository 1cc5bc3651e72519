//! `vigil keygen --out FILE`: make an ed25519 key — the one that signs the alert chain's heads
//! (`evidence.anchor.key_file`) or an instance's identity in a district
//! (`outputs.postgres.identity_key`); prints its public key.

use anyhow::Result;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Where to write the key (mode 0600; never over an existing file). Keep it outside the
    /// output folder, readable only by vigil.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn exec(args: Args) -> Result<ExitCode> {
    let public = vigil_deliver::keys::generate(&args.out).map_err(anyhow::Error::msg)?;
    eprintln!(
        "key written to {}; its public key (for vigil verify --public-key, or the district's instances list):",
        args.out.display()
    );
    println!("{public}");
    Ok(ExitCode::SUCCESS)
}
