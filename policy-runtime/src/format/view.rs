//! [`PolicyView`]: a validated weight file, borrowed from its bytes.

use super::{F32Array, F32Iter, Layer, PolicyFile};
use crate::shape::Shape;

/// A decoded and fully validated weight file. Borrows the input bytes; copies nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PolicyView<'a> {
    pub(crate) file: PolicyFile<'a>,
    pub(crate) shape: Shape,
}

/// One validated linear layer of a [`PolicyView`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerView<'a> {
    layer: Layer<'a>,
    in_dim: usize,
    out_dim: usize,
}

impl<'a> PolicyView<'a> {
    /// The decoded file content.
    pub const fn file(&self) -> &PolicyFile<'a> {
        &self.file
    }

    /// All four dimensions.
    pub const fn shape(&self) -> Shape {
        self.shape
    }

    /// Observation dimension.
    pub const fn obs_dim(&self) -> usize {
        self.shape.obs
    }

    /// Widths of the two hidden layers.
    pub const fn hidden(&self) -> (usize, usize) {
        (self.shape.hidden1, self.shape.hidden2)
    }

    /// Action dimension.
    pub const fn act_dim(&self) -> usize {
        self.shape.act
    }

    /// `true` when the file stores an observation normalisation.
    pub const fn has_normalization(&self) -> bool {
        self.file.normalization.is_some()
    }

    /// Observation offsets (zeros when the file has no normalisation).
    pub fn obs_offset(&self) -> F32Iter<'a> {
        match &self.file.normalization {
            Some(n) => n.offset.iter(),
            None => F32Array::filled(0.0, self.shape.obs).iter(),
        }
    }

    /// Observation scales (ones when the file has no normalisation).
    pub fn obs_scale(&self) -> F32Iter<'a> {
        match &self.file.normalization {
            Some(n) => n.scale.iter(),
            None => F32Array::filled(1.0, self.shape.obs).iter(),
        }
    }

    /// Linear layer `index` (0, 1 or 2).
    pub fn layer(&self, index: usize) -> Option<LayerView<'a>> {
        let layer = *self.file.layers.get(index)?;
        Some(LayerView {
            layer,
            in_dim: layer.in_dim as usize,
            out_dim: layer.out_dim as usize,
        })
    }

    /// The three linear layers, input first.
    pub fn layers(&self) -> [LayerView<'a>; 3] {
        self.file.layers.map(|layer| LayerView {
            layer,
            in_dim: layer.in_dim as usize,
            out_dim: layer.out_dim as usize,
        })
    }

    /// Lower action bounds.
    pub fn action_low(&self) -> F32Iter<'a> {
        self.file.action_low.iter()
    }

    /// Upper action bounds.
    pub fn action_high(&self) -> F32Iter<'a> {
        self.file.action_high.iter()
    }
}

impl<'a> LayerView<'a> {
    /// Input size.
    pub const fn in_dim(&self) -> usize {
        self.in_dim
    }

    /// Output size.
    pub const fn out_dim(&self) -> usize {
        self.out_dim
    }

    /// Activation after the layer.
    pub const fn activation(&self) -> super::Activation {
        self.layer.activation
    }

    /// All weights, row-major `[out][in]`.
    pub fn weights(&self) -> F32Iter<'a> {
        self.layer.weights.iter()
    }

    /// The weight from input `input` to output `out`.
    pub fn weight(&self, out: usize, input: usize) -> Option<f32> {
        if out >= self.out_dim || input >= self.in_dim {
            return None;
        }
        self.layer.weights.get(out * self.in_dim + input)
    }

    /// The biases.
    pub fn bias(&self) -> F32Iter<'a> {
        self.layer.bias.iter()
    }
}
