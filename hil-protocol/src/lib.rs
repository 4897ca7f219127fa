//! Host-board link protocol (placeholder, see issue 4).
#![no_std]
