//! probe
use sim::optimal::{GridSpec, TrajectoryOptimizer, Workspace, DEFAULT_GRIDS};
use sim::{Environment, Pendulum, PendulumParams};
use std::time::Instant;
fn main() {
    let p = PendulumParams::default();
    let t = Instant::now();
    let a = TrajectoryOptimizer::new(&p, &DEFAULT_GRIDS, 2).unwrap();
    println!("default built {:?}", t.elapsed());
    let b = TrajectoryOptimizer::new(&p, &[GridSpec { angles: 1024, speeds: 513, torques: 41 }, DEFAULT_GRIDS[0], DEFAULT_GRIDS[1]], 2).unwrap();
    let mut env = Pendulum::new(p.clone()).unwrap();
    let mut ws = Workspace::default();
    let mut obs = [0.0f32; 3];
    let mut d = vec![];
    let (mut ta, mut tb) = (0.0, 0.0);
    for i in 0..200 {
        env.reset(1000 + i as u64, &mut obs);
        let x0 = env.state();
        let t = Instant::now();
        let ra = a.solve(x0, &mut ws);
        ta += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let rb = b.solve(x0, &mut ws);
        tb += t.elapsed().as_secs_f64();
        d.push((rb.ret - ra.ret, i, ra.ret, rb.ret, ra.start, rb.start));
    }
    let n = d.len() as f64;
    println!("mean a {:.3} b {:.3}; time/episode a {:.1} ms b {:.1} ms", d.iter().map(|x| x.2).sum::<f64>() / n, d.iter().map(|x| x.3).sum::<f64>() / n, ta / n * 1e3, tb / n * 1e3);
    d.sort_by(|x, y| y.0.partial_cmp(&x.0).unwrap());
    for x in d.iter().take(6) { println!("{:?}", x); }
    println!("a better than b: {}", d.iter().filter(|x| x.0 < -1e-6).count());
}
