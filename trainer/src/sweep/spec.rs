//! The sweep file: a base configuration, a rig, seeds, and a grid or random sample over any
//! [`TrainConfig`] fields; expanded into configurations and jobs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::config::TrainConfig;
use crate::error::TrainError;
use crate::rig_defaults::RigDefaults;

/// Most jobs one sweep may have (configurations × seeds).
pub const MAX_JOBS: usize = 100_000;

/// A sweep file (TOML); see the trainer README's "Sweeps" section.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SweepSpec {
    /// Name (default: the file's stem); the default sweep folder is `runs/sweeps/<name>`.
    #[serde(default)]
    pub name: Option<String>,
    /// Base configuration file (relative to the sweep file); defaults when absent.
    #[serde(default)]
    pub base: Option<PathBuf>,
    /// Rig to train on (a preset or a rig file relative to the sweep file); the base's when
    /// absent.
    #[serde(default)]
    pub rig: Option<String>,
    /// Seeds: a list `[0, 1, 2]` or a range `{ range = [0, 5] }` (end excluded).
    pub seeds: Seeds,
    /// Random search: how many configurations to draw (needs at least one distribution in
    /// `params`; each is combined with every grid point).
    #[serde(default)]
    pub samples: Option<usize>,
    /// Seed of the random search's draws.
    #[serde(default)]
    pub sample_seed: u64,
    /// Config fields to vary: an array is a grid axis, a table `{ uniform = [lo, hi] }`,
    /// `{ log_uniform = [lo, hi] }` or `{ choice = [...] }` a random-search distribution.
    #[serde(default)]
    pub params: BTreeMap<String, Param>,
}

/// The seeds of a sweep.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Seeds {
    /// These seeds.
    List(Vec<u64>),
    /// `range = [start, end)`.
    Range {
        /// Start (included) and end (excluded).
        range: [u64; 2],
    },
}

impl Seeds {
    /// The seeds, in order.
    pub fn list(&self) -> Vec<u64> {
        match self {
            Seeds::List(v) => v.clone(),
            Seeds::Range { range } => (range[0]..range[1]).collect(),
        }
    }
}

/// How one config field varies.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Param {
    /// Grid axis: each value in turn.
    Grid(Vec<toml::Value>),
    /// Random-search distribution.
    Random(Distribution),
}

/// A random-search distribution.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum Distribution {
    /// Uniform on `[lo, hi]` (an integer field draws integers, both ends included).
    Uniform([f64; 2]),
    /// `exp` of uniform on `[ln lo, ln hi]` (lo > 0).
    LogUniform([f64; 2]),
    /// One of these values, equally likely.
    Choice(Vec<toml::Value>),
}

/// One configuration of a sweep: the values it sets and the resulting config (seed not set).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigPoint {
    /// Index in the sweep (`cfg<index>` in folder names).
    pub index: usize,
    /// `field=value` pairs, comma-separated (the report's row name).
    pub label: String,
    /// The fields this point sets, as TOML values.
    pub values: BTreeMap<String, toml::Value>,
}

/// One training run of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Index in the sweep (the Slurm array index).
    pub index: usize,
    /// Index of its configuration.
    pub config: usize,
    /// Its seed.
    pub seed: u64,
    /// Its run folder's name under `<sweep>/jobs/`.
    pub name: String,
}

impl SweepSpec {
    /// Reads and parses a sweep file.
    pub fn from_file(path: &Path) -> Result<Self, TrainError> {
        let text = std::fs::read_to_string(path).map_err(|e| TrainError::io(path, e))?;
        toml::from_str(&text).map_err(|e| {
            TrainError::Sweep(format!("{}: {}", path.display(), e.to_string().trim_end()))
        })
    }

    /// The sweep's name: `name`, else the stem of the sweep file at `path`.
    pub fn name_for(&self, path: &Path) -> String {
        self.name.clone().unwrap_or_else(|| {
            path.file_stem()
                .map_or("sweep".into(), |s| s.to_string_lossy().into_owned())
        })
    }

    /// The base configuration with the spec's rig (relative paths resolved against `dir`, the
    /// sweep file's folder). `gamma` and `total_steps`, when neither the base file nor
    /// `[params]` sets them, take the rig's time-scale defaults ([`RigDefaults`]) of this rig;
    /// a sweep whose `[params]` vary `rig` should set both.
    pub fn base_config(&self, dir: &Path) -> Result<TrainConfig, TrainError> {
        let (mut config, base_keys) = match &self.base {
            Some(p) => TrainConfig::from_toml_file_with_keys(&dir.join(p))?,
            None => (TrainConfig::default(), Vec::new()),
        };
        if let Some(rig) = &self.rig {
            let as_file = dir.join(rig);
            config.rig = if sim::Rig::preset(rig).is_none() && as_file.exists() {
                as_file.display().to_string()
            } else {
                rig.clone()
            };
        }
        // The rig's time-scale defaults for what neither the base nor [params] sets.
        let rig = sim::Rig::resolve(&config.rig)?;
        let explicit = |f: &str| base_keys.iter().any(|k| k == f) || self.params.contains_key(f);
        RigDefaults::for_rig(&rig).fill(&mut config, explicit);
        // One thread per job: jobs, not threads, use the cores.
        config.threads = 1;
        Ok(config)
    }

    /// The configurations: every grid point, each with `samples` random draws when the spec
    /// has distributions. Unknown fields and values the config refuses are errors naming the
    /// field.
    pub fn configs(&self, base: &TrainConfig) -> Result<Vec<ConfigPoint>, TrainError> {
        let base_table = config_table(base);
        for name in self.params.keys() {
            if !base_table.contains_key(name) {
                return Err(TrainError::Sweep(format!(
                    "unknown config field `{name}` in [params] (see `trainer print-config` for the fields)"
                )));
            }
            if name == "seed" {
                return Err(TrainError::Sweep(
                    "`seed` cannot be a parameter: list the seeds in `seeds`".into(),
                ));
            }
        }
        let grid = self.grid_points()?;
        let random: Vec<(&String, &Distribution)> = self
            .params
            .iter()
            .filter_map(|(k, p)| match p {
                Param::Random(d) => Some((k, d)),
                Param::Grid(_) => None,
            })
            .collect();
        let samples = match (random.is_empty(), self.samples) {
            (true, None) => 1,
            (true, Some(_)) => {
                return Err(TrainError::Sweep(
                    "`samples` is set but no parameter has a distribution".into(),
                ));
            }
            (false, None | Some(0)) => {
                return Err(TrainError::Sweep(
                    "random-search parameters need `samples` (how many draws)".into(),
                ));
            }
            (false, Some(n)) => n,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(self.sample_seed);
        let mut points = Vec::new();
        for _ in 0..samples {
            let mut draw = BTreeMap::new();
            for (name, dist) in &random {
                draw.insert(
                    (*name).clone(),
                    sample(name, dist, &base_table[*name], &mut rng)?,
                );
            }
            for g in &grid {
                let mut values = g.clone();
                values.extend(draw.clone());
                points.push(values);
            }
        }
        // Labels name only the fields that differ between configurations.
        let varying: Vec<&String> = self
            .params
            .keys()
            .filter(|k| points.iter().any(|p| p.get(*k) != points[0].get(*k)))
            .collect();
        let configs: Vec<ConfigPoint> = points
            .into_iter()
            .enumerate()
            .map(|(index, values)| ConfigPoint {
                index,
                label: label(&values, &varying),
                values,
            })
            .collect();
        for c in &configs {
            c.config(base, 0)?;
        }
        Ok(configs)
    }

    /// The cartesian product of the grid axes (one empty point without axes).
    fn grid_points(&self) -> Result<Vec<BTreeMap<String, toml::Value>>, TrainError> {
        let mut points = vec![BTreeMap::new()];
        for (name, param) in &self.params {
            let Param::Grid(values) = param else { continue };
            if values.is_empty() {
                return Err(TrainError::Sweep(format!(
                    "`{name}` has an empty list of values"
                )));
            }
            points = points
                .into_iter()
                .flat_map(|p| {
                    values.iter().map(move |v| {
                        let mut q = p.clone();
                        q.insert(name.clone(), v.clone());
                        q
                    })
                })
                .collect();
        }
        Ok(points)
    }

    /// Every job: each configuration with each seed, configuration-major.
    pub fn jobs(&self, configs: &[ConfigPoint]) -> Result<Vec<Job>, TrainError> {
        let seeds = self.seeds.list();
        if seeds.is_empty() {
            return Err(TrainError::Sweep("`seeds` is empty".into()));
        }
        let n = configs.len().saturating_mul(seeds.len());
        if n > MAX_JOBS {
            return Err(TrainError::Sweep(format!(
                "{n} jobs ({} configurations × {} seeds); at most {MAX_JOBS}",
                configs.len(),
                seeds.len()
            )));
        }
        let mut jobs = Vec::with_capacity(n);
        for c in configs {
            for &seed in &seeds {
                jobs.push(Job {
                    index: jobs.len(),
                    config: c.index,
                    seed,
                    name: format!("cfg{:03}-seed{seed}", c.index),
                });
            }
        }
        Ok(jobs)
    }
}

impl ConfigPoint {
    /// The training configuration of this point with `seed`, validated.
    pub fn config(&self, base: &TrainConfig, seed: u64) -> Result<TrainConfig, TrainError> {
        let mut table = config_table(base);
        for (k, v) in &self.values {
            table.insert(k.clone(), v.clone());
        }
        table.insert("seed".into(), toml::Value::Integer(seed as i64));
        let config: TrainConfig = toml::Value::Table(table).try_into().map_err(|e| {
            TrainError::Sweep(format!(
                "configuration {} ({}): {}",
                self.index,
                self.label,
                e.to_string().trim_end()
            ))
        })?;
        config.validate().map_err(|e| {
            TrainError::Sweep(format!(
                "configuration {} ({}): {e}",
                self.index, self.label
            ))
        })?;
        Ok(config)
    }
}

fn config_table(config: &TrainConfig) -> toml::Table {
    match toml::Value::try_from(config) {
        Ok(toml::Value::Table(t)) => t,
        _ => toml::Table::new(),
    }
}

/// One draw of `dist` for the field `name`, whose default value `like` gives its type.
fn sample(
    name: &str,
    dist: &Distribution,
    like: &toml::Value,
    rng: &mut ChaCha8Rng,
) -> Result<toml::Value, TrainError> {
    let bad = |why: &str| TrainError::Sweep(format!("`{name}`: {why}"));
    match dist {
        Distribution::Choice(values) => {
            if values.is_empty() {
                return Err(bad("`choice` needs at least one value"));
            }
            Ok(values[rng.random_range(0..values.len())].clone())
        }
        Distribution::Uniform([lo, hi]) | Distribution::LogUniform([lo, hi]) => {
            if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
                return Err(bad("the range must be finite with lo <= hi"));
            }
            let log = matches!(dist, Distribution::LogUniform(_));
            if log && *lo <= 0.0 {
                return Err(bad("`log_uniform` needs lo > 0"));
            }
            let x = if log {
                rng.random_range(lo.ln()..=hi.ln()).exp()
            } else {
                rng.random_range(*lo..=*hi)
            };
            match like {
                toml::Value::Integer(_) => Ok(toml::Value::Integer(x.round() as i64)),
                toml::Value::Float(_) => Ok(toml::Value::Float(x)),
                _ => Err(bad(
                    "a numeric distribution for a field that is not a number",
                )),
            }
        }
    }
}

/// `a=1,b=0.5` over the `varying` fields (none: `base`).
fn label(values: &BTreeMap<String, toml::Value>, varying: &[&String]) -> String {
    if varying.is_empty() {
        return "base".into();
    }
    values
        .iter()
        .filter(|(k, _)| varying.contains(k))
        .map(|(k, v)| match v {
            toml::Value::Float(f) => format!("{k}={}", short_float(*f)),
            toml::Value::String(s) => format!("{k}={s}"),
            other => format!("{k}={other}"),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Four significant digits.
fn short_float(x: f64) -> String {
    let s = format!("{x:.4e}");
    let v: f64 = s.parse().unwrap_or(x);
    format!("{v}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_takes_the_rigs_time_scale_for_what_the_sweep_leaves_out() {
        let dir = tempfile::tempdir().unwrap();
        let spec: SweepSpec =
            toml::from_str("seeds = [0]\nrig = \"desktop\"\n[params]\ngamma = [0.9]\n").unwrap();
        let base = spec.base_config(dir.path()).unwrap();
        assert_eq!(base.total_steps, 300_000);
        assert_eq!(
            base.gamma,
            TrainConfig::default().gamma,
            "swept: left to the points"
        );
        std::fs::write(dir.path().join("base.toml"), "total_steps = 500\n").unwrap();
        let spec: SweepSpec =
            toml::from_str("seeds = [0]\nbase = \"base.toml\"\nrig = \"desktop\"\n").unwrap();
        let base = spec.base_config(dir.path()).unwrap();
        assert_eq!((base.total_steps, base.gamma), (500, 0.995));
    }
}
