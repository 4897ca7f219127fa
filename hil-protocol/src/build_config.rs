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

/// A board the firmware builds for: one per Rust target, the single table the firmware's build
/// script (memory map, clock, board cfg) and the host (target, QEMU machine) both read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Board {
    /// Short name of the core, as `hil bench --target` takes it (`m4f`, `m33f`, `m0`).
    pub core: &'static str,
    /// The Rust target triple.
    pub target: &'static str,
    /// The QEMU machine (`-M`) that emulates it.
    pub qemu_machine: &'static str,
    /// The board's name, as the firmware's `board` cfg value.
    pub name: &'static str,
    /// Its memory map, relative to the firmware package (cortex-m-rt's `memory.x`).
    pub memory_x: &'static str,
    /// Default core clock (SysTick source), Hz: that of the emulated machine, so SysTick's
    /// millisecond is one (the calibration of instruction counts does not depend on it).
    pub core_clock_hz: u32,
    /// Whether the firmware has the serial link (the `firmware` link server) on this board;
    /// the others run the self-test and the benchmark only.
    pub has_link: bool,
    /// Whether the core has a single-precision FPU (otherwise f32 is software floating point).
    pub fpu: bool,
    /// A typical clock of a part with this core, Hz, for latency estimates (STM32F405 168 MHz,
    /// nRF5340 application core 64 MHz, nRF51 16 MHz).
    pub typical_clock_hz: u32,
}

/// Every board, the default (`m4f`) first.
pub const BOARDS: [Board; 3] = [
    Board {
        core: "m4f",
        target: "thumbv7em-none-eabihf",
        qemu_machine: "netduinoplus2",
        name: "netduinoplus2",
        memory_x: "boards/netduinoplus2/memory.x",
        core_clock_hz: DEFAULT_CORE_CLOCK_HZ,
        has_link: true,
        fpu: true,
        typical_clock_hz: 168_000_000,
    },
    Board {
        core: "m33f",
        target: "thumbv8m.main-none-eabihf",
        qemu_machine: "mps2-an505",
        name: "mps2-an505",
        memory_x: "boards/mps2-an505/memory.x",
        core_clock_hz: 20_000_000,
        has_link: false,
        fpu: true,
        typical_clock_hz: 64_000_000,
    },
    Board {
        core: "m0",
        target: "thumbv6m-none-eabi",
        qemu_machine: "microbit",
        name: "microbit",
        memory_x: "boards/microbit/memory.x",
        core_clock_hz: 16_000_000,
        has_link: true,
        fpu: false,
        typical_clock_hz: 16_000_000,
    },
];

/// The board of a Rust target triple.
pub fn board_of_target(target: &str) -> Option<&'static Board> {
    BOARDS.iter().find(|b| b.target == target)
}

/// The board of a core name (`m4f`, `m33f`, `m0`).
pub fn board_of_core(core: &str) -> Option<&'static Board> {
    BOARDS.iter().find(|b| b.core == core)
}
