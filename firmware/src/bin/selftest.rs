//! `selftest`: what `cargo run --release` runs under QEMU (feature `qemu`). Prints, over
//! semihosting, the embedded policy's shape and hash, the action for a few known observations
//! (bits and value), the instructions per inference and the inference stack, then exits with
//! status 0 if every action is finite, inside the bounds and the network's own output
//! (status `Ok`), 1 otherwise. The workspace test `firmware_self_test_under_qemu` checks the
//! printed actions bit for bit against the host runtime.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::hio;
use firmware::policy::{ACT, H1, H2, OBS, POLICY, POLICY_HASH};
use firmware::{control_loop, halt, measure_inference_stack, start_clock};
use policy_runtime::Status;

/// Observations `[cos θ, sin θ, θ̇]`: upright at rest, hanging at rest, 45° falling.
const KNOWN: [[f32; 3]; 3] = [
    [1.0, 0.0, 0.0],
    [-1.0, 0.0, 0.0],
    [
        core::f32::consts::FRAC_1_SQRT_2,
        core::f32::consts::FRAC_1_SQRT_2,
        -2.0,
    ],
];

/// Plain byte output (no `core::fmt`, which would cost several KB of flash).
struct Out(Option<hio::HostStream>);

impl Out {
    fn s(&mut self, text: &str) -> &mut Self {
        if let Some(o) = self.0.as_mut() {
            let _ = o.write_all(text.as_bytes());
        }
        self
    }

    fn dec(&mut self, mut v: u64) -> &mut Self {
        let mut buf = [0u8; 20];
        let mut i = buf.len();
        loop {
            i -= 1;
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.s(core::str::from_utf8(&buf[i..]).unwrap_or("?"))
    }

    fn hex(&mut self, v: u64, digits: usize) -> &mut Self {
        let mut buf = [0u8; 16];
        for (k, b) in buf[..digits].iter_mut().enumerate() {
            let nibble = (v >> (4 * (digits - 1 - k))) & 0xF;
            *b = b"0123456789abcdef"[nibble as usize];
        }
        self.s(core::str::from_utf8(&buf[..digits]).unwrap_or("?"))
    }

    /// `x` with 4 decimals (|x| < 4·10⁵).
    fn fixed(&mut self, x: f32) -> &mut Self {
        if !x.is_finite() {
            return self.s("nan");
        }
        let scaled = (x.abs() * 10_000.0 + 0.5) as u64;
        if x < 0.0 {
            self.s("-");
        }
        self.dec(scaled / 10_000).s(".");
        let frac = scaled % 10_000;
        for p in [1000, 100, 10, 1] {
            self.dec(frac / p % 10);
        }
        self
    }
}

#[entry]
fn main() -> ! {
    let inference_stack = measure_inference_stack();
    let calibration = start_clock();
    let mut out = Out(hio::hstdout().ok());
    out.s("selftest: policy ")
        .dec(OBS as u64)
        .s("-")
        .dec(H1 as u64)
        .s("-")
        .dec(H2 as u64)
        .s("-")
        .dec(ACT as u64)
        .s(" hash ")
        .hex(POLICY_HASH, 16)
        .s("\n");
    let mut pass = true;
    let mut instructions = 0;
    for obs in &KNOWN {
        let mut x = [0.0f32; OBS];
        for (d, v) in x.iter_mut().zip(obs) {
            *d = *v;
        }
        let (result, n) = calibration.count(|| control_loop::infer(&x));
        instructions = n;
        out.s("selftest: obs");
        for v in &x {
            out.s(" ").fixed(*v);
        }
        out.s(" -> action");
        let (low, high) = (POLICY.low(), POLICY.high());
        for (k, a) in result.action.iter().enumerate() {
            out.s(" 0x")
                .hex(u64::from(a.to_bits()), 8)
                .s(" (")
                .fixed(*a)
                .s(")");
            pass &= a.is_finite() && *a >= low[k] && *a <= high[k];
        }
        let ok = result.status == Status::Ok;
        pass &= ok;
        out.s(if ok {
            " status Ok\n"
        } else {
            " status NOT Ok\n"
        });
    }
    out.s("selftest: instructions per inference ")
        .dec(u64::from(instructions))
        .s(", inference stack ")
        .dec(u64::from(inference_stack))
        .s(" B\n");
    if pass {
        out.s("selftest: PASS\n");
        halt::success()
    }
    halt::failure(&["selftest: FAIL"])
}
