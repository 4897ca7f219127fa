//! Train → export → load on the runtime → closed loop on the sim.
