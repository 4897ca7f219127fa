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
    let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/pendulum.postcard");
    let policy = policy.to_str().unwrap();
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
