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
