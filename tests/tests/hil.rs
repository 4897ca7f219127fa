//! Hardware-in-the-loop: firmware on an emulated Cortex-M4F (QEMU) against the host sim.
