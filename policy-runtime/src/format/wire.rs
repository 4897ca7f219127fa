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

impl PolicyFile<'_> {
    /// The length of this file's canonical postcard encoding without the checksum: every
    /// varint in its shortest form (`FORMAT.md`'s field table, summed). Written out rather
    /// than asking postcard's size serialiser: in the size probe's p64 image this check adds
    /// 672 B of `.text`, the serialiser 1,922 B. A test checks that the two agree.
    #[inline(never)]
    pub(crate) fn canonical_len(&self) -> usize {
        let [l0, l1, l2] = &self.layers;
        let norm = self.normalization.as_ref();
        let arrays = [
            norm.map(|n| &n.offset),
            norm.map(|n| &n.scale),
            Some(&l0.weights),
            Some(&l0.bias),
            Some(&l1.weights),
            Some(&l1.bias),
            Some(&l2.weights),
            Some(&l2.bias),
            Some(&self.action_low),
            Some(&self.action_high),
        ];
        // Magic, version, normalisation presence tag.
        let mut len = self.header.magic.len() + varint_len(usize::from(self.header.version)) + 1;
        for l in &self.layers {
            len += varint_len(l.in_dim as usize)
                + varint_len(l.out_dim as usize)
                + varint_len(l.activation as usize);
        }
        for a in arrays.iter().flatten() {
            len += varint_len(a.byte_len()) + a.byte_len();
        }
        len
    }
}

/// Bytes of the shortest unsigned LEB128 encoding of `value` (7 bits per byte).
pub(crate) const fn varint_len(value: usize) -> usize {
    let bits = (usize::BITS - value.leading_zeros()) as usize;
    if bits == 0 { 1 } else { bits.div_ceil(7) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(dims: [u32; 4], version: u16, normalized: bool) -> PolicyFile<'static> {
        let arr = |n: u32| F32Array::filled(0.5, n as usize);
        let layer = |i: usize| Layer {
            in_dim: dims[i],
            out_dim: dims[i + 1],
            activation: ACTOR_ACTIVATIONS[i],
            weights: arr(dims[i] * dims[i + 1]),
            bias: arr(dims[i + 1]),
        };
        PolicyFile {
            header: Header {
                magic: MAGIC,
                version,
            },
            normalization: normalized.then(|| Normalization {
                offset: arr(dims[0]),
                scale: arr(dims[0]),
            }),
            layers: [layer(0), layer(1), layer(2)],
            action_low: arr(dims[3]),
            action_high: arr(dims[3]),
        }
    }

    /// The written-out length equals postcard's size serialiser across varint widths
    /// (1 to 4 bytes: dimensions 1..=300, arrays up to 360 kB).
    #[test]
    fn canonical_len_is_postcards_encoded_length() {
        let dims = [1, 3, 31, 32, 127, 128, 300];
        for (i, &a) in dims.iter().enumerate() {
            for &b in &dims[i..] {
                for (version, normalized) in [(1, true), (1, false), (300, true)] {
                    let f = file([a, b, b, a], version, normalized);
                    let postcard =
                        postcard::serialize_with_flavor(&f, postcard::ser_flavors::Size::default())
                            .unwrap();
                    assert_eq!(f.canonical_len(), postcard, "{a}-{b}-{b}-{a} v{version}");
                }
            }
        }
        assert_eq!(varint_len(0), 1);
        assert_eq!(varint_len(127), 1);
        assert_eq!(varint_len(128), 2);
        assert_eq!(varint_len(usize::MAX), usize::BITS.div_ceil(7) as usize);
    }
}
