//! `vigil anchor-key --out FILE`: make the ed25519 key that signs the alert chain's head
//! (`evidence.anchor.key_file`); prints the public key `vigil verify --public-key` takes.

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
    let public = vigil_deliver::anchor::generate(&args.out).map_err(anyhow::Error::msg)?;
    eprintln!(
        "anchor key written to {}; its public key (for vigil verify --public-key, kept where the auditors are):",
        args.out.display()
    );
    println!("{public}");
    Ok(ExitCode::SUCCESS)
}
