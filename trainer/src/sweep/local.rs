//! Running a sweep's jobs on this machine: one `trainer train` process per job, `jobs` at a
//! time, each single-threaded.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::folder::{JobState, SweepFolder};
use super::spec::Job;
use crate::error::TrainError;

/// What a run of the sweep did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunSummary {
    /// Jobs already finished before this run (kept, not retrained).
    pub already_done: usize,
    /// Jobs this run finished.
    pub finished: usize,
    /// Jobs that failed: (job name, what happened and where its log is).
    pub failed: Vec<(String, String)>,
    /// Wall time of this run \[s\].
    pub seconds: f64,
}

/// The command that runs (or continues) `job` in its run folder.
pub fn job_command(exe: &Path, folder: &SweepFolder, job: &Job) -> Result<Command, TrainError> {
    let dir = folder.job_dir(job);
    let mut cmd = Command::new(exe);
    match folder.state(job) {
        JobState::Resumable => {
            cmd.arg("train").arg("--resume").arg(&dir);
        }
        JobState::Done => {
            return Err(TrainError::Sweep(format!(
                "job {} has finished already ({})",
                job.name,
                dir.display()
            )));
        }
        JobState::Fresh => {
            // Stopped before its first checkpoint: nothing worth keeping.
            if dir.exists() {
                std::fs::remove_dir_all(&dir).map_err(|e| TrainError::io(&dir, e))?;
            }
            cmd.arg("train")
                .arg("--config")
                .arg(folder.job_config(job))
                .arg("--out")
                .arg(&dir);
        }
    }
    // One core per job, its evaluations included: the jobs fill the cores.
    cmd.arg("--quiet")
        .env("RAYON_NUM_THREADS", "1")
        .env(crate::quality::EVAL_THREADS_VAR, "1");
    Ok(cmd)
}

/// Runs one job to its end in a child process (what a Slurm array task does); its output goes
/// to the job's log.
pub fn run_one(exe: &Path, folder: &SweepFolder, job: &Job) -> Result<(), TrainError> {
    if folder.state(job) == JobState::Done {
        return Ok(());
    }
    let mut child = spawn(exe, folder, job)?;
    let status = child
        .wait()
        .map_err(|e| TrainError::io(&folder.job_log(job), e))?;
    if status.success() {
        Ok(())
    } else {
        Err(TrainError::Sweep(failure(folder, job, &status.to_string())))
    }
}

/// Runs every unfinished job, `jobs` at a time, with a progress bar (unless `quiet`). A failed
/// job is reported and does not stop the others.
pub fn run_all(
    exe: &Path,
    folder: &SweepFolder,
    jobs: usize,
    quiet: bool,
) -> Result<RunSummary, TrainError> {
    let started = Instant::now();
    let all = &folder.manifest.jobs;
    let pending: Vec<&Job> = all
        .iter()
        .filter(|j| folder.state(j) != JobState::Done)
        .collect();
    let mut summary = RunSummary {
        already_done: all.len() - pending.len(),
        ..RunSummary::default()
    };
    let bar = progress_bar(all.len(), summary.already_done, quiet);
    let mut queue = pending.into_iter();
    let mut running: Vec<(&Job, Child)> = Vec::new();
    loop {
        while running.len() < jobs.max(1) {
            let Some(job) = queue.next() else { break };
            match spawn(exe, folder, job) {
                Ok(child) => running.push((job, child)),
                Err(e) => summary.failed.push((job.name.clone(), e.to_string())),
            }
        }
        if running.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        running.retain_mut(|(job, child)| match child.try_wait() {
            Ok(None) => true,
            Ok(Some(status)) => {
                if status.success() {
                    summary.finished += 1;
                } else {
                    let msg = failure(folder, job, &status.to_string());
                    bar.println(format!("sweep: {msg}"));
                    summary.failed.push((job.name.clone(), msg));
                }
                bar.inc(1);
                false
            }
            Err(e) => {
                summary.failed.push((job.name.clone(), e.to_string()));
                bar.inc(1);
                false
            }
        });
        bar.set_message(format!(
            "running {}",
            running
                .iter()
                .map(|(j, _)| j.name.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    bar.finish_and_clear();
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

fn progress_bar(total: usize, done: usize, quiet: bool) -> indicatif::ProgressBar {
    if quiet {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} jobs, ETA {eta} {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_position(done as u64);
    bar.reset_eta();
    bar
}

/// Starts `job`'s process with its output in its log; the process dies with this one.
fn spawn(exe: &Path, folder: &SweepFolder, job: &Job) -> Result<Child, TrainError> {
    let log_path = folder.job_log(job);
    let log = std::fs::File::create(&log_path).map_err(|e| TrainError::io(&log_path, e))?;
    let err = log.try_clone().map_err(|e| TrainError::io(&log_path, e))?;
    let mut cmd = job_command(exe, folder, job)?;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(err));
    die_with_parent(&mut cmd);
    cmd.spawn().map_err(|e| TrainError::io(exe, e))
}

/// "job X failed (status): last line of its log (log: path)".
fn failure(folder: &SweepFolder, job: &Job, status: &str) -> String {
    let log = folder.job_log(job);
    let last = std::fs::read_to_string(&log)
        .ok()
        .and_then(|t| {
            t.lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    format!(
        "job {} failed ({status}): {last} (log: {})",
        job.name,
        log.display()
    )
}

/// Makes the kernel kill the child when this process dies, however it dies (a killed sweep
/// leaves no training process behind to race the re-run).
#[allow(unsafe_code)]
fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: `prctl(PR_SET_PDEATHSIG)` is async-signal-safe and touches no memory of the
    // parent; it is the only call between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}
