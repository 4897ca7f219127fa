//! Hardware-in-the-loop: firmware on an emulated Cortex-M4F (QEMU) against the host sim.
//!
//! The firmware image embeds the shipped policy (`policies/pendulum.postcard`); it is built
//! once per test run (cargo's incremental build) and every test starts its own QEMU process,
//! with a time limit, killed by its PID when the session ends. The `serial_*`/`hil_run_serial_*`
//! tests wire QEMU's USART1 to a pseudo-terminal and reach it through the serial-port back end,
//! as a real board on `/dev/ttyACM0` would be. The tests skip, with a message, only when
//! `qemu-system-arm` is missing.

use std::sync::OnceLock;
use std::time::Duration;

use hil::firmware::{self, FirmwareConfig, Image};
use hil::host_policy::{host_return, load_host_policy};
use hil::link::Faults;
use hil::policy_file::random_policy;
use hil::session::{Session, SessionConfig};
use hil::transport::SerialSettings;
use hil_protocol::InferenceStatus;
use policy_runtime::Shape;
use sim::{ActionFeedback, Pendulum};

const STEPS: usize = 200;

fn qemu_present() -> bool {
    if hil::qemu::available() {
        return true;
    }
    eprintln!(
        "SKIPPED: qemu-system-arm is missing, the HIL test did not run (bash scripts/setup.sh installs it)"
    );
    false
}

/// The shipped policy's bytes and the firmware image that embeds it.
fn shipped() -> (Vec<u8>, &'static Image) {
    static IMAGE: OnceLock<Result<Image, String>> = OnceLock::new();
    let path = firmware::shipped_policy();
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("the shipped policy {} is needed: {e}", path.display()));
    let image = IMAGE
        .get_or_init(|| firmware::build(&FirmwareConfig::new(&path)).map_err(|e| e.to_string()));
    (bytes, image.as_ref().unwrap_or_else(|e| panic!("{e}")))
}

/// The shipped policy's image built as for a real board (no semihosting; log over RTT).
fn shipped_board_image() -> &'static Image {
    static IMAGE: OnceLock<Result<Image, String>> = OnceLock::new();
    let image = IMAGE.get_or_init(|| {
        let mut config = FirmwareConfig::new(firmware::shipped_policy());
        config.semihosting = false;
        firmware::build(&config).map_err(|e| e.to_string())
    });
    image.as_ref().unwrap_or_else(|e| panic!("{e}"))
}

fn start(image: &Image, faults: Faults, seed: u64) -> Session {
    start_with(image, faults, seed, false)
}

fn start_with(image: &Image, faults: Faults, seed: u64, hold_on_loss: bool) -> Session {
    let config = SessionConfig {
        faults,
        seed,
        hold_on_loss,
        qemu_limit: Duration::from_secs(240),
        ..SessionConfig::default()
    };
    Session::start(image, config).unwrap_or_else(|e| panic!("cannot start the HIL session: {e}"))
}

#[test]
fn board_closed_loop_matches_host_runtime_from_ten_states() {
    if !qemu_present() {
        return;
    }
    let (bytes, image) = shipped();
    let mut host = load_host_policy(&bytes)
        .map(|(_, p)| p)
        .unwrap()
        .expect("the shipped policy is 3-64-64-1");
    let mut session = start(image, Faults::default(), 0);
    for seed in 0..10u64 {
        let mut plant = Pendulum::default();
        let ep = session
            .run_episode(&mut plant, seed, STEPS, Some(&mut host))
            .unwrap_or_else(|e| panic!("episode {seed}: {e}"));
        let host_ret = host_return(&mut Pendulum::default(), seed, STEPS, &mut host);
        assert_eq!(ep.rows.len(), STEPS, "episode {seed} ended early");
        assert!(
            (ep.ret - host_ret).abs() <= 0.01 * host_ret.abs(),
            "episode {seed}: board return {} vs host return {host_ret}",
            ep.ret
        );
        assert_eq!(
            ep.mismatches, 0,
            "episode {seed}: board actions differ from the host's"
        );
        assert!(
            ep.final_theta.abs() < 0.3,
            "episode {seed}: not balanced at the end, |θ| = {}",
            ep.final_theta.abs()
        );
        assert!(
            ep.rows
                .iter()
                .all(|r| r.status == Some(InferenceStatus::Ok) && r.instructions > 0)
        );
    }
    session
        .shutdown()
        .expect("clean shutdown with QEMU exit status 0");
}

/// The Cortex-M0 board (nRF51822, QEMU microbit, UART0 driver) in the closed loop, with the
/// shipped f32 policy (software floating point) and its int8 version: every action equals the
/// host runtime's, bit for bit, and the pendulum is balanced at the end.
#[test]
fn m0_board_closed_loop_matches_host_runtime_in_both_precisions() {
    if !qemu_present() {
        return;
    }
    let m0 = hil_protocol::build_config::board_of_core("m0").expect("the m0 board");
    assert!(m0.has_link);
    let shipped = firmware::shipped_policy();
    for path in [
        shipped.clone(),
        shipped.with_file_name("pendulum-int8.postcard"),
    ] {
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut host = load_host_policy(&bytes)
            .map(|(_, p)| p)
            .unwrap()
            .expect("a 3-64-64-1 policy");
        let mut config = FirmwareConfig::new(&path);
        config.board = m0;
        let image = firmware::build(&config).unwrap_or_else(|e| panic!("{e}"));
        let mut session = start(&image, Faults::default(), 0);
        for seed in 0..2u64 {
            let mut plant = Pendulum::default();
            let ep = session
                .run_episode(&mut plant, seed, STEPS, Some(&mut host))
                .unwrap_or_else(|e| panic!("{}, episode {seed}: {e}", path.display()));
            let host_ret = host_return(&mut Pendulum::default(), seed, STEPS, &mut host);
            assert_eq!(ep.rows.len(), STEPS);
            assert_eq!(ep.mismatches, 0, "{}: actions differ", path.display());
            assert_eq!(
                ep.ret,
                host_ret,
                "{}: bit-identical actions",
                path.display()
            );
            assert!(
                ep.final_theta.abs() < 0.3,
                "{}: not balanced",
                path.display()
            );
        }
        session.shutdown().expect("clean shutdown");
    }
}

#[test]
fn faults_no_corrupt_frame_is_acted_on_and_pendulum_stays_up() {
    if !qemu_present() {
        return;
    }
    let (bytes, image) = shipped();
    let mut host = load_host_policy(&bytes)
        .map(|(_, p)| p)
        .unwrap()
        .expect("the shipped policy is 3-64-64-1");
    let faults = Faults {
        drop_frames: 0.10,
        corrupt_bytes: 0.01,
        cut_after: None,
    };
    // Lost-step mode: no retransmission; a step whose action is lost (about half of them at
    // these rates, both directions) keeps the previous command, so the faults hit control.
    let mut session = start_with(image, faults, 42, true);
    for seed in 100..104u64 {
        let mut plant = Pendulum::default();
        let ep = session
            .run_episode(&mut plant, seed, STEPS, Some(&mut host))
            .unwrap_or_else(|e| panic!("episode {seed}: {e}"));
        assert_eq!(ep.rows.len(), STEPS);
        assert_eq!(
            ep.mismatches, 0,
            "episode {seed}: the board acted on an observation the host did not send"
        );
        assert!(
            ep.final_theta.abs() < 0.3,
            "episode {seed}: |θ| = {} at the end",
            ep.final_theta.abs()
        );
        assert!(
            ep.lost_steps > 0,
            "episode {seed}: no step lost: faults not injected?"
        );
    }
    let summary = session.shutdown().expect("clean shutdown");
    assert!(
        summary.board_corrupt_frames > 0,
        "the board saw no corrupt frame: {summary:?}"
    );
    assert!(
        summary.link.corrupt_in > 0,
        "the host saw no corrupt frame: {summary:?}"
    );
    assert!(
        summary.link.dropped_out > 0 && summary.link.dropped_in > 0,
        "{summary:?}"
    );
}

#[test]
fn link_cut_commands_zero_torque_within_two_periods() {
    if !qemu_present() {
        return;
    }
    let (_, image) = shipped();
    let faults = Faults {
        cut_after: Some(1.0),
        ..Faults::default()
    };
    let mut session = start(image, faults, 7);
    let hello = *session.hello();
    assert_eq!(hello.watchdog_us, 2 * hello.control_period_us);
    for seed in 0..3u64 {
        let ep = session
            .run_episode(&mut Pendulum::default(), seed, STEPS, None)
            .unwrap();
        assert_eq!(
            ep.rows.len(),
            20,
            "the cut at 1 s should stop the episode after 20 steps"
        );
        let cut = ep.cut.expect("cut report");
        let event = cut
            .event
            .expect("the board reported no watchdog event after the link cut");
        assert!(
            event.values.iter().all(|&v| v == 0.0),
            "safe action is not zero: {event:?}"
        );
        // PROTOCOL.md's bound: within the period when the tick is handled on time; under
        // QEMU on a loaded host a tick may come late by a virtual-clock jump (≤ 1 ms here).
        assert!(
            event.elapsed_us <= hello.watchdog_us + 1_000,
            "zero torque after {} us > 2 periods ({} us) + 1 ms",
            event.elapsed_us,
            hello.watchdog_us
        );
        assert!(
            event.elapsed_us + 2_000 >= hello.watchdog_us,
            "watchdog fired early: {} us",
            event.elapsed_us
        );
    }
    // A wrong-length observation is answered with the safe action, not acted on.
    let reply = session.act(&[1.0, 0.0]).unwrap();
    assert_eq!(reply.action.status, InferenceStatus::WrongObservationLength);
    assert!(reply.action.values.iter().all(|&v| v == 0.0));
    let summary = session.shutdown().expect("clean shutdown");
    // One event per cut; a heavily loaded host may add a spurious one between steps.
    assert!(summary.board_watchdog_events >= 3, "{summary:?}");
    // The firmware's defmt log, decoded on the host: start, one warning per event, shutdown.
    let log = &summary.board_log;
    assert!(
        log[0].starts_with("INFO link server: policy 3-64-64-1 hash"),
        "{log:?}"
    );
    let warnings = log
        .iter()
        .filter(|l| l.starts_with("WARN watchdog:"))
        .count();
    assert_eq!(warnings as u32, summary.board_watchdog_events, "{log:?}");
    let bye = format!("{} watchdog events", summary.board_watchdog_events);
    assert!(log.last().is_some_and(|l| l.contains(&bye)), "{log:?}");
}

#[test]
fn corrupt_policy_file_fails_the_firmware_build_with_the_runtime_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = random_policy(
        Shape {
            obs: 3,
            hidden1: 8,
            hidden2: 8,
            act: 1,
        },
        3,
    )
    .unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x5A;
    let expected = policy_runtime::format::decode(&bytes)
        .unwrap_err()
        .to_string();
    let path = dir.path().join("corrupt.postcard");
    std::fs::write(&path, &bytes).unwrap();
    let err = firmware::build(&FirmwareConfig::new(&path)).expect_err("corrupt policy built");
    let msg = err.to_string();
    assert!(
        msg.contains(&expected),
        "build error does not carry {expected:?}:\n{msg}"
    );
}

/// Policies beyond the protocol's 8 observations / 4 actions, or too large for the flash, are
/// refused by the build script with the sizes in the message (and quickly: before the firmware
/// crate itself is compiled).
#[test]
fn oversized_policies_fail_the_firmware_build_with_their_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ((9, 8, 8, 5), "at most 8 observations and 4 actions"),
        (
            (3, 600, 600, 1),
            "its weights take 1454436 bytes, the flash holds 1048576",
        ),
    ];
    for ((obs, h1, h2, act), needle) in cases {
        let dims = Shape {
            obs,
            hidden1: h1,
            hidden2: h2,
            act,
        };
        let path = dir.path().join(format!("{dims}.postcard"));
        std::fs::write(&path, random_policy(dims, 1).unwrap()).unwrap();
        let t = std::time::Instant::now();
        let msg = firmware::build(&FirmwareConfig::new(&path))
            .expect_err("an oversized policy built")
            .to_string();
        assert!(
            msg.contains(needle) && msg.contains(&dims.to_string()),
            "{msg}"
        );
        assert!(t.elapsed() < Duration::from_secs(120), "{:?}", t.elapsed());
    }
    // A large policy that fits (819 kB of weights) builds: no const-evaluation limit in the way.
    let dims = Shape {
        obs: 3,
        hidden1: 450,
        hidden2: 450,
        act: 1,
    };
    let path = dir.path().join("large.postcard");
    std::fs::write(&path, random_policy(dims, 1).unwrap()).unwrap();
    let image = firmware::build(&FirmwareConfig::new(&path)).unwrap_or_else(|e| panic!("{e}"));
    assert!(image.elf.exists());
}

/// A policy trained with `observe_previous_action` (4 inputs: the plant's observation, then
/// the action applied at the previous step, `sim::feedback`) on the board: the host appends
/// the applied action to every observation it sends, and the board's actions are the host
/// runtime's bit for bit.
#[test]
fn board_runs_a_policy_that_observes_the_previous_action() {
    if !qemu_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dims = Shape {
        obs: 4,
        hidden1: 64,
        hidden2: 64,
        act: 1,
    };
    let path = dir.path().join("feedback.postcard");
    let bytes = random_policy(dims, 3).unwrap();
    std::fs::write(&path, &bytes).unwrap();
    let image = firmware::build(&FirmwareConfig::new(&path)).unwrap_or_else(|e| panic!("{e}"));
    let mut host = load_host_policy(&bytes)
        .map(|(_, p)| p)
        .unwrap()
        .expect("4-64-64-1 runs on the host");
    let mut session = start(&image, Faults::default(), 0);
    assert_eq!(session.hello().obs_dim, 4);
    for seed in 0..2u64 {
        let mut plant = ActionFeedback::new(Pendulum::default(), true);
        let mut sent = Vec::new();
        let mut reference = |obs: &[f32]| {
            sent.push(obs.to_vec());
            host(obs)
        };
        let ep = session
            .run_episode(&mut plant, seed, STEPS, Some(&mut reference))
            .unwrap_or_else(|e| panic!("episode {seed}: {e}"));
        assert_eq!(ep.rows.len(), STEPS, "episode {seed} ended early");
        assert_eq!(ep.mismatches, 0, "episode {seed}: board and host differ");
        assert_eq!(sent.len(), STEPS);
        assert_eq!(sent[0][3], 0.0, "nothing applied before the first step");
        for (row, next) in ep.rows.iter().zip(&sent[1..]) {
            assert_eq!(next.len(), 4);
            assert_eq!(
                next[3].to_bits(),
                row.action.to_bits(),
                "step {}",
                row.step + 1
            );
        }
        let fed = &mut ActionFeedback::new(Pendulum::default(), true);
        let host_ret = host_return(fed, seed, STEPS, &mut host);
        assert!(
            (ep.ret - host_ret).abs() <= 1e-9 * host_ret.abs().max(1.0),
            "episode {seed}: board return {} vs host return {host_ret}",
            ep.ret
        );
    }
    session
        .shutdown()
        .expect("clean shutdown with QEMU exit status 0");
}

#[test]
fn firmware_with_shipped_policy_fits_40k_flash_and_4k_ram() {
    if !qemu_present() {
        return;
    }
    let (_, image) = shipped();
    let s = hil::bench::sections(&image.elf).unwrap();
    assert_no_panic_path_of_its_own(&image.elf);
    assert!(s.rodata > 17_000, "weights not in flash? {s:?}");
    // 34.2 KB today, 18 KB of it weights.
    assert!(
        s.flash() < 40 * 1024,
        "flash {} B >= 40 KiB: {s:?}",
        s.flash()
    );
    let session = start(image, Faults::default(), 0);
    let inference_stack = session.hello().inference_stack;
    let summary = session.shutdown().expect("clean shutdown");
    assert!(inference_stack > 0 && inference_stack <= summary.board_peak_stack);
    let ram = s.data + s.bss + u64::from(summary.board_peak_stack);
    assert!(ram < 4 * 1024, "RAM {ram} B >= 4 KiB: {s:?}, {summary:?}");
}

/// QEMU with USART1 on a pseudo-terminal and no semihosting, as a stand-in for a real board
/// without a debugger on `/dev/ttyACM0`: the host opens the pty through the serial back end
/// (`hil::transport::SerialTransport`).
fn start_pty_board(image: &Image) -> (hil::qemu::Qemu, String) {
    let qemu = hil::qemu::Qemu::start_pty(&image.elf, Duration::from_secs(240))
        .unwrap_or_else(|e| panic!("cannot start QEMU on a pty: {e}"));
    let pty = qemu
        .pty()
        .expect("QEMU reported its pseudo-terminal")
        .to_str()
        .expect("a UTF-8 device path")
        .to_owned();
    assert!(pty.starts_with("/dev/"), "odd pty path {pty}");
    (qemu, pty)
}

#[test]
fn serial_back_end_over_qemu_pty_matches_host_runtime() {
    if !qemu_present() {
        return;
    }
    let (bytes, _) = shipped();
    let image = shipped_board_image();
    let mut host = load_host_policy(&bytes)
        .map(|(_, p)| p)
        .unwrap()
        .expect("the shipped policy is 3-64-64-1");
    let (qemu, pty) = start_pty_board(image);
    let serial = SerialSettings::new(&pty);

    // A board running another policy than the host expects is refused with both hashes named.
    let wrong = image.policy_hash ^ 1;
    let err = Session::open_serial(&serial, wrong, SessionConfig::default())
        .expect_err("a board with another policy was accepted");
    let msg = err.to_string();
    assert!(
        matches!(err, hil::HilError::Mismatch(_))
            && msg.contains(&format!("{:016x}", image.policy_hash))
            && msg.contains(&format!("{wrong:016x}")),
        "{msg}"
    );

    // The same, still running board, opened again with the right hash (as `hil run --serial`
    // does with a flashed board).
    let mut session = Session::open_serial(&serial, image.policy_hash, SessionConfig::default())
        .unwrap_or_else(|e| panic!("cannot open the session on {pty}: {e}"));
    assert_eq!(session.pid(), None);
    assert!(session.board().describe().contains(&pty));
    assert_eq!(session.hello().policy_hash, image.policy_hash);
    for seed in 0..2u64 {
        let mut plant = Pendulum::default();
        let mut expected = Vec::new();
        let mut reference = |obs: &[f32]| {
            let a = host(obs);
            expected.push(a.clone());
            a
        };
        let ep = session
            .run_episode(&mut plant, seed, STEPS, Some(&mut reference))
            .unwrap_or_else(|e| panic!("episode {seed} over {pty}: {e}"));
        assert_eq!(ep.rows.len(), STEPS, "episode {seed} ended early");
        assert_eq!(
            ep.mismatches, 0,
            "episode {seed}: board actions (or observation CRCs) differ from the host's"
        );
        // Bit for bit: the board's f32 actions are the host runtime's.
        for (row, want) in ep.rows.iter().zip(&expected) {
            assert_eq!(
                row.action.to_bits(),
                want[0].to_bits(),
                "episode {seed} step {}: board {} vs host {}",
                row.step,
                row.action,
                want[0]
            );
        }
        assert_eq!(ep.max_action_error, 0.0, "episode {seed}");
        let host_ret = host_return(&mut Pendulum::default(), seed, STEPS, &mut host);
        assert!(
            (ep.ret - host_ret).abs() <= 1e-9 * host_ret.abs().max(1.0),
            "episode {seed}: board return {} vs host return {host_ret}",
            ep.ret
        );
        // Every step answered with the network's output; a loaded host may need a
        // retransmission now and then (10 ms without an answer), never many.
        assert!(
            ep.rows
                .iter()
                .all(|r| r.status == Some(InferenceStatus::Ok))
        );
        let retried = ep.rows.iter().filter(|r| r.attempts > 1).count();
        assert!(
            retried * 20 <= ep.rows.len(),
            "{retried} retransmitted steps"
        );
    }
    let summary = session.shutdown().expect("Bye over the pty");
    assert_eq!(summary.link.corrupt_in, 0, "{summary:?}");
    assert_eq!(summary.board_corrupt_frames, 0, "{summary:?}");
    // The host sends observations back to back; only a host stalled past the 100 ms watchdog (a
    // heavily loaded machine) makes the board trip it, and then rarely.
    assert!(summary.board_watchdog_events <= 2, "{summary:?}");
    assert!(summary.board_peak_stack > 0, "{summary:?}");
    // Without semihosting the board halts after Bye, as a real one does; QEMU is killed here.
    drop(qemu);
}

#[test]
fn hil_run_serial_command_drives_a_board_on_a_qemu_pty() {
    if !qemu_present() {
        return;
    }
    let image = shipped_board_image();
    let (qemu, pty) = start_pty_board(image);
    let out = tempfile::tempdir().unwrap();
    let policy = firmware::shipped_policy();
    hil::cli::main_from([
        "hil",
        "run",
        "--serial",
        pty.as_str(),
        "--baud",
        "115200",
        "--policy",
        policy.to_str().unwrap(),
        "--episodes",
        "1",
        "--steps",
        "20",
        "--out",
        out.path().to_str().unwrap(),
    ])
    .unwrap_or_else(|e| panic!("hil run --serial {pty}: {e:#}"));
    let csv = std::fs::read_to_string(out.path().join("trajectory.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 20, "header and 20 rows:\n{csv}");
    assert!(
        csv.lines().skip(1).all(|l| l.ends_with(",Ok")),
        "every step answered with the network's output:\n{csv}"
    );
    drop(qemu);
}

#[test]
fn hil_run_takes_a_rig_and_steps_at_its_period() {
    if !qemu_present() {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    // The desktop rig runs at 100 Hz: the plant steps 10 ms per row.
    hil::cli::main_from([
        "hil",
        "run",
        "--rig",
        "desktop",
        "--episodes",
        "1",
        "--steps",
        "20",
        "--out",
        out.path().to_str().unwrap(),
    ])
    .unwrap_or_else(|e| panic!("hil run --rig desktop: {e:#}"));
    let csv = std::fs::read_to_string(out.path().join("trajectory.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 20, "header and 20 rows:\n{csv}");
    let times: Vec<f64> = csv
        .lines()
        .skip(1)
        .take(2)
        .map(|l| l.split(',').nth(3).unwrap().parse().unwrap())
        .collect();
    assert!((times[1] - times[0] - 0.01).abs() < 1e-6, "{csv}");
}

#[test]
fn hil_run_refuses_an_unknown_rig_naming_the_presets() {
    let err = hil::cli::main_from(["hil", "run", "--rig", "no-such-rig", "--episodes", "1"])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no-such-rig") && err.contains("realistic"),
        "{err}"
    );
}

/// `cd firmware && cargo run --release`: the self-test program prints the embedded policy's
/// shape, hash and precision and its actions for known observations (bit-identical to the host
/// runtime's), and exits with status 0. For the shipped f32 policy and its int8 version
/// (`POLICY_FILE=../policies/pendulum-int8.postcard`).
#[test]
fn firmware_self_test_under_qemu() {
    if !qemu_present() {
        return;
    }
    let f32_path = firmware::shipped_policy();
    let int8_path = f32_path.with_file_name("pendulum-int8.postcard");
    for board in &hil_protocol::build_config::BOARDS {
        for (path, precision) in [(&f32_path, "f32"), (&int8_path, "int8")] {
            self_test(path, precision, board);
        }
    }
}

/// The image links none of core's panicking checks (index, slice range, `unwrap`, `expect`,
/// arithmetic) nor `core::fmt`: the only panics left are the defmt transports' literal
/// re-entrancy checks.
fn assert_no_panic_path_of_its_own(elf: &std::path::Path) {
    for part in [
        "panic_bounds_check",
        "slice_index_fail",
        "slice_end_index_len_fail",
        "slice_start_index_len_fail",
        "len_mismatch_fail",
        "unwrap_failed",
        "expect_failed",
        "panic_const",
        "4core3fmt5write",
    ] {
        let found = hil::bench::symbol_address(elf, part).unwrap();
        assert_eq!(found, None, "{} links {part}", elf.display());
    }
}

/// A panic on the board is logged with its location and literal message by the firmware's
/// own handler (no `core::fmt` linked), then ends QEMU with status 1 through the hard fault,
/// on every core (the Cortex-M0 has no atomic swap: the handler's re-entry guard differs).
#[test]
fn firmware_panic_is_logged_and_fails_under_qemu() {
    if !qemu_present() {
        return;
    }
    for board in &hil_protocol::build_config::BOARDS {
        let mut config = FirmwareConfig::new(firmware::shipped_policy());
        config.board = board;
        config.features = vec!["selftest-panics"];
        let elf = firmware::build_self_test(&config).unwrap_or_else(|e| panic!("{e}"));
        let mut log = Vec::new();
        let code = hil::qemu::run_with_log(&elf, std::time::Duration::from_secs(60), &mut log)
            .unwrap_or_else(|e| panic!("{e}"));
        let text = String::from_utf8_lossy(&log);
        assert_eq!(code, 1, "{}: {text}", board.core);
        assert!(
            text.contains("panicked at src/bin/selftest.rs:")
                && text.contains("the self-test panics on purpose"),
            "{}: {text}",
            board.core
        );
        assert!(text.contains("hard fault at pc"), "{}: {text}", board.core);
        assert!(!text.contains("selftest: PASS"), "{}: {text}", board.core);
        // The handler formats nothing on the board: `core::fmt` is not linked.
        let fmt = hil::bench::symbol_address(&elf, "4core3fmt5write").unwrap();
        assert_eq!(fmt, None, "{}: core::fmt::write linked", board.core);
    }
}

/// The self-test of `path` on `board`: the host's actions bit for bit, on every core (the
/// Cortex-M0 computes f32 in software, the others on their FPU).
fn self_test(
    path: &std::path::Path,
    precision: &str,
    board: &'static hil_protocol::build_config::Board,
) {
    let bytes = std::fs::read(path).unwrap();
    let mut config = FirmwareConfig::new(path);
    config.board = board;
    let elf = firmware::build_self_test(&config).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(hil::board::board_of_elf(&elf).unwrap().core, board.core);
    assert_no_panic_path_of_its_own(&elf);
    // What `cd firmware && cargo run --release` runs: QEMU, the defmt log decoded by `hil qemu`.
    let mut log = Vec::new();
    let code = hil::qemu::run_with_log(&elf, std::time::Duration::from_secs(60), &mut log)
        .unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8_lossy(&log);
    assert_eq!(code, 0, "{text}");
    let hash = format!("{:016x}", hil_protocol::policy_hash(&bytes));
    assert!(
        text.contains(&format!(
            "policy 3-64-64-1 hash {hash} precision {precision}"
        )),
        "{text}"
    );
    assert!(text.contains("selftest: PASS"), "{text}");
    let host = policy_runtime::DynPolicy::from_bytes(&bytes).unwrap();
    let known: [[f32; 3]; 3] = [
        [1.0, 0.0, 0.0],
        [-1.0, 0.0, 0.0],
        [
            std::f32::consts::FRAC_1_SQRT_2,
            std::f32::consts::FRAC_1_SQRT_2,
            -2.0,
        ],
    ];
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("-> action")).collect();
    assert_eq!(lines.len(), known.len(), "{text}");
    for (line, obs) in lines.iter().zip(&known) {
        let mut a = [0.0f32];
        host.act(obs, &mut a).unwrap();
        let bits = format!("0x{:08x}", a[0].to_bits());
        assert!(
            line.contains(&bits),
            "{} {precision}: host {bits} for {obs:?}, board: {line}",
            board.core
        );
    }
    // The parser `hil bench --target` reads the self-test with.
    let parsed = hil::bench::SelfTestLog::parse(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(parsed.precision, precision, "{text}");
    assert_eq!(parsed.action_bits.len(), known.len(), "{text}");
    let n = parsed.instructions;
    // 4,352 multiply-adds: 1 to 7 instructions each with an FPU or in int8 on Thumb-2, up to
    // ~200 in software floating point on the M0.
    let range = if board.fpu || precision == "int8" {
        5_000..70_000
    } else {
        100_000..1_000_000
    };
    assert!(
        range.contains(&n),
        "{} {precision}: {n} instructions",
        board.core
    );
    // The traced instruction stream of the same inference agrees with the SysTick count
    // (`estimate_cycles` refuses otherwise), and the timing model gives 1 to 3 cycles per
    // instruction.
    let est = hil::bench::estimate_cycles(&elf, board, n).unwrap_or_else(|e| panic!("{e}"));
    let cpi = est.cycles as f64 / f64::from(est.instructions);
    assert!(
        (1.0..3.0).contains(&cpi),
        "{} {precision}: {} cycles for {} instructions",
        board.core,
        est.cycles,
        est.instructions
    );
    // The per-line profile (`hil bench --profile`) accounts for every traced instruction and
    // its cycles, and its top line is policy-runtime's: the multiply-adds (or, for f32 on the
    // M0, the software float routines, which have no line information here).
    let traced: u64 = est.profile.iter().map(|l| l.instructions).sum();
    let cycles: u64 = est.profile.iter().map(|l| l.est_cycles).sum();
    assert_eq!(traced, u64::from(est.instructions), "{:?}", est.profile);
    assert_eq!(cycles, est.cycles, "{:?}", est.profile);
    if board.fpu || precision == "int8" {
        let top = &est.profile[0].location;
        assert!(
            top.starts_with("policy-runtime/src/"),
            "{} {precision}: top line {top}",
            board.core
        );
    }
}
