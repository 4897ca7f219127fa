//! Discrete-time infinite-horizon LQR for two states and one input.

use nalgebra::{Matrix2, RowVector2, Vector2};
use thiserror::Error;

/// The Riccati iteration did not converge.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("discrete Riccati iteration did not converge in {iterations} iterations")]
pub struct LqrError {
    /// Iterations performed.
    pub iterations: usize,
}

/// Gain `K` of `u = −K x` minimising `Σ xᵀQx + R u²` for `x' = A x + B u`.
///
/// Solves the discrete algebraic Riccati equation
/// `P = Q + AᵀPA − AᵀPB (R + BᵀPB)⁻¹ BᵀPA` by fixed-point iteration from `P = Q`, then
/// `K = (R + BᵀPB)⁻¹ BᵀPA`. Requires `(A, B)` stabilisable, `Q ⪰ 0`, `R > 0`.
pub fn discrete_lqr(
    a: &Matrix2<f64>,
    b: &Vector2<f64>,
    q: &Matrix2<f64>,
    r: f64,
) -> Result<RowVector2<f64>, LqrError> {
    const MAX_ITERATIONS: usize = 100_000;
    let mut p = *q;
    for _ in 0..MAX_ITERATIONS {
        let s = r + (b.transpose() * p * b)[0];
        let k = (b.transpose() * p * a) / s;
        let next = q + a.transpose() * p * a - a.transpose() * p * b * k;
        let converged = (next - p).norm() <= 1e-12 * next.norm().max(1.0);
        p = next;
        if converged {
            let s = r + (b.transpose() * p * b)[0];
            return Ok((b.transpose() * p * a) / s);
        }
    }
    Err(LqrError {
        iterations: MAX_ITERATIONS,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stabilises_a_double_integrator() {
        let a = Matrix2::new(1.0, 0.1, 0.0, 1.0);
        let b = Vector2::new(0.005, 0.1);
        let k = discrete_lqr(&a, &b, &Matrix2::identity(), 1.0).unwrap();
        let closed = a - b * k;
        let eig = closed.complex_eigenvalues();
        assert!(eig.iter().all(|e| e.norm() < 1.0), "{eig:?}");
        assert!(k[0] > 0.0 && k[1] > 0.0);
    }
}
