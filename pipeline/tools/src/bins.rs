//! `vigil synth-waste` renders the synthetic bin scenes of [`crate::scenes::bins`] to H.264 files,
//! with one config that replays them all (a camera per scene, the `waste_left` and
//! `bin_overflow` rules the scenes are scored against) and the labels `vigil eval` scores the
//! alerts with.

use crate::scenes::bins::{Sprite, Sprites, bin_zone, cases, ground_zone};
use anyhow::{Context, Result};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct SynthWasteOptions {
    #[command(flatten)]
    pub set: crate::falls::SceneSetArgs,
    /// Where the footage the person and the car are cut from lies [default: $VIGIL_ASSETS].
    #[arg(long)]
    pub assets: Option<PathBuf>,
    /// Draw people and cars as block figures (no object detector sees those: for testing the
    /// waste stage with scripted tracks, not the pipeline).
    #[arg(long)]
    pub block_figures: bool,
}

/// A person and a car cut from the shared footage, so the object detector in the pipeline sees
/// them as it would in a camera: the worker of `worker-zone-detection.gif` (frame 50, masked by
/// its difference from frame 0, where he stands elsewhere) and a car of a PKLot still.
pub fn sprites(assets: &Path) -> Result<Sprites> {
    use image::AnimationDecoder;
    let footage = assets.join("footage");
    let gif = footage.join("worker-zone-detection.gif");
    let file = std::io::BufReader::new(
        std::fs::File::open(&gif).with_context(|| format!("cannot open {}", gif.display()))?,
    );
    let frames = image::codecs::gif::GifDecoder::new(file)?
        .into_frames()
        .collect_frames()
        .with_context(|| format!("cannot decode {}", gif.display()))?;
    let (Some(empty), Some(worker)) = (frames.first(), frames.get(50)) else {
        anyhow::bail!("{} has fewer than 51 frames", gif.display());
    };
    let (empty, worker) = (empty.buffer(), worker.buffer());
    let (x0, y0, w, h) = (80u32, 48u32, 80u32, 168u32);
    let mut rgba = vec![0u8; (w * h * 4) as usize];
    for y in 0..h {
        let mut row = Vec::new();
        for x in 0..w {
            let (a, b) = (
                worker.get_pixel(x0 + x, y0 + y),
                empty.get_pixel(x0 + x, y0 + y),
            );
            let diff = (0..3).map(|c| a[c].abs_diff(b[c])).max().unwrap_or(0);
            row.push((x, diff > 40, a));
        }
        // The figure, filled between its leftmost and rightmost changed pixels on each row.
        let inside: Vec<u32> = row.iter().filter(|r| r.1).map(|r| r.0).collect();
        if let (Some(&l), Some(&r)) = (inside.first(), inside.last()) {
            for &(x, _, p) in &row[l as usize..=r as usize] {
                let o = ((y * w + x) * 4) as usize;
                rgba[o..o + 3].copy_from_slice(&p.0[..3]);
                rgba[o + 3] = 255;
            }
        }
    }
    let person = Sprite {
        width: w,
        height: h,
        rgba,
    };
    let still = footage.join("pklot_2013-04-12_16_20_11.jpg");
    let car = image::open(&still)
        .with_context(|| format!("cannot read {}", still.display()))?
        .crop_imm(708, 477, 159, 98)
        .to_rgba8();
    let car = Sprite {
        width: car.width(),
        height: car.height(),
        rgba: car.into_raw(),
    };
    Ok(Sprites {
        person: Some(person),
        car: Some(car),
    })
}

/// `static_secs` of the rules the scenes are scored against.
pub const STATIC_SECS: f64 = 20.0;

fn points(p: &vigil_core::PolygonNorm) -> String {
    p.points()
        .iter()
        .map(|p| format!("[{:.3}, {:.3}]", p.x, p.y))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Renders the scenes; returns their names.
pub fn generate(o: &SynthWasteOptions) -> Result<Vec<String>> {
    let (mut config, mut labels) = o.set.begin("bin", "vigil synth-waste")?;
    let (bin, (a, b)) = bin_zone();
    let mut rules = String::from("rules:\n");
    let sprites = match o.block_figures {
        true => Sprites::default(),
        false => {
            let assets = o
                .assets
                .clone()
                .or_else(vigil_runtime::loading::assets_from_env)
                .context("no footage to cut people and cars from: pass --assets (or set VIGIL_ASSETS), or --block-figures")?;
            sprites(&assets)?
        }
    };
    let mut names = Vec::new();
    for (name, mut scene, expected) in cases(o.set.seed) {
        scene.sprites = sprites.clone();
        if !o.set.wants(name) {
            continue;
        }
        let started = std::time::Instant::now();
        let path = o.set.out.join(format!("{name}.mp4"));
        crate::falls::encode(
            &path,
            (scene.width, scene.height),
            scene.fps as u32,
            scene.frames().map(|f| f.image.bytes().to_vec()),
        )?;
        eprintln!(
            "{name}: {}x{} {} fps {:.0} s ({:.1} s)",
            scene.width,
            scene.height,
            scene.fps,
            scene.secs,
            started.elapsed().as_secs_f64()
        );
        let _ = write!(
            config,
            "  - name: {name}\n    file: {name}.mp4\n    zones:\n      ground: [{ground}]\n      bin: [{bin}]\n",
            ground = points(&ground_zone()),
            bin = points(&bin),
        );
        let _ = write!(
            rules,
            "  - {{ name: {name}-left, kind: waste, check: waste_left, camera: {name}, zone: ground, static_secs: {STATIC_SECS} }}\n  \
             - {{ name: {name}-overflow, kind: waste, check: bin_overflow, camera: {name}, zone: bin, static_secs: {STATIC_SECS}, \
             fill_line: [[{:.3}, {:.3}], [{:.3}, {:.3}]], min_above: 0.15, max_fill: 0.8 }}\n",
            a.x, a.y, b.x, b.y
        );
        for e in expected {
            let _ = writeln!(
                labels,
                "  - {{ camera: {name}, kind: {}, start: {}, end: {} }}",
                e.kind,
                e.start,
                e.end.unwrap_or(scene.secs)
            );
        }
        names.push(name.to_string());
    }
    o.set
        .finish(&names, "waste.yaml", (config, rules, labels))?;
    Ok(names)
}
