//! The serde types of the weight file (see `FORMAT.md`). Encoded with postcard.

use core::fmt;

use serde::{Deserialize, Serialize};

use super::F32Array;

/// The first 4 bytes of every weight file: `PLCY`.
pub const MAGIC: [u8; 4] = *b"PLCY";

/// The format version this crate reads and writes. Any change to the layout bumps it.
pub const FORMAT_VERSION: u16 = 1;

/// The start of every weight file, in every format version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Always [`MAGIC`].
    pub magic: [u8; 4],
    /// The format version, [`FORMAT_VERSION`] for files this crate writes.
    pub version: u16,
}

/// An activation function applied after a linear layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Activation {
    /// `y = x` (wire value 0).
    Identity,
    /// `y = max(x, 0)` (wire value 1).
    Relu,
    /// `y = tanh(x)` (wire value 2).
    Tanh,
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Identity => "identity",
            Self::Relu => "ReLU",
            Self::Tanh => "tanh",
        })
    }
}

/// Per-element observation normalisation `x' = (x - offset) * scale`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Normalization<'a> {
    /// One offset per observation element.
    #[serde(borrow)]
    pub offset: F32Array<'a>,
    /// One scale per observation element.
    #[serde(borrow)]
    pub scale: F32Array<'a>,
}

/// One linear layer `y = act(W x + b)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Layer<'a> {
    /// Input size.
    pub in_dim: u32,
    /// Output size.
    pub out_dim: u32,
    /// Activation applied to the output.
    pub activation: Activation,
    /// `out_dim * in_dim` weights, row-major `[out][in]`.
    #[serde(borrow)]
    pub weights: F32Array<'a>,
    /// `out_dim` biases.
    #[serde(borrow)]
    pub bias: F32Array<'a>,
}

/// The content of a weight file, everything before the CRC-32.
///
/// The file is `postcard(PolicyFile)` followed by the CRC-32 of those bytes as 4 little-endian
/// bytes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PolicyFile<'a> {
    /// Magic bytes and version.
    pub header: Header,
    /// Observation normalisation, if any (absent means offset 0, scale 1).
    #[serde(borrow)]
    pub normalization: Option<Normalization<'a>>,
    /// The three linear layers of the actor, input first.
    #[serde(borrow)]
    pub layers: [Layer<'a>; 3],
    /// Lower action bound per action dimension.
    #[serde(borrow)]
    pub action_low: F32Array<'a>,
    /// Upper action bound per action dimension.
    #[serde(borrow)]
    pub action_high: F32Array<'a>,
}

/// The activations the actor uses, per layer.
pub(crate) const ACTOR_ACTIVATIONS: [Activation; 3] =
    [Activation::Relu, Activation::Relu, Activation::Tanh];
