//! Fixed-capacity ring replay buffer in preallocated contiguous storage.

use rand::Rng;
use serde::{Deserialize, Serialize};

/// One minibatch, stored row-major in preallocated buffers (reused between samples).
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// Observations, `size × obs_dim`.
    pub obs: Vec<f32>,
    /// Actions, `size × act_dim`.
    pub actions: Vec<f32>,
    /// Rewards, `size`.
    pub rewards: Vec<f32>,
    /// 1.0 where the transition ended in a terminal state, else 0.0 (`size`).
    pub terminated: Vec<f32>,
    /// Next observations, `size × obs_dim`.
    pub next_obs: Vec<f32>,
    /// Number of transitions in the batch.
    pub size: usize,
}

/// A ring buffer of transitions `(s, a, r, terminated, s')`.
///
/// All storage is allocated once in [`ReplayBuffer::new`]; [`ReplayBuffer::push`] never
/// allocates and overwrites the oldest transition once the buffer is full.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayBuffer {
    obs_dim: usize,
    act_dim: usize,
    capacity: usize,
    len: usize,
    next: usize,
    obs: Vec<f32>,
    actions: Vec<f32>,
    rewards: Vec<f32>,
    terminated: Vec<f32>,
    next_obs: Vec<f32>,
}

impl ReplayBuffer {
    /// An empty buffer for `capacity` transitions (capacity ≥ 1).
    pub fn new(capacity: usize, obs_dim: usize, act_dim: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            obs_dim,
            act_dim,
            capacity,
            len: 0,
            next: 0,
            obs: vec![0.0; capacity * obs_dim],
            actions: vec![0.0; capacity * act_dim],
            rewards: vec![0.0; capacity],
            terminated: vec![0.0; capacity],
            next_obs: vec![0.0; capacity * obs_dim],
        }
    }

    /// Number of stored transitions.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Maximum number of stored transitions.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Observation width.
    pub fn obs_dim(&self) -> usize {
        self.obs_dim
    }

    /// Action width.
    pub fn act_dim(&self) -> usize {
        self.act_dim
    }

    /// Checks that the buffer is internally consistent and holds `capacity` transitions of
    /// `obs_dim` observations and `act_dim` actions (what a loaded checkpoint must satisfy
    /// before [`ReplayBuffer::push`], [`ReplayBuffer::get`] or [`ReplayBuffer::sample`] may
    /// index it); returns what differs.
    pub fn check(&self, capacity: usize, obs_dim: usize, act_dim: usize) -> Result<(), String> {
        let got = (self.capacity, self.obs_dim, self.act_dim);
        if got != (capacity, obs_dim, act_dim) {
            return Err(format!(
                "replay buffer is (capacity {}, obs_dim {}, act_dim {}), the run needs \
                 (capacity {capacity}, obs_dim {obs_dim}, act_dim {act_dim})",
                got.0, got.1, got.2
            ));
        }
        if self.len > capacity || self.next >= capacity {
            return Err(format!(
                "replay buffer fill {} / next slot {} outside capacity {capacity}",
                self.len, self.next
            ));
        }
        let lens = [
            ("observations", self.obs.len(), capacity * obs_dim),
            ("actions", self.actions.len(), capacity * act_dim),
            ("rewards", self.rewards.len(), capacity),
            ("terminal flags", self.terminated.len(), capacity),
            ("next observations", self.next_obs.len(), capacity * obs_dim),
        ];
        for (what, len, want) in lens {
            if len != want {
                return Err(format!(
                    "replay buffer {what} hold {len} values, expected {want}"
                ));
            }
        }
        Ok(())
    }

    /// Stores one transition, overwriting the oldest when full.
    ///
    /// # Panics
    /// If a slice length differs from the buffer's dimensions (a programming error).
    pub fn push(
        &mut self,
        obs: &[f32],
        action: &[f32],
        reward: f32,
        terminated: bool,
        next_obs: &[f32],
    ) {
        let (o, a, i) = (self.obs_dim, self.act_dim, self.next);
        self.obs[i * o..(i + 1) * o].copy_from_slice(obs);
        self.actions[i * a..(i + 1) * a].copy_from_slice(action);
        self.rewards[i] = reward;
        self.terminated[i] = if terminated { 1.0 } else { 0.0 };
        self.next_obs[i * o..(i + 1) * o].copy_from_slice(next_obs);
        self.next = (i + 1) % self.capacity;
        self.len = (self.len + 1).min(self.capacity);
    }

    /// The transition at storage index `i` (`i < len`): `(obs, action, reward, terminated, next_obs)`.
    pub fn get(&self, i: usize) -> (&[f32], &[f32], f32, bool, &[f32]) {
        let (o, a) = (self.obs_dim, self.act_dim);
        (
            &self.obs[i * o..(i + 1) * o],
            &self.actions[i * a..(i + 1) * a],
            self.rewards[i],
            self.terminated[i] != 0.0,
            &self.next_obs[i * o..(i + 1) * o],
        )
    }

    /// Fills `batch` with `size` transitions drawn uniformly with replacement using `rng`.
    /// Does nothing if the buffer is empty.
    pub fn sample<R: Rng>(&self, rng: &mut R, size: usize, batch: &mut Batch) {
        if self.len == 0 {
            batch.size = 0;
            return;
        }
        let (o, a) = (self.obs_dim, self.act_dim);
        batch.obs.resize(size * o, 0.0);
        batch.next_obs.resize(size * o, 0.0);
        batch.actions.resize(size * a, 0.0);
        batch.rewards.resize(size, 0.0);
        batch.terminated.resize(size, 0.0);
        batch.size = size;
        for k in 0..size {
            let i = rng.random_range(0..self.len);
            batch.obs[k * o..(k + 1) * o].copy_from_slice(&self.obs[i * o..(i + 1) * o]);
            batch.next_obs[k * o..(k + 1) * o].copy_from_slice(&self.next_obs[i * o..(i + 1) * o]);
            batch.actions[k * a..(k + 1) * a].copy_from_slice(&self.actions[i * a..(i + 1) * a]);
            batch.rewards[k] = self.rewards[i];
            batch.terminated[k] = self.terminated[i];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn push_n(buf: &mut ReplayBuffer, from: usize, to: usize) {
        for k in from..to {
            let x = k as f32;
            buf.push(
                &[x, x + 0.5],
                &[-x],
                10.0 * x,
                k % 2 == 1,
                &[x + 1.0, x + 1.5],
            );
        }
    }

    #[test]
    fn ring_overwrites_oldest_and_keeps_capacity() {
        let mut buf = ReplayBuffer::new(3, 2, 1);
        assert!(buf.is_empty());
        push_n(&mut buf, 0, 2);
        assert_eq!(buf.len(), 2);
        assert_eq!(
            buf.get(1),
            (&[1.0, 1.5][..], &[-1.0][..], 10.0, true, &[2.0, 2.5][..])
        );
        push_n(&mut buf, 2, 5);
        assert_eq!(buf.len(), 3);
        // Transitions 3 and 4 overwrote slots 0 and 1; slot 2 holds transition 2.
        assert_eq!(buf.get(0).0, &[3.0, 3.5]);
        assert_eq!(buf.get(1).0, &[4.0, 4.5]);
        assert_eq!(buf.get(2).0, &[2.0, 2.5]);
        assert_eq!(buf.get(0).2, 30.0);
        assert!(!buf.get(2).3);
        // Storage never grew.
        assert_eq!(buf.obs.len(), 6);
        assert_eq!(buf.capacity(), 3);
    }

    #[test]
    fn samples_are_stored_transitions_uniformly() {
        let mut buf = ReplayBuffer::new(4, 2, 1);
        push_n(&mut buf, 0, 4);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut batch = Batch::default();
        let mut counts = [0usize; 4];
        for _ in 0..1000 {
            buf.sample(&mut rng, 10, &mut batch);
            assert_eq!(batch.size, 10);
            for k in 0..10 {
                let x = batch.obs[2 * k];
                let i = x as usize;
                counts[i] += 1;
                // Every field of a sampled row comes from the same transition.
                assert_eq!(batch.obs[2 * k + 1], x + 0.5);
                assert_eq!(batch.actions[k], -x);
                assert_eq!(batch.rewards[k], 10.0 * x);
                assert_eq!(batch.terminated[k], if i % 2 == 1 { 1.0 } else { 0.0 });
                assert_eq!(batch.next_obs[2 * k], x + 1.0);
            }
        }
        // 10 000 draws over 4 slots: each close to 2 500 (binomial sd ≈ 43).
        for c in counts {
            assert!((2300..2700).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn sampling_is_reproducible_from_the_seed() {
        let mut buf = ReplayBuffer::new(100, 2, 1);
        push_n(&mut buf, 0, 50);
        let (mut a, mut b) = (Batch::default(), Batch::default());
        buf.sample(&mut ChaCha8Rng::seed_from_u64(9), 32, &mut a);
        buf.sample(&mut ChaCha8Rng::seed_from_u64(9), 32, &mut b);
        assert_eq!(a.obs, b.obs);
        // Only the filled part is sampled.
        assert!(a.obs.iter().step_by(2).all(|&x| x < 50.0));
    }
}
