//! Semantic validation of a [`PolicyFile`], shared by the reader and the writer.

use super::error::{Field, LoadError};
use super::wire::ACTOR_ACTIVATIONS;
use super::{F32Array, PolicyFile};
use crate::shape::Shape;

/// Checks activations, dimensions, array lengths, finiteness and bounds; returns the shape.
pub(crate) fn validate(file: &PolicyFile<'_>) -> Result<Shape, LoadError> {
    let mut dims = [0usize; 4];
    for (l, layer) in file.layers.iter().enumerate() {
        let expected = ACTOR_ACTIVATIONS
            .get(l)
            .copied()
            .unwrap_or(layer.activation);
        if layer.activation != expected {
            return Err(LoadError::UnsupportedActivation {
                layer: l,
                expected,
                found: layer.activation,
            });
        }
        let in_dim = dim(l, layer.in_dim)?;
        let out_dim = dim(l, layer.out_dim)?;
        if l == 0 {
            dims[0] = in_dim;
        } else if dims.get(l).copied() != Some(in_dim) {
            return Err(LoadError::LayerChainMismatch {
                layer: l,
                expected: dims.get(l).copied().unwrap_or(0),
                found: in_dim,
            });
        }
        if let Some(d) = dims.get_mut(l + 1) {
            *d = out_dim;
        }
        let count = in_dim
            .checked_mul(out_dim)
            .filter(|n| n.checked_mul(4).is_some())
            .ok_or(LoadError::InvalidDimension {
                layer: l,
                value: out_dim,
            })?;
        check_array(&layer.weights, Field::Weights(l), count)?;
        check_array(&layer.bias, Field::Bias(l), out_dim)?;
    }
    let [obs, hidden1, hidden2, act] = dims;
    if let Some(norm) = &file.normalization {
        check_array(&norm.offset, Field::ObsOffset, obs)?;
        check_array(&norm.scale, Field::ObsScale, obs)?;
    }
    check_array(&file.action_low, Field::ActionLow, act)?;
    check_array(&file.action_high, Field::ActionHigh, act)?;
    super::check_bounds(&file.action_low, &file.action_high)?;
    Ok(Shape {
        obs,
        hidden1,
        hidden2,
        act,
    })
}

fn dim(layer: usize, value: u32) -> Result<usize, LoadError> {
    match usize::try_from(value) {
        Ok(v) if v > 0 => Ok(v),
        _ => Err(LoadError::InvalidDimension {
            layer,
            value: value as usize,
        }),
    }
}

pub(super) fn check_array(array: &F32Array<'_>, field: Field, len: usize) -> Result<(), LoadError> {
    check_byte_len(array.byte_len(), field, len, 4)?;
    match array.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(LoadError::NonFiniteWeight { field, index }),
        None => Ok(()),
    }
}

/// [`LoadError::ArrayLength`] unless an array of `found` bytes holds `values` elements of
/// `size` bytes each.
pub(super) fn check_byte_len(
    found: usize,
    field: Field,
    values: usize,
    size: usize,
) -> Result<(), LoadError> {
    let expected_bytes = values * size;
    if found != expected_bytes {
        return Err(LoadError::ArrayLength {
            field,
            expected_bytes,
            found_bytes: found,
        });
    }
    Ok(())
}
