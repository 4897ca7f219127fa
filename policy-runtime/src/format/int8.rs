//! The int8 weight file (magic `PLQ8`): serde types, writer and validating reader.
//!
//! Same container as the f32 file (postcard, then the CRC-32 of those bytes, every varint in
//! its shortest form); the layout is specified in `FORMAT.md` ("int8 files"). The quantised
//! network: `x_q = clamp(round(x' · inv_s₀), ±127)` of the normalised observation `x'`; two
//! hidden layers `acc = bias + Σ W_q x_q` (int32), requantised to int8 with zero point −128
//! by `q = clamp(((acc · m + 2^(shift−1)) >> shift) − 128, −128, 127)` (which is also the
//! ReLU); the output layer's accumulator is dequantised by its per-channel scale, then tanh
//! and the action scaling run in f32.

use serde::{Deserialize, Serialize};

use super::error::{Field, LoadError, Precision};
use super::validate::{check_array, check_byte_len};
use super::{CRC_LEN, F32Array, Header, structure_error};
use crate::shape::Shape;

/// The first 4 bytes of every int8 weight file: `PLQ8`.
pub const INT8_MAGIC: [u8; 4] = *b"PLQ8";

/// The int8 format version this crate reads and writes.
pub const INT8_FORMAT_VERSION: u16 = 1;

/// A borrowed array of raw bytes (postcard byte array: varint length, then the bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bytes<'a>(#[serde(borrow)] pub &'a [u8]);

impl Bytes<'_> {
    /// The `i8` at `index`.
    pub fn i8(&self, index: usize) -> Option<i8> {
        self.0.get(index).map(|&b| b as i8)
    }

    /// The little-endian `i32` at value index `index`.
    pub fn i32(&self, index: usize) -> Option<i32> {
        let start = index.checked_mul(4)?;
        match self.0.get(start..start.checked_add(4)?)? {
            &[b0, b1, b2, b3] => Some(i32::from_le_bytes([b0, b1, b2, b3])),
            _ => None,
        }
    }
}

/// One hidden layer: `acc = bias + W x`, requantised per output channel.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Int8Hidden<'a> {
    /// Input size.
    pub in_dim: u32,
    /// Output size.
    pub out_dim: u32,
    /// `out_dim · in_dim` int8 weights, row-major `[out][in]`.
    #[serde(borrow)]
    pub weights: Bytes<'a>,
    /// `out_dim` int32 biases (little-endian), in accumulator units, with the input's zero
    /// point folded in.
    #[serde(borrow)]
    pub bias: Bytes<'a>,
    /// `out_dim` int32 multipliers `m` (little-endian, `0 <= m < 2^31`).
    #[serde(borrow)]
    pub multiplier: Bytes<'a>,
    /// `out_dim` right shifts (`1..=62`): the requantised value is `(acc·m) >> shift`, rounded.
    #[serde(borrow)]
    pub shift: Bytes<'a>,
}

/// The output layer: `acc = bias + W x`, then `z = scale · acc` in f32.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Int8Output<'a> {
    /// Input size.
    pub in_dim: u32,
    /// Output size (the action dimension).
    pub out_dim: u32,
    /// `out_dim · in_dim` int8 weights, row-major `[out][in]`.
    #[serde(borrow)]
    pub weights: Bytes<'a>,
    /// `out_dim` int32 biases (little-endian), accumulator units, input zero point folded in.
    #[serde(borrow)]
    pub bias: Bytes<'a>,
    /// `out_dim` dequantisation scales (positive).
    #[serde(borrow)]
    pub scale: F32Array<'a>,
}

/// The content of an int8 weight file, everything before the CRC-32.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Int8File<'a> {
    /// [`INT8_MAGIC`] and [`INT8_FORMAT_VERSION`].
    pub header: Header,
    /// Observation offsets of the normalisation `x' = (x − offset)·scale`.
    #[serde(borrow)]
    pub obs_offset: F32Array<'a>,
    /// Observation scales of the normalisation.
    #[serde(borrow)]
    pub obs_scale: F32Array<'a>,
    /// `1 / s₀`: the normalised observation times this, rounded, is the int8 input.
    pub input_inv_scale: f32,
    /// The two hidden layers (ReLU).
    #[serde(borrow)]
    pub hidden: [Int8Hidden<'a>; 2],
    /// The output layer (tanh, in f32).
    #[serde(borrow)]
    pub output: Int8Output<'a>,
    /// Lower action bounds.
    #[serde(borrow)]
    pub action_low: F32Array<'a>,
    /// Upper action bounds.
    #[serde(borrow)]
    pub action_high: F32Array<'a>,
}

/// A decoded and validated int8 weight file, borrowed from its bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Int8View<'a> {
    file: Int8File<'a>,
    shape: Shape,
}

impl<'a> Int8View<'a> {
    /// The decoded content.
    pub const fn file(&self) -> &Int8File<'a> {
        &self.file
    }

    /// The network's dimensions.
    pub const fn shape(&self) -> Shape {
        self.shape
    }
}

/// The precision of a weight file, from its magic bytes (`None`: neither magic).
pub fn precision_of(bytes: &[u8]) -> Option<Precision> {
    match bytes.get(..4) {
        Some(m) if m == super::MAGIC => Some(Precision::F32),
        Some(m) if m == INT8_MAGIC => Some(Precision::Int8),
        _ => None,
    }
}

/// Decodes and validates an int8 weight file. Checks, in order: magic (an f32 file is
/// [`LoadError::WrongPrecision`]), version, structure (shortest varints), that exactly the
/// checksum follows, the CRC-32, dimensions, array lengths, scales, shifts and bounds.
/// Allocates nothing.
pub fn decode_int8(bytes: &[u8]) -> Result<Int8View<'_>, LoadError> {
    let magic_len = bytes.len().min(INT8_MAGIC.len());
    if bytes.get(..magic_len) != INT8_MAGIC.get(..magic_len) {
        if precision_of(bytes) == Some(Precision::F32) {
            return Err(LoadError::WrongPrecision {
                expected: Precision::Int8,
                found: Precision::F32,
            });
        }
        return Err(LoadError::BadMagic);
    }
    let (header, _) = postcard::take_from_bytes::<Header>(bytes).map_err(structure_error)?;
    if header.version != INT8_FORMAT_VERSION {
        return Err(LoadError::UnsupportedVersion {
            found: header.version,
            supported: INT8_FORMAT_VERSION,
        });
    }
    let (file, rest) = postcard::take_from_bytes::<Int8File<'_>>(bytes).map_err(structure_error)?;
    super::check_container(bytes, rest, file.canonical_len())?;
    let shape = validate(&file)?;
    Ok(Int8View { file, shape })
}

impl Int8File<'_> {
    /// Length of the canonical encoding without the checksum (see
    /// [`PolicyFile::canonical_len`](super::PolicyFile)).
    fn canonical_len(&self) -> usize {
        let bytes = |b: &Bytes<'_>| super::wire::varint_len(b.0.len()) + b.0.len();
        let f32s = |a: &F32Array<'_>| super::wire::varint_len(a.byte_len()) + a.byte_len();
        let dims = |i: u32, o: u32| {
            super::wire::varint_len(i as usize) + super::wire::varint_len(o as usize)
        };
        let mut len = self.header.magic.len()
            + super::wire::varint_len(usize::from(self.header.version))
            + f32s(&self.obs_offset)
            + f32s(&self.obs_scale)
            + 4;
        for h in &self.hidden {
            len += dims(h.in_dim, h.out_dim)
                + bytes(&h.weights)
                + bytes(&h.bias)
                + bytes(&h.multiplier)
                + bytes(&h.shift);
        }
        let o = &self.output;
        len + dims(o.in_dim, o.out_dim)
            + bytes(&o.weights)
            + bytes(&o.bias)
            + f32s(&o.scale)
            + f32s(&self.action_low)
            + f32s(&self.action_high)
    }
}

fn dim(layer: usize, value: u32) -> Result<usize, LoadError> {
    match usize::try_from(value) {
        Ok(v) if v > 0 && v <= u16::MAX as usize => Ok(v),
        _ => Err(LoadError::InvalidDimension {
            layer,
            value: value as usize,
        }),
    }
}

fn check_f32(a: &F32Array<'_>, field: Field, len: usize, positive: bool) -> Result<(), LoadError> {
    check_array(a, field, len)?;
    match a.iter().position(|v| positive && v <= 0.0) {
        Some(index) => Err(LoadError::InvalidScale { field, index }),
        None => Ok(()),
    }
}

/// Dimensions (non-zero, at most 65,535, chained), array lengths, finite f32 values,
/// positive scales, multipliers `>= 0`, shifts in `1..=62`, `low < high`.
fn validate(file: &Int8File<'_>) -> Result<Shape, LoadError> {
    let mut dims = [0usize; 4];
    let layers = [
        (file.hidden[0].in_dim, file.hidden[0].out_dim),
        (file.hidden[1].in_dim, file.hidden[1].out_dim),
        (file.output.in_dim, file.output.out_dim),
    ];
    for (l, &(i, o)) in layers.iter().enumerate() {
        let (i, o) = (dim(l, i)?, dim(l, o)?);
        if l > 0 && dims.get(l).copied() != Some(i) {
            return Err(LoadError::LayerChainMismatch {
                layer: l,
                expected: dims.get(l).copied().unwrap_or(0),
                found: i,
            });
        }
        if l == 0 {
            dims[0] = i;
        }
        if let Some(d) = dims.get_mut(l + 1) {
            *d = o;
        }
    }
    let [obs, hidden1, hidden2, act] = dims;
    check_f32(&file.obs_offset, Field::ObsOffset, obs, false)?;
    check_f32(&file.obs_scale, Field::ObsScale, obs, false)?;
    let inv = file.input_inv_scale;
    if !inv.is_finite() || inv <= 0.0 {
        return Err(LoadError::InvalidScale {
            field: Field::InputScale,
            index: 0,
        });
    }
    for (l, (h, (i, o))) in file
        .hidden
        .iter()
        .zip([(obs, hidden1), (hidden1, hidden2)])
        .enumerate()
    {
        check_byte_len(h.weights.0.len(), Field::Int8Weights(l), i * o, 1)?;
        check_byte_len(h.bias.0.len(), Field::Int32Bias(l), o, 4)?;
        check_byte_len(h.multiplier.0.len(), Field::Multiplier(l), o, 4)?;
        check_byte_len(h.shift.0.len(), Field::Shift(l), o, 1)?;
        for index in 0..o {
            if h.multiplier.i32(index).unwrap_or(-1) < 0 {
                return Err(LoadError::InvalidScale {
                    field: Field::Multiplier(l),
                    index,
                });
            }
            let shift = h.shift.0.get(index).copied().unwrap_or(0);
            if !(1..=62).contains(&shift) {
                return Err(LoadError::InvalidShift {
                    layer: l,
                    index,
                    shift,
                });
            }
        }
    }
    let out = &file.output;
    check_byte_len(out.weights.0.len(), Field::Int8Weights(2), hidden2 * act, 1)?;
    check_byte_len(out.bias.0.len(), Field::Int32Bias(2), act, 4)?;
    check_f32(&out.scale, Field::OutputScale, act, true)?;
    check_f32(&file.action_low, Field::ActionLow, act, false)?;
    check_f32(&file.action_high, Field::ActionHigh, act, false)?;
    super::check_bounds(&file.action_low, &file.action_high)?;
    Ok(Shape {
        obs,
        hidden1,
        hidden2,
        act,
    })
}

/// Writes `file` (validated first) with its checksum into `out`; returns the bytes written.
pub fn encode_int8(file: &Int8File<'_>, out: &mut [u8]) -> Result<usize, super::EncodeError> {
    validate(file)?;
    let needed = file.canonical_len() + CRC_LEN;
    let available = out.len();
    if available < needed {
        return Err(super::EncodeError::BufferTooSmall { needed, available });
    }
    let payload = postcard::to_slice(file, out)
        .map_err(|_| super::EncodeError::BufferTooSmall { needed, available })?
        .len();
    super::append_crc(out, payload, needed)
}

/// [`encode_int8`] into a new vector (feature `alloc`).
#[cfg(feature = "alloc")]
pub fn encode_int8_to_vec(file: &Int8File<'_>) -> Result<alloc::vec::Vec<u8>, super::EncodeError> {
    let mut out = alloc::vec![0u8; file.canonical_len() + CRC_LEN];
    let n = encode_int8(file, &mut out)?;
    out.truncate(n);
    Ok(out)
}
