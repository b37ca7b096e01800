// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! Compiles and runs `abi_probe.c` with the system's gcc so that the tests can compare the C
//! header `include/rust_inotify.h` with `uapi.rs`.
//!
//! The probe prints Rust constants, which land in `$OUT_DIR/c_abi.rs` and are `include!`d by
//! `src/c_abi.rs`. Only gcc is needed: no `cc` crate, no bindgen.

use std::env;
use std::fs;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    let include = manifest.join("../../include");
    let probe_src = manifest.join("abi_probe.c");
    let probe_bin = out.join("abi_probe");
    let cc = env::var("CC_FOR_ABI_PROBE").unwrap_or_else(|_| "gcc".to_string());

    println!("cargo:rerun-if-changed={}", probe_src.display());
    println!(
        "cargo:rerun-if-changed={}",
        include.join("rust_inotify.h").display()
    );
    println!("cargo:rerun-if-changed=../../uapi.rs");
    println!("cargo:rerun-if-env-changed=CC_FOR_ABI_PROBE");

    let status = Command::new(&cc)
        .args(["-O0", "-Wall", "-Werror", "-D_GNU_SOURCE", "-I"])
        .arg(&include)
        .arg("-o")
        .arg(&probe_bin)
        .arg(&probe_src)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {cc}: {e}"));
    assert!(
        status.success(),
        "{cc} failed to compile {}",
        probe_src.display()
    );

    let output = Command::new(&probe_bin)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", probe_bin.display()));
    assert!(output.status.success(), "{} failed", probe_bin.display());
    fs::write(out.join("c_abi.rs"), &output.stdout).expect("write c_abi.rs");
}
