//! Every number in a config, rule or manifest file is range-checked: each number of every sample
//! config, the files it names, and `every_number/` (which sets every numeric field once) is
//! replaced in turn by an extreme value, and loading must fail with an error **at that line** —
//! never panic, never accept it. `every_number/site.yaml` must set every numeric field the raw
//! structs declare, so a new field cannot slip past.

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Values no field accepts: too big for any range, too small, not a number, infinite.
const EXTREMES: &[&str] = &["1e30", "-1e30", ".nan", ".inf", "-.inf", "1e300"];

/// A number written in a YAML file: its 1-based line and byte range on that line.
#[derive(Debug)]
struct Number {
    line: usize,
    start: usize,
    end: usize,
}

/// The plain-scalar numbers of `text` — values after `key: `, items of flow sequences and
/// `- ` items — skipping comments, quoted strings and keys.
fn numbers(text: &str) -> Vec<Number> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let bytes = line.as_bytes();
        let mut quote: Option<u8> = None;
        let mut start: Option<usize> = None;
        let mut j = 0;
        while j <= bytes.len() {
            let c = bytes.get(j).copied();
            if let Some(q) = quote {
                if c == Some(q) {
                    quote = None;
                }
                j += 1;
                continue;
            }
            let delimiter = matches!(c, None | Some(b' ' | b'[' | b']' | b',' | b'{' | b'}'));
            if delimiter || c == Some(b'#') && start.is_none() {
                if let Some(s) = start.take() {
                    let token = &line[s..j];
                    let before = line[..s].trim_end();
                    let value_position = before.is_empty()
                        || before.ends_with(':')
                        || before.ends_with('[')
                        || before.ends_with(',')
                        || before.ends_with('-');
                    let numeric = token
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
                        && token.bytes().any(|b| b.is_ascii_digit())
                        && token.parse::<f64>().is_ok();
                    if numeric && value_position && !line[j..].starts_with(':') {
                        out.push(Number {
                            line: i + 1,
                            start: s,
                            end: j,
                        });
                    }
                }
                if c == Some(b'#') {
                    break;
                }
            } else if matches!(c, Some(b'"' | b'\'')) && start.is_none() {
                quote = c;
            } else if start.is_none() {
                start = Some(j);
            }
            j += 1;
        }
    }
    out
}

fn replace(text: &str, n: &Number, with: &str) -> String {
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            if i + 1 == n.line {
                format!("{}{with}{}", &l[..n.start], &l[n.end..])
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let path = e.path();
        let name = e.file_name();
        let keep = path
            .extension()
            .is_some_and(|x| x == "yaml" || x == "txt" || x == "key");
        if path.is_dir() && name != "__pycache__" && name != "tests" {
            copy_dir(&path, &to.join(&name));
        } else if path.is_file() && keep {
            std::fs::copy(&path, to.join(&name)).unwrap();
        }
    }
}

/// The repo's sample configs, rule files and manifests, and the every-number fixture, laid out
/// under one temporary folder so each can be edited without touching the checkout.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for d in ["samples", "benches", "rules", "models"] {
        copy_dir(&repo().join(d), &dir.path().join(d));
    }
    let fixture = repo().join("pipeline/config/tests/every_number");
    copy_dir(&fixture, &dir.path().join("every_number"));
    let site = dir.path().join("every_number/site.yaml");
    let text = std::fs::read_to_string(&site)
        .unwrap()
        .replace("../../../../models/", "../models/");
    std::fs::write(&site, text).unwrap();
    dir
}

/// The config files to load, and for each the files it reads (itself first): its rule files
/// and its manifest.
fn configs(root: &Path) -> Vec<(PathBuf, Vec<PathBuf>)> {
    let mut out = Vec::new();
    for d in ["samples", "benches", "every_number"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(d))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        files.sort();
        for config in files {
            let text = std::fs::read_to_string(&config).unwrap();
            if !text.contains("cameras:") {
                continue; // a rule file
            }
            let base = config.parent().unwrap();
            stand_in_for_generated_footage(base, &text);
            let mut reads = vec![config.clone()];
            for line in text.lines() {
                let line = line.split(" #").next().unwrap().trim();
                let named = line
                    .strip_prefix("- ")
                    .or_else(|| line.strip_prefix("manifest: "))
                    .filter(|f| f.ends_with(".yaml"));
                if let Some(f) = named {
                    reads.push(base.join(f));
                }
            }
            out.push((config, reads));
        }
    }
    out
}

/// Footage a config names that `vigil synth` makes (not in the assets): an empty stand-in
/// beside the config, since loading checks only that the file is there.
fn stand_in_for_generated_footage(base: &Path, config: &str) {
    let assets = std::env::var_os("VIGIL_ASSETS").map(PathBuf::from);
    for line in config.lines() {
        let Some(file) = line.trim().strip_prefix("file: ") else {
            continue;
        };
        let file = file.split(" #").next().unwrap().trim();
        let in_assets = assets.as_ref().is_some_and(|a| a.join(file).is_file());
        if !in_assets && !base.join(file).is_file() {
            let path = base.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, b"").unwrap();
        }
    }
}

fn load(config: &Path) -> Result<vigil_config::Config, vigil_config::ConfigErrors> {
    let assets = std::env::var_os("VIGIL_ASSETS").map(PathBuf::from);
    vigil_config::load(config, assets.as_deref())
}

#[test]
fn every_number_is_range_checked() {
    let root = workspace();
    let configs = configs(root.path());
    assert!(configs.len() >= 8, "found {} configs", configs.len());
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (config, reads) in &configs {
        if let Err(e) = load(config) {
            panic!("{} must load as written:\n{e}", config.display());
        }
        // A file several configs read (a manifest, a rule file) is edited under the first.
        for file in reads
            .iter()
            .filter(|f| seen.insert(f.canonicalize().unwrap()))
        {
            let original = std::fs::read_to_string(file).unwrap();
            for n in numbers(&original) {
                for value in EXTREMES {
                    std::fs::write(file, replace(&original, &n, value)).unwrap();
                    checked += 1;
                    let at_line = |e: &vigil_config::ConfigError| {
                        e.file.ends_with(file.file_name().unwrap()) && e.line == n.line as u64
                    };
                    let loaded = std::panic::catch_unwind(|| load(config));
                    match loaded {
                        Ok(Err(errors)) if errors.0.iter().any(at_line) => {}
                        other => failures.push(format!(
                            "{}:{}: `{}` → {value}: {}",
                            file.strip_prefix(root.path()).unwrap().display(),
                            n.line,
                            &original.lines().nth(n.line - 1).unwrap().trim(),
                            match other {
                                Err(_) => "panicked".to_string(),
                                Ok(Ok(_)) => "accepted".to_string(),
                                Ok(Err(e)) => format!("errors elsewhere: {e}"),
                            }
                        )),
                    }
                }
                std::fs::write(file, &original).unwrap();
            }
        }
    }
    assert!(checked >= 600, "only {checked} replacements were tried");
    assert!(
        failures.is_empty(),
        "{} of {checked} extreme numbers were not refused at their line:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every numeric field of the raw structs is set in `every_number/`, so the test above covers
/// it: the field names are read off `raw.rs` and the manifest's raw structs.
#[test]
fn the_fixture_sets_every_numeric_field() {
    let fixture = repo().join("pipeline/config/tests/every_number");
    let mut written = String::new();
    for f in ["site.yaml", "rules.yaml"] {
        written += &std::fs::read_to_string(fixture.join(f)).unwrap();
    }
    written += &std::fs::read_to_string(repo().join("models/yolox-nano.yaml")).unwrap();
    let numeric = [
        "f32", "f64", "u8", "u16", "u32", "u64", "i32", "i64", "usize",
    ];
    let mut missing = Vec::new();
    let mut fields = 0;
    for source in ["src/raw.rs", "src/manifest.rs"] {
        let text = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(source))
            .unwrap();
        // Fields of the structs serde reads (`deny_unknown_fields`), not the validated ones.
        let mut deny = false;
        let mut in_raw = false;
        for raw_line in text.lines() {
            let line = raw_line.trim();
            if line.contains("deny_unknown_fields") {
                deny = true;
            } else if line.contains("struct ") {
                in_raw = deny;
                deny = false;
            } else if raw_line.starts_with('}') {
                in_raw = false;
            }
            let Some((name, ty)) = Some(line.strip_prefix("pub ").unwrap_or(line))
                .and_then(|l| l.split_once(": "))
                .filter(|(n, _)| in_raw && !n.contains(' ') && !n.contains('('))
            else {
                continue;
            };
            let is_numeric = numeric.iter().any(|t| {
                ty.contains(&format!("<{t}>"))
                    || ty.contains(&format!("[{t};"))
                    || ty.trim_end_matches(',') == *t
            });
            if is_numeric {
                fields += 1;
                let key = serde_name(&text, line).unwrap_or(name);
                if !written.contains(&format!("{key}:")) {
                    missing.push(format!("{source}: {key}"));
                }
            }
        }
    }
    assert!(fields >= 50, "found only {fields} numeric fields");
    assert!(
        missing.is_empty(),
        "numeric fields not set in tests/every_number: {missing:?}"
    );
}

/// The `#[serde(rename = "…")]` just above `field`, if any.
fn serde_name<'a>(source: &'a str, field: &str) -> Option<&'a str> {
    let lines: Vec<&str> = source.lines().map(str::trim).collect();
    let i = lines.iter().position(|l| *l == field)?;
    let attr = lines[..i].iter().rev().take_while(|l| l.starts_with("#["));
    attr.filter_map(|a| a.split("rename = \"").nth(1)?.split('"').next())
        .next()
}

#[test]
fn the_number_finder_finds_values_not_keys_comments_or_strings() {
    let text = "a: 1 # 2\nb: [[0.1, 2e3], [-3, .5]]\nc: \"4\"\n- 5\nname: gate_6\n7: x\nt: 22:00\n";
    let found: Vec<(usize, &str)> = numbers(text)
        .iter()
        .map(|n| {
            (
                n.line,
                &text.lines().nth(n.line - 1).unwrap()[n.start..n.end],
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (1, "1"),
            (2, "0.1"),
            (2, "2e3"),
            (2, "-3"),
            (2, ".5"),
            (4, "5")
        ]
    );
}
