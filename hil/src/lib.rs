//! Host side of the hardware-in-the-loop test (placeholder, see issue 4).
