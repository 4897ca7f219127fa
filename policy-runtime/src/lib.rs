//! No-std policy inference (placeholder, see issue 3).
#![no_std]
