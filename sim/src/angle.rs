//! Angle helpers.

use core::f64::consts::PI;

/// Wraps an angle to `[-π, π)`: `((θ + π) mod 2π) − π` with a floored (Euclidean) modulo, the
/// `angle_normalize` of Gym's Pendulum-v1.
///
/// Rounding can make the Euclidean remainder land exactly on `2π` for inputs a hair below an odd
/// multiple of `-π`; that case is mapped to `-π` so the result is always inside the half-open
/// interval (the reward, which squares the result, is unaffected either way).
pub fn wrap_angle(theta: f64) -> f64 {
    let wrapped = (theta + PI).rem_euclid(2.0 * PI) - PI;
    if wrapped >= PI {
        wrapped - 2.0 * PI
    } else {
        wrapped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_into_half_open_interval() {
        assert_eq!(wrap_angle(0.0), 0.0);
        assert_eq!(wrap_angle(PI), -PI);
        assert_eq!(wrap_angle(-PI), -PI);
        assert!((wrap_angle(3.0 * PI / 2.0) + PI / 2.0).abs() < 1e-15);
        assert!((wrap_angle(-3.0 * PI / 2.0) - PI / 2.0).abs() < 1e-15);
        assert!((wrap_angle(7.0 * PI + 0.25) - (-PI + 0.25)).abs() < 1e-12);
        for &x in &[-1e-300, -1e-17, 1e-17, -PI - 1e-16, PI - 1e-16, 1e6, -1e6] {
            let w = wrap_angle(x);
            assert!((-PI..PI).contains(&w), "{x} -> {w}");
        }
    }
}
