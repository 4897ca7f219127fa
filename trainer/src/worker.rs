//! A second thread for the gradient step, which the caller never waits for in vain: a job
//! the worker has not started yet when its result is needed runs on the caller instead.
//!
//! The DDPG update has two independent halves: the critic's step (TD target, regression,
//! Adam) and the gradient of the actor's regularisers (oddness, smoothness), which depends on
//! the actor alone. [`Ddpg::update`](crate::ddpg::Ddpg::update) hands the second to a
//! [`Worker`] and does the first itself. Each job is a fixed sequence of single-threaded
//! operations, so its result does not depend on which thread runs it or when: an update gives
//! the same bits with or without the worker (a test checks it).
//!
//! Why the take-back: with two cores, a periodic evaluation can hold the second core for
//! tens of milliseconds; a job queued behind it would stall the update. [`Pending::wait`]
//! runs a job that is still queued, and waits (yielding the core) only for one that is
//! already running. The worker polls for work for [`SPIN`] after each job (a parked thread
//! takes tens of microseconds to wake on a virtual machine), then sleeps until the next.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long the worker polls for the next job before it sleeps (a few updates).
pub const SPIN: Duration = Duration::from_micros(500);

/// A thread that runs submitted jobs in order, or (inline) none: then jobs run on the caller.
#[derive(Debug)]
pub struct Worker {
    shared: Option<Arc<Shared>>,
    thread: Option<JoinHandle<()>>,
}

/// The queue between the caller and the worker thread.
#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    wake: Condvar,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("worker queue")
    }
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Arc<dyn Runnable>>,
    sleeping: bool,
    closed: bool,
}

/// A type-erased job the worker can run (if the caller has not taken it back).
trait Runnable: Send + Sync {
    fn run(&self);
}

/// One job's state, shared by the queue and its [`Pending`] handle.
struct Cell<T> {
    state: Mutex<State<T>>,
}

enum State<T> {
    Queued(Box<dyn FnOnce() -> T + Send>),
    Running,
    Done(T),
    /// The job panicked, or its result was already collected.
    Gone,
}

impl<T: Send> Runnable for Cell<T> {
    fn run(&self) {
        let job = {
            let mut state = lock(&self.state);
            match std::mem::replace(&mut *state, State::Running) {
                State::Queued(job) => job,
                other => {
                    *state = other; // taken back by the caller: nothing to do
                    return;
                }
            }
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
        *lock(&self.state) = match result {
            Ok(v) => State::Done(v),
            Err(_) => State::Gone,
        };
    }
}

/// The result of a submitted job, collected with [`Pending::wait`].
pub struct Pending<T>(Arc<Cell<T>>);

impl<T> std::fmt::Debug for Pending<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("pending job")
    }
}

impl<T> Pending<T> {
    /// Runs the job here now if the worker has not started it (its result is then kept for
    /// [`Pending::wait`]); otherwise does nothing.
    pub fn run_here_if_queued(&self) {
        let mut state = lock(&self.0.state);
        if let State::Queued(_) = &*state {
            let State::Queued(job) = std::mem::replace(&mut *state, State::Running) else {
                return;
            };
            drop(state);
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            *lock(&self.0.state) = match result {
                Ok(v) => State::Done(v),
                Err(_) => State::Gone,
            };
        }
    }

    /// The job's result: runs it here if the worker has not started it, else waits for the
    /// worker. `None` if the job panicked.
    pub fn wait(self) -> Option<T> {
        loop {
            let mut state = lock(&self.0.state);
            match std::mem::replace(&mut *state, State::Gone) {
                State::Queued(job) => {
                    drop(state);
                    return std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).ok();
                }
                State::Done(v) => return Some(v),
                State::Gone => return None,
                State::Running => {
                    *state = State::Running;
                    drop(state);
                    std::thread::yield_now();
                }
            }
        }
    }
}

impl Worker {
    /// No thread: jobs run on the caller when their result is collected.
    pub fn inline() -> Self {
        Self {
            shared: None,
            thread: None,
        }
    }

    /// Starts the thread, named `name`; falls back to [`Worker::inline`] if the system refuses
    /// a thread.
    pub fn spawn(name: &str) -> Self {
        let shared = Arc::new(Shared::default());
        let theirs = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || serve(&theirs));
        match thread {
            Ok(handle) => Self {
                shared: Some(shared),
                thread: Some(handle),
            },
            Err(_) => Self::inline(),
        }
    }

    /// True when jobs can run on a thread of their own.
    pub fn is_threaded(&self) -> bool {
        self.shared.is_some()
    }

    /// Queues `job` for the worker; collect its result with [`Pending::wait`] (which runs it
    /// on the caller if the worker has not started it, and always for an inline worker).
    pub fn submit<T, F>(&self, job: F) -> Pending<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let cell = Arc::new(Cell {
            state: Mutex::new(State::Queued(Box::new(job))),
        });
        if let Some(shared) = &self.shared {
            let mut queue = lock(&shared.queue);
            if !queue.closed {
                queue.jobs.push_back(Arc::clone(&cell) as Arc<dyn Runnable>);
                if queue.sleeping {
                    shared.wake.notify_one();
                }
            }
        }
        Pending(cell)
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(shared) = &self.shared {
            lock(&shared.queue).closed = true;
            shared.wake.notify_one();
        }
        if let Some(handle) = self.thread.take() {
            let _ = handle.join();
        }
    }
}

/// Locks `m`, ignoring poisoning (every critical section here leaves consistent data).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The worker's loop: run queued jobs until the queue closes; poll for [`SPIN`] after each,
/// then sleep until woken.
fn serve(shared: &Shared) {
    let mut idle = Instant::now();
    loop {
        let next = {
            let mut queue = lock(&shared.queue);
            loop {
                if let Some(job) = queue.jobs.pop_front() {
                    break Some(job);
                }
                if queue.closed {
                    break None;
                }
                if idle.elapsed() < SPIN {
                    drop(queue);
                    std::thread::yield_now();
                    queue = lock(&shared.queue);
                    continue;
                }
                queue.sleeping = true;
                queue = shared
                    .wake
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner);
                queue.sleeping = false;
            }
        };
        match next {
            Some(job) => {
                job.run();
                idle = Instant::now();
            }
            None => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread_name() -> Option<String> {
        std::thread::current().name().map(str::to_owned)
    }

    #[test]
    fn jobs_give_their_results_on_the_thread_and_inline() {
        for worker in [Worker::spawn("test-worker"), Worker::inline()] {
            let pending: Vec<_> = (0..100u64)
                .map(|i| worker.submit(move || (i, thread_name())))
                .collect();
            for (i, p) in pending.into_iter().enumerate() {
                let (got, name) = p.wait().expect("job ran");
                assert_eq!(got, i as u64);
                if !worker.is_threaded() {
                    assert_eq!(name, thread_name(), "an inline job runs on the caller");
                }
            }
        }
    }

    #[test]
    fn a_job_the_worker_has_not_started_runs_on_the_caller() {
        let worker = Worker::spawn("test-worker");
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        // Occupy the worker until released, so the second job stays queued.
        let blocker = worker.submit(move || rx.recv().is_ok());
        while matches!(*lock(&blocker.0.state), State::Queued(_)) {
            std::thread::yield_now();
        }
        let queued = worker.submit(thread_name);
        assert_eq!(
            queued.wait(),
            Some(thread_name()),
            "taken back by the caller"
        );
        tx.send(()).unwrap();
        assert_eq!(blocker.wait(), Some(true));
        assert_eq!(
            worker.submit(thread_name).wait().map(|n| n.is_some()),
            Some(true)
        );
    }

    #[test]
    fn a_panicking_job_reports_none_and_the_thread_keeps_serving() {
        let worker = Worker::spawn("test-worker");
        let bad = worker.submit(|| -> u32 { panic!("job failure (expected in this test)") });
        // Wait for the worker to have started it, so the panic happens on its thread.
        while matches!(*lock(&bad.0.state), State::Queued(_)) {
            std::thread::yield_now();
        }
        assert_eq!(bad.wait(), None);
        let started = worker.submit(|| std::thread::sleep(Duration::from_millis(1)));
        while matches!(*lock(&started.0.state), State::Queued(_)) {
            std::thread::yield_now();
        }
        assert_eq!(started.wait(), Some(()), "the worker ran the next job");
    }
}
