//! The weight-file format: serde types, writer and validating reader.
//!
//! A file is the postcard encoding of [`PolicyFile`] followed by the CRC-32/ISO-HDLC of
//! those bytes (4 bytes, little-endian). The byte-level layout is specified in the crate's
//! `FORMAT.md`. The trainer writes files with [`encode`]; devices and tools read them with
//! [`decode`] (dimensions known at run time) or
//! [`Policy::from_bytes`](crate::Policy::from_bytes) (dimensions known at compile time).

mod f32_array;
mod int8;
mod validate;
mod view;
mod wire;

pub use f32_array::{F32Array, F32Iter};
pub use view::{LayerView, PolicyView};
pub use wire::{Activation, FORMAT_VERSION, Header, Layer, MAGIC, Normalization, PolicyFile};

/// CRC-32/ISO-HDLC (the zlib/PNG/Ethernet CRC, from the `crc` crate's catalogue, as the link's
/// frames use), bitwise like the link's. Against a 1 KiB-table CRC: 408 B less flash in the
/// size probe (`.text` +644 B, `.rodata` −1,052 B), and decoding the shipped 18 kB file takes
/// 159 µs instead of 51 µs on the development host (a load-time cost only).
const CRC32: crc::Crc<u32, crc::NoTable> =
    crc::Crc::<u32, crc::NoTable>::new(&crc::CRC_32_ISO_HDLC);

fn crc32(bytes: &[u8]) -> u32 {
    CRC32.checksum(bytes)
}
mod error;

pub use error::{EncodeError, Field, LoadError, Precision};
#[cfg(feature = "alloc")]
pub use int8::encode_int8_to_vec;
pub use int8::{
    Bytes, INT8_FORMAT_VERSION, INT8_MAGIC, Int8File, Int8Hidden, Int8Output, Int8View,
    decode_int8, encode_int8, precision_of,
};
use wire::ACTOR_ACTIVATIONS;

/// Length of the trailing checksum.
const CRC_LEN: usize = 4;

/// A policy to write, as slices of `f32` (what a trainer has at hand).
#[derive(Debug, Clone, Copy)]
pub struct PolicySpec<'a> {
    /// Observation offsets; `None` with `obs_scale` also `None` means no normalisation,
    /// `None` with a scale present means zeros.
    pub obs_offset: Option<&'a [f32]>,
    /// Observation scales; `None` with an offset present means ones.
    pub obs_scale: Option<&'a [f32]>,
    /// The three linear layers (ReLU, ReLU, tanh), input first.
    pub layers: [LayerSpec<'a>; 3],
    /// Lower action bounds.
    pub action_low: &'a [f32],
    /// Upper action bounds.
    pub action_high: &'a [f32],
}

/// One linear layer to write.
#[derive(Debug, Clone, Copy)]
pub struct LayerSpec<'a> {
    /// Input size.
    pub in_dim: usize,
    /// Output size.
    pub out_dim: usize,
    /// `out_dim * in_dim` weights, row-major `[out][in]`.
    pub weights: &'a [f32],
    /// `out_dim` biases.
    pub bias: &'a [f32],
}

impl<'a> PolicySpec<'a> {
    /// The [`PolicyFile`] this spec encodes to (not yet validated).
    pub fn to_file(&self) -> Result<PolicyFile<'a>, EncodeError> {
        let obs = self.layers[0].in_dim;
        let normalization = match (self.obs_offset, self.obs_scale) {
            (None, None) => None,
            (offset, scale) => Some(Normalization {
                offset: offset.map_or(F32Array::filled(0.0, obs), F32Array::from_values),
                scale: scale.map_or(F32Array::filled(1.0, obs), F32Array::from_values),
            }),
        };
        let mut layers = [Layer {
            in_dim: 0,
            out_dim: 0,
            activation: Activation::Identity,
            weights: F32Array::from_values(&[]),
            bias: F32Array::from_values(&[]),
        }; 3];
        for ((dst, src), activation) in layers.iter_mut().zip(&self.layers).zip(ACTOR_ACTIVATIONS) {
            *dst = Layer {
                in_dim: to_u32(src.in_dim)?,
                out_dim: to_u32(src.out_dim)?,
                activation,
                weights: F32Array::from_values(src.weights),
                bias: F32Array::from_values(src.bias),
            };
        }
        Ok(PolicyFile {
            header: Header {
                magic: MAGIC,
                version: FORMAT_VERSION,
            },
            normalization,
            layers,
            action_low: F32Array::from_values(self.action_low),
            action_high: F32Array::from_values(self.action_high),
        })
    }
}

fn to_u32(value: usize) -> Result<u32, EncodeError> {
    u32::try_from(value).map_err(|_| EncodeError::DimensionTooLarge { value })
}

/// Number of bytes [`encode`] writes for `spec` (validates it first).
pub fn encoded_len(spec: &PolicySpec<'_>) -> Result<usize, EncodeError> {
    let file = spec.to_file()?;
    validate::validate(&file)?;
    payload_len(&file)
}

fn payload_len(file: &PolicyFile<'_>) -> Result<usize, EncodeError> {
    let len = postcard::serialize_with_flavor(file, postcard::ser_flavors::Size::default())
        .map_err(|_| EncodeError::DimensionTooLarge { value: usize::MAX })?;
    Ok(len + CRC_LEN)
}

/// Writes `spec` as a weight file into `out`; returns the number of bytes written.
///
/// Validates exactly what [`decode`] validates, so every file written decodes.
pub fn encode(spec: &PolicySpec<'_>, out: &mut [u8]) -> Result<usize, EncodeError> {
    let file = spec.to_file()?;
    validate::validate(&file)?;
    let needed = payload_len(&file)?;
    if out.len() < needed {
        return Err(EncodeError::BufferTooSmall {
            needed,
            available: out.len(),
        });
    }
    let available = out.len();
    let payload = postcard::to_slice(&file, out)
        .map_err(|_| EncodeError::BufferTooSmall { needed, available })?
        .len();
    append_crc(out, payload, needed)
}

/// [`encode`] into a new vector of exactly the encoded length (feature `alloc`).
#[cfg(feature = "alloc")]
pub fn encode_to_vec(spec: &PolicySpec<'_>) -> Result<alloc::vec::Vec<u8>, EncodeError> {
    let mut out = alloc::vec![0u8; encoded_len(spec)?];
    let n = encode(spec, &mut out)?;
    out.truncate(n);
    Ok(out)
}

/// Decodes and validates a weight file without knowing its dimensions at compile time.
///
/// Checks, in order: magic, version, structure (truncation, encoding, every varint in its
/// shortest form), that exactly the checksum follows, the CRC-32, activations, dimensions, array lengths, finiteness and
/// bounds. Allocates nothing and copies no weights.
pub fn decode(bytes: &[u8]) -> Result<PolicyView<'_>, LoadError> {
    let magic_len = bytes.len().min(MAGIC.len());
    if bytes.get(..magic_len) != MAGIC.get(..magic_len) {
        if precision_of(bytes) == Some(Precision::Int8) {
            return Err(LoadError::WrongPrecision {
                expected: Precision::F32,
                found: Precision::Int8,
            });
        }
        return Err(LoadError::BadMagic);
    }
    let (header, _) = postcard::take_from_bytes::<Header>(bytes).map_err(structure_error)?;
    if header.version != FORMAT_VERSION {
        return Err(LoadError::UnsupportedVersion {
            found: header.version,
            supported: FORMAT_VERSION,
        });
    }
    let (file, rest) =
        postcard::take_from_bytes::<PolicyFile<'_>>(bytes).map_err(structure_error)?;
    check_container(bytes, rest, file.canonical_len())?;
    let shape = validate::validate(&file)?;
    Ok(PolicyView { file, shape })
}

/// The container checks after the content parsed (`rest` is what follows it): every varint
/// in its shortest form (the content is `canonical_len` bytes), exactly the 4 checksum bytes
/// follow, and the CRC-32 matches. Shared by the f32 and the int8 reader.
fn check_container(bytes: &[u8], rest: &[u8], canonical_len: usize) -> Result<(), LoadError> {
    let payload_len = bytes.len() - rest.len();
    // postcard's reader also takes padded varints (`84 00` for 4). The format does not, so
    // that every accepted file is the one encoding of its content and its hash names it.
    if payload_len != canonical_len {
        return Err(LoadError::Malformed {
            reason: "a varint is longer than its shortest encoding",
        });
    }
    let stored = match *rest {
        [b0, b1, b2, b3] => u32::from_le_bytes([b0, b1, b2, b3]),
        _ if rest.len() < CRC_LEN => return Err(LoadError::Truncated),
        _ => {
            return Err(LoadError::TrailingBytes {
                count: rest.len() - CRC_LEN,
            });
        }
    };
    let computed = crc32(bytes.get(..payload_len).unwrap_or(&[]));
    if stored != computed {
        return Err(LoadError::ChecksumMismatch {
            expected: stored,
            found: computed,
        });
    }
    Ok(())
}

/// Appends the CRC-32 of `out[..payload]` after it; returns the file length.
fn append_crc(out: &mut [u8], payload: usize, needed: usize) -> Result<usize, EncodeError> {
    let crc = crc32(out.get(..payload).unwrap_or(&[])).to_le_bytes();
    let available = out.len();
    match out.get_mut(payload..payload + CRC_LEN) {
        Some(dst) => dst.copy_from_slice(&crc),
        None => return Err(EncodeError::BufferTooSmall { needed, available }),
    }
    Ok(payload + CRC_LEN)
}

/// `low < high` for every action dimension.
fn check_bounds(low: &F32Array<'_>, high: &F32Array<'_>) -> Result<(), LoadError> {
    for (index, (low, high)) in low.iter().zip(high.iter()).enumerate() {
        if low >= high {
            return Err(LoadError::InvalidBounds { index, low, high });
        }
    }
    Ok(())
}

fn structure_error(e: postcard::Error) -> LoadError {
    use postcard::Error as E;
    match e {
        E::DeserializeUnexpectedEnd => LoadError::Truncated,
        E::DeserializeBadVarint => LoadError::Malformed {
            reason: "invalid varint",
        },
        E::DeserializeBadOption => LoadError::Malformed {
            reason: "invalid normalisation presence tag (must be 0 or 1)",
        },
        E::DeserializeBadEnum | E::SerdeDeCustom => LoadError::Malformed {
            reason: "unknown activation kind",
        },
        _ => LoadError::Malformed {
            reason: "invalid encoding",
        },
    }
}
