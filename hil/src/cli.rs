//! The `hil` command line.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use std::time::Duration;

use crate::bench;
use crate::firmware::{self, FirmwareConfig};
use crate::host_policy::{HostPolicy, host_return, load_host_policy};
use crate::link::Faults;
use crate::plant::{Plant, build_rig, control_period_us, takes_previous_action};
use crate::policy_file;
use crate::report::{self, Spread};
use crate::session::{Episode, Session, SessionConfig};
use crate::transport::{DEFAULT_BAUD, SerialSettings};
use policy_runtime::Shape;
use sim::{ActionFeedback, RigPlant};

/// Hardware-in-the-loop host: builds the firmware, runs it in QEMU (or talks to a real board on a
/// serial port) against the simulated plant.
#[derive(Debug, Parser)]
#[command(name = "hil", version)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run the closed loop: the board (QEMU, or a real board with --serial) controls the
    /// simulated plant over the serial link.
    Run(RunArgs),
    /// Instructions per inference, instructions per multiply-add, flash/RAM use.
    Bench {
        /// Policy files to measure (default: the shipped 3-64-64-1 policy, or random weights if
        /// it is missing, and random 3-256-256-1 weights).
        #[arg(long)]
        policy: Vec<PathBuf>,
        /// Inferences timed per policy.
        #[arg(long, default_value_t = 200)]
        samples: usize,
        /// Seed of the observations and of random policies.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Folder for generated policy files.
        #[arg(long, default_value = "runs/bench")]
        out: PathBuf,
        /// Measure the self-test image on these cores instead of the link server on the M4F:
        /// `m0` (QEMU microbit, nRF51), `m4f` (netduinoplus2, STM32F405), `m33f` (mps2-an505),
        /// or `all`. Repeatable.
        #[arg(long)]
        target: Vec<String>,
        /// With --target and no --policy: the shipped policy in this precision, `f32`, `int8`
        /// or `all`.
        #[arg(long, default_value = "all")]
        precision: String,
        /// With --target: print the rows as a JSON array.
        #[arg(long)]
        json: bool,
        /// With --target: also print where each inference's instructions go, by source line
        /// (the N lines with the most; with --json, every line in a `profile` array).
        #[arg(long, value_name = "N", num_args = 0..=1, default_missing_value = "15")]
        profile: Option<usize>,
    },
    /// Build ("flash") the firmware image for a policy file.
    Build {
        /// Policy file to embed.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Control period in microseconds.
        #[arg(long, default_value_t = hil_protocol::build_config::DEFAULT_CONTROL_PERIOD_US)]
        period_us: u32,
    },
    /// Run a firmware image under QEMU with semihosting and no serial link, printing its defmt
    /// log; exits with the firmware's exit status. The runner of `cd firmware && cargo run`.
    Qemu {
        /// The ELF image (its defmt table decodes the log).
        elf: PathBuf,
        /// Kill QEMU after this many seconds.
        #[arg(long, default_value_t = 60, value_name = "SECONDS")]
        timeout: u64,
    },
    /// Write a policy file with random weights (for plumbing tests and the benchmark).
    RandomPolicy {
        /// Dimensions obs-h1-h2-act.
        #[arg(long, default_value = "3-64-64-1", value_parser = parse_dims)]
        dims: Shape,
        /// Seed of the weights.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// Policy file to embed (default: the shipped policy). With --serial, the policy the board
    /// was flashed with: the host computes the reference actions and the expected hash from it.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Talk to a board that is already running, flashed with the same policy, on this serial
    /// port (e.g. /dev/ttyACM0), instead of building the firmware and starting QEMU.
    #[arg(long, value_name = "PATH")]
    serial: Option<String>,
    /// Baud rate of the --serial port (raw, 8N1; the firmware uses 115200).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_BAUD, requires = "serial")]
    baud: u32,
    /// The board (core) to build for and emulate: `m4f` (STM32F405, QEMU netduinoplus2) or
    /// `m0` (nRF51822, QEMU microbit); `m33f` has no link driver yet.
    #[arg(long, default_value = "m4f", value_name = "CORE")]
    target: String,
    /// Rig simulated on the host: a preset (reference, hifi-ideal, realistic, desktop) or a rig
    /// file; the firmware is built with the rig's control period.
    #[arg(long, default_value = "realistic", value_name = "NAME|FILE")]
    rig: String,
    /// Episodes (initial states seeded by seed, seed+1, ...).
    #[arg(long, default_value_t = 5)]
    episodes: usize,
    /// Steps per episode (the plant may truncate earlier).
    #[arg(long, default_value_t = 200)]
    steps: usize,
    /// Seed of the initial states and of the fault injection.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Fraction of frames dropped (each direction).
    #[arg(long, default_value_t = 0.0)]
    drop_frames: f64,
    /// Fraction of bytes corrupted (each direction).
    #[arg(long, default_value_t = 0.0)]
    corrupt_bytes: f64,
    /// Cut the link after this much plant time in each episode, seconds.
    #[arg(long)]
    cut_after: Option<f64>,
    /// Pace the steps at the control period in wall-clock time.
    #[arg(long)]
    realtime: bool,
    /// Send each observation once; a step whose action is lost keeps the previous command
    /// (otherwise observations are retransmitted until answered).
    #[arg(long)]
    hold_on_loss: bool,
    /// Kill QEMU after this many seconds (ignored with --serial; default 600 s plus 0.1 s per
    /// step of the run, so a long soak is not cut short while a hung QEMU is still stopped).
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<u64>,
    /// Output folder for trajectory.csv, trajectory.png, latency.png, (with faults)
    /// faults.png and (QEMU) board.log, the firmware's decoded defmt log.
    #[arg(long, default_value = "runs/hil")]
    out: PathBuf,
}

/// Parses `obs-h1-h2-act`, e.g. `3-64-64-1`.
pub fn parse_dims(s: &str) -> Result<Shape, String> {
    let parts: Vec<usize> = s
        .split('-')
        .map(|p| p.trim().parse::<usize>().map_err(|e| format!("{p:?}: {e}")))
        .collect::<Result<_, _>>()?;
    match parts[..] {
        [obs, h1, h2, act] if parts.iter().all(|&d| d > 0) => Ok(Shape {
            obs,
            hidden1: h1,
            hidden2: h2,
            act,
        }),
        _ => Err(format!(
            "expected four positive sizes obs-h1-h2-act, got {s:?}"
        )),
    }
}

/// Runs the command line of this process.
pub fn main() -> anyhow::Result<()> {
    crate::qemu::install_signal_cleanup()?;
    execute(Cli::parse())
}

/// Runs a command line given as arguments (the first is the program name), e.g.
/// `["hil", "run", "--serial", "/dev/ttyACM0", "--episodes", "2"]`; a usage error is returned,
/// not printed.
pub fn main_from<I, T>(args: I) -> anyhow::Result<()>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    execute(Cli::try_parse_from(args)?)
}

fn execute(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Cmd::Run(args) => run(args)?,
        Cmd::Bench {
            policy,
            samples,
            seed,
            out,
            target,
            precision,
            json,
            profile,
        } => {
            if target.is_empty() {
                if json || profile.is_some() {
                    bail!("--json and --profile need --target (the per-core table)");
                }
                run_bench(policy, samples, seed, &out)?
            } else {
                run_core_bench(&target, &precision, policy, json, profile)?
            }
        }
        Cmd::Build { policy, period_us } => {
            if period_us == 0 {
                bail!("--period-us must be positive");
            }
            let mut config = FirmwareConfig::new(policy.unwrap_or_else(firmware::shipped_policy));
            config.control_period_us = period_us;
            config.show_progress = true;
            let image = firmware::build(&config)?;
            println!("{}", image.elf.display());
        }
        Cmd::Qemu { elf, timeout } => {
            if timeout == 0 || timeout > 7 * 24 * 3600 {
                bail!("--timeout must be in 1..=604800 seconds, got {timeout}");
            }
            let limit = Duration::from_secs(timeout);
            let code = crate::qemu::run_with_log(&elf, limit, &mut std::io::stdout().lock())?;
            if code != 0 {
                bail!("the firmware exited with status {code}");
            }
        }
        Cmd::RandomPolicy { dims, seed, out } => {
            let bytes = policy_file::random_policy(dims, seed)?;
            std::fs::write(&out, bytes).with_context(|| format!("writing {}", out.display()))?;
            println!("wrote {} ({dims})", out.display());
        }
    }
    Ok(())
}

/// Most episodes one `hil run` accepts.
pub const MAX_EPISODES: usize = 1_000_000;
/// Most steps per episode one `hil run` accepts.
pub const MAX_STEPS: usize = 1_000_000;

/// Refuses counts out of range before anything is allocated or started.
fn check_counts(a: &RunArgs) -> anyhow::Result<()> {
    for (flag, n, max) in [
        ("--episodes", a.episodes, MAX_EPISODES),
        ("--steps", a.steps, MAX_STEPS),
    ] {
        if n == 0 || n > max {
            bail!("{flag} must be in 1..={max}, got {n}");
        }
    }
    if let Some(t) = a.timeout
        && (t == 0 || t > 7 * 24 * 3600)
    {
        bail!("--timeout must be in 1..=604800 seconds, got {t}");
    }
    Ok(())
}

/// Refuses a policy whose observation/action sizes differ from the plant's (the observation
/// may be followed by the previous action, `sim::feedback`), or exceed what the link protocol
/// carries, before any firmware is built.
fn check_policy_fits(
    policy: &std::path::Path,
    dims: Shape,
    plant: &dyn Plant,
) -> anyhow::Result<()> {
    let (obs, act) = (plant.observation_dim(), plant.action_dim());
    if !(dims.obs == obs || dims.obs == obs + act) || dims.act != act {
        bail!(
            "policy {} is {dims}: it takes {} observations and gives {} actions, the rig's plant \
             has {obs} observations ({} with the previous action) and {act} actions",
            policy.display(),
            dims.obs,
            dims.act,
            obs + act
        );
    }
    if dims.obs > hil_protocol::MAX_OBS || dims.act > hil_protocol::MAX_ACT {
        bail!(
            "policy {} is {dims}: the link protocol carries at most {} observations and {} actions",
            policy.display(),
            hil_protocol::MAX_OBS,
            hil_protocol::MAX_ACT
        );
    }
    Ok(())
}

/// The board named by `hil run --target`, which must have the serial link.
fn link_board(core: &str) -> anyhow::Result<&'static hil_protocol::build_config::Board> {
    use hil_protocol::build_config::{BOARDS, board_of_core};
    let with_link: Vec<&str> = BOARDS
        .iter()
        .filter(|b| b.has_link)
        .map(|b| b.core)
        .collect();
    let board = board_of_core(core).with_context(|| {
        format!("unknown --target {core:?}: the boards with a serial link are {with_link:?}")
    })?;
    if !board.has_link {
        bail!(
            "--target {core}: {} has no serial link driver yet (boards with one: {with_link:?}); \
             `hil bench --target {core}` measures it",
            board.qemu_machine
        );
    }
    Ok(board)
}

fn run(a: RunArgs) -> anyhow::Result<()> {
    check_counts(&a)?;
    let policy = a.policy.clone().unwrap_or_else(firmware::shipped_policy);
    let bytes = std::fs::read(&policy).with_context(|| format!("reading {}", policy.display()))?;
    let (dims, mut host) =
        load_host_policy(&bytes).with_context(|| policy.display().to_string())?;
    let config = session_config(&a)?;
    let serial = a
        .serial
        .clone()
        .map(|path| SerialSettings { path, baud: a.baud });
    if let Some(s) = &serial {
        s.validate()?;
    }
    let (rig, plant) = build_rig(&a.rig)?;
    check_policy_fits(&policy, dims, &plant)?;
    let feedback = takes_previous_action(dims, &plant);
    let mut plant = ActionFeedback::new(plant, feedback);
    let mut session = match &serial {
        // The board was flashed already: only the expected hash is needed.
        Some(s) => Session::open_serial(s, hil_protocol::policy_hash(&bytes), config)?,
        None => {
            let mut fw = FirmwareConfig::new(&policy);
            fw.board = link_board(&a.target)?;
            fw.control_period_us = control_period_us(&rig)?;
            fw.show_progress = true;
            Session::start(&firmware::build(&fw)?, config)?
        }
    };
    print_board(&session);
    println!("rig: {} ({})", rig.name, rig.description);
    if feedback {
        println!("the policy also observes the previous applied action (sim::feedback)");
    }
    let episodes = run_episodes(&a, &mut session, &mut plant, host.as_mut())?;
    let summary = session.shutdown()?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    report::write_csv(&a.out.join("trajectory.csv"), &episodes)?;
    report::write_png(&a.out.join("trajectory.png"), &episodes)?;
    report::write_latency_png(&a.out.join("latency.png"), &episodes)?;
    let mut written = vec!["trajectory.csv", "trajectory.png", "latency.png"];
    if !summary.board_log.is_empty() {
        let log = a.out.join("board.log");
        let mut text = summary.board_log.join("\n");
        text.push('\n');
        std::fs::write(&log, text).with_context(|| format!("writing {}", log.display()))?;
        written.push("board.log");
    }
    let f = &config_faults(&a);
    if f.drop_frames > 0.0 || f.corrupt_bytes > 0.0 || f.cut_after.is_some() || a.hold_on_loss {
        report::write_faults_png(&a.out.join("faults.png"), &episodes)?;
        written.push("faults.png");
    }
    print_summary(&episodes, &summary);
    if serial.is_none() {
        print_deadline(&episodes, link_board(&a.target)?, control_period_us(&rig)?);
    }
    println!("wrote {} in {}", written.join(", "), a.out.display());
    Ok(())
}

/// Under QEMU one instruction takes 1 ns, far faster than a real part: says what the counted
/// instructions mean at the core's typical clock (at least one cycle each), against the
/// control period.
fn print_deadline(episodes: &[Episode], board: &hil_protocol::build_config::Board, period_us: u32) {
    let Some(n) = Spread::of(&report::instructions(episodes)) else {
        return;
    };
    let floor_us = n.max / f64::from(board.typical_clock_hz) * 1e6;
    let share = floor_us / f64::from(period_us);
    let verdict = if share >= 1.0 {
        "MISSES the control period on such a part"
    } else if share >= 0.5 {
        "over half the control period"
    } else {
        "fits the control period"
    };
    println!(
        "at {:.0} MHz ({}): at least {:.2} ms per inference (1 cycle per instruction; `hil bench --target {}` estimates cycles), {:.0} % of the {:.0} ms period: {verdict}",
        f64::from(board.typical_clock_hz) / 1e6,
        board.core,
        floor_us / 1e3,
        board.core,
        share * 100.0,
        f64::from(period_us) / 1e3
    );
}

/// The session settings of `hil run` (fault injection validated).
fn config_faults(a: &RunArgs) -> Faults {
    Faults {
        drop_frames: a.drop_frames,
        corrupt_bytes: a.corrupt_bytes,
        cut_after: a.cut_after,
    }
}

fn session_config(a: &RunArgs) -> anyhow::Result<SessionConfig> {
    let faults = config_faults(a);
    faults.validate()?;
    let limit = a
        .timeout
        .unwrap_or_else(|| 600 + (a.episodes as u64).saturating_mul(a.steps as u64) / 10);
    Ok(SessionConfig {
        faults,
        seed: a.seed,
        realtime: a.realtime,
        hold_on_loss: a.hold_on_loss,
        qemu_limit: Duration::from_secs(limit),
        ..SessionConfig::default()
    })
}

fn print_board(session: &Session) {
    let h = *session.hello();
    println!(
        "board: policy {}-{}-{}-{} hash {:016x}, period {} us, watchdog {} us, inference stack {} B ({})",
        h.obs_dim,
        h.hidden[0],
        h.hidden[1],
        h.act_dim,
        h.policy_hash,
        h.control_period_us,
        h.watchdog_us,
        h.inference_stack,
        session.board().describe()
    );
}

/// Runs the episodes, printing one line each (and the host runtime's return on the same
/// plant and seed, when the host can run the policy).
fn run_episodes(
    a: &RunArgs,
    session: &mut Session,
    plant: &mut ActionFeedback<RigPlant>,
    mut host: Option<&mut HostPolicy>,
) -> anyhow::Result<Vec<Episode>> {
    let mut ref_plant = plant.clone();
    let mut episodes = Vec::new();
    println!(
        "episode  seed   return(board)  return(host)  final|θ|  watchdog  mismatches  lost steps"
    );
    for i in 0..a.episodes {
        let seed = a.seed.wrapping_add(i as u64);
        let reference = host
            .as_deref_mut()
            .map(|p| p as &mut dyn FnMut(&[f32]) -> Vec<f32>);
        let ep = session.run_episode(plant, seed, a.steps, reference)?;
        let host_ret = host.as_deref_mut().map_or_else(
            || format!("{:>12}", "-"),
            |p| {
                format!(
                    "{:>12.3}",
                    host_return(&mut ref_plant, seed, ep.rows.len(), p)
                )
            },
        );
        println!(
            "{i:>7} {seed:>5} {:>14.3}  {host_ret}  {:>8.3}  {:>8}  {:>10}  {:>10}",
            ep.ret,
            ep.final_theta.abs(),
            ep.watchdog.len(),
            ep.mismatches,
            ep.lost_steps
        );
        if let Some(c) = &ep.cut {
            print_cut(c);
        }
        episodes.push(ep);
    }
    Ok(episodes)
}

fn print_cut(c: &crate::session::CutReport) {
    match &c.event {
        Some(w) => println!(
            "        link cut at {:.2} s: board commanded {:?} after {} us of board time ({:.1} ms host wall)",
            c.at,
            w.values.as_slice(),
            w.elapsed_us,
            c.host_wall.map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
        ),
        None => println!(
            "        link cut at {:.2} s: NO watchdog report from the board",
            c.at
        ),
    }
}

fn print_summary(episodes: &[Episode], summary: &crate::session::Summary) {
    if let Some(l) = Spread::of(&report::latencies(episodes)) {
        println!(
            "round-trip latency: median {:.0} us, p99 {:.0} us, max {:.0} us",
            l.median, l.p99, l.max
        );
    }
    if let Some(n) = Spread::of(&report::instructions(episodes)) {
        println!(
            "on-board instructions per inference: median {:.0}, max {:.0}",
            n.median, n.max
        );
    }
    let c = summary.link;
    println!(
        "frames: sent {}, dropped by injection {} out / {} in, bytes corrupted {}, corrupt frames dropped {} by the board / {} by the host",
        c.sent,
        c.dropped_out,
        c.dropped_in,
        c.corrupted_bytes,
        summary.board_corrupt_frames,
        c.corrupt_in
    );
    println!(
        "watchdog events: {} (board total {}); actions not matching the sent observation: {}",
        episodes.iter().map(|e| e.watchdog.len()).sum::<usize>(),
        summary.board_watchdog_events,
        episodes.iter().map(|e| e.mismatches).sum::<u32>()
    );
}

fn run_bench(
    policies: Vec<PathBuf>,
    samples: usize,
    seed: u64,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    if samples == 0 || samples > 1_000_000 {
        bail!("--samples must be in 1..=1000000, got {samples}");
    }
    let policies = if policies.is_empty() {
        std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
        let mut list = Vec::new();
        let shipped = firmware::shipped_policy();
        if shipped.exists() {
            list.push(shipped);
        } else {
            eprintln!(
                "note: {} is missing; using random 3-64-64-1 weights",
                shipped.display()
            );
            let p = out.join("random-3-64-64-1.postcard");
            std::fs::write(
                &p,
                policy_file::random_policy(
                    Shape {
                        obs: 3,
                        hidden1: 64,
                        hidden2: 64,
                        act: 1,
                    },
                    seed,
                )?,
            )?;
            list.push(p);
        }
        let p = out.join("random-3-256-256-1.postcard");
        std::fs::write(
            &p,
            policy_file::random_policy(
                Shape {
                    obs: 3,
                    hidden1: 256,
                    hidden2: 256,
                    act: 1,
                },
                seed,
            )?,
        )?;
        list.push(p);
        list
    } else {
        policies
    };
    let mut results = Vec::new();
    for p in &policies {
        eprintln!("building and measuring {} ...", p.display());
        results.push(bench::run(p, samples, seed)?);
    }
    println!("{}", bench::HEADER);
    for r in &results {
        println!("{}", bench::format_row(r));
    }
    println!(
        "(instructions counted by SysTick under QEMU -icount shift=0; sizes in bytes; RAM = .data + .bss + peak stack)"
    );
    Ok(())
}

/// The boards named by `--target` (`all` for every board), in the table's order.
fn boards_of(
    targets: &[String],
) -> anyhow::Result<Vec<&'static hil_protocol::build_config::Board>> {
    use hil_protocol::build_config::{BOARDS, board_of_core};
    let mut out = Vec::new();
    for t in targets {
        if t == "all" {
            out.extend(BOARDS.iter());
        } else {
            let cores: Vec<&str> = BOARDS.iter().map(|b| b.core).collect();
            out.push(board_of_core(t).with_context(|| {
                format!("unknown --target {t}: one of {}, or all", cores.join(", "))
            })?);
        }
    }
    let mut seen = Vec::new();
    out.retain(|b| {
        let first = !seen.contains(&b.core);
        seen.push(b.core);
        first
    });
    Ok(out)
}

/// `hil bench --target …`: the self-test image of each policy on each core.
fn run_core_bench(
    targets: &[String],
    precision: &str,
    policies: Vec<PathBuf>,
    json: bool,
    profile: Option<usize>,
) -> anyhow::Result<()> {
    let boards = boards_of(targets)?;
    let policies = if policies.is_empty() {
        let f32_file = std::fs::canonicalize(firmware::shipped_policy())
            .unwrap_or_else(|_| firmware::shipped_policy());
        let int8 = f32_file.with_file_name("pendulum-int8.postcard");
        match precision {
            "f32" => vec![f32_file],
            "int8" => vec![int8],
            "all" => vec![f32_file, int8],
            other => bail!("unknown --precision {other}: f32, int8 or all"),
        }
    } else {
        policies
    };
    let mut rows = Vec::new();
    for board in &boards {
        for p in &policies {
            eprintln!(
                "building and measuring {} on {} ...",
                p.display(),
                board.core
            );
            let mut row = bench::run_on_core(p, board)?;
            if profile.is_none() {
                row.profile.clear();
            }
            rows.push(row);
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    println!("{}", bench::CORE_HEADER);
    for r in &rows {
        println!("{}", bench::format_core_row(r));
    }
    println!(
        "(self-test images; instructions counted by SysTick under QEMU -icount shift=0; sizes in \
         bytes; RAM = .data + .bss + inference stack; est.cycles: an ESTIMATE, the core's \
         timing model (hil::cycles, TRM cycle counts, branch refill 2) applied to the executed \
         instruction stream of one inference traced in a second QEMU run; est.latency at the \
         clock shown)"
    );
    if let Some(top) = profile {
        for r in &rows {
            println!("\n{}", bench::format_profile(r, top));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_named_or_refused() {
        let cores: Vec<&str> = boards_of(&["all".into(), "m0".into()])
            .unwrap()
            .iter()
            .map(|b| b.core)
            .collect();
        assert_eq!(cores, ["m4f", "m33f", "m0"]);
        let cores: Vec<&str> = boards_of(&["m0".into(), "all".into()])
            .unwrap()
            .iter()
            .map(|b| b.core)
            .collect();
        assert_eq!(cores, ["m0", "m4f", "m33f"]);
        let err = boards_of(&["m7".into()]).unwrap_err().to_string();
        assert!(
            err.contains("unknown --target m7") && err.contains("m33f"),
            "{err}"
        );
    }

    #[test]
    fn dims_parse_and_reject() {
        assert_eq!(
            parse_dims("3-64-64-1"),
            Ok(Shape {
                obs: 3,
                hidden1: 64,
                hidden2: 64,
                act: 1
            })
        );
        assert!(parse_dims("3-64-1").is_err());
        assert!(parse_dims("3-0-64-1").is_err());
        assert!(parse_dims("3-x-64-1").is_err());
    }

    /// Every refusal happens before firmware is built or QEMU started (these return at once).
    #[test]
    fn run_refuses_bad_counts_and_mismatched_policies_before_building() {
        let msg = |args: &[&str]| {
            let mut v = vec!["hil", "run"];
            v.extend_from_slice(args);
            format!("{:#}", main_from(v).unwrap_err())
        };
        let m = msg(&["--steps", "18446744073709551615"]);
        assert!(m.contains("--steps must be in 1..=1000000"), "{m}");
        let m = msg(&["--episodes", "4294967296"]);
        assert!(m.contains("--episodes must be in 1..=1000000"), "{m}");
        let m = msg(&["--episodes", "0"]);
        assert!(m.contains("--episodes"), "{m}");
        let m = msg(&["--timeout", "0"]);
        assert!(m.contains("--timeout"), "{m}");
        let tmp = tempfile::tempdir().unwrap();
        let write = |dims: &str| {
            let p = tmp.path().join(format!("{dims}.postcard"));
            let d = parse_dims(dims).unwrap();
            std::fs::write(&p, policy_file::random_policy(d, 0).unwrap()).unwrap();
            p.display().to_string()
        };
        let p = write("4-64-64-2");
        let m = msg(&["--policy", &p]);
        assert!(
            m.contains("4-64-64-2")
                && m.contains("3 observations (4 with the previous action) and 1 actions"),
            "{m}"
        );
        // 4 inputs fit (the previous action, `sim::feedback`), 5 do not.
        let p = write("5-64-64-1");
        let m = msg(&["--policy", &p]);
        assert!(m.contains("5-64-64-1") && m.contains("rig's plant"), "{m}");
        let p = write("9-8-8-5");
        let m = msg(&["--policy", &p]);
        assert!(m.contains("9-8-8-5") && m.contains("rig's plant"), "{m}");
    }

    #[test]
    fn run_serial_bad_input_is_a_clear_error() {
        let port = "/dev/hil-test-no-such-port";
        let err = main_from(["hil", "run", "--serial", port, "--episodes", "1"])
            .expect_err("a missing port was accepted");
        let msg = format!("{err:#}");
        assert!(
            msg.contains(port) && msg.contains("no such device"),
            "{msg}"
        );

        let err = main_from(["hil", "run", "--serial", port, "--baud", "0"]).unwrap_err();
        assert!(format!("{err:#}").contains("baud rate 0"), "{err:#}");

        let err = main_from(["hil", "run", "--serial", port, "--baud", "fast"]).unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("'fast'") && msg.contains("--baud"), "{msg}");

        // --baud means nothing without a serial port.
        let err = main_from(["hil", "run", "--baud", "9600"]).unwrap_err();
        assert!(format!("{err:#}").contains("--serial"), "{err:#}");
    }
}
