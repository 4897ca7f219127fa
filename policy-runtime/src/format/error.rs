//! Errors of loading (decoding + validating) and encoding a weight file.

use core::fmt;

use super::Activation;
use crate::shape::Shape;

/// One array of the weight file, used to say where a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// The observation offsets of the normalisation.
    ObsOffset,
    /// The observation scales of the normalisation.
    ObsScale,
    /// The weights of linear layer `0`, `1` or `2`.
    Weights(usize),
    /// The bias of linear layer `0`, `1` or `2`.
    Bias(usize),
    /// The lower action bounds.
    ActionLow,
    /// The upper action bounds.
    ActionHigh,
    /// The int8 weights of layer `0`, `1` or `2` (int8 file).
    Int8Weights(usize),
    /// The int32 bias (accumulator units) of layer `0`, `1` or `2` (int8 file).
    Int32Bias(usize),
    /// The requantisation multipliers of hidden layer `0` or `1` (int8 file).
    Multiplier(usize),
    /// The requantisation shifts of hidden layer `0` or `1` (int8 file).
    Shift(usize),
    /// The input quantisation factor `1 / s₀` (int8 file).
    InputScale,
    /// The output layer's dequantisation scales (int8 file).
    OutputScale,
}

impl Field {
    /// Bytes per value of this array on the wire, and the value type's name.
    const fn element(&self) -> (usize, &'static str) {
        match self {
            Self::Int8Weights(_) => (1, "i8"),
            Self::Shift(_) => (1, "u8"),
            Self::Int32Bias(_) | Self::Multiplier(_) => (4, "i32"),
            _ => (4, "f32"),
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ObsOffset => f.write_str("observation offset"),
            Self::ObsScale => f.write_str("observation scale"),
            Self::Weights(l) => write!(f, "layer {l} weights"),
            Self::Bias(l) => write!(f, "layer {l} bias"),
            Self::ActionLow => f.write_str("action low bound"),
            Self::ActionHigh => f.write_str("action high bound"),
            Self::Int8Weights(l) => write!(f, "layer {l} int8 weights"),
            Self::Int32Bias(l) => write!(f, "layer {l} int32 bias"),
            Self::Multiplier(l) => write!(f, "layer {l} requantisation multipliers"),
            Self::Shift(l) => write!(f, "layer {l} requantisation shifts"),
            Self::InputScale => f.write_str("input quantisation scale"),
            Self::OutputScale => f.write_str("output dequantisation scale"),
        }
    }
}

/// Why a weight file (or a set of raw weights) was refused.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LoadError {
    /// The file ends before its content does (includes a missing checksum).
    Truncated,
    /// The file does not start with [`format::MAGIC`](crate::format::MAGIC).
    BadMagic,
    /// The file's format version is not the one this reader understands.
    UnsupportedVersion {
        /// Version found in the file.
        found: u16,
        /// The only version this reader supports, [`format::FORMAT_VERSION`](crate::format::FORMAT_VERSION).
        supported: u16,
    },
    /// The bytes are not a valid encoding of the file's structure.
    Malformed {
        /// What was wrong.
        reason: &'static str,
    },
    /// Bytes follow the checksum.
    TrailingBytes {
        /// How many bytes follow it.
        count: usize,
    },
    /// The CRC-32 stored in the file differs from the CRC-32 of its content.
    ChecksumMismatch {
        /// CRC-32 stored in the file.
        expected: u32,
        /// CRC-32 computed over the content.
        found: u32,
    },
    /// A layer has an activation other than the actor's `ReLU, ReLU, Tanh`.
    UnsupportedActivation {
        /// Layer index (0, 1 or 2).
        layer: usize,
        /// The activation this runtime requires for that layer.
        expected: Activation,
        /// The activation found in the file.
        found: Activation,
    },
    /// A dimension is zero or too large to address.
    InvalidDimension {
        /// Layer index (0, 1 or 2).
        layer: usize,
        /// The offending dimension.
        value: usize,
    },
    /// A layer's input size differs from the previous layer's output size.
    LayerChainMismatch {
        /// Layer index (1 or 2).
        layer: usize,
        /// Output size of the previous layer.
        expected: usize,
        /// Input size of this layer.
        found: usize,
    },
    /// An array has the wrong length for the file's dimensions.
    ArrayLength {
        /// The array.
        field: Field,
        /// Expected length in bytes (4 per value).
        expected_bytes: usize,
        /// Length found, in bytes.
        found_bytes: usize,
    },
    /// The file's dimensions differ from the ones the policy type was compiled for.
    ShapeMismatch {
        /// Dimensions of the policy type.
        expected: Shape,
        /// Dimensions in the file.
        found: Shape,
    },
    /// The file's shape is not one of `DynPolicy::SUPPORTED_SHAPES`
    /// (feature `alloc`).
    UnsupportedShape {
        /// Dimensions in the file.
        found: Shape,
    },
    /// A weight, bias, normalisation value or bound is NaN or infinite.
    NonFiniteWeight {
        /// The array holding it.
        field: Field,
        /// Index in the array (row-major `[out][in]` for weights).
        index: usize,
    },
    /// A file of the other precision: an int8 file given to an f32 reader, or an f32 file
    /// given to an int8 reader.
    WrongPrecision {
        /// The precision the reader expected.
        expected: Precision,
        /// The precision of the file (from its magic bytes).
        found: Precision,
    },
    /// A requantisation shift outside `1..=62` (int8 file).
    InvalidShift {
        /// Hidden layer (0 or 1).
        layer: usize,
        /// Output channel.
        index: usize,
        /// The shift found.
        shift: u8,
    },
    /// A scale that must be positive (and finite) is not (int8 file).
    InvalidScale {
        /// The array holding it.
        field: Field,
        /// Index in the array.
        index: usize,
    },
    /// An action bound pair with `low >= high`.
    InvalidBounds {
        /// Action dimension.
        index: usize,
        /// Lower bound found.
        low: f32,
        /// Upper bound found.
        high: f32,
    },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("weight file is truncated"),
            Self::BadMagic => f.write_str("not a policy weight file (bad magic bytes)"),
            Self::UnsupportedVersion { found, supported } => write!(
                f,
                "unsupported weight-file format version {found} (this reader supports version {supported})"
            ),
            Self::Malformed { reason } => write!(f, "malformed weight file: {reason}"),
            Self::TrailingBytes { count } => {
                write!(
                    f,
                    "weight file has {count} unexpected byte(s) after its checksum"
                )
            }
            Self::ChecksumMismatch { expected, found } => write!(
                f,
                "weight file checksum mismatch: stored CRC-32 {expected:#010x}, computed {found:#010x}"
            ),
            Self::UnsupportedActivation {
                layer,
                expected,
                found,
            } => write!(
                f,
                "layer {layer} has activation {found}, this runtime requires {expected}"
            ),
            Self::InvalidDimension { layer, value } => {
                write!(f, "layer {layer} has an invalid dimension {value}")
            }
            Self::LayerChainMismatch {
                layer,
                expected,
                found,
            } => write!(
                f,
                "layer {layer} takes {found} inputs but the previous layer has {expected} outputs"
            ),
            Self::ArrayLength {
                field,
                expected_bytes,
                found_bytes,
            } => {
                let (size, name) = field.element();
                write!(
                    f,
                    "{field} has {found_bytes} bytes, expected {expected_bytes} ({} {name} values)",
                    expected_bytes / size
                )
            }
            Self::ShapeMismatch { expected, found } => write!(
                f,
                "policy shape mismatch: expected {expected}, file has {found}"
            ),
            Self::UnsupportedShape { found } => write!(
                f,
                "network shape {found} is not one of the shapes compiled into this host (see \
                 policy_runtime::DynPolicy::SUPPORTED_SHAPES)"
            ),
            Self::NonFiniteWeight { field, index } => {
                write!(f, "{field} value {index} is not finite")
            }
            Self::WrongPrecision { expected, found } => write!(
                f,
                "this is an {found} weight file; this reader loads {expected} files"
            ),
            Self::InvalidShift {
                layer,
                index,
                shift,
            } => write!(
                f,
                "layer {layer} requantisation shift {index} is {shift}, must be in 1..=62"
            ),
            Self::InvalidScale { field, index } => {
                write!(f, "{field} value {index} must be positive and finite")
            }
            Self::InvalidBounds { index, low, high } => write!(
                f,
                "action bounds of dimension {index} are invalid: low {low} must be < high {high}"
            ),
        }
    }
}

impl core::error::Error for LoadError {}

/// The number format of a weight file's network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Precision {
    /// `f32` weights and activations (magic `PLCY`).
    F32,
    /// int8 weights and activations, int32 accumulators (magic `PLQ8`).
    Int8,
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::F32 => "f32",
            Self::Int8 => "int8",
        })
    }
}

/// Why a policy could not be encoded.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EncodeError {
    /// The policy would not pass loading; the inner error names the problem.
    InvalidPolicy(LoadError),
    /// A dimension does not fit the file's `u32` fields.
    DimensionTooLarge {
        /// The dimension.
        value: usize,
    },
    /// The output buffer is too small.
    BufferTooSmall {
        /// Bytes needed ([`format::encoded_len`](crate::format::encoded_len)).
        needed: usize,
        /// Bytes available.
        available: usize,
    },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidPolicy(e) => write!(f, "cannot encode an invalid policy: {e}"),
            Self::DimensionTooLarge { value } => {
                write!(
                    f,
                    "dimension {value} is too large for the weight-file format"
                )
            }
            Self::BufferTooSmall { needed, available } => write!(
                f,
                "output buffer too small: {needed} bytes needed, {available} available"
            ),
        }
    }
}

impl core::error::Error for EncodeError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::InvalidPolicy(e) => Some(e),
            _ => None,
        }
    }
}

impl From<LoadError> for EncodeError {
    fn from(e: LoadError) -> Self {
        Self::InvalidPolicy(e)
    }
}
