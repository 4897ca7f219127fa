//! The link's defaults and the build-time variables that configure a firmware image: one
//! definition for the firmware's build script (which reads them) and the host (which sets them
//! when it builds an image, and expects the defaults otherwise).

/// Environment variable naming the weight file built into the image.
pub const POLICY_FILE_VAR: &str = "POLICY_FILE";
/// Environment variable with the control period, µs.
pub const CONTROL_PERIOD_US_VAR: &str = "CONTROL_PERIOD_US";
/// Environment variable with the watchdog period, in control periods.
pub const WATCHDOG_PERIODS_VAR: &str = "WATCHDOG_PERIODS";
/// Environment variable with the core clock (SysTick source), Hz.
pub const CORE_CLOCK_HZ_VAR: &str = "CORE_CLOCK_HZ";

/// Default control period: 50,000 µs (20 Hz, Gym Pendulum-v1's `dt`).
pub const DEFAULT_CONTROL_PERIOD_US: u32 = 50_000;
/// Default watchdog period: 2 control periods without a valid observation.
pub const DEFAULT_WATCHDOG_PERIODS: u32 = 2;
/// Default core clock: 168 MHz (STM32F405, QEMU `netduinoplus2`).
pub const DEFAULT_CORE_CLOCK_HZ: u32 = 168_000_000;
