//! [`F32Array`]: an array of little-endian `f32` that decodes without copying.

use core::fmt;
use core::iter::{Copied, RepeatN};
use core::slice::{ChunksExact, Iter};

use serde::de::{Deserialize, Deserializer, Visitor};
use serde::ser::{Serialize, SerializeSeq, Serializer};

/// An array of `f32` as stored in the weight file.
///
/// On the wire it is a postcard byte array: a varint byte count followed by 4 little-endian
/// bytes per value. Decoding borrows those bytes from the input (no copy, no alignment
/// requirement); encoding writes values from a `&[f32]` (or a repeated constant).
#[derive(Clone, Copy)]
pub struct F32Array<'a>(Repr<'a>);

#[derive(Clone, Copy)]
enum Repr<'a> {
    Le(&'a [u8]),
    Values(&'a [f32]),
    Fill { value: f32, len: usize },
}

impl<'a> F32Array<'a> {
    /// An array that encodes `values`.
    pub const fn from_values(values: &'a [f32]) -> Self {
        Self(Repr::Values(values))
    }

    /// An array of little-endian bytes (as found in a file). A length that is not a
    /// multiple of 4 is kept so that validation can report it.
    pub const fn from_le_bytes(bytes: &'a [u8]) -> Self {
        Self(Repr::Le(bytes))
    }

    /// `len` copies of `value`.
    pub const fn filled(value: f32, len: usize) -> Self {
        Self(Repr::Fill { value, len })
    }

    /// Length in bytes on the wire.
    pub const fn byte_len(&self) -> usize {
        match self.0 {
            Repr::Le(b) => b.len(),
            Repr::Values(v) => v.len() * 4,
            Repr::Fill { len, .. } => len * 4,
        }
    }

    /// Number of complete values.
    pub const fn len(&self) -> usize {
        self.byte_len() / 4
    }

    /// `true` when there is no complete value.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values, in order.
    pub fn iter(&self) -> F32Iter<'a> {
        F32Iter(match self.0 {
            Repr::Le(b) => IterRepr::Le(b.chunks_exact(4)),
            Repr::Values(v) => IterRepr::Values(v.iter().copied()),
            Repr::Fill { value, len } => IterRepr::Fill(core::iter::repeat_n(value, len)),
        })
    }

    /// The value at `index`, if any.
    pub fn get(&self, index: usize) -> Option<f32> {
        match self.0 {
            Repr::Le(b) => {
                let start = index.checked_mul(4)?;
                match b.get(start..start.checked_add(4)?)? {
                    &[b0, b1, b2, b3] => Some(f32::from_le_bytes([b0, b1, b2, b3])),
                    _ => None,
                }
            }
            Repr::Values(v) => v.get(index).copied(),
            Repr::Fill { value, len } => (index < len).then_some(value),
        }
    }
}

impl<'a> IntoIterator for &F32Array<'a> {
    type Item = f32;
    type IntoIter = F32Iter<'a>;
    fn into_iter(self) -> F32Iter<'a> {
        self.iter()
    }
}

/// Iterator over the values of an [`F32Array`].
#[derive(Clone)]
pub struct F32Iter<'a>(IterRepr<'a>);

#[derive(Clone)]
enum IterRepr<'a> {
    Le(ChunksExact<'a, u8>),
    Values(Copied<Iter<'a, f32>>),
    Fill(RepeatN<f32>),
}

impl Iterator for F32Iter<'_> {
    type Item = f32;

    fn next(&mut self) -> Option<f32> {
        match &mut self.0 {
            IterRepr::Le(c) => match c.next()? {
                &[b0, b1, b2, b3] => Some(f32::from_le_bytes([b0, b1, b2, b3])),
                _ => None,
            },
            IterRepr::Values(v) => v.next(),
            IterRepr::Fill(f) => f.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            IterRepr::Le(c) => c.size_hint(),
            IterRepr::Values(v) => v.size_hint(),
            IterRepr::Fill(f) => f.size_hint(),
        }
    }
}

impl ExactSizeIterator for F32Iter<'_> {}

impl PartialEq for F32Array<'_> {
    /// Bitwise equality of the values (and equal byte length).
    fn eq(&self, other: &Self) -> bool {
        self.byte_len() == other.byte_len()
            && self
                .iter()
                .zip(other.iter())
                .all(|(a, b)| a.to_bits() == b.to_bits())
    }
}

impl fmt::Debug for F32Array<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for F32Array<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Repr::Le(b) => serializer.serialize_bytes(b),
            // A sequence of `u8` has the same postcard encoding as a byte array
            // (varint length, then the raw bytes).
            _ => {
                let mut seq = serializer.serialize_seq(Some(self.byte_len()))?;
                for v in self.iter() {
                    for byte in v.to_le_bytes() {
                        seq.serialize_element(&byte)?;
                    }
                }
                seq.end()
            }
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for F32Array<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BytesVisitor;
        impl<'de> Visitor<'de> for BytesVisitor {
            type Value = F32Array<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a borrowed byte array of little-endian f32")
            }

            fn visit_borrowed_bytes<E: serde::de::Error>(
                self,
                v: &'de [u8],
            ) -> Result<Self::Value, E> {
                Ok(F32Array::from_le_bytes(v))
            }

            fn visit_bytes<E: serde::de::Error>(self, _v: &[u8]) -> Result<Self::Value, E> {
                Err(E::custom("f32 arrays must be borrowed from the input"))
            }
        }
        deserializer.deserialize_bytes(BytesVisitor)
    }
}
