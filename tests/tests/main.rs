//! Workspace-level tests of the whole path: one test binary, one module per topic.

mod c_firmware;
mod closed_loop;
mod fuzz_corpus;
mod hil;
