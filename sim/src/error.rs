//! Parameter validation errors.

use thiserror::Error;

/// A physical or simulation parameter was rejected at construction.
///
/// Every variant names the offending field (as spelled in the params struct) so that a wrong
/// value in a configuration file can be found at once.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum ParamError {
    /// The value is NaN or infinite.
    #[error("parameter `{name}` must be finite, got {value}")]
    NotFinite {
        /// Field name.
        name: &'static str,
        /// Offending value.
        value: f64,
    },
    /// The value must be strictly positive.
    #[error("parameter `{name}` must be > 0, got {value}")]
    NotPositive {
        /// Field name.
        name: &'static str,
        /// Offending value.
        value: f64,
    },
    /// The value must be zero or positive.
    #[error("parameter `{name}` must be >= 0, got {value}")]
    Negative {
        /// Field name.
        name: &'static str,
        /// Offending value.
        value: f64,
    },
    /// An integer count must be at least one.
    #[error("parameter `{name}` must be at least 1, got 0")]
    ZeroCount {
        /// Field name.
        name: &'static str,
    },
    /// An integer count is below the supported minimum.
    #[error("parameter `{name}` must be at least {min}, got {value}")]
    TooSmall {
        /// Field name.
        name: &'static str,
        /// Offending value.
        value: u64,
        /// Smallest accepted value.
        min: u64,
    },
    /// An integer count exceeds the supported maximum.
    #[error("parameter `{name}` must be at most {max}, got {value}")]
    TooLarge {
        /// Field name.
        name: &'static str,
        /// Offending value.
        value: u64,
        /// Largest accepted value.
        max: u64,
    },
    /// `dt · integration_rate_hz` asks for more RK4 sub-steps per control period than supported.
    #[error(
        "`dt` * `integration_rate_hz` gives {substeps} RK4 sub-steps per period, at most {max} are supported"
    )]
    TooManySubsteps {
        /// Requested sub-steps (saturated at `u64::MAX`).
        substeps: u64,
        /// Largest accepted number.
        max: u64,
    },
    /// A field only makes sense together with another one that is off.
    #[error("parameter `{name}` needs `{requires}` to be set")]
    Requires {
        /// Field name.
        name: &'static str,
        /// The field it needs.
        requires: &'static str,
    },
    /// A `[min, max]` range is empty, non-finite or not strictly positive.
    #[error("parameter `{name}` must be a range 0 < min <= max < inf, got [{min}, {max}]")]
    InvalidRange {
        /// Field name.
        name: &'static str,
        /// Lower end.
        min: f64,
        /// Upper end.
        max: f64,
    },
}

/// `value` must be finite and strictly positive.
pub(crate) fn positive(name: &'static str, value: f64) -> Result<(), ParamError> {
    finite(name, value)?;
    if value > 0.0 {
        Ok(())
    } else {
        Err(ParamError::NotPositive { name, value })
    }
}

/// `value` must be finite and zero or positive.
pub(crate) fn non_negative(name: &'static str, value: f64) -> Result<(), ParamError> {
    finite(name, value)?;
    if value >= 0.0 {
        Ok(())
    } else {
        Err(ParamError::Negative { name, value })
    }
}

/// `value` must be finite.
pub(crate) fn finite(name: &'static str, value: f64) -> Result<(), ParamError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(ParamError::NotFinite { name, value })
    }
}

/// An integer count must be at least one.
pub(crate) fn at_least_one(name: &'static str, value: u64) -> Result<(), ParamError> {
    if value == 0 {
        Err(ParamError::ZeroCount { name })
    } else {
        Ok(())
    }
}
