//! Copies the C/C++ headers installed by wasmtime-c-api-impl (their generated
//! `wasmtime/conf.h` matches the features enabled in Cargo.toml) to the folder
//! named by `WASMPLUG_WASMTIME_INCLUDE_OUT`, which the outer CMake build reads.
use std::path::Path;

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).expect("create include dir");
    for entry in std::fs::read_dir(src).expect("read include dir") {
        let entry = entry.expect("dir entry");
        let to = dst.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &to);
        } else {
            // Leave identical files untouched: a fresh mtime on the file named
            // in rerun-if-changed would make cargo rerun this script (and
            // relink everything downstream) on every build.
            let new = std::fs::read(entry.path()).expect("read header");
            if std::fs::read(&to).ok().as_deref() != Some(new.as_slice()) {
                std::fs::write(&to, new).expect("write header");
            }
        }
    }
}

fn main() {
    println!("cargo:rerun-if-env-changed=WASMPLUG_WASMTIME_INCLUDE_OUT");
    let include = std::env::var("DEP_WASMTIME_C_API_INCLUDE")
        .expect("wasmtime-c-api-impl did not export its include directory");
    if let Ok(out) = std::env::var("WASMPLUG_WASMTIME_INCLUDE_OUT") {
        // Re-run (and copy again) whenever the copy is missing, e.g. after a
        // fresh CMake build directory reuses a warm cargo target directory.
        println!("cargo:rerun-if-changed={out}/wasmtime.h");
        copy_dir(Path::new(&include), Path::new(&out));
    }
}
