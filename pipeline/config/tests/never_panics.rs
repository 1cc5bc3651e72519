//! Whatever is written in a config or rule file, loading it returns a config or errors — it
//! never panics. Random text, YAML-shaped noise with extreme numbers (`1e30`, `.nan`, `-.inf`),
//! and valid files with random lines cut out or duplicated. `every_number.rs` puts each extreme
//! into each real field in turn.

use proptest::prelude::*;
use std::path::Path;

const SITE: &str = include_str!("../../../samples/site.yaml");
const RULES: &str = include_str!("../../../rules/fire-lane.yaml");

fn load(text: &str) {
    // Errors are fine; a panic fails the property.
    let _ = vigil_config::load_str(Path::new("/nonexistent/site.yaml"), text, None);
}

fn mutate(base: &str, cut: &[usize], dup: &[usize]) -> String {
    let lines: Vec<&str> = base.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if cut.contains(&(i % 64)) {
            continue;
        }
        out.push(*l);
        if dup.contains(&(i % 64)) {
            out.push(l);
        }
    }
    out.join("\n")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_text_never_panics(text in "\\PC{0,400}") {
        load(&text);
    }

    #[test]
    fn yaml_shaped_noise_never_panics(text in "([a-z_]{1,12}: ?(\\[|\\{|-|-?[0-9.]{1,6}|-?1e30|-?1e300|\\.nan|-?\\.inf|\"[^\"]{0,8}\"|[a-z]{0,8})\\n {0,6}){0,40}") {
        load(&text);
    }

    #[test]
    fn damaged_real_files_never_panic(
        cut in proptest::collection::vec(0usize..64, 0..6),
        dup in proptest::collection::vec(0usize..64, 0..4),
    ) {
        load(&mutate(SITE, &cut, &dup));
        // A rule file's content pasted in as if it were the config.
        load(&mutate(RULES, &cut, &dup));
    }
}
