//! The forward pass: no allocation, no panic path, constant work.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::unreachable
)]

use crate::layout::BLOCK;
use crate::output::{Output, Status};
use crate::policy::Policy;

/// Independent partial sums of a dot product (for layers with fewer than `BLOCK` outputs).
/// Fixed for every target so that results are bit-identical across targets.
const LANES: usize = 8;

impl<const OBS: usize, const H1: usize, const H2: usize, const ACT: usize>
    Policy<OBS, H1, H2, ACT>
{
    /// Computes the action for one observation.
    ///
    /// If an observation element is NaN or infinite, returns the safe action with
    /// [`Status::NonFiniteObservation`]; if the network's output is NaN (possible only for
    /// extreme finite observations), the safe action with [`Status::NonFiniteOutput`]. The
    /// action is always finite and inside `[low, high]`.
    ///
    /// Activations live on the stack (`OBS + H1 + H2 + ACT` values); nothing is allocated.
    #[inline]
    pub fn act(&self, obs: &[f32; OBS]) -> Output<ACT> {
        if !obs.iter().all(|x| x.is_finite()) {
            return self.safe(Status::NonFiniteObservation);
        }
        let mut x = [0.0f32; OBS];
        for (((x, &o), &off), &sc) in x.iter_mut().zip(obs).zip(&self.offset).zip(&self.scale) {
            *x = (o - off) * sc;
        }
        let mut h1 = [0.0f32; H1];
        dense::<OBS, H1, true>(&self.w1, &self.b1, &x, &mut h1);
        let mut h2 = [0.0f32; H2];
        dense::<H1, H2, true>(&self.w2, &self.b2, &h1, &mut h2);
        let mut y = [0.0f32; ACT];
        dense::<H2, ACT, false>(&self.w3, &self.b3, &h2, &mut y);

        let mut action = [0.0f32; ACT];
        let mut finite = true;
        for ((((a, &y), &mid), &half), (&low, &high)) in action
            .iter_mut()
            .zip(&y)
            .zip(&self.mid)
            .zip(&self.half)
            .zip(self.low.iter().zip(&self.high))
        {
            let v = mid + half * libm::tanhf(y);
            finite &= !v.is_nan();
            *a = v.max(low).min(high);
        }
        if finite {
            Output {
                action,
                status: Status::Ok,
            }
        } else {
            self.safe(Status::NonFiniteOutput)
        }
    }

    fn safe(&self, status: Status) -> Output<ACT> {
        Output {
            action: self.safe_action,
            status,
        }
    }
}

/// `out = act(W x + b)` with `W` in the layout of [`crate::layout`], `act` ReLU if `RELU`.
#[inline(always)]
fn dense<const IN: usize, const OUT: usize, const RELU: bool>(
    w: &[[f32; IN]; OUT],
    b: &[f32; OUT],
    x: &[f32; IN],
    out: &mut [f32; OUT],
) {
    let blocked = OUT / BLOCK * BLOCK;
    let w = w.as_flattened();
    let (Some((w_blocks, w_tail)), Some((b_blocks, b_tail)), Some((o_blocks, o_tail))) = (
        w.split_at_checked(blocked.saturating_mul(IN)),
        b.split_at_checked(blocked),
        out.split_at_mut_checked(blocked),
    ) else {
        return;
    };
    for ((wb, bb), ob) in w_blocks
        .chunks_exact(BLOCK.saturating_mul(IN))
        .zip(b_blocks.chunks_exact(BLOCK))
        .zip(o_blocks.chunks_exact_mut(BLOCK))
    {
        let mut acc = [0.0f32; BLOCK];
        for (a, &bias) in acc.iter_mut().zip(bb) {
            *a = bias;
        }
        for (&xi, w_row) in x.iter().zip(wb.chunks_exact(BLOCK)) {
            for (a, &wv) in acc.iter_mut().zip(w_row) {
                *a += xi * wv;
            }
        }
        for (o, a) in ob.iter_mut().zip(acc) {
            *o = activate::<RELU>(a);
        }
    }
    for ((row, &bias), o) in w_tail.chunks_exact(IN).zip(b_tail).zip(o_tail) {
        *o = activate::<RELU>(bias + dot(row, x));
    }
}

#[inline(always)]
fn activate<const RELU: bool>(v: f32) -> f32 {
    // `v > 0.0` is false for NaN, so ReLU maps NaN to 0.
    if !RELU || v > 0.0 { v } else { 0.0 }
}

/// Dot product with [`LANES`] independent partial sums, then a fixed pairwise reduction.
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (ca, cb) in ca.zip(cb) {
        for ((s, &x), &y) in acc.iter_mut().zip(ca).zip(cb) {
            *s += x * y;
        }
    }
    let mut rest = 0.0f32;
    for (&x, &y) in ra.iter().zip(rb) {
        rest += x * y;
    }
    let [a0, a1, a2, a3, a4, a5, a6, a7] = acc;
    ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7)) + rest
}
