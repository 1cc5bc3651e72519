//! `vigil cameras discover` and `vigil cameras add --onvif HOST`: ONVIF onboarding
//! (`vigil-onvif`). `discover` sends a WS-Discovery probe and lists the cameras that answer;
//! `add` asks one camera (Profile S) for its profiles and stream URIs and prints a camera block
//! ready for the config's `cameras:` list — the password named by an environment variable, never
//! written out.

use anyhow::{Context, Result, bail};
use std::fmt::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use vigil_config::RtspUrl;
use vigil_onvif::{Device, Profile};

#[derive(clap::Subcommand)]
pub enum Args {
    /// Probe the LAN for ONVIF cameras (WS-Discovery) and list those that answer.
    Discover(DiscoverArgs),
    /// Ask an ONVIF camera for its streams and print a camera block for the config.
    Add(AddArgs),
}

#[derive(clap::Args)]
pub struct DiscoverArgs {
    /// Where the probe goes: the WS-Discovery multicast group, or one camera's `HOST:3702`.
    #[arg(long, default_value = vigil_onvif::discovery::MULTICAST)]
    pub target: String,
    /// How long to gather answers.
    #[arg(long, default_value_t = 3.0)]
    pub wait_secs: f64,
}

#[derive(clap::Args)]
pub struct AddArgs {
    /// The camera: `HOST[:PORT]` (its device service at /onvif/device_service) or the device
    /// service's URL.
    #[arg(long)]
    pub onvif: String,
    /// The camera's ONVIF user.
    #[arg(long)]
    pub user: String,
    /// The environment variable holding the user's password (never on the command line).
    #[arg(long)]
    pub password_env: String,
    /// The camera's name in vigil [default: from the host].
    #[arg(long)]
    pub name: Option<String>,
    /// Which streams the block uses: `both` (the smallest profile decoded for detection as
    /// `rtsp:`, the largest recorded as evidence as `record:`; one stream when the camera has
    /// one profile), `main` (the largest only) or `sub` (the smallest only).
    #[arg(long, default_value = "both", value_parser = ["both", "main", "sub"])]
    pub stream: String,
    /// How long each request may take.
    #[arg(long, default_value_t = 10.0)]
    pub timeout_secs: f64,
}

pub fn exec(args: Args) -> Result<ExitCode> {
    match args {
        Args::Discover(a) => discover(a),
        Args::Add(a) => add(a),
    }
}

fn discover(args: DiscoverArgs) -> Result<ExitCode> {
    let wait = super::seconds("--wait-secs", args.wait_secs, 0.1..=60.0)?;
    let target: SocketAddr = args
        .target
        .to_socket_addrs()
        .with_context(|| format!("--target {}: not HOST:PORT", args.target))?
        .next()
        .with_context(|| format!("--target {}: no address", args.target))?;
    let found = vigil_onvif::probe(target, wait)
        .with_context(|| format!("cannot send a WS-Discovery probe to {target}"))?;
    for f in &found {
        let label = [f.scope("name"), f.scope("hardware")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ");
        println!("{}  {}  ({label})", f.xaddrs.join(" "), f.endpoint);
        if let Some(url) = f.xaddrs.first() {
            println!("    vigil cameras add --onvif {url} --user USER --password-env VAR");
        }
    }
    eprintln!(
        "{} camera(s) answered within {:.1} s",
        found.len(),
        wait.as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

fn add(args: AddArgs) -> Result<ExitCode> {
    let timeout = super::seconds("--timeout-secs", args.timeout_secs, 0.5..=120.0)?;
    let password = std::env::var(&args.password_env).with_context(|| {
        format!(
            "{} is not set (the camera's password is read from it, never from the command line)",
            args.password_env
        )
    })?;
    let client = vigil_onvif::Client::new(Some((&args.user, &password)), timeout);
    let url = vigil_onvif::profile_s::device_url(&args.onvif);
    let device = vigil_onvif::onboard(&client, &url)?;
    let name = match args.name {
        Some(n) => n,
        None => name_from_host(&args.onvif),
    };
    if !vigil_config::is_id(&name) {
        bail!("camera name \"{name}\": use letters, digits, '_' and '-' (--name)");
    }
    print!(
        "{}",
        block(&device, &name, &args.user, &args.password_env, &args.stream)?
    );
    Ok(ExitCode::SUCCESS)
}

/// `cam_10_0_0_7` for `10.0.0.7:8080` or `http://10.0.0.7/onvif/device_service`.
fn name_from_host(host: &str) -> String {
    let host = host
        .split("://")
        .last()
        .unwrap_or(host)
        .split(['/', ':'])
        .next()
        .unwrap_or(host);
    let cleaned: String = host
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("cam_{cleaned}")
}

/// The camera block: what the camera is and its profiles as comments, then the entry.
fn block(d: &Device, name: &str, user: &str, password_env: &str, stream: &str) -> Result<String> {
    let (largest, smallest) = match (d.profiles.first(), d.profiles.last()) {
        (Some(l), Some(s)) => (l, s),
        _ => anyhow::bail!("the camera has no video profile"),
    };
    // (decoded for detection, recorded apart as evidence)
    let (chosen, record): (&Profile, Option<&Profile>) = match stream {
        "sub" => (smallest, None),
        "main" => (largest, None),
        _ if std::ptr::eq(largest, smallest) => (largest, None),
        _ => (smallest, Some(largest)),
    };
    let url_of = |p: &Profile| {
        RtspUrl::parse(&p.uri, None, None)
            .map_err(|e| anyhow::anyhow!("profile \"{}\": {e}", p.token))
    };
    let url = url_of(chosen)?;
    let record = record.map(|p| url_of(p).map(|u| (p, u))).transpose()?;
    let mut out = String::new();
    let about: Vec<String> = [&d.manufacturer, &d.model]
        .into_iter()
        .flatten()
        .cloned()
        .chain(d.firmware.as_ref().map(|f| format!("firmware {f}")))
        .chain(d.serial.as_ref().map(|s| format!("serial {s}")))
        .collect();
    writeln!(out, "  # {} — ONVIF at {}", about.join(", "), d.url)?;
    if let Some(off) = d.clock_offset_secs.filter(|o| o.abs() > 5) {
        writeln!(
            out,
            "  # its clock is {off} s from this machine's (requests were dated by its clock)"
        )?;
    }
    writeln!(out, "  # profiles, largest first:")?;
    for p in &d.profiles {
        let size = match (p.width, p.height) {
            (Some(w), Some(h)) => format!("{w}×{h}"),
            _ => "size unknown".into(),
        };
        let fps = p.fps.map_or(String::new(), |f| format!(" {f} fps"));
        let enc = p.encoding.as_deref().unwrap_or("?");
        let mark = match &record {
            _ if std::ptr::eq(p, chosen) => " (rtsp: below, decoded for detection)",
            Some((r, _)) if std::ptr::eq(p, *r) => " (record: below, the evidence)",
            _ => "",
        };
        let uri = RtspUrl::parse(&p.uri, None, None).map_or(p.uri.clone(), |u| u.to_string());
        writeln!(
            out,
            "  #   {} \"{}\": {size} {enc}{fps}  {uri}{mark}",
            p.token, p.name
        )?;
    }
    writeln!(out, "  - name: {name}")?;
    writeln!(out, "    rtsp: {}", quote(url.url_without_credentials()))?;
    if let Some((_, r)) = &record {
        writeln!(out, "    record: {}", quote(r.url_without_credentials()))?;
    }
    writeln!(out, "    username: {}", quote(user))?;
    writeln!(out, "    password_env: {password_env}")?;
    Ok(out)
}

/// A YAML single-quoted scalar.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_host() {
        assert_eq!(name_from_host("10.0.0.7"), "cam_10_0_0_7");
        assert_eq!(name_from_host("10.0.0.7:8080"), "cam_10_0_0_7");
        assert_eq!(
            name_from_host("http://gate-cam.local/onvif/device_service"),
            "cam_gate_cam_local"
        );
    }

    #[test]
    fn quotes_survive_yaml() {
        assert_eq!(quote("it's"), "'it''s'");
    }
}
