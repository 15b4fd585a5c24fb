//! Named tensors in host memory: what a weight file or a converter hands the model.

use std::collections::BTreeMap;

/// A dequantized tensor in host memory, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct HostTensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl HostTensor {
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Self {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        Self { shape, data }
    }
}

/// Canonical (timm-named, see [`super::names`]) tensors of one model.
pub type HostWeights = BTreeMap<String, HostTensor>;

/// An int8 matrix as a file stores it: `values` row-major `[rows, cols…]`, and `scales` `[rows,
/// groups]` (each group `cols / groups` consecutive inputs of its row); a weight is value · scale.
#[derive(Clone, Debug, PartialEq)]
pub struct Int8Tensor {
    pub shape: Vec<usize>,
    pub values: Vec<i8>,
    pub scales: Vec<f32>,
    pub groups: usize,
}

/// Tensors produced one at a time, on demand: a model file's are dequantized only as the model takes
/// them, so a ViT-B's f32 weights are never all in host memory at once.
pub trait TensorSource {
    /// Tensor `name`, once; `Ok(None)` when the source has no such tensor, `Err` when it has one it
    /// cannot read (a bad encoding, a non-finite value).
    fn take(&self, name: &str) -> Result<Option<HostTensor>, String>;

    /// Tensor `name` as stored, when it is stored in int8 (for a product that keeps it so);
    /// `Ok(None)` otherwise, and [`Self::take`] gives it in f32.
    fn take_int8(&self, _name: &str) -> Result<Option<Int8Tensor>, String> {
        Ok(None)
    }
}
