//! The caption of an annotated snapshot — camera, zone, rule (their display names, any script)
//! and the time — drawn with a TrueType / OpenType font found when vigil starts: the configured
//! `evidence.font_file`, else the first of [`SEARCH`] present (Debian's `fonts-wqy-microhei`
//! is installed by `scripts/setup` and in the container image). Without a font the caption is
//! drawn in the built-in ASCII bitmap font, which is enough only while every name is ASCII;
//! the runtime refuses to start with names it could not draw.

use crate::snapshot::Rgb;
use ab_glyph::{Font, FontArc, PxScale, ScaleFont, point};
use std::path::{Path, PathBuf};

/// Where CJK fonts are looked for, in order (Debian / Ubuntu packages; `.ttc` collections use
/// their first face).
pub const SEARCH: &[&str] = &[
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
];

/// A font for captions, and the file it came from.
#[derive(Clone)]
pub struct CaptionFont {
    font: FontArc,
    pub path: PathBuf,
}

impl std::fmt::Debug for CaptionFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptionFont")
            .field("path", &self.path)
            .finish()
    }
}

impl CaptionFont {
    /// Reads the font in `path` (a collection: its first face).
    pub fn load(path: &Path) -> Result<Self, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("font {}: {e}", path.display()))?;
        let font = ab_glyph::FontVec::try_from_vec_and_index(bytes, 0).map_err(|e| {
            format!(
                "font {}: not a TrueType/OpenType font ({e})",
                path.display()
            )
        })?;
        Ok(Self {
            font: FontArc::new(font),
            path: path.to_path_buf(),
        })
    }

    /// The configured font (an error if it cannot be read), else the first of [`SEARCH`] that
    /// reads, else none.
    pub fn find(configured: Option<&Path>) -> Result<Option<Self>, String> {
        if let Some(path) = configured {
            return Self::load(path).map(Some);
        }
        Ok(SEARCH
            .iter()
            .map(Path::new)
            .filter(|p| p.is_file())
            .find_map(|p| Self::load(p).ok()))
    }

    /// The first character of `text` the font has no glyph for, if any.
    pub fn missing(&self, text: &str) -> Option<char> {
        text.chars()
            .filter(|c| !c.is_whitespace())
            .find(|&c| self.font.glyph_id(c).0 == 0)
    }
}

impl Rgb {
    /// Draws `lines` top-left on a dark band: in `font` at about a thirtieth of the frame's
    /// height per line, or in the bitmap font without one.
    pub fn caption(&mut self, lines: &[String], font: Option<&CaptionFont>) {
        if lines.is_empty() {
            return;
        }
        let Some(font) = font else {
            let scale = if self.height >= 700 { 2 } else { 1 };
            for (i, line) in lines.iter().enumerate() {
                let y = 4 * scale + i as i64 * 10 * scale;
                let line = line.replace('·', "-");
                self.text(4 * scale, y, &line, [255, 255, 255], [0, 0, 0], scale);
            }
            return;
        };
        let px = (self.height as f32 / 30.0).clamp(14.0, 64.0);
        let scaled = font.font.as_scaled(PxScale::from(px));
        let line_height = (scaled.height() + scaled.line_gap()).ceil();
        let pad = (px / 3.0).ceil();
        let width = lines
            .iter()
            .map(|l| {
                l.chars()
                    .map(|c| scaled.h_advance(font.font.glyph_id(c)))
                    .sum::<f32>()
            })
            .fold(0.0f32, f32::max);
        let band = (
            (width + 2.0 * pad).ceil() as i64,
            (line_height * lines.len() as f32 + 2.0 * pad).ceil() as i64,
        );
        for y in 0..band.1 {
            for x in 0..band.0 {
                self.blend(x, y, [0, 0, 0], 0.6);
            }
        }
        for (i, line) in lines.iter().enumerate() {
            let baseline = pad + scaled.ascent() + line_height * i as f32;
            let mut x = pad;
            for c in line.chars() {
                let id = font.font.glyph_id(c);
                let glyph = id.with_scale_and_position(px, point(x, baseline));
                x += scaled.h_advance(id);
                let Some(outline) = font.font.outline_glyph(glyph) else {
                    continue;
                };
                let bounds = outline.px_bounds();
                outline.draw(|gx, gy, coverage| {
                    let (px, py) = (
                        bounds.min.x as i64 + i64::from(gx),
                        bounds.min.y as i64 + i64::from(gy),
                    );
                    self.blend(px, py, [255, 255, 255], coverage.min(1.0));
                });
            }
        }
    }

    /// Mixes `c` into the pixel at (x, y) by `alpha` (0: untouched, 1: replaced).
    fn blend(&mut self, x: i64, y: i64, c: [u8; 3], alpha: f32) {
        if x < 0 || y < 0 || x as u32 >= self.width || y as u32 >= self.height {
            return;
        }
        let i = (y as usize * self.width as usize + x as usize) * 3;
        for (p, &v) in self.pixels[i..i + 3].iter_mut().zip(&c) {
            *p = (f32::from(*p) * (1.0 - alpha) + f32::from(v) * alpha).round() as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grey(w: u32, h: u32) -> Rgb {
        Rgb {
            width: w,
            height: h,
            pixels: vec![128; (w * h * 3) as usize],
        }
    }

    /// Pixels of the band's area that came out near white: strokes of text.
    fn white(img: &Rgb, x: std::ops::Range<u32>, y: std::ops::Range<u32>) -> usize {
        let mut n = 0;
        for yy in y {
            for xx in x.clone() {
                let i = ((yy * img.width + xx) * 3) as usize;
                n += usize::from(img.pixels[i..i + 3].iter().all(|&v| v > 200));
            }
        }
        n
    }

    fn font() -> CaptionFont {
        CaptionFont::find(None)
            .unwrap()
            .expect("a CJK font (scripts/setup installs fonts-wqy-microhei)")
    }

    #[test]
    fn chinese_names_are_drawn_not_left_blank() {
        let font = font();
        assert_eq!(
            font.missing("3号楼东门 · 消防通道 2026-12-03 21:00:05"),
            None
        );
        let mut img = grey(1280, 720);
        img.caption(&["3号楼东门 · 消防通道".into()], Some(&font));
        // Each of the ten characters puts white strokes in its own cell of the line.
        let px = 720.0 / 30.0;
        let scaled = font.font.as_scaled(PxScale::from(px));
        let pad = (px / 3.0).ceil();
        let mut x = pad;
        for c in "3号楼东门".chars() {
            let advance = scaled.h_advance(font.font.glyph_id(c));
            let cell = x as u32..(x + advance) as u32;
            assert!(white(&img, cell, 0..40) > 10, "{c} drawn");
            x += advance;
        }
        // The band darkened what lies under it, and nothing right of it changed.
        let i = ((30 * 1280 + 2) * 3) as usize;
        assert!(img.pixels[i] < 60);
        let far = ((30 * 1280 + 1200) * 3) as usize;
        assert_eq!(img.pixels[far], 128);
    }

    #[test]
    fn a_character_the_font_lacks_is_named() {
        // Linear B is in no CJK font.
        assert_eq!(font().missing("门\u{10000}"), Some('\u{10000}'));
    }

    #[test]
    fn a_configured_font_that_is_not_one_is_an_error() {
        let dir = std::env::temp_dir().join(format!("vigil-font-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bogus = dir.join("bogus.ttf");
        std::fs::write(&bogus, b"not a font").unwrap();
        let e = CaptionFont::find(Some(&bogus)).unwrap_err();
        assert!(e.contains("not a TrueType/OpenType font"), "{e}");
        let e = CaptionFont::find(Some(&dir.join("absent.ttf"))).unwrap_err();
        assert!(e.contains("absent.ttf"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
