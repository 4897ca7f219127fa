//! Actuator model: whole-period delay, first-order lag and torque saturation.

use std::collections::VecDeque;

/// Torque path from the (clipped) command to the torque acting on the rod.
///
/// Per control period with held command `u` (after the delay line), the lag gives
/// `τ(t) = u + (τ₀ − u)·e^{−t/T}` exactly (no integration error, no stiffness), and the rod sees
/// `clip(τ(t), ±limit)`.
#[derive(Debug, Clone)]
pub(crate) struct Actuator {
    delay: VecDeque<f64>,
    delay_steps: usize,
    /// Largest delay any episode may have (the delay line's reserved length).
    max_delay_steps: usize,
    /// `e^{−h/(2T)}` and `e^{−h/T}` for the sub-step `h`, or `None` without lag.
    lag_decay: Option<(f64, f64)>,
    limit: Option<f64>,
    /// Lag output at the current sub-step boundary.
    torque: f64,
}

/// Torques at the start, middle and end of one RK4 sub-step.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SubstepTorque {
    pub start: f64,
    pub mid: f64,
    pub end: f64,
}

impl Actuator {
    /// An actuator whose delay line can hold up to `max_delay_steps` periods.
    pub(crate) fn new(
        max_delay_steps: u32,
        delay_steps: u32,
        time_constant: Option<f64>,
        limit: Option<f64>,
        h: f64,
    ) -> Self {
        let mut a = Self {
            // One spare slot: `push_back` precedes `pop_front`, so the step never reallocates.
            delay: VecDeque::with_capacity(max_delay_steps.max(delay_steps) as usize + 1),
            delay_steps: 0,
            max_delay_steps: max_delay_steps.max(delay_steps) as usize,
            lag_decay: None,
            limit: None,
            torque: 0.0,
        };
        a.configure(delay_steps, time_constant, limit, h);
        a
    }

    /// Sets this episode's delay (at most the capacity given to [`Actuator::new`]), lag time
    /// constant and torque limit; call [`Actuator::reset`] afterwards.
    pub(crate) fn configure(
        &mut self,
        delay_steps: u32,
        time_constant: Option<f64>,
        limit: Option<f64>,
        h: f64,
    ) {
        self.delay_steps = (delay_steps as usize).min(self.max_delay_steps);
        self.lag_decay = time_constant.map(|t| ((-h / (2.0 * t)).exp(), (-h / t).exp()));
        self.limit = limit;
    }

    /// Clears the delay line and the lag state (zero torque).
    pub(crate) fn reset(&mut self) {
        self.delay.clear();
        // A clone of the plant has a delay line only as long as its contents: restore the
        // spare slot once, so that stepping never reallocates.
        self.delay.reserve(self.max_delay_steps + 1);
        self.delay
            .extend(core::iter::repeat_n(0.0, self.delay_steps));
        self.torque = 0.0;
    }

    /// Feeds this period's command through the delay line; returns the command that reaches the
    /// actuator now.
    pub(crate) fn delayed(&mut self, command: f64) -> f64 {
        if self.delay_steps == 0 {
            return command;
        }
        self.delay.push_back(command);
        self.delay.pop_front().unwrap_or(0.0)
    }

    /// Advances the lag over one sub-step toward `u`, returning the (saturated) torques at the
    /// sub-step's start, middle and end.
    pub(crate) fn substep(&mut self, u: f64) -> SubstepTorque {
        let (start, mid, end) = match self.lag_decay {
            None => (u, u, u),
            Some((half, full)) => {
                let start = self.torque;
                (start, u + (start - u) * half, u + (start - u) * full)
            }
        };
        self.torque = end;
        SubstepTorque {
            start: self.saturate(start),
            mid: self.saturate(mid),
            end: self.saturate(end),
        }
    }

    /// Torque currently applied to the rod [N·m] (after lag and saturation).
    pub(crate) fn applied(&self) -> f64 {
        self.saturate(self.torque)
    }

    fn saturate(&self, t: f64) -> f64 {
        match self.limit {
            Some(l) => t.clamp(-l, l),
            None => t,
        }
    }
}
