//! Workspace-level tests live in `tests/main.rs`; this library is empty.
