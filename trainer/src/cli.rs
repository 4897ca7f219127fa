//! The command-line interface of the `trainer` binary (parsed with clap; the binary's
//! `main` only pins threads, calls [`run`] and prints errors).

use crate::config::{ConfigOverrides, TrainConfig};
use crate::eval;
use crate::quality::{self, Comparison, EpisodeTrace};
use crate::train::{RunOptions, Trainer};
use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};

/// Prints a line to stdout, ignoring a closed pipe (e.g. `trainer eval … | head`).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Like [`out!`] without the newline.
macro_rules! out_raw {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

/// Train a DDPG controller for the pendulum, evaluate exported policies.
#[derive(Debug, Parser)]
#[command(name = "trainer", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train with the default config (optionally a TOML file and flag overrides) and export
    /// `policy.postcard` (the one to flash: the best of the top periodic evaluations on fresh
    /// validation episodes, `selection.csv`) and
    /// `policy_final.postcard` (the last weights) into the run directory.
    Train(Box<TrainArgs>),
    /// Evaluate an exported policy file through policy-runtime.
    Eval(EvalArgs),
    /// Print the default configuration as TOML (a starting point for `--config`). `gamma` and
    /// `total_steps` are the `realistic` rig's: a run on a rig with another control period or
    /// episode length derives them from its rig unless the file or a flag sets them (so leave
    /// them out of a file meant for any rig).
    PrintConfig,
    /// Run a multi-seed study or hyperparameter sweep from a sweep file (locally, or as a Slurm
    /// job array with --slurm), or aggregate one (`trainer sweep report DIR`).
    Sweep(SweepArgs),
    /// Quantise an exported f32 policy to an int8 weight file (post-training quantisation,
    /// activations calibrated on rollouts of the policy on the training rig).
    Quantize(QuantizeArgs),
}

/// Arguments of `quantize`.
#[derive(Debug, clap::Args)]
pub struct QuantizeArgs {
    /// The f32 weight file (e.g. a run's `policy.postcard`).
    pub policy_file: PathBuf,
    /// Output file (default: next to the input, `<name>-int8.postcard`).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Calibration rig: the policy's training rig (a preset name or a rig file).
    #[arg(long, default_value = "realistic", value_name = "NAME|FILE")]
    pub rig: String,
    /// Calibration episodes (rollouts of the f32 policy).
    #[arg(long, default_value_t = 100)]
    pub episodes: usize,
    /// Evaluation seed of the calibration episodes (apart from the seed 0 that `eval` and
    /// the final evaluations use).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

/// Arguments of `sweep`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SweepArgs {
    /// `report DIR`: aggregate a sweep folder.
    #[command(subcommand)]
    pub action: Option<SweepAction>,
    /// The sweep file (TOML: base, rig, seeds, samples, `[params]`; see the trainer README).
    #[arg(required = true)]
    pub file: Option<PathBuf>,
    /// Sweep folder (default `runs/sweeps/<name>`); re-running the same command resumes it.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Training processes at a time (default: the number of cores); each is single-threaded.
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Write a Slurm job-array script and the manifest instead of running the jobs here.
    #[arg(long)]
    pub slurm: bool,
    /// With --slurm: submit the script with `sbatch`.
    #[arg(long, requires = "slurm")]
    pub submit: bool,
    /// With --slurm: most array tasks at once (`%M`; 0 = no limit).
    #[arg(long, default_value_t = 0, value_name = "M")]
    pub slurm_max_parallel: usize,
    /// With --slurm: wall-time limit per task.
    #[arg(long, default_value = "02:00:00", value_name = "HH:MM:SS")]
    pub slurm_time: String,
    /// With --slurm: memory per task.
    #[arg(long, default_value = "2G", value_name = "SIZE")]
    pub slurm_mem: String,
    /// With --slurm: partition.
    #[arg(long, value_name = "NAME")]
    pub slurm_partition: Option<String>,
}

/// Subcommands of `sweep`.
#[derive(Debug, Subcommand)]
pub enum SweepAction {
    /// Aggregate the finished jobs of a sweep folder: a table per configuration (mean ± 95 %
    /// CI over seeds), report.csv, report.json and learning_curves.png in the folder.
    Report {
        /// The sweep folder.
        dir: PathBuf,
    },
    /// Run (or resume) one job of a sweep folder: what each Slurm array task does.
    #[command(hide = true)]
    Job {
        /// The sweep folder.
        dir: PathBuf,
        /// The job's index in the manifest (the array task id).
        index: usize,
    },
}

/// Arguments of `train`.
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// TOML file with hyperparameters (missing keys take defaults).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Run directory (default `runs/seed<SEED>-<unix time>`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Continue the run in DIR from its last checkpoint (with its saved config).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["config", "out"])]
    pub resume: Option<PathBuf>,
    /// With --resume: continue from the previous checkpoint generation
    /// (`checkpoint.prev.bin`), when the latest one is damaged.
    #[arg(long, requires = "resume")]
    pub from_previous: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Stop after the episode that reaches this many steps, writing a checkpoint (resume later).
    #[arg(long, value_name = "STEPS")]
    pub stop_after: Option<u64>,
    /// Fail (exit code 1) unless the final evaluation mean return of both exported policies
    /// (policy.postcard and policy_final.postcard) reaches this value.
    #[arg(long, value_name = "RETURN", allow_hyphen_values = true)]
    pub require_eval_return: Option<f64>,
    /// Fail (exit code 1) unless `policy.postcard` (the policy to flash) keeps at least this
    /// fraction (0..1) of the final evaluation's episodes upright.
    #[arg(long, value_name = "FRACTION")]
    pub require_success: Option<f64>,
    /// Hyperparameter overrides.
    #[command(flatten)]
    pub overrides: ConfigOverrides,
}

/// Arguments of `eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// Exported weight file (policy-runtime format).
    pub policy_file: PathBuf,
    /// Rig: a preset name (reference, hifi-ideal, realistic, desktop) or a rig file.
    #[arg(long, default_value = "realistic", value_name = "NAME|FILE")]
    pub rig: String,
    /// Number of episodes (per controller; the policy and the baseline see the same ones).
    #[arg(long, default_value_t = 1000)]
    pub episodes: usize,
    /// Evaluation seed (episode i starts from a state drawn with a seed derived from it and i).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Simulated link loss: each step's new command is lost with this probability and the
    /// previous one is held (zero-order hold).
    #[arg(long, default_value_t = 0.0, value_name = "P")]
    pub hold_prob: f64,
    /// Fast starts: every episode starts from θ ~ U(±π), θ̇ ~ U(±RAD_S) instead of the rig's
    /// reset state (which draws θ̇ ~ U(±1)), on the rig's randomised plants: does the controller
    /// brake a rod that is already spinning? At most the rig's velocity range.
    #[arg(long, value_name = "RAD_S", allow_negative_numbers = true)]
    pub fast_start_speed: Option<f64>,
    /// Print one JSON object with all figures instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Per-episode CSV of both controllers (default `<name>.eval-<rig>.csv` in the policy's run
    /// directory when it is one, else in `runs/eval/`).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Also write a PNG of the first episode (policy and baseline): angle, velocity, torque.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    /// Also write a robustness map (success rate and mean return of policy and baseline over a
    /// grid of two rig parameters) as a heatmap PNG.
    #[arg(long, value_name = "FILE")]
    pub map: Option<PathBuf>,
    /// The map's two axes (`mass`, `length`, `damping`, `torque-limit`, `delay`, `lag`,
    /// `friction`, `noise`), comma-separated.
    #[arg(long, default_value = "mass,torque-limit", value_name = "X,Y")]
    pub map_axes: String,
    /// Episodes per map cell.
    #[arg(long, default_value_t = 100)]
    pub map_episodes: usize,
    /// Worker threads (default: all cores; results do not depend on it).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Also compute the optimal-control reference on the same episodes (trajectory
    /// optimisation: dynamic programming + iLQR, see `sim::optimal`) and the paired gap of the
    /// policy and the baseline to it. Needs a deterministic rig (`--rig reference`) and no
    /// `--hold-prob`.
    #[arg(long)]
    pub optimum: bool,
}

/// The number of candle CPU threads a command will use (so `main` can pin them before any
/// tensor operation): the `threads` field of the run's configuration.
pub fn threads_for(cli: &Cli) -> anyhow::Result<usize> {
    Ok(match &cli.command {
        Command::Train(a) => train_config(a)?.threads,
        _ => 1,
    })
}

fn train_config(args: &TrainArgs) -> anyhow::Result<TrainConfig> {
    if let Some(dir) = &args.resume {
        return Ok(crate::checkpoint::Checkpoint::load(dir, args.from_previous)?.config);
    }
    let (mut config, file_keys) = match &args.config {
        Some(path) => TrainConfig::from_toml_file_with_keys(path)?,
        None => (TrainConfig::default(), Vec::new()),
    };
    args.overrides.apply(&mut config);
    let rig = sim::Rig::resolve(&config.rig)?;
    let scale = crate::rig_defaults::RigDefaults::for_rig(&rig);
    let explicit = |f: &str| args.overrides.is_given(f) || file_keys.iter().any(|k| k == f);
    scale.fill(&mut config, explicit);
    config.validate()?;
    Ok(config)
}

/// Runs a parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Train(args) => train(*args),
        Command::Eval(args) => eval_cmd(args),
        Command::PrintConfig => {
            out_raw!("{}", TrainConfig::default().to_toml());
            Ok(())
        }
        Command::Sweep(args) => sweep_cmd(args),
        Command::Quantize(args) => quantize_cmd(args),
    }
}

fn quantize_cmd(args: QuantizeArgs) -> anyhow::Result<()> {
    if args.episodes == 0 || args.episodes > 100_000 {
        bail!("--episodes must be in 1..=100000, got {}", args.episodes);
    }
    let bytes = std::fs::read(&args.policy_file)
        .with_context(|| format!("cannot read {}", args.policy_file.display()))?;
    let rig = sim::Rig::resolve(&args.rig)?;
    let options = crate::quantize::QuantizeOptions {
        rig,
        episodes: args.episodes,
        seed: args.seed,
    };
    let (int8, cal) = crate::quantize::quantize(&bytes, &options)
        .with_context(|| format!("cannot quantise {}", args.policy_file.display()))?;
    let out = args.out.unwrap_or_else(|| {
        let stem = args
            .policy_file
            .file_stem()
            .map_or("policy".into(), |s| s.to_string_lossy().into_owned());
        args.policy_file
            .with_file_name(format!("{stem}-int8.postcard"))
    });
    crate::export::write_atomic(&out, &int8)?;
    out!(
        "calibrated on {} observations ({} episodes, rig `{}`, seed {}): max |x'| {:.3}, max h1 {:.3}, max h2 {:.3}",
        cal.samples,
        args.episodes,
        options.rig.name,
        args.seed,
        cal.input_max,
        cal.hidden_max[0],
        cal.hidden_max[1]
    );
    out!("wrote {} ({} bytes, int8)", out.display(), int8.len());
    Ok(())
}

fn sweep_cmd(args: SweepArgs) -> anyhow::Result<()> {
    use crate::sweep::{SweepFolder, local, slurm};
    let exe = std::env::current_exe().context("cannot find the trainer executable")?;
    match args.action {
        Some(SweepAction::Report { dir }) => return sweep_report(&SweepFolder::open(&dir)?),
        Some(SweepAction::Job { dir, index }) => {
            let folder = SweepFolder::open(&dir)?;
            let Some(job) = folder.manifest.jobs.get(index) else {
                bail!(
                    "job index {index} is outside the sweep's {} jobs",
                    folder.manifest.jobs.len()
                );
            };
            local::run_one(&exe, &folder, job)?;
            out!(
                "job {} finished: {}",
                job.name,
                folder.job_dir(job).display()
            );
            return Ok(());
        }
        None => {}
    }
    let file = args.file.context("a sweep file is needed")?;
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if jobs == 0 || jobs > 1024 {
        bail!("--jobs must be in 1..=1024, got {jobs}");
    }
    let spec = crate::sweep::SweepSpec::from_file(&file)?;
    let out = args
        .out
        .unwrap_or_else(|| Path::new("runs").join("sweeps").join(spec.name_for(&file)));
    let folder = SweepFolder::prepare(&spec, &file, &out)?;
    let (n_cfg, n_jobs) = (folder.manifest.configs.len(), folder.manifest.jobs.len());
    if args.slurm {
        let opts = slurm::SlurmOptions {
            max_parallel: args.slurm_max_parallel,
            time: args.slurm_time,
            mem: args.slurm_mem,
            partition: args.slurm_partition,
        };
        let script = slurm::write_array_script(&folder, &exe, &opts)?;
        out!(
            "sweep `{}`: {n_cfg} configurations × seeds = {n_jobs} jobs in {}",
            folder.manifest.name,
            out.display()
        );
        out!("Slurm job array: {}", script.display());
        if args.submit {
            let st = std::process::Command::new("sbatch")
                .arg(&script)
                .status()
                .context("cannot run sbatch (is Slurm installed?)")?;
            if !st.success() {
                bail!("sbatch {} failed ({st})", script.display());
            }
        } else {
            out!("submit: sbatch {}", script.display());
        }
        out!("then: trainer sweep report {}", out.display());
        return Ok(());
    }
    out!(
        "sweep `{}`: {n_cfg} configurations × seeds = {n_jobs} jobs in {}, {jobs} at a time",
        folder.manifest.name,
        out.display()
    );
    let summary = local::run_all(&exe, &folder, jobs, args.quiet)?;
    out!(
        "{} jobs finished before (kept), {} finished now, {} failed, in {:.1} s",
        summary.already_done,
        summary.finished,
        summary.failed.len(),
        summary.seconds
    );
    sweep_report(&folder)?;
    if !summary.failed.is_empty() {
        let list: Vec<String> = summary.failed.iter().map(|(_, m)| m.clone()).collect();
        return Err(crate::error::TrainError::Sweep(format!(
            "{} of {n_jobs} jobs failed (re-run the same command to retry them):\n{}",
            list.len(),
            list.join("\n")
        ))
        .into());
    }
    Ok(())
}

fn sweep_report(folder: &crate::sweep::SweepFolder) -> anyhow::Result<()> {
    let report = crate::sweep::aggregate(folder)?;
    out_raw!("{}", report.table());
    let written = report.write(folder)?;
    let names: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
    out!("wrote {}", names.join(", "));
    Ok(())
}

fn train(args: TrainArgs) -> anyhow::Result<()> {
    if let Some(r) = args.require_eval_return {
        if !r.is_finite() {
            bail!("--require-eval-return must be a finite number, got {r}");
        }
    }
    if let Some(r) = args.require_success {
        if !(r.is_finite() && (0.0..=1.0).contains(&r)) {
            bail!("--require-success must be a fraction in [0, 1], got {r}");
        }
    }
    let opts = RunOptions {
        quiet: args.quiet,
        stop_after: args.stop_after,
    };
    let mut trainer = match &args.resume {
        Some(dir) => {
            if args.overrides != ConfigOverrides::default() {
                bail!(
                    "--resume continues with the run's saved config ({}); drop the hyperparameter flags",
                    dir.join(crate::train::files::CONFIG).display()
                );
            }
            let t = Trainer::resume_from(dir, args.from_previous)?;
            out!("resuming {} at step {}", dir.display(), t.step());
            t
        }
        None => {
            let config = train_config(&args)?;
            let out = args
                .out
                .clone()
                .unwrap_or_else(|| default_run_dir(config.seed));
            Trainer::new(config, &out)?
        }
    };
    out!(
        "config ({}):\n{}",
        trainer
            .run_dir()
            .join(crate::train::files::CONFIG)
            .display(),
        trainer.config().to_toml()
    );
    if trainer.config().observe_previous_action {
        out!(
            "the policy takes 4 inputs: cos θ, sin θ, θ̇ and the command applied at the previous \
             step (observe_previous_action, on by default for a rig with an actuator delay); \
             firmware that reads its own sensors appends its last command (trainer/README.md)"
        );
    }
    let outcome = trainer.run(&opts)?;
    if !outcome.finished {
        out!(
            "stopped at step {} with a checkpoint; continue with: trainer train --resume {}",
            outcome.step,
            outcome.run_dir.display()
        );
        return Ok(());
    }
    out_raw!("{}", outcome.summary());
    out!(
        "results (config, metrics.csv, eval.csv, learning_curve.png, policies, checkpoint) are in {}",
        outcome.run_dir.display()
    );
    if let Some(required) = args.require_eval_return {
        let mean = outcome
            .worst_mean_return()
            .context("no final evaluation was run (final_eval_episodes = 0)")?;
        if mean < required {
            return Err(crate::error::TrainError::BelowRequired { mean, required }.into());
        }
        out!("required mean return {required:.1} reached ({mean:.1})");
    }
    if let Some(required) = args.require_success {
        let rate = outcome
            .best_eval
            .as_ref()
            .map(|r| r.success_rate)
            .context("no final evaluation was run (final_eval_episodes = 0)")?;
        if rate < required {
            return Err(crate::error::TrainError::SuccessBelowRequired { rate, required }.into());
        }
        out!(
            "required success rate {:.1} % reached ({:.1} %)",
            100.0 * required,
            100.0 * rate
        );
    }
    Ok(())
}

fn default_run_dir(seed: u64) -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Path::new("runs").join(format!("seed{seed}-{secs}"))
}

/// `<name>.eval-<rig>.csv` beside the policy when it sits in a run directory (one with a
/// `config.toml`), else in `runs/eval/` (so evaluating a shipped policy leaves the source tree
/// clean).
fn default_eval_csv(policy: &Path, rig: &str) -> PathBuf {
    let name = policy
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let file = format!("{name}.eval-{rig}.csv");
    match policy.parent() {
        Some(dir) if dir.join(crate::train::files::CONFIG).exists() => dir.join(file),
        _ => Path::new("runs").join("eval").join(file),
    }
}

fn eval_cmd(args: EvalArgs) -> anyhow::Result<()> {
    check_eval_args(&args)?;
    let threads = args.threads.unwrap_or_else(quality::default_threads).max(1);
    let rig = sim::Rig::resolve(&args.rig)?;
    let actor = eval::load_policy_file(&args.policy_file)?;
    eval::check_fits(&actor, &rig)?;
    let baseline = rig.baseline()?;
    let (seed, hold) = (args.seed, args.hold_prob);
    let conditions = eval_conditions(&args, &rig)?;
    let pol = quality::evaluate_in(&rig, &actor, seed, args.episodes, conditions, threads)?;
    let base = quality::evaluate_in(&rig, &baseline, seed, args.episodes, conditions, threads)?;
    let mut cmp = Comparison::of(&rig.name, seed, hold, &pol, &base);
    cmp.fast_start_speed = conditions.fast_start_speed;
    let optimum = if args.optimum {
        let opt = eval_optimum(&args, &rig, threads)?;
        cmp = cmp.with_optimum(&opt, &pol, &base);
        opt
    } else {
        Vec::new()
    };
    let csv = args
        .csv
        .clone()
        .unwrap_or_else(|| default_eval_csv(&args.policy_file, &rig.name));
    if let Some(dir) = csv.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut groups: Vec<(&str, &[quality::EpisodeQuality])> =
        vec![("policy", &pol), ("baseline", &base)];
    if !optimum.is_empty() {
        groups.push(("optimum", &optimum));
    }
    std::fs::write(&csv, quality::episode_rows_csv(&groups))
        .with_context(|| format!("cannot write {}", csv.display()))?;
    if args.json {
        out!("{}", serde_json::to_string_pretty(&cmp)?);
    } else {
        let (shape, precision) = (actor.shape(), actor.precision());
        let starts = conditions.fast_start_speed.map_or(String::new(), |v| {
            format!(", fast starts θ̇ ~ U(±{v} rad/s)")
        });
        out!(
            "{} ({shape}, {precision}) on rig `{}` ({}), {} episodes (seed {}), hold probability {}{starts}",
            args.policy_file.display(),
            rig.name,
            rig.description,
            args.episodes,
            args.seed,
            args.hold_prob
        );
        out_raw!("{}", cmp.table());
        out!("per-episode figures: {}", csv.display());
    }
    if let Some(png) = &args.plot {
        eval_plot(&args, png, &rig, &actor, &baseline)?;
    }
    if let Some(png) = &args.map {
        let axes = crate::robustness::parse_axes(&args.map_axes)?;
        let map = crate::robustness::RobustnessMap::compute(
            &rig,
            &actor,
            &baseline,
            axes,
            args.map_episodes,
            seed,
            threads,
        )?;
        map.plot(png, &args.policy_file.display().to_string())?;
        if !args.json {
            out!("robustness map: {}", png.display());
        }
    }
    Ok(())
}

/// `eval`'s flags that clap cannot check: episode counts, threads, the hold probability.
fn check_eval_args(args: &EvalArgs) -> anyhow::Result<()> {
    let max = crate::config::MAX_EVAL_EPISODES;
    for (flag, n) in [
        ("--episodes", args.episodes),
        ("--map-episodes", args.map_episodes),
    ] {
        if n == 0 || n > max {
            bail!("{flag} must be in 1..={max}, got {n}");
        }
    }
    if args.threads.is_some_and(|t| t == 0 || t > 256) {
        bail!("--threads must be in 1..=256");
    }
    if !(args.hold_prob.is_finite() && (0.0..=1.0).contains(&args.hold_prob)) {
        bail!("--hold-prob must be in [0, 1], got {}", args.hold_prob);
    }
    if args.optimum && args.hold_prob > 0.0 {
        bail!("--optimum needs a deterministic episode: drop --hold-prob");
    }
    if args.optimum && args.fast_start_speed.is_some() {
        bail!("--optimum starts from the rig's resets: drop --fast-start-speed");
    }
    Ok(())
}

/// The episodes' conditions of `eval`: link loss and fast starts, the start speed checked
/// against the rig's velocity range.
fn eval_conditions(args: &EvalArgs, rig: &sim::Rig) -> anyhow::Result<quality::Conditions> {
    if let Some(v) = args.fast_start_speed {
        let range = rig.plant.velocity_range;
        if !(v.is_finite() && v >= 0.0 && v <= range) {
            bail!(
                "--fast-start-speed must be in [0, {range}] rad/s (the velocity range of rig `{}`), got {v}",
                rig.name
            );
        }
    }
    Ok(quality::Conditions {
        hold_prob: args.hold_prob,
        fast_start_speed: args.fast_start_speed,
    })
}

/// `eval --optimum`: the optimal-control reference on the same episodes.
fn eval_optimum(
    args: &EvalArgs,
    rig: &sim::Rig,
    threads: usize,
) -> anyhow::Result<Vec<quality::EpisodeQuality>> {
    let started = std::time::Instant::now();
    let opt = crate::optimum::evaluate_optimum(rig, args.seed, args.episodes, threads)?;
    if !args.json {
        out!(
            "optimum: {} episodes optimised in {:.1} s on {threads} threads",
            args.episodes,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(opt)
}

/// `eval --plot`: the first episode of the policy and of the baseline.
fn eval_plot(
    args: &EvalArgs,
    png: &std::path::Path,
    rig: &sim::Rig,
    actor: &policy_runtime::DynPolicy,
    baseline: &sim::controllers::EnergySwingUp,
) -> anyhow::Result<()> {
    let mut plant = rig.build()?;
    let s0 = quality::episode_seed(args.seed, 0);
    let (mut tp, mut tb) = (EpisodeTrace::default(), EpisodeTrace::default());
    let conditions = eval_conditions(args, rig)?;
    quality::run_episode_in(&mut plant, actor, s0, conditions, &mut tp);
    quality::run_episode_in(&mut plant, baseline, s0, conditions, &mut tb);
    let title = format!("rig `{}`, episode 0 (seed {s0})", rig.name);
    crate::plot::episode(png, &[("policy", &tp), ("swing-up + LQR", &tb)], &title)?;
    if !args.json {
        out!("episode plot: {}", png.display());
    }
    Ok(())
}
