//! `vigil test-rules [PATHS]`: declarative rule cases (rules/tests/*.yaml, or any given):
//! scripted objects in, expected alerts out. Exit 0 when every case passes.

mod gated;
mod run;

use anyhow::{Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Case files, or folders of them [default: rules/tests].
    pub paths: Vec<PathBuf>,
}

pub fn exec(args: Args) -> Result<ExitCode> {
    let (mut passed, mut failed) = (0, 0);
    for case in &cases(args.paths)? {
        match run::run_case(case) {
            Ok(out) if out.passed() => {
                passed += 1;
                println!(
                    "ok   {} ({} record(s); the same with the motion gate, which skipped {:.0} % of frames)",
                    case.display(),
                    out.produced.len(),
                    out.gate_skipped * 100.0
                );
            }
            Ok(out) => {
                failed += 1;
                println!("FAIL {}", case.display());
                for p in &out.problems {
                    println!("     {p}");
                }
            }
            Err(errors) => {
                failed += 1;
                println!("FAIL {}", case.display());
                for e in &errors.0 {
                    println!("     {e}");
                }
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(match failed == 0 && passed > 0 {
        true => ExitCode::SUCCESS,
        false => ExitCode::FAILURE,
    })
}

/// The case files: each path given, or the `*.yaml` in it when it is a folder (sorted).
fn cases(paths: Vec<PathBuf>) -> Result<Vec<PathBuf>> {
    let paths = match paths.is_empty() {
        true => vec![PathBuf::from("rules/tests")],
        false => paths,
    };
    let mut cases = Vec::new();
    for p in paths {
        if !p.is_dir() {
            cases.push(p);
            continue;
        }
        let mut found: Vec<PathBuf> = std::fs::read_dir(&p)
            .with_context(|| format!("cannot list {}", p.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|f| f.extension().is_some_and(|e| e == "yaml"))
            .collect();
        found.sort();
        cases.extend(found);
    }
    Ok(cases)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every case under `rules/tests/` passes.
    #[test]
    fn every_rule_case_passes() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../rules/tests");
        let cases = cases(vec![dir]).unwrap();
        assert!(cases.len() >= 7, "{} cases", cases.len());
        let mut failures = Vec::new();
        for case in &cases {
            match run::run_case(case) {
                Ok(out) if out.passed() => {}
                Ok(out) => failures.push(format!(
                    "{}: {}\n  produced: {:?}",
                    case.display(),
                    out.problems.join("; "),
                    out.produced
                )),
                Err(e) => failures.push(format!("{}: {e}", case.display())),
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
