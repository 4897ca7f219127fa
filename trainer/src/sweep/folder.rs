//! The sweep folder: what a sweep is (its manifest) and where each job's files are.
//!
//! ```text
//! <sweep>/sweep.toml          the sweep file as given (copy)
//! <sweep>/manifest.toml       configurations and jobs (the Slurm array's index → job)
//! <sweep>/configs/<job>.toml  each job's full training configuration
//! <sweep>/jobs/<job>/         each job's run folder (what `trainer train --out` writes)
//! <sweep>/logs/<job>.log      each job's output
//! <sweep>/report.{csv,json}, learning_curves.png   the aggregate (`trainer sweep report`)
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::spec::{ConfigPoint, Job, SweepSpec};
use crate::error::TrainError;
use crate::train::files;

/// The manifest: everything needed to run or aggregate any job, from any machine that sees
/// the folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The sweep's name.
    pub name: String,
    /// The configurations.
    pub configs: Vec<ConfigPoint>,
    /// The jobs (index = Slurm array index).
    pub jobs: Vec<Job>,
}

/// A sweep folder with its manifest.
#[derive(Debug, Clone)]
pub struct SweepFolder {
    /// The folder.
    pub root: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Finished: its run folder has `summary.txt` (written last).
    Done,
    /// Started and checkpointed: continue with `train --resume`.
    Resumable,
    /// Not started, or stopped before its first checkpoint: start (again) from scratch.
    Fresh,
}

impl SweepFolder {
    /// Creates (or re-opens) the folder for `spec` read from `spec_path`. Re-opening checks
    /// that the folder holds this very sweep (same configurations, seeds and job configs);
    /// anything else is refused rather than mixed.
    pub fn prepare(spec: &SweepSpec, spec_path: &Path, root: &Path) -> Result<Self, TrainError> {
        let dir = spec_path.parent().unwrap_or(Path::new("."));
        let base = spec.base_config(dir)?;
        let configs = spec.configs(&base)?;
        let jobs = spec.jobs(&configs)?;
        let name = spec.name_for(spec_path);
        let manifest = Manifest {
            name,
            configs,
            jobs,
        };
        let folder = Self {
            root: root.to_path_buf(),
            manifest,
        };
        let job_configs: Vec<String> = folder
            .manifest
            .jobs
            .iter()
            .map(|j| {
                folder.manifest.configs[j.config]
                    .config(&base, j.seed)
                    .map(|c| c.to_toml())
            })
            .collect::<Result<_, _>>()?;
        let manifest_path = root.join("manifest.toml");
        if manifest_path.exists() {
            let old = Self::open(root)?;
            let same_configs = folder
                .manifest
                .jobs
                .iter()
                .zip(&job_configs)
                .all(|(j, text)| {
                    std::fs::read_to_string(folder.job_config(j)).is_ok_and(|t| &t == text)
                });
            if old.manifest != folder.manifest || !same_configs {
                return Err(TrainError::Sweep(format!(
                    "{} holds another sweep (its configurations or seeds differ from {}); \
                     choose another --out",
                    root.display(),
                    spec_path.display()
                )));
            }
            return Ok(folder);
        }
        for sub in ["configs", "jobs", "logs"] {
            let d = root.join(sub);
            std::fs::create_dir_all(&d).map_err(|e| TrainError::io(&d, e))?;
        }
        for (j, text) in folder.manifest.jobs.iter().zip(&job_configs) {
            write(&folder.job_config(j), text.as_bytes())?;
        }
        let spec_copy = root.join("sweep.toml");
        std::fs::copy(spec_path, &spec_copy).map_err(|e| TrainError::io(&spec_copy, e))?;
        let text = toml::to_string(&folder.manifest)
            .map_err(|e| TrainError::Sweep(format!("manifest: {e}")))?;
        write(&manifest_path, text.as_bytes())?;
        Ok(folder)
    }

    /// Opens an existing sweep folder.
    pub fn open(root: &Path) -> Result<Self, TrainError> {
        let path = root.join("manifest.toml");
        let text = std::fs::read_to_string(&path).map_err(|e| TrainError::io(&path, e))?;
        let manifest = toml::from_str(&text)
            .map_err(|e| TrainError::Sweep(format!("{}: {e}", path.display())))?;
        Ok(Self {
            root: root.to_path_buf(),
            manifest,
        })
    }

    /// The job's training configuration file.
    pub fn job_config(&self, job: &Job) -> PathBuf {
        self.root.join("configs").join(format!("{}.toml", job.name))
    }

    /// The job's run folder.
    pub fn job_dir(&self, job: &Job) -> PathBuf {
        self.root.join("jobs").join(&job.name)
    }

    /// The job's log file.
    pub fn job_log(&self, job: &Job) -> PathBuf {
        self.root.join("logs").join(format!("{}.log", job.name))
    }

    /// Where `job` stands.
    pub fn state(&self, job: &Job) -> JobState {
        let dir = self.job_dir(job);
        if dir.join(files::SUMMARY).exists() {
            JobState::Done
        } else if dir.join(crate::checkpoint::CHECKPOINT_FILE).exists() {
            JobState::Resumable
        } else {
            JobState::Fresh
        }
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    std::fs::write(path, bytes).map_err(|e| TrainError::io(path, e))
}
