//! No code: this crate exists for its `Cargo.toml`, which turns on the dependency features the
//! workspace's test build uses, so the binaries' own builds produce the same artifacts (see the
//! comment there).
#![no_std]
