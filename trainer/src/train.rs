//! The training loop and the run directory it writes.

use crate::checkpoint::{CHECKPOINT_FILE, Checkpoint, RngState};
use crate::config::{NoiseKind, TrainConfig};
use crate::ddpg::{Ddpg, Scaling, UpdateStats};
use crate::error::TrainError;
use crate::eval;
use crate::export::{export_actor, write_atomic};
use crate::metrics::{
    EPISODE_CSV_HEADER, EVAL_CSV_HEADER, EpisodeRecord, EvalRecord, SelectionWeights,
};
use crate::noise::{GaussianNoise, Noise, OuNoise};
use crate::quality::{self, EpisodeQuality, QualitySummary};
use crate::replay::{Batch, ReplayBuffer};
use crate::selection;
use indicatif::{ProgressBar, ProgressStyle};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sim::{ActionFeedback, Environment, Rig, RigPlant};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Files of a run directory.
pub mod files {
    /// The configuration (TOML).
    pub const CONFIG: &str = "config.toml";
    /// The rig trained on, resolved (TOML; a copy of the preset or file named by `rig`).
    pub const RIG: &str = "rig.toml";
    /// The evaluation rig, resolved (TOML).
    pub const EVAL_RIG: &str = "eval_rig.toml";
    /// Per-episode training metrics.
    pub const METRICS: &str = "metrics.csv";
    /// Periodic evaluations.
    pub const EVAL: &str = "eval.csv";
    /// Learning curve.
    pub const CURVE: &str = "learning_curve.png";
    /// The policy to flash: the actor of the best periodic evaluation (see
    /// `EvalRecord::selection_score`), or the final actor when no evaluation ran.
    pub const POLICY: &str = "policy.postcard";
    /// The actor at the end of training.
    pub const POLICY_FINAL: &str = "policy_final.postcard";
    /// Final evaluation of the exported policies (per episode).
    pub const FINAL_EVAL: &str = "final_eval.csv";
    /// Human-readable summary of the run.
    pub const SUMMARY: &str = "summary.txt";
}

/// Seed of the final evaluation (the same default as the `eval` command's `--seed`).
pub const FINAL_EVAL_SEED: u64 = 0;

/// How a run is driven (not part of the configuration).
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Hide the progress bar.
    pub quiet: bool,
    /// Stop at the first episode end at or after this many steps, after writing a checkpoint
    /// (as if the run had been killed there; continue it with resume).
    pub stop_after: Option<u64>,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The run directory.
    pub run_dir: PathBuf,
    /// True if all `total_steps` were done (false when stopped by `stop_after`).
    pub finished: bool,
    /// Environment steps done.
    pub step: u64,
    /// Wall time of the training loop over the whole run (all invocations) \[s\].
    pub train_secs: f64,
    /// Mean environment steps per second over the run.
    pub steps_per_sec: f64,
    /// Name of the rig trained on.
    pub rig: String,
    /// Name of the evaluation rig.
    pub eval_rig: String,
    /// Final evaluation of `policy_final.postcard` (the last weights) through `policy-runtime`
    /// (when finished).
    pub final_eval: Option<QualitySummary>,
    /// Final evaluation of `policy.postcard` (the selected policy) through `policy-runtime`
    /// (when finished).
    pub best_eval: Option<QualitySummary>,
    /// When `policy.postcard` was chosen by validation: the step of the chosen actor and the
    /// validation episodes per candidate (`selection.csv`).
    pub selection: Option<(u64, usize)>,
}

/// A training run in progress.
pub struct Trainer {
    config: TrainConfig,
    run_dir: PathBuf,
    agent: Ddpg,
    replay: ReplayBuffer,
    rng: ChaCha8Rng,
    noise: Noise,
    rig: Rig,
    eval_rig: Rig,
    /// The training plant; its observation includes the previous action with
    /// `observe_previous_action`.
    env: ActionFeedback<RigPlant>,
    step: u64,
    episode: u64,
    updates: u64,
    episodes: Vec<EpisodeRecord>,
    evals: Vec<EvalRecord>,
    best_eval: Option<f64>,
    elapsed_secs: f64,
    batch: Batch,
    /// The periodic evaluation running on another thread (its result is recorded at the next
    /// evaluation, before a checkpoint and at the end of the loop).
    pending_eval: Option<PendingEval>,
}

/// A periodic evaluation in flight: the step it was taken at, the exported actor, the thread.
struct PendingEval {
    step: u64,
    exported: Vec<u8>,
    handle: std::thread::JoinHandle<EvalResult>,
}

type EvalResult = Result<EvalOutcome, TrainError>;

/// What an evaluation of an actor measures besides its nominal episodes.
#[derive(Debug, Clone, Copy)]
struct EvalPlan {
    /// Seed of the episodes.
    seed: u64,
    /// Episodes of each kind.
    episodes: usize,
    /// Hold probability of the link-loss episodes (0 = none run).
    hold: f64,
    /// Fastest start speed \[rad/s\] of the fast-start episodes (`None` = none run).
    fast_start_speed: Option<f64>,
    /// Threads.
    threads: usize,
}

/// The summaries of an evaluation's episodes: nominal, under link loss, from fast starts.
#[derive(Debug, Clone)]
pub struct EvalOutcome {
    /// The rig's own episodes.
    pub nominal: QualitySummary,
    /// The same under link loss, when run.
    pub held: Option<QualitySummary>,
    /// As many from fast starts, when run.
    pub fast: Option<QualitySummary>,
}

impl Trainer {
    /// Starts a new run in `run_dir` (created; it must not already hold a checkpoint).
    pub fn new(config: TrainConfig, run_dir: &Path) -> Result<Self, TrainError> {
        config.validate()?;
        if run_dir.join(CHECKPOINT_FILE).exists() {
            return Err(TrainError::Checkpoint {
                path: run_dir.join(CHECKPOINT_FILE),
                reason: "the run directory already holds a run; continue it with `train --resume` \
                         or choose another `--out`"
                    .into(),
            });
        }
        let (rig, eval_rig) = resolve_rigs(&config)?;
        std::fs::create_dir_all(run_dir).map_err(|e| TrainError::io(run_dir, e))?;
        let env = build_env(&rig, &config)?;
        check_memory(&config, env.observation_dim(), env.action_dim())?;
        if config.mirror_augmentation && env.action_low()[0] != -env.action_high()[0] {
            return Err(crate::config::ConfigError::Invalid {
                field: "mirror_augmentation",
                reason: "needs symmetric action bounds".into(),
            }
            .into());
        }
        let scaling = Scaling::from_bounds(
            env.observation_low(),
            env.observation_high(),
            env.action_low(),
            env.action_high(),
            config.normalize_observations,
        );
        let mut init_rng = ChaCha8Rng::seed_from_u64(config.seed);
        init_rng.set_stream(1);
        let agent = Ddpg::new(&config, scaling, &mut init_rng)?;
        let replay = ReplayBuffer::new(
            config.buffer_capacity,
            env.observation_dim(),
            env.action_dim(),
        );
        let noise = make_noise(&config, env.action_low(), env.action_high());
        let t = Self {
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            run_dir: run_dir.to_path_buf(),
            agent,
            replay,
            noise,
            env,
            rig,
            eval_rig,
            step: 0,
            episode: 0,
            updates: 0,
            episodes: Vec::new(),
            evals: Vec::new(),
            best_eval: None,
            elapsed_secs: 0.0,
            batch: Batch::default(),
            pending_eval: None,
            config,
        };
        write_file(&run_dir.join(files::CONFIG), t.config.to_toml().as_bytes())?;
        t.write_rigs()?;
        t.rewrite_csvs()?;
        Ok(t)
    }

    fn write_rigs(&self) -> Result<(), TrainError> {
        write_file(
            &self.run_dir.join(files::RIG),
            self.rig.to_toml().as_bytes(),
        )?;
        write_file(
            &self.run_dir.join(files::EVAL_RIG),
            self.eval_rig.to_toml().as_bytes(),
        )
    }

    /// The rig trained on.
    pub fn rig(&self) -> &Rig {
        &self.rig
    }

    /// Continues the run in `run_dir` from its latest checkpoint (verified and checked; see
    /// [`Checkpoint::load`]).
    pub fn resume(run_dir: &Path) -> Result<Self, TrainError> {
        Self::resume_from(run_dir, false)
    }

    /// Continues the run in `run_dir` from its latest checkpoint or, with `previous`, from the
    /// previous generation (`checkpoint.prev.bin`).
    pub fn resume_from(run_dir: &Path, previous: bool) -> Result<Self, TrainError> {
        let ck = Checkpoint::load(run_dir, previous)?;
        let agent = Ddpg::from_state(ck.agent, &ck.config)?;
        let t = Self {
            run_dir: run_dir.to_path_buf(),
            agent,
            replay: ck.replay,
            rng: ck.rng.restore(),
            noise: ck.noise,
            env: build_env(&ck.rig, &ck.config)?,
            rig: ck.rig,
            eval_rig: ck.eval_rig,
            step: ck.step,
            episode: ck.episode,
            updates: ck.updates,
            episodes: ck.episodes,
            evals: ck.evals,
            best_eval: ck.best_eval,
            elapsed_secs: ck.elapsed_secs,
            batch: Batch::default(),
            pending_eval: None,
            config: ck.config,
        };
        t.rewrite_csvs()?;
        Ok(t)
    }

    /// The configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// Environment steps done.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// The agent.
    pub fn agent(&mut self) -> &mut Ddpg {
        &mut self.agent
    }

    /// The run directory.
    pub fn run_dir(&self) -> &Path {
        &self.run_dir
    }

    fn rewrite_csvs(&self) -> Result<(), TrainError> {
        let mut m = String::from(EPISODE_CSV_HEADER);
        self.episodes.iter().for_each(|r| m.push_str(&r.csv_line()));
        write_file(&self.run_dir.join(files::METRICS), m.as_bytes())?;
        let mut e = String::from(EVAL_CSV_HEADER);
        self.evals.iter().for_each(|r| e.push_str(&r.csv_line()));
        write_file(&self.run_dir.join(files::EVAL), e.as_bytes())
    }

    fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            config: self.config.clone(),
            agent: self.agent.state(),
            replay: self.replay.clone(),
            rng: RngState::capture(&self.rng),
            noise: self.noise.clone(),
            rig: self.rig.clone(),
            eval_rig: self.eval_rig.clone(),
            step: self.step,
            episode: self.episode,
            updates: self.updates,
            episodes: self.episodes.clone(),
            evals: self.evals.clone(),
            best_eval: self.best_eval,
            elapsed_secs: self.elapsed_secs,
        }
    }

    /// Saves a checkpoint; a non-finite weight is a divergence and is never written (the
    /// checkpoint on disk stays the last good one).
    fn save_checkpoint(&self) -> Result<(), TrainError> {
        let ck = self.checkpoint();
        if let Some(what) = ck.agent.first_non_finite() {
            return Err(TrainError::Diverged {
                step: self.step,
                what: what.to_string(),
                checkpoint: None,
            });
        }
        ck.save(&self.run_dir)
    }

    /// Noise-free evaluation of the current actor, exported and run through `policy-runtime`
    /// (exactly what would ship), on the evaluation rig, as the periodic evaluations do: the
    /// rig's episodes, and as many under link loss (`eval_hold_prob` > 0) and from fast starts
    /// (`select_fast_start_weight` > 0).
    pub fn evaluate_now(&mut self, episodes: usize) -> Result<EvalOutcome, TrainError> {
        let bytes = export_actor(&self.agent)?;
        evaluate_bytes(&self.eval_rig, &bytes, self.periodic_plan(episodes))
    }

    /// The periodic evaluations' plan, on their own seed (independent of the training
    /// episodes), on one thread.
    fn periodic_plan(&self, episodes: usize) -> EvalPlan {
        self.eval_plan(self.periodic_eval_seed(), episodes, 1)
    }

    /// The evaluation plan of the run's configuration.
    fn eval_plan(&self, seed: u64, episodes: usize, threads: usize) -> EvalPlan {
        let cfg = &self.config;
        EvalPlan {
            seed,
            episodes,
            hold: cfg.eval_hold_prob,
            fast_start_speed: (cfg.select_fast_start_weight > 0.0)
                .then(|| fast_start_speed(cfg, &self.eval_rig)),
            threads,
        }
    }

    /// Runs until `total_steps` (or `opts.stop_after`), then exports, plots and evaluates.
    /// `policy.postcard` is (re)written at every new best periodic evaluation, and
    /// `policy_final.postcard` at the end.
    pub fn run(&mut self, opts: &RunOptions) -> Result<RunOutcome, TrainError> {
        let total = self.config.total_steps;
        let bar = if opts.quiet {
            ProgressBar::hidden()
        } else {
            let b = ProgressBar::new(total);
            b.set_style(
                ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:30}] {pos}/{len} steps {per_sec} | {msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            b
        };
        bar.set_position(self.step);
        let started = Instant::now();
        let elapsed_before = self.elapsed_secs;
        let result = self
            .train_loop(opts, &bar, started, elapsed_before)
            .and_then(|stopped| {
                // A stop has just been checkpointed by the loop; the end of the run is here.
                if !stopped {
                    self.elapsed_secs = elapsed_before + started.elapsed().as_secs_f64();
                    self.save_checkpoint()?;
                }
                Ok(stopped)
            });
        bar.finish_and_clear();
        let stopped = match result {
            Ok(stopped) => stopped,
            Err(TrainError::Diverged { what, .. }) => {
                // Name the checkpoint only if it verifies (saving refuses non-finite weights,
                // so the one on disk predates the divergence).
                let ck = self.run_dir.join(CHECKPOINT_FILE);
                return Err(TrainError::Diverged {
                    step: self.step,
                    what,
                    checkpoint: Checkpoint::load_file(&ck).is_ok().then(|| ck.clone()),
                });
            }
            Err(e) => return Err(e),
        };
        let steps_per_sec = self.step as f64 / self.elapsed_secs.max(1e-9);
        if stopped {
            return Ok(RunOutcome {
                run_dir: self.run_dir.clone(),
                finished: false,
                step: self.step,
                train_secs: self.elapsed_secs,
                steps_per_sec,
                rig: self.rig.name.clone(),
                eval_rig: self.eval_rig.name.clone(),
                final_eval: None,
                best_eval: None,
                selection: None,
            });
        }
        self.finish(steps_per_sec)
    }

    /// Returns Ok(true) when stopped early by `stop_after`.
    fn train_loop(
        &mut self,
        opts: &RunOptions,
        bar: &ProgressBar,
        started: Instant,
        elapsed_before: f64,
    ) -> Result<bool, TrainError> {
        let cfg = self.config.clone();
        let mut files = LoopFiles {
            metrics: open_append(&self.run_dir.join(files::METRICS))?,
            eval: open_append(&self.run_dir.join(files::EVAL))?,
        };
        let mut buf = StepBuffers::new(self.env.observation_dim(), self.env.action_dim());
        let mut next_checkpoint = next_multiple(self.step, cfg.checkpoint_every);
        let mut recent = self.episodes.last().map(|e| e.episodic_return);
        while self.step < cfg.total_steps {
            // One episode (checkpoints are only taken between episodes).
            let rec = self.run_training_episode(&cfg, &mut buf, &mut files, bar)?;
            self.record_episode(rec, &mut files)?;
            recent =
                Some(recent.map_or(rec.episodic_return, |r| 0.9 * r + 0.1 * rec.episodic_return));
            bar.set_message(self.progress_message(recent));
            let stop =
                opts.stop_after.is_some_and(|s| self.step >= s) && self.step < cfg.total_steps;
            let due = cfg.checkpoint_every > 0
                && self.step >= next_checkpoint
                && self.step < cfg.total_steps;
            if due || stop {
                self.finish_pending_eval(&cfg, &mut files.eval)?;
                self.elapsed_secs = elapsed_before + started.elapsed().as_secs_f64();
                self.save_checkpoint()?;
                next_checkpoint = next_multiple(self.step, cfg.checkpoint_every);
            }
            if stop {
                return Ok(true);
            }
        }
        self.finish_pending_eval(&cfg, &mut files.eval)?;
        Ok(false)
    }

    /// Resets the plant for a new training episode (seeded from the run's generator; with
    /// `upright_start_prob`, sometimes near upright; else with `fast_start_prob`, sometimes
    /// spinning fast) and the exploration noise.
    fn start_episode(&mut self, cfg: &TrainConfig, obs: &mut [f32]) {
        let seed = self.rng.next_u64();
        self.env.reset(seed, obs);
        let start = if cfg.upright_start_prob > 0.0 && self.rng.random_bool(cfg.upright_start_prob)
        {
            let a = cfg.upright_start_angle;
            let th = self.rng.random_range(-a..=a);
            Some((th, self.rng.random_range(-1.0..=1.0)))
        } else if cfg.fast_start_prob > 0.0 && self.rng.random_bool(cfg.fast_start_prob) {
            Some(quality::fast_start(
                &mut self.rng,
                fast_start_speed(cfg, &self.rig),
            ))
        } else {
            None
        };
        if let Some((th, w)) = start {
            let plant = self.env.inner_mut();
            plant.set_state(nalgebra::Vector2::new(th, w));
            let sensed = plant.observation();
            self.env.observe(&sensed, obs);
        }
        self.noise.reset();
    }

    /// The exploratory action: uniform before `learning_starts`, then actor + noise, clamped;
    /// with `train_hold_prob`, sometimes the previous command again (simulated link loss).
    fn explore(
        &mut self,
        cfg: &TrainConfig,
        buf: &mut StepBuffers,
        prev: Option<f32>,
    ) -> Result<(), TrainError> {
        let (low, high) = (self.env.action_low(), self.env.action_high());
        if self.step < cfg.learning_starts {
            for (a, (&l, &h)) in buf.action.iter_mut().zip(low.iter().zip(high)) {
                *a = self.rng.random_range(l..=h);
            }
        } else {
            let (low, high) = (low.to_vec(), high.to_vec());
            let mu = self.agent.act(&buf.obs)?;
            self.noise.sample(&mut self.rng, &mut buf.noise);
            for k in 0..buf.action.len() {
                buf.action[k] = (mu[k] + buf.noise[k] as f32).clamp(low[k], high[k]);
            }
        }
        if let Some(prev) = prev
            && cfg.train_hold_prob > 0.0
            && self.rng.random_bool(cfg.train_hold_prob)
        {
            buf.action[0] = prev;
        }
        Ok(())
    }

    /// `updates_per_step` gradient steps on minibatches from the replay buffer.
    fn learn(&mut self, cfg: &TrainConfig, sums: &mut LossSums) -> Result<(), TrainError> {
        for _ in 0..cfg.updates_per_step {
            self.replay
                .sample(&mut self.rng, cfg.batch_size, &mut self.batch);
            let s: UpdateStats = self.agent.update(&self.batch)?;
            self.updates += 1;
            sums.add(&s);
        }
        Ok(())
    }

    /// A periodic evaluation of the current actor (exported, through `policy-runtime`): the
    /// record goes to `eval.csv`, and a new best becomes `policy.postcard`.
    ///
    /// The evaluation runs on another thread while training goes on (the machine's second
    /// core); its record is written at the next evaluation, before a checkpoint and at the end
    /// of the loop, in order, so the run's files do not depend on the timing.
    fn periodic_eval(&mut self, cfg: &TrainConfig, file: &mut File) -> Result<(), TrainError> {
        self.finish_pending_eval(cfg, file)?;
        let exported = export_actor(&self.agent)?;
        let (rig, bytes) = (self.eval_rig.clone(), exported.clone());
        let plan = self.periodic_plan(cfg.eval_episodes);
        let handle = std::thread::Builder::new()
            .name("periodic-eval".into())
            .spawn(move || evaluate_bytes(&rig, &bytes, plan))
            .map_err(|e| TrainError::io(&self.run_dir, e))?;
        self.pending_eval = Some(PendingEval {
            step: self.step,
            exported,
            handle,
        });
        Ok(())
    }

    /// Waits for the evaluation in flight, if any, and records it: `eval.csv`, and
    /// `policy.postcard` when it is the best so far.
    fn finish_pending_eval(
        &mut self,
        cfg: &TrainConfig,
        file: &mut File,
    ) -> Result<(), TrainError> {
        let Some(p) = self.pending_eval.take() else {
            return Ok(());
        };
        let outcome = p.handle.join().map_err(|_| {
            TrainError::Export("the periodic evaluation thread panicked".to_string())
        })??;
        let (step, exported) = (p.step, p.exported);
        let rec = eval_record(step, &outcome);
        append(file, &self.run_dir.join(files::EVAL), &rec.csv_line())?;
        self.evals.push(rec);
        let score = rec.selection_score(&selection_weights(cfg));
        if self.best_eval.is_none_or(|b| score > b) {
            self.best_eval = Some(score);
            write_atomic(&self.run_dir.join(files::POLICY), &exported)?;
        }
        self.keep_candidate(cfg, step, &exported)
    }

    /// Keeps the actor evaluated at `step` as a candidate file while its evaluation ranks
    /// among the `select_candidates` best, and deletes the files of those that dropped out.
    fn keep_candidate(
        &self,
        cfg: &TrainConfig,
        step: u64,
        exported: &[u8],
    ) -> Result<(), TrainError> {
        if !cfg.validates_selection() {
            return Ok(());
        }
        let keep =
            selection::top_candidates(&self.evals, &selection_weights(cfg), cfg.select_candidates);
        if keep.contains(&step) {
            let dir = self.run_dir.join(selection::CANDIDATES_DIR);
            std::fs::create_dir_all(&dir).map_err(|e| TrainError::io(&dir, e))?;
            write_atomic(&selection::candidate_path(&self.run_dir, step), exported)?;
        }
        selection::prune_candidates(&self.run_dir, &keep)
    }

    /// Evaluates the kept candidates on the validation episodes and writes the best as
    /// `policy.postcard` and all of them to `selection.csv` (see [`selection`]). Returns the
    /// chosen candidate's step, or `None` when validation is off or there is no candidate.
    fn validate_candidates(&self) -> Result<Option<u64>, TrainError> {
        let cfg = &self.config;
        if !cfg.validates_selection() {
            return Ok(None);
        }
        let weights = selection_weights(cfg);
        let seed = selection::validation_seed(cfg.seed);
        let threads = quality::default_threads();
        let mut validated = Vec::new();
        let mut bytes = Vec::new();
        for step in selection::top_candidates(&self.evals, &weights, cfg.select_candidates) {
            let path = selection::candidate_path(&self.run_dir, step);
            let Some(periodic) = self.evals.iter().find(|e| e.step == step) else {
                continue;
            };
            // A candidate file lost or damaged since (by hand, by the disk) is skipped, not
            // fatal: the others still compete, and `selection.csv` shows which ran.
            let Ok(b) = std::fs::read(&path) else {
                continue;
            };
            let Ok(actor) = eval::load_runtime_policy(&b, &path) else {
                continue;
            };
            let plan = self.eval_plan(seed, cfg.select_episodes, threads);
            let outcome = evaluate_actor(&self.eval_rig, &actor, plan)?;
            validated.push(selection::Validated {
                periodic: *periodic,
                validation: eval_record(step, &outcome),
            });
            bytes.push(b);
        }
        if validated.is_empty() {
            // No periodic evaluation (`eval_every = 0`) or every candidate file gone.
            return Ok(None);
        }
        let chosen = selection::choose(&validated, &weights);
        let csv = selection::selection_csv(&validated, chosen, &weights);
        write_file(&self.run_dir.join(selection::SELECTION_CSV), csv.as_bytes())?;
        let Some(i) = chosen else {
            return Ok(None);
        };
        write_atomic(&self.run_dir.join(files::POLICY), &bytes[i])?;
        Ok(Some(validated[i].periodic.step))
    }

    /// One training episode: act, store (and mirror), learn, evaluate when due.
    fn run_training_episode(
        &mut self,
        cfg: &TrainConfig,
        buf: &mut StepBuffers,
        files: &mut LoopFiles,
        bar: &ProgressBar,
    ) -> Result<EpisodeRecord, TrainError> {
        let ep_start = Instant::now();
        let ep_start_step = self.step;
        self.start_episode(cfg, &mut buf.obs);
        let mut ep_return = 0.0;
        let mut sums = LossSums::default();
        let mut prev_action: Option<f32> = None;
        loop {
            self.explore(cfg, buf, prev_action)?;
            let res = self.env.step(&buf.action, &mut buf.next_obs);
            ep_return += res.reward;
            let a = buf.action[0];
            let r = shaped_reward(cfg, res.reward, &buf.obs, a, prev_action) as f32;
            prev_action = Some(a);
            self.replay
                .push(&buf.obs, &buf.action, r, res.terminated, &buf.next_obs);
            if cfg.mirror_augmentation {
                mirror(&buf.obs, &mut buf.mirrored);
                mirror(&buf.next_obs, &mut buf.mirrored_next);
                self.replay
                    .push(&buf.mirrored, &[-a], r, res.terminated, &buf.mirrored_next);
            }
            std::mem::swap(&mut buf.obs, &mut buf.next_obs);
            self.step += 1;
            if self.step > cfg.learning_starts && self.replay.len() >= cfg.batch_size {
                self.learn(cfg, &mut sums)?;
            }
            if cfg.eval_every > 0 && self.step % cfg.eval_every == 0 {
                self.periodic_eval(cfg, &mut files.eval)?;
            }
            if self.step % 100 == 0 {
                bar.set_position(self.step);
            }
            if res.terminated || res.truncated || self.step >= cfg.total_steps {
                break;
            }
        }
        Ok(sums.record(
            self.step,
            self.episode,
            ep_return,
            (self.step - ep_start_step) as f64 / ep_start.elapsed().as_secs_f64().max(1e-9),
        ))
    }

    /// Appends an episode to `metrics.csv` and the run's records.
    fn record_episode(
        &mut self,
        rec: EpisodeRecord,
        files: &mut LoopFiles,
    ) -> Result<(), TrainError> {
        append(
            &mut files.metrics,
            &self.run_dir.join(files::METRICS),
            &rec.csv_line(),
        )?;
        self.episodes.push(rec);
        self.episode += 1;
        Ok(())
    }

    /// Seed of the periodic evaluations' episodes (independent of the training episodes).
    fn periodic_eval_seed(&self) -> u64 {
        crate::selection::periodic_seed(self.config.seed)
    }

    /// The learning curve's marks: `learning_starts`, the flashed policy's step, and the
    /// rig baseline's mean return on the periodic evaluations' episodes.
    fn curve_marks(&self, chosen: Option<u64>) -> Result<crate::plot::CurveMarks, TrainError> {
        let cfg = &self.config;
        let weights = selection_weights(cfg);
        // The validated choice, else the first evaluation with the best score.
        let best_step = chosen.or_else(|| {
            selection::top_candidates(&self.evals, &weights, 1)
                .first()
                .copied()
        });
        let baseline_return = if cfg.eval_every > 0 && cfg.eval_episodes > 0 {
            let baseline = self.eval_rig.baseline()?;
            let eps = quality::evaluate(
                &self.eval_rig,
                &baseline,
                self.periodic_eval_seed(),
                cfg.eval_episodes,
                0.0,
                1,
            )?;
            Some(QualitySummary::of(&eps).mean_return)
        } else {
            None
        };
        Ok(crate::plot::CurveMarks {
            learning_starts: cfg.learning_starts,
            best_step,
            baseline_return,
        })
    }

    /// The progress bar's message.
    fn progress_message(&self, recent: Option<f64>) -> String {
        format!(
            "episode {} | recent return {:.0} | last eval {}",
            self.episode,
            recent.unwrap_or(f64::NAN),
            self.evals.last().map_or("-".to_string(), |e| format!(
                "{:.0}, {:.0} % upright",
                e.mean_return,
                100.0 * e.success_rate
            ))
        )
    }

    fn finish(&mut self, steps_per_sec: f64) -> Result<RunOutcome, TrainError> {
        let final_path = self.run_dir.join(files::POLICY_FINAL);
        let final_bytes = export_actor(&self.agent)?;
        write_atomic(&final_path, &final_bytes)?;
        if self.best_eval.is_none() {
            // No periodic evaluation chose a policy: the one to flash is the last one.
            write_atomic(&self.run_dir.join(files::POLICY), &final_bytes)?;
        }
        let selected_step = self.validate_candidates()?;
        let marks = self.curve_marks(selected_step)?;
        crate::plot::learning_curve(
            &self.run_dir.join(files::CURVE),
            &self.episodes,
            &self.evals,
            &marks,
        )?;
        let episodes = self.config.final_eval_episodes;
        let rig = &self.eval_rig;
        let threads = quality::default_threads();
        let eval_file = |path: &Path| -> Result<Option<Vec<EpisodeQuality>>, TrainError> {
            if !path.exists() || episodes == 0 {
                return Ok(None);
            }
            let actor = eval::load_policy_file(path)?;
            quality::evaluate(rig, &actor, FINAL_EVAL_SEED, episodes, 0.0, threads).map(Some)
        };
        let best_eps = eval_file(&self.run_dir.join(files::POLICY))?;
        let final_eps = eval_file(&final_path)?;
        let mut groups: Vec<(&str, &[EpisodeQuality])> = Vec::new();
        if let Some(e) = &best_eps {
            groups.push((files::POLICY, e));
        }
        if let Some(e) = &final_eps {
            groups.push((files::POLICY_FINAL, e));
        }
        let csv = quality::episode_rows_csv(&groups);
        write_file(&self.run_dir.join(files::FINAL_EVAL), csv.as_bytes())?;
        let best_eval = best_eps.as_deref().map(QualitySummary::of);
        let final_eval = final_eps.as_deref().map(QualitySummary::of);
        let outcome = RunOutcome {
            run_dir: self.run_dir.clone(),
            finished: true,
            step: self.step,
            train_secs: self.elapsed_secs,
            steps_per_sec,
            rig: self.rig.name.clone(),
            eval_rig: self.eval_rig.name.clone(),
            final_eval,
            best_eval,
            selection: selected_step.map(|step| (step, self.config.select_episodes)),
        };
        // Written last and atomically: a sweep takes its existence to mean "finished".
        crate::export::write_atomic(
            &self.run_dir.join(files::SUMMARY),
            outcome.summary().as_bytes(),
        )?;
        Ok(outcome)
    }
}

/// The open CSV files of a running loop.
struct LoopFiles {
    metrics: File,
    eval: File,
}

/// Per-step buffers, allocated once per run.
struct StepBuffers {
    obs: Vec<f32>,
    next_obs: Vec<f32>,
    mirrored: Vec<f32>,
    mirrored_next: Vec<f32>,
    action: Vec<f32>,
    noise: Vec<f64>,
}

impl StepBuffers {
    fn new(obs_dim: usize, act_dim: usize) -> Self {
        Self {
            obs: vec![0.0; obs_dim],
            next_obs: vec![0.0; obs_dim],
            mirrored: vec![0.0; obs_dim],
            mirrored_next: vec![0.0; obs_dim],
            action: vec![0.0; act_dim],
            noise: vec![0.0; act_dim],
        }
    }
}

/// Sums over an episode's gradient steps (the actor loss only over steps that updated it).
#[derive(Default)]
struct LossSums {
    critic: f64,
    actor: f64,
    q: f64,
    steps: u64,
    actor_steps: u64,
}

impl LossSums {
    fn add(&mut self, s: &UpdateStats) {
        self.critic += f64::from(s.critic_loss);
        if s.actor_loss.is_finite() {
            self.actor += f64::from(s.actor_loss);
            self.actor_steps += 1;
        }
        self.q += f64::from(s.mean_q);
        self.steps += 1;
    }

    /// The episode's record: means, NaN where there was no gradient step.
    fn record(&self, step: u64, episode: u64, ret: f64, steps_per_sec: f64) -> EpisodeRecord {
        let mean = |x: f64, n: u64| {
            if n == 0 {
                f32::NAN
            } else {
                (x / n as f64) as f32
            }
        };
        EpisodeRecord {
            step,
            episode,
            episodic_return: ret,
            critic_loss: mean(self.critic, self.steps),
            actor_loss: mean(self.actor, self.actor_steps),
            mean_q: mean(self.q, self.steps),
            steps_per_sec,
        }
    }
}

impl RunOutcome {
    /// Human-readable summary: where the results are and how the policies did.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "run directory: {}\nsteps: {} in {:.1} s of training ({:.0} steps/s)\n",
            self.run_dir.display(),
            self.step,
            self.train_secs,
            self.steps_per_sec
        );
        s.push_str(&format!(
            "trained for rig `{}` (rig.toml); evaluated on rig `{}`\n",
            self.rig, self.eval_rig
        ));
        let line = |name: &str, r: &Option<QualitySummary>| match r {
            Some(r) => format!(
                "{name}: mean return {:.1} ± {:.1} (standard error), worst {:.1}, success {:.1} %, \
                 steady-state |θ| {}, chatter {:.4} N·m/step over {} episodes (policy-runtime)\n",
                r.mean_return,
                r.stderr_return,
                r.worst_return,
                100.0 * r.success_rate,
                r.steady_state_abs_theta
                    .map_or("-".to_string(), |t| format!("{t:.4} rad")),
                r.chatter,
                r.episodes
            ),
            None => String::new(),
        };
        s.push_str(&line(files::POLICY, &self.best_eval));
        s.push_str(&line(files::POLICY_FINAL, &self.final_eval));
        let how = match self.selection {
            Some((step, episodes)) => format!(
                "the actor of step {step}, the best of the top periodic evaluations again on \
                 {episodes} validation episodes ({})",
                selection::SELECTION_CSV
            ),
            None => "the best periodic evaluation".to_string(),
        };
        s.push_str(&format!(
            "flash {} ({how}; {} holds the last weights)\n",
            files::POLICY,
            files::POLICY_FINAL
        ));
        s
    }

    /// The worse of the two exported policies' final mean returns (what
    /// `--require-eval-return` checks: every exported policy must reach the mark).
    pub fn worst_mean_return(&self) -> Option<f64> {
        [&self.final_eval, &self.best_eval]
            .into_iter()
            .flatten()
            .map(|r| r.mean_return)
            .reduce(f64::min)
    }
}

/// The evaluation record of `outcome` at `step`.
fn eval_record(step: u64, outcome: &EvalOutcome) -> EvalRecord {
    let report = &outcome.nominal;
    let rate = |x: &Option<QualitySummary>| x.as_ref().map_or(f64::NAN, |h| h.success_rate);
    EvalRecord {
        step,
        mean_return: report.mean_return,
        std_return: report.stderr_return * (report.episodes as f64).sqrt(),
        success_rate: report.success_rate,
        hold_success_rate: rate(&outcome.held),
        fast_start_success_rate: rate(&outcome.fast),
        steady_state_abs_theta: report.steady_state_abs_theta.unwrap_or(f64::NAN),
        chatter: report.chatter,
        episodes: report.episodes,
    }
}

/// The fastest start speed \[rad/s\] of `cfg`'s fast starts on `rig`: `fast_start_speed`
/// times the rig's velocity range (its observation bound).
fn fast_start_speed(cfg: &TrainConfig, rig: &Rig) -> f64 {
    cfg.fast_start_speed * rig.plant.velocity_range
}

/// The `policy.postcard` score weights of `cfg`.
fn selection_weights(cfg: &TrainConfig) -> SelectionWeights {
    SelectionWeights {
        hold: cfg.select_hold_weight,
        steady_state: cfg.select_steady_state_weight,
        chatter: cfg.select_chatter_weight,
        fast_start: cfg.select_fast_start_weight,
    }
}

/// The evaluation of an exported actor on `rig` through `policy-runtime` by `plan` (periodic
/// on one thread, validation on several).
fn evaluate_bytes(rig: &Rig, bytes: &[u8], plan: EvalPlan) -> EvalResult {
    let actor = eval::load_runtime_policy(bytes, Path::new("current actor"))?;
    evaluate_actor(rig, &actor, plan)
}

/// [`evaluate_bytes`] of an actor already loaded.
fn evaluate_actor(rig: &Rig, actor: &dyn quality::Controller, plan: EvalPlan) -> EvalResult {
    let run = |conditions: quality::Conditions| -> Result<QualitySummary, TrainError> {
        let eps = quality::evaluate_in(
            rig,
            actor,
            plan.seed,
            plan.episodes,
            conditions,
            plan.threads,
        )?;
        Ok(QualitySummary::of(&eps))
    };
    let nominal = run(quality::Conditions::default())?;
    let held = (plan.hold > 0.0)
        .then(|| run(quality::Conditions::hold(plan.hold)))
        .transpose()?;
    // Fast starts only rank actors that keep every nominal episode upright (a missed nominal
    // episode costs 10⁴ points, fast starts at most `select_fast_start_weight`), so they are
    // run only for those: most early evaluations skip them.
    let fast = plan
        .fast_start_speed
        .filter(|_| nominal.success_rate >= 1.0)
        .map(|v| {
            run(quality::Conditions {
                hold_prob: 0.0,
                fast_start_speed: Some(v),
            })
        })
        .transpose()?;
    Ok(EvalOutcome {
        nominal,
        held,
        fast,
    })
}

/// The training reward: the rig's reward plus the configured shaping terms (see
/// [`TrainConfig::action_change_penalty`] and [`TrainConfig::angle_well_weight`]).
pub fn shaped_reward(
    cfg: &TrainConfig,
    reward: f64,
    obs: &[f32],
    action: f32,
    prev_action: Option<f32>,
) -> f64 {
    let mut r = reward;
    if cfg.action_change_penalty > 0.0 {
        if let Some(p) = prev_action {
            r -= cfg.action_change_penalty * f64::from((action - p).abs());
        }
    }
    if cfg.angle_well_weight > 0.0 {
        let th = f64::from(obs[1]).atan2(f64::from(obs[0]));
        let s2 = 2.0 * cfg.angle_well_width * cfg.angle_well_width;
        r -= cfg.angle_well_weight * (1.0 - (-th * th / s2).exp());
    }
    r
}

/// Writes the left-right mirror image of a pendulum observation into `out`: `(cos θ, −sin θ,
/// −θ̇)`, and `−u_prev` for the previous action of `observe_previous_action` (every element
/// but the first changes sign).
pub fn mirror(obs: &[f32], out: &mut [f32]) {
    for (i, (o, &x)) in out.iter_mut().zip(obs).enumerate() {
        *o = if i == 0 { x } else { -x };
    }
}

fn resolve_rigs(config: &TrainConfig) -> Result<(Rig, Rig), TrainError> {
    let load = |spec: &str| Rig::resolve(spec).map_err(TrainError::from);
    let rig = load(&config.rig)?;
    let eval_rig = if config.eval_rig.is_empty() {
        rig.clone()
    } else {
        load(&config.eval_rig)?
    };
    Ok((rig, eval_rig))
}

fn build_env(rig: &Rig, config: &TrainConfig) -> Result<ActionFeedback<RigPlant>, TrainError> {
    let plant = rig.build().map_err(TrainError::from)?;
    Ok(ActionFeedback::new(plant, config.observe_previous_action))
}

fn make_noise(config: &TrainConfig, low: &[f32], high: &[f32]) -> Noise {
    let sigma: Vec<f64> = low
        .iter()
        .zip(high)
        .map(|(&l, &h)| config.noise_sigma * 0.5 * f64::from(h - l))
        .collect();
    match config.noise {
        NoiseKind::Gaussian => Noise::Gaussian(GaussianNoise { sigma }),
        NoiseKind::Ou => Noise::Ou(OuNoise::new(config.ou_theta, 0.0, sigma, config.ou_dt)),
    }
}

/// Refuses a replay buffer that would not fit: a checkpoint holds a copy of it and its
/// serialised form besides the live buffer, so about three times its size must be available
/// (`MemAvailable` of `/proc/meminfo`; skipped where that cannot be read).
fn check_memory(config: &TrainConfig, obs_dim: usize, act_dim: usize) -> Result<(), TrainError> {
    let need = 3 * config.replay_bytes(obs_dim, act_dim);
    let Some(avail) = available_memory() else {
        return Ok(());
    };
    if need > avail {
        let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
        return Err(crate::config::ConfigError::Invalid {
            field: "buffer_capacity",
            reason: format!(
                "{} transitions need about {:.1} GiB (the buffer, and a copy of it while \
                 checkpointing), only {:.1} GiB of memory is available",
                config.buffer_capacity,
                gib(need),
                gib(avail)
            ),
        }
        .into());
    }
    Ok(())
}

/// `MemAvailable` from `/proc/meminfo` in bytes.
fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn next_multiple(step: u64, every: u64) -> u64 {
    step.checked_div(every)
        .map_or(u64::MAX, |k| (k + 1) * every)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    std::fs::write(path, bytes).map_err(|e| TrainError::io(path, e))
}

fn open_append(path: &Path) -> Result<std::fs::File, TrainError> {
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|e| TrainError::io(path, e))
}

fn append(file: &mut std::fs::File, path: &Path, line: &str) -> Result<(), TrainError> {
    file.write_all(line.as_bytes())
        .map_err(|e| TrainError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small_config() -> TrainConfig {
        TrainConfig {
            total_steps: 1_200,
            learning_starts: 200,
            batch_size: 32,
            eval_every: 400,
            eval_episodes: 2,
            final_eval_episodes: 3,
            checkpoint_every: 400,
            select_candidates: 2,
            select_episodes: 4,
            ..TrainConfig::default()
        }
    }

    fn read(path: &Path) -> Vec<u8> {
        std::fs::read(path).unwrap()
    }

    /// Metrics without the wall-clock column.
    fn metrics_without_timing(dir: &Path) -> String {
        std::fs::read_to_string(dir.join(files::METRICS))
            .unwrap()
            .lines()
            .map(|l| l.rsplit_once(',').unwrap().0.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn smoke_run_writes_the_run_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("run");
        let mut t = Trainer::new(small_config(), &dir).unwrap();
        let out = t
            .run(&RunOptions {
                quiet: true,
                stop_after: None,
            })
            .unwrap();
        assert!(out.finished);
        assert_eq!(out.step, 1_200);
        for f in [
            files::CONFIG,
            files::METRICS,
            files::EVAL,
            files::CURVE,
            files::POLICY,
            files::POLICY_FINAL,
            files::FINAL_EVAL,
            files::SUMMARY,
            CHECKPOINT_FILE,
        ] {
            assert!(dir.join(f).exists(), "{f} missing");
        }
        // 6 episodes of 200 steps, 3 periodic evaluations.
        assert_eq!(
            std::fs::read_to_string(dir.join(files::METRICS))
                .unwrap()
                .lines()
                .count(),
            7
        );
        assert_eq!(
            std::fs::read_to_string(dir.join(files::EVAL))
                .unwrap()
                .lines()
                .count(),
            4
        );
        let saved = TrainConfig::from_toml_file(&dir.join(files::CONFIG)).unwrap();
        assert_eq!(saved, small_config());
        let r = out.final_eval.unwrap();
        assert_eq!(r.episodes, 3);
        assert!(r.mean_return.is_finite() && r.worst_return <= 0.0);
        // The run directory records the rig it trained on.
        let rig = sim::Rig::from_file(&dir.join(files::RIG)).unwrap();
        assert_eq!(rig, *t.rig());
        assert!(
            std::fs::read_to_string(dir.join(files::SUMMARY))
                .unwrap()
                .contains("trained for rig `realistic`")
        );
        // Two of the three periodic evaluations stay candidates; the validated one is flashed.
        let kept: Vec<_> = std::fs::read_dir(dir.join(selection::CANDIDATES_DIR))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(kept.len(), 2, "{kept:?}");
        let csv = std::fs::read_to_string(dir.join(selection::SELECTION_CSV)).unwrap();
        let rows: Vec<&str> = csv.lines().skip(1).collect();
        assert_eq!(rows.len(), 2, "{csv}");
        let chosen: Vec<&str> = rows
            .iter()
            .filter(|r| r.ends_with(",true"))
            .copied()
            .collect();
        assert_eq!(chosen.len(), 1, "{csv}");
        let step: u64 = chosen[0].split(',').next().unwrap().parse().unwrap();
        assert_eq!(out.selection, Some((step, 4)));
        assert_eq!(
            read(&dir.join(files::POLICY)),
            read(&selection::candidate_path(&dir, step))
        );
        // A second `new` in the same directory is refused.
        assert!(Trainer::new(small_config(), &dir).is_err());
    }

    #[test]
    fn resume_continues_and_matches_an_uninterrupted_run() {
        check_resume(small_config());
    }

    #[test]
    fn resume_matches_with_every_robust_training_option_on() {
        let td3 = TrainConfig {
            twin_critics: true,
            target_noise: 0.2,
            policy_delay: 2,
            spatial_smoothness_weight: 0.5,
            train_hold_prob: 0.2,
            action_change_penalty: 0.1,
            angle_well_weight: 0.1,
            ..small_config()
        };
        check_resume(td3);
    }

    #[test]
    fn the_previous_action_input_trains_exports_and_resumes() {
        let config = TrainConfig {
            observe_previous_action: true,
            ..small_config()
        };
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("run");
        let mut t = Trainer::new(config.clone(), &dir).unwrap();
        assert_eq!(t.agent.obs_dim(), 4);
        // The fourth input is scaled from the action bounds like the others.
        assert_eq!(t.agent.scaling.obs_offset.len(), 4);
        let mut buf = StepBuffers::new(4, 1);
        t.start_episode(&config, &mut buf.obs);
        assert_eq!(buf.obs[3], 0.0);
        t.run(&RunOptions {
            quiet: true,
            stop_after: None,
        })
        .unwrap();
        let policy = crate::eval::load_policy_file(&dir.join(files::POLICY)).unwrap();
        assert_eq!(policy.shape().obs, 4);
        check_resume(config);
    }

    fn check_resume(config: TrainConfig) {
        let small_config = || config.clone();
        let tmp = tempfile::tempdir().unwrap();
        let full = tmp.path().join("full");
        let part = tmp.path().join("part");
        Trainer::new(small_config(), &full)
            .unwrap()
            .run(&RunOptions {
                quiet: true,
                stop_after: None,
            })
            .unwrap();
        let out = Trainer::new(small_config(), &part)
            .unwrap()
            .run(&RunOptions {
                quiet: true,
                stop_after: Some(600),
            })
            .unwrap();
        assert!(!out.finished);
        assert_eq!(out.step, 600);
        let at_stop = Checkpoint::load(&part, false).unwrap();
        assert_eq!(at_stop.step, 600);
        assert!(!part.join(files::POLICY_FINAL).exists());

        let mut resumed = Trainer::resume(&part).unwrap();
        assert_eq!(resumed.step(), 600);
        let out = resumed
            .run(&RunOptions {
                quiet: true,
                stop_after: None,
            })
            .unwrap();
        assert!(out.finished);
        let end = Checkpoint::load(&part, false).unwrap();
        assert_eq!(end.step, 1_200);
        // Learning continued after the resume.
        assert_ne!(end.agent.actor, at_stop.agent.actor);
        assert_ne!(end.agent.critic, at_stop.agent.critic);
        assert!(end.agent.actor_opt.t > at_stop.agent.actor_opt.t);
        // Same seed, same machine: resumed and uninterrupted runs end bit-identical.
        assert_eq!(
            read(&part.join(files::POLICY)),
            read(&full.join(files::POLICY))
        );
        assert_eq!(
            read(&part.join(files::POLICY_FINAL)),
            read(&full.join(files::POLICY_FINAL))
        );
        assert_eq!(end.agent, Checkpoint::load(&full, false).unwrap().agent);
        assert_eq!(end.agent.twin.is_some(), config.twin_critics);
        assert_eq!(metrics_without_timing(&part), metrics_without_timing(&full));
        assert_eq!(read(&part.join(files::EVAL)), read(&full.join(files::EVAL)));
        // The same candidates were kept and validated.
        let sel = |d: &Path| read(&d.join(selection::SELECTION_CSV));
        assert_eq!(sel(&part), sel(&full));
        for step in [400, 800, 1200] {
            let (p, f) = (
                selection::candidate_path(&part, step),
                selection::candidate_path(&full, step),
            );
            assert_eq!(p.exists(), f.exists(), "{step}");
            if p.exists() {
                assert_eq!(read(&p), read(&f), "{step}");
            }
        }
    }

    #[test]
    fn a_lost_or_damaged_candidate_is_left_out_of_the_validation() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("run");
        let cfg = TrainConfig {
            select_candidates: 3,
            ..small_config()
        };
        let out = Trainer::new(cfg, &dir)
            .unwrap()
            .run(&RunOptions {
                quiet: true,
                stop_after: Some(800),
            })
            .unwrap();
        assert!(!out.finished);
        // Both evaluations so far are candidates: damage one, delete the other.
        std::fs::write(selection::candidate_path(&dir, 400), b"PLCY garbage").unwrap();
        std::fs::remove_file(selection::candidate_path(&dir, 800)).unwrap();
        let out = Trainer::resume(&dir)
            .unwrap()
            .run(&RunOptions {
                quiet: true,
                stop_after: None,
            })
            .unwrap();
        assert!(out.finished);
        // Only the evaluation at 1,200 steps was validated, and it is flashed.
        assert_eq!(out.selection, Some((1_200, 4)));
        let csv = std::fs::read_to_string(dir.join(selection::SELECTION_CSV)).unwrap();
        assert_eq!(csv.lines().count(), 2, "{csv}");
        assert_eq!(
            read(&dir.join(files::POLICY)),
            read(&selection::candidate_path(&dir, 1_200))
        );
    }

    #[test]
    fn same_seed_gives_same_bytes_and_other_seed_differs() {
        let tmp = tempfile::tempdir().unwrap();
        let cfg = TrainConfig {
            total_steps: 600,
            eval_every: 0,
            final_eval_episodes: 0,
            ..small_config()
        };
        let run = |name: &str, seed: u64| {
            let dir = tmp.path().join(name);
            let c = TrainConfig {
                seed,
                ..cfg.clone()
            };
            Trainer::new(c, &dir)
                .unwrap()
                .run(&RunOptions {
                    quiet: true,
                    stop_after: None,
                })
                .unwrap();
            dir
        };
        let (a, b, c) = (run("a", 4), run("b", 4), run("c", 5));
        assert_eq!(read(&a.join(files::POLICY)), read(&b.join(files::POLICY)));
        assert_eq!(metrics_without_timing(&a), metrics_without_timing(&b));
        assert_ne!(read(&a.join(files::POLICY)), read(&c.join(files::POLICY)));
    }

    #[test]
    fn divergence_stops_with_a_clear_error_and_keeps_the_checkpoint() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("run");
        let cfg = TrainConfig {
            critic_lr: 1e30,
            actor_lr: 1e30,
            checkpoint_every: 200,
            ..small_config()
        };
        let err = Trainer::new(cfg, &dir)
            .unwrap()
            .run(&RunOptions {
                quiet: true,
                stop_after: None,
            })
            .unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, TrainError::Diverged { .. }), "{msg}");
        assert!(
            msg.contains("not finite") && msg.contains(CHECKPOINT_FILE),
            "{msg}"
        );
        // The last good checkpoint (taken before learning started) is intact.
        let ck = Checkpoint::load(&dir, false).unwrap();
        assert_eq!(ck.step, 200);
        assert!(ck.agent.actor.is_finite() && ck.agent.critic.is_finite());
    }
}
