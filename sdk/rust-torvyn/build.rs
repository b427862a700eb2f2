//! Embeds the project's WIT package (wit/torvyn-streaming) in the `bindings!`
//! macro as one inline string, so that a guest's `wit_bindgen::generate!`
//! does not depend on where the guest crate sits relative to wit/.
use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let dir = manifest.join("../../wit/torvyn-streaming");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("torvyn_guest: cannot read the WIT folder {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "wit"))
        .collect();
    files.sort();
    if files.is_empty() {
        panic!("torvyn_guest: no .wit files in {}", dir.display());
    }
    // One inline document may declare its package once: keep the first
    // `package ...;` line and drop the repeats of the same line.
    let mut wit = String::new();
    let mut package: Option<String> = None;
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let text = std::fs::read_to_string(file)
            .unwrap_or_else(|e| panic!("torvyn_guest: cannot read {}: {e}", file.display()));
        for line in text.lines() {
            if line.trim_start().starts_with("package ") {
                match &package {
                    None => package = Some(line.trim().to_string()),
                    Some(p) if p == line.trim() => continue,
                    Some(p) => panic!("torvyn_guest: {} declares `{}`, expected `{p}`", file.display(), line.trim()),
                }
            }
            wit.push_str(line);
            wit.push('\n');
        }
    }
    let mut out = String::new();
    writeln!(
        out,
        r#"/// Generates the `wit-bindgen` bindings of a `torvyn:streaming@0.1.0` world
/// in the calling module: `torvyn_guest::bindings!("transform");` (or
/// "managed-transform", "data-source", "data-sink"), then implement the
/// `exports::torvyn::streaming::<interface>::Guest` traits and call
/// `export!(YourType);`. Further `wit_bindgen::generate!` options may follow
/// the world: `bindings!("transform", generate_all)`. The dependency must be
/// named `torvyn_guest` (the generated code refers to its runtime by path).
#[macro_export]
macro_rules! bindings {{
    ($world:literal $(, $($rest:tt)*)?) => {{
        $crate::__wit_bindgen::generate!({{
            world: $world,
            inline: {wit:?},
            runtime_path: "::torvyn_guest::__wit_bindgen::rt",
            $($($rest)*)?
        }});
    }};
}}"#
    )
    .unwrap();
    let dest = PathBuf::from(std::env::var_os("OUT_DIR").unwrap()).join("bindings_macro.rs");
    std::fs::write(&dest, out).unwrap_or_else(|e| panic!("torvyn_guest: cannot write {}: {e}", dest.display()));
}
