//! The `trainer` binary: user mistakes give a clear message naming the file and the problem,
//! exit code 1 and no panic; a tiny training run and `eval` work end to end.

use std::path::Path;
use std::process::{Command, Output};

fn trainer(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args(args)
        .current_dir(cwd)
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap()
}

/// `trainer train --quiet --out OUT` with `flags` (short runs for these tests).
fn train(out: &str, flags: &[&str], cwd: &Path) -> Output {
    let mut args = vec!["train", "--quiet", "--out", out];
    args.extend_from_slice(flags);
    trainer(&args, cwd)
}

/// The path of the shipped policy file.
fn shipped_policy() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../policies/pendulum.postcard")
        .to_str()
        .unwrap()
        .to_owned()
}

fn assert_user_error(out: &Output, needles: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
    for n in needles {
        assert!(err.contains(n), "expected {n:?} in: {err}");
    }
}

#[test]
fn user_mistakes_are_named_without_panics() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    assert_user_error(
        &trainer(&["eval", "missing.postcard"], dir),
        &["missing.postcard", "No such file"],
    );
    std::fs::write(dir.join("junk.postcard"), b"not a policy").unwrap();
    assert_user_error(
        &trainer(&["eval", "junk.postcard"], dir),
        &["junk.postcard", "magic"],
    );
    std::fs::write(dir.join("bad.toml"), "gama = 0.9\n").unwrap();
    assert_user_error(
        &trainer(&["train", "--config", "bad.toml"], dir),
        &["bad.toml", "gama"],
    );
    std::fs::write(dir.join("range.toml"), "tau = 0.0\n").unwrap();
    assert_user_error(
        &trainer(&["train", "--config", "range.toml"], dir),
        &["tau", "(0, 1]"],
    );
    assert_user_error(
        &trainer(&["train", "--gamma", "1.5"], dir),
        &["gamma", "[0, 1]"],
    );
    assert_user_error(
        &trainer(&["train", "--require-eval-return", "NaN"], dir),
        &["--require-eval-return", "finite"],
    );
    assert_user_error(
        &trainer(&["train", "--require-success", "2"], dir),
        &["--require-success", "[0, 1]"],
    );
    assert_user_error(
        &trainer(&["train", "--rig", "no-such-rig", "--out", "r"], dir),
        &["no-such-rig", "realistic"],
    );
    assert_user_error(
        &trainer(&["train", "--train-hold-prob", "1.0"], dir),
        &["train_hold_prob"],
    );
    assert_user_error(
        &trainer(&["train", "--config", "none.toml"], dir),
        &["none.toml"],
    );
    assert_user_error(
        &trainer(&["train", "--resume", "norun"], dir),
        &["norun", "checkpoint"],
    );
    // Sizes and counts are bounded before anything is allocated.
    assert_user_error(
        &trainer(
            &["train", "--buffer-capacity", "100000000000", "--out", "r"],
            dir,
        ),
        &["buffer_capacity", "at most 100000000"],
    );
    assert_user_error(
        &trainer(
            &[
                "train",
                "--batch-size",
                "100000000",
                "--buffer-capacity",
                "100000000",
            ],
            dir,
        ),
        &["batch_size", "at most 65536"],
    );
    assert_user_error(
        &trainer(&["train", "--total-steps", "18446744073709551615"], dir),
        &["total_steps", "at most"],
    );
    assert_user_error(
        &trainer(
            &["eval", "missing.postcard", "--episodes", "4294967296000"],
            dir,
        ),
        &["--episodes", "1..="],
    );
    assert!(
        !dir.join("r").exists(),
        "nothing is created on a refused run"
    );
    // Malformed flags are clap's usage errors (exit code 2), not panics.
    let out = trainer(&["train", "--batch-size", "many"], dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--batch-size"));
}

#[test]
fn tiny_train_then_eval_with_plot() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let flags = [
        "--total-steps",
        "400",
        "--learning-starts",
        "200",
        "--eval-every",
        "200",
        "--eval-episodes",
        "1",
        "--final-eval-episodes",
        "2",
        "--require-eval-return",
        "-100000",
    ];
    let out = train("run", &flags, dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The config is printed at start; the end says where the results are and how they did.
    assert!(stdout.contains("total_steps = 400"), "{stdout}");
    assert!(stdout.contains("policy.postcard: mean return"), "{stdout}");
    assert!(stdout.contains("required mean return"), "{stdout}");
    let out = trainer(
        &[
            "eval",
            "run/policy.postcard",
            "--episodes",
            "3",
            "--plot",
            "ep.png",
        ],
        dir,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("3-64-64-1") && stdout.contains("mean return"),
        "{stdout}"
    );
    assert!(dir.join("ep.png").exists());
    // The default rig is `realistic`; the CSV holds the policy's and the baseline's episodes.
    let csv = std::fs::read_to_string(dir.join("run/policy.postcard.eval-realistic.csv")).unwrap();
    assert_eq!(csv.lines().count(), 7);
    // A policy outside a run directory: the CSV goes to runs/eval/, not beside the policy.
    std::fs::copy(dir.join("run/policy.postcard"), dir.join("loose.postcard")).unwrap();
    let out = trainer(&["eval", "loose.postcard", "--episodes", "2"], dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        dir.join("runs/eval/loose.postcard.eval-realistic.csv")
            .exists()
    );
    assert!(!dir.join("loose.postcard.eval-realistic.csv").exists());
    assert!(stdout.contains("swing-up + LQR") && stdout.contains("success rate"));
    // Quantised to int8 next to the f32 file; the int8 file evaluates like any policy file,
    // and its actions stay close to the f32 policy's on the calibration rig.
    let out = trainer(&["quantize", "run/policy.postcard", "--episodes", "3"], dir);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("calibrated on 600 observations"), "{text}");
    let int8 = std::fs::read(dir.join("run/policy-int8.postcard")).unwrap();
    let f32_file = std::fs::read(dir.join("run/policy.postcard")).unwrap();
    assert_eq!(&int8[..4], b"PLQ8");
    assert!(int8.len() * 2 < f32_file.len());
    let (p8, p32) = (
        policy_runtime::DynPolicy::from_bytes(&int8).unwrap(),
        policy_runtime::DynPolicy::from_bytes(&f32_file).unwrap(),
    );
    let mut worst = 0.0f32;
    for k in 0..200 {
        let th = k as f32 * 0.0314;
        let obs = [th.cos(), th.sin(), (k % 17) as f32 * 0.5 - 4.0];
        let (mut a, mut b) = ([0.0f32], [0.0f32]);
        p8.act(&obs, &mut a).unwrap();
        p32.act(&obs, &mut b).unwrap();
        worst = worst.max((a[0] - b[0]).abs());
    }
    assert!(
        worst < 0.1,
        "int8 and f32 actions differ by up to {worst} N·m"
    );
    let out = trainer(
        &["eval", "run/policy-int8.postcard", "--episodes", "2"],
        dir,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("success rate"));
    let out = trainer(&["quantize", "run/policy-int8.postcard"], dir);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("int8 weight file"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // --json: one object with the documented keys.
    let out = trainer(
        &[
            "eval",
            "run/policy.postcard",
            "--rig",
            "reference",
            "--episodes",
            "4",
            "--hold-prob",
            "0.5",
            "--json",
            "--map",
            "map.png",
            "--map-episodes",
            "1",
        ],
        dir,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["rig"], "reference");
    assert_eq!(j["episodes"], 4);
    for who in ["policy", "baseline"] {
        for key in [
            "mean_return",
            "stderr_return",
            "worst_return",
            "success_rate",
            "steady_state_abs_theta",
            "settling_steps",
            "chatter",
        ] {
            assert!(j[who].get(key).is_some(), "{who}.{key} missing: {j}");
        }
    }
    assert!(j["paired_diff_mean"].is_number() && j["paired_diff_stderr"].is_number());
    assert!(dir.join("map.png").exists() && dir.join("map.csv").exists());
    assert_eq!(
        std::fs::read_to_string(dir.join("map.csv"))
            .unwrap()
            .lines()
            .count(),
        1 + 49
    );
    // Bad rigs are refused with the problem named.
    let out = trainer(&["eval", "run/policy.postcard", "--rig", "nosuch"], dir);
    assert_user_error(&out, &["nosuch", "realistic", "desktop"]);
    std::fs::write(
        dir.join("typo.toml"),
        "model = \"hifi\"\n[plant]\nmas = 1.0\n",
    )
    .unwrap();
    let out = trainer(&["eval", "run/policy.postcard", "--rig", "typo.toml"], dir);
    assert_user_error(&out, &["mas"]);
    std::fs::write(dir.join("neg.toml"), "[plant]\nlength = -1.0\n").unwrap();
    let out = trainer(&["eval", "run/policy.postcard", "--rig", "neg.toml"], dir);
    assert_user_error(&out, &["length", "-1"]);
    let out = trainer(&["eval", "run/policy.postcard", "--hold-prob", "1.5"], dir);
    assert_user_error(&out, &["--hold-prob"]);
    // An unreachable requirement fails the run with a clear message.
    let flags = [
        "--total-steps",
        "200",
        "--eval-every",
        "0",
        "--final-eval-episodes",
        "1",
        "--require-eval-return",
        "0",
    ];
    let out = train("run2", &flags, dir);
    assert_user_error(&out, &["below the required"]);
}

/// A corrupted checkpoint is refused by name, the exported policy is never overwritten from
/// it, and the previous generation resumes to the same result.
#[test]
fn corrupt_checkpoint_is_refused_and_nothing_exported_from_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let flags = [
        "--rig",
        "reference",
        "--total-steps",
        "600",
        "--learning-starts",
        "200",
        "--checkpoint-every",
        "200",
        "--eval-every",
        "200",
        "--eval-episodes",
        "1",
        "--final-eval-episodes",
        "2",
    ];
    let out = train("run", &flags, dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = dir.join("run");
    let read = |f: &str| std::fs::read(run.join(f)).unwrap();
    let (policy, last) = (read("policy.postcard"), read("policy_final.postcard"));
    // One bit flipped in the middle of the body (network weights, replay buffer, ...).
    let mut ck = read("checkpoint.bin");
    let at = ck.len() / 3;
    ck[at] ^= 0x04;
    std::fs::write(run.join("checkpoint.bin"), &ck).unwrap();
    assert_user_error(
        &trainer(&["train", "--quiet", "--resume", "run"], dir),
        &[
            "checkpoint.bin",
            "checksum mismatch",
            "checkpoint.prev.bin",
            "--from-previous",
        ],
    );
    assert_eq!(read("policy.postcard"), policy);
    assert_eq!(read("policy_final.postcard"), last);
    // The previous generation (step 400) verifies; training from it ends where the run did.
    let out = trainer(
        &["train", "--quiet", "--resume", "run", "--from-previous"],
        dir,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(read("policy.postcard"), policy);
    assert_eq!(read("policy_final.postcard"), last);
}

/// `eval --optimum`: the optimal-control reference on the same episodes, in the table and the
/// JSON; refused where it is undefined (a noisy or randomised rig, link losses).
#[test]
fn eval_optimum_reports_the_paired_gap_and_refuses_nondeterministic_episodes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let policy = shipped_policy();
    let policy = policy.as_str();
    let csv = dir.join("eval.csv");
    let out = trainer(
        &[
            "eval",
            policy,
            "--rig",
            "reference",
            "--optimum",
            "--episodes",
            "12",
            "--json",
            "--csv",
            csv.to_str().unwrap(),
        ],
        dir,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let opt = &v["optimum"];
    let gap = &opt["policy_gap"];
    // The optimiser is at least as good as the policy on every episode, and strictly better
    // on average (the shipped policy is several points from the optimum).
    assert_eq!(gap["controller_better"], 0, "{text}");
    assert!(gap["mean"].as_f64().unwrap() > 0.5, "{text}");
    assert_eq!(opt["baseline_gap"]["controller_better"], 0, "{text}");
    let opt_mean = opt["summary"]["mean_return"].as_f64().unwrap();
    let pol_mean = v["policy"]["mean_return"].as_f64().unwrap();
    let gap_mean = gap["mean"].as_f64().unwrap();
    assert!((opt_mean - pol_mean - gap_mean).abs() < 1e-6, "{text}");
    let rows = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(
        rows.lines().filter(|l| l.starts_with("optimum,")).count(),
        12
    );

    assert_user_error(
        &trainer(&["eval", policy, "--optimum", "--episodes", "2"], dir),
        &["realistic", "model = \"reference\""],
    );
    assert_user_error(
        &trainer(
            &[
                "eval",
                policy,
                "--rig",
                "reference",
                "--optimum",
                "--hold-prob",
                "0.1",
            ],
            dir,
        ),
        &["--optimum", "--hold-prob"],
    );
}

#[test]
fn eval_fast_starts_are_reported_and_checked_against_the_velocity_range() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let policy = shipped_policy();
    let policy = policy.as_str();
    let csv = dir.join("eval.csv");
    let csv = csv.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["eval", policy, "--episodes", "6", "--json", "--csv", csv];
        args.extend_from_slice(extra);
        let out = trainer(&args, dir);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let nominal = run(&[]);
    assert!(nominal.get("fast_start_speed").is_none(), "{nominal}");
    let fast = run(&["--fast-start-speed", "8"]);
    assert_eq!(fast["fast_start_speed"], 8.0, "{fast}");
    // Other starts, other episodes: the baseline's returns differ from the nominal ones.
    assert_ne!(
        fast["baseline"]["mean_return"], nominal["baseline"]["mean_return"],
        "{fast}"
    );
    // Beyond the rig's velocity range (8 rad/s on `realistic`), negative or NaN: refused.
    for bad in ["8.5", "-1", "NaN"] {
        let out = trainer(&["eval", policy, "--fast-start-speed", bad], dir);
        assert_user_error(&out, &["--fast-start-speed", "8"]);
    }
    let out = trainer(
        &[
            "eval",
            policy,
            "--rig",
            "reference",
            "--optimum",
            "--fast-start-speed",
            "4",
        ],
        dir,
    );
    assert_user_error(&out, &["--optimum", "--fast-start-speed"]);
}

/// A tiny sweep file: 2 configurations × 2 seeds of 1,200-step runs.
fn tiny_sweep(dir: &Path, extra: &str) -> std::path::PathBuf {
    let path = dir.join("tiny.toml");
    std::fs::write(
        &path,
        format!(
            "seeds = [0, 1]\n{extra}\n[params]\nactor_lr = [1e-3, 3e-4]\ntotal_steps = [1200]\n\
             checkpoint_every = [400]\neval_every = [400]\neval_episodes = [5]\n\
             final_eval_episodes = [20]\n"
        ),
    )
    .unwrap();
    path
}

/// Processes whose command line mentions `needle`.
fn processes_mentioning(needle: &str) -> Vec<u32> {
    let mut pids = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline"))
            && String::from_utf8_lossy(&cmd).contains(needle)
        {
            pids.push(pid);
        }
    }
    pids
}

/// Killing a sweep midway leaves no training process behind; re-running the same command
/// keeps the finished jobs as they are and completes the rest; the report covers every job.
#[test]
fn a_killed_sweep_resumes_without_retraining_finished_jobs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let spec = tiny_sweep(dir, "");
    let out = dir.join("sw");
    let args = [
        "sweep",
        spec.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--jobs",
        "2",
        "--quiet",
    ];
    let mut sweep = Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let jobs = out.join("jobs");
    let finished = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(&jobs)
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.join("summary.txt").exists())
                    .collect()
            })
            .unwrap_or_default()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    while finished().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "no job finished in time"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    sweep.kill().unwrap();
    sweep.wait().unwrap();
    // Its training processes die with it (parent-death signal).
    let needle = out.to_str().unwrap().to_string();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !processes_mentioning(&needle).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "training processes survived the sweep: {:?}",
            processes_mentioning(&needle)
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // Counted only now: a job on its last write when the sweep was killed may still finish
    // before the parent-death signal reaches it.
    let done_before = finished();
    assert!(
        done_before.len() < 4,
        "the sweep finished before it was killed"
    );
    let stamp = |p: &Path| {
        let f = p.join("policy.postcard");
        (
            std::fs::metadata(&f).unwrap().modified().unwrap(),
            std::fs::read(&f).unwrap(),
        )
    };
    let before: Vec<_> = done_before.iter().map(|p| stamp(p)).collect();

    let rerun = trainer(&args, dir);
    let text = String::from_utf8_lossy(&rerun.stdout);
    assert!(
        rerun.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    assert!(
        text.contains(&format!(
            "{} jobs finished before (kept)",
            done_before.len()
        )),
        "{text}"
    );
    assert_eq!(finished().len(), 4, "{text}");
    for (p, b) in done_before.iter().zip(&before) {
        assert_eq!(&stamp(p), b, "{} was retrained", p.display());
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["jobs_done"], 4);
    for c in report["configs"].as_array().unwrap() {
        assert_eq!(c["seeds_done"].as_array().unwrap().len(), 2, "{report}");
        assert!(c["mean_return"]["ci95"].as_f64().is_some(), "{report}");
    }
    assert!(out.join("learning_curves.png").exists() && out.join("report.csv").exists());
}

/// Sweep-file mistakes are named; the Slurm path writes a job array whose tasks run the jobs;
/// a folder holding another sweep is not mixed with a new one.
#[test]
fn sweep_files_are_checked_and_slurm_arrays_run_the_manifest_jobs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(
        dir.join("bad.toml"),
        "seeds = [0]\n[params]\nactr_lr = [1e-3]\n",
    )
    .unwrap();
    assert_user_error(
        &trainer(&["sweep", "bad.toml", "--out", "b"], dir),
        &["actr_lr", "unknown config field"],
    );
    std::fs::write(dir.join("bad2.toml"), "seeds = [0]\ncolour = 1\n").unwrap();
    assert_user_error(
        &trainer(&["sweep", "bad2.toml", "--out", "b"], dir),
        &["colour"],
    );
    std::fs::write(
        dir.join("bad3.toml"),
        "seeds = [0]\n[params]\nbatch_size = [0]\n",
    )
    .unwrap();
    assert_user_error(
        &trainer(&["sweep", "bad3.toml", "--out", "b"], dir),
        &["batch_size"],
    );
    let spec = tiny_sweep(dir, "name = \"tiny\"");
    let out = trainer(
        &[
            "sweep",
            spec.to_str().unwrap(),
            "--out",
            "s",
            "--slurm",
            "--slurm-max-parallel",
            "2",
        ],
        dir,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let script = std::fs::read_to_string(dir.join("s/slurm/array.sh")).unwrap();
    assert!(script.contains("#SBATCH --array=0-3%2"), "{script}");
    assert!(script.contains("sweep job"), "{script}");
    // An array task: job 2 (configuration 1, seed 0).
    let task = trainer(&["sweep", "job", "s", "2"], dir);
    assert!(
        task.status.success(),
        "{}",
        String::from_utf8_lossy(&task.stderr)
    );
    assert!(dir.join("s/jobs/cfg001-seed0/summary.txt").exists());
    let report = trainer(&["sweep", "report", "s"], dir);
    let text = String::from_utf8_lossy(&report.stdout);
    assert!(
        report.status.success() && text.contains("1/4 jobs finished"),
        "{text}"
    );
    assert_user_error(
        &trainer(&["sweep", "job", "s", "4"], dir),
        &["job index 4", "4 jobs"],
    );
    // The same folder for a different sweep is refused.
    std::fs::write(dir.join("other.toml"), "seeds = [5]\n").unwrap();
    assert_user_error(
        &trainer(&["sweep", "other.toml", "--out", "s", "--slurm"], dir),
        &["holds another sweep"],
    );
}

/// A job killed from outside is reported as failed, with its status and log, and the other jobs
/// still run; the sweep exits with status 1; the same command then retries only that job.
#[test]
fn a_failed_job_is_reported_and_does_not_stop_the_others() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // Like `tiny_sweep`, with a first job long enough to be caught running.
    let spec = dir.join("fail.toml");
    std::fs::write(
        &spec,
        "seeds = [0, 1]\n[params]\nactor_lr = [1e-3, 3e-4]\ntotal_steps = [4000]\n\
         checkpoint_every = [1000]\neval_every = [1000]\neval_episodes = [5]\n\
         final_eval_episodes = [20]\n",
    )
    .unwrap();
    let out = dir.join("sw");
    let args = [
        "sweep",
        spec.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--jobs",
        "1",
        "--quiet",
    ];
    let sweep = Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Kill the first training process (job cfg000-seed0) as soon as it runs.
    let needle = out.join("configs").join("cfg000-seed0.toml");
    let needle = needle.to_str().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let victim = loop {
        if let Some(&pid) = processes_mentioning(needle).first() {
            break pid;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the first job never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let killed = Command::new("kill")
        .args(["-9", &victim.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let result = sweep.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&result.stdout),
        String::from_utf8_lossy(&result.stderr),
    );
    assert_eq!(result.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("1 of 4 jobs failed") && stderr.contains("job cfg000-seed0 failed"),
        "{stderr}"
    );
    assert!(stderr.contains("signal: 9"), "{stderr}");
    assert!(stdout.contains("3 finished now, 1 failed"), "{stdout}");
    assert!(
        stdout.contains("3/4 jobs finished"),
        "the report covers the others: {stdout}"
    );
    let rerun = trainer(&args, dir);
    let text = String::from_utf8_lossy(&rerun.stdout);
    assert!(rerun.status.success(), "{text}");
    assert!(
        text.contains("3 jobs finished before (kept), 1 finished now, 0 failed"),
        "{text}"
    );
}

/// `config.toml` of the run in `dir/out` after `trainer train` with `flags`, stopped after the
/// first episode.
fn started_config(dir: &Path, out: &str, flags: &[&str]) -> String {
    let mut all = vec!["--stop-after", "1"];
    all.extend_from_slice(flags);
    let run = train(out, &all, dir);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    std::fs::read_to_string(dir.join(out).join("config.toml")).unwrap()
}

#[test]
fn gamma_run_length_and_the_previous_action_input_follow_the_rig_unless_the_user_sets_them() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let has = |config: &str, line: &str| {
        assert!(
            config.lines().any(|l| l == line),
            "{line:?} not in:\n{config}"
        );
    };
    // The 20 Hz realistic rig: the documented defaults.
    let c = started_config(dir, "realistic", &[]);
    has(&c, "gamma = 0.99");
    has(&c, "total_steps = 120000");
    // desktop: 100 Hz, 400-step episodes.
    let c = started_config(dir, "desktop", &["--rig", "desktop"]);
    has(&c, "gamma = 0.995");
    has(&c, "total_steps = 300000");
    // A flag wins.
    let c = started_config(dir, "flag", &["--rig", "desktop", "--total-steps", "800"]);
    has(&c, "gamma = 0.995");
    has(&c, "total_steps = 800");
    // So does a config file, also when it names the rig.
    std::fs::write(dir.join("c.toml"), "gamma = 0.99\nrig = \"desktop\"\n").unwrap();
    let c = started_config(dir, "file", &["--config", "c.toml"]);
    has(&c, "gamma = 0.99");
    has(&c, "total_steps = 300000");
    // A rig with an actuator delay: the previous action becomes an input, unless set off.
    let c = started_config(dir, "no-delay", &[]);
    has(&c, "observe_previous_action = false");
    let lab = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rigs/examples/lab-50hz-delay.toml");
    let lab = lab.to_str().unwrap();
    let c = started_config(dir, "delay", &["--rig", lab]);
    has(&c, "observe_previous_action = true");
    let run = train("delay-said", &["--stop-after", "1", "--rig", lab], dir);
    let said = String::from_utf8_lossy(&run.stdout);
    assert!(said.contains("the policy takes 4 inputs"), "{said}");
    let off = ["--rig", lab, "--observe-previous-action", "false"];
    let c = started_config(dir, "delay-flag", &off);
    has(&c, "observe_previous_action = false");
    std::fs::write(
        dir.join("d.toml"),
        format!("observe_previous_action = false\nrig = {lab:?}\n"),
    )
    .unwrap();
    let c = started_config(dir, "delay-file", &["--config", "d.toml"]);
    has(&c, "observe_previous_action = false");
}
