//! `y = x·Wᵀ + b`, the ViT's one learned map (q/k/v, projection, MLP, patch embedding). On burn's CPU
//! backend in the browser the weight lives packed for [`super::gemm`], 1.4× flex's matmul there;
//! everywhere else it is a burn tensor and the product is burn's.

use burn::Tensor;
use burn::tensor::{Device, TensorData};

use super::tensors::Int8Tensor;

// A model holds a few dozen of these, so the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Linear {
    /// `weight` is `[in, out]` (transposed from PyTorch's) so the product is `x @ weight`.
    Tensors { weight: Tensor<2>, bias: Option<Tensor<1>> },
    #[cfg(all(feature = "cpu", target_arch = "wasm32"))]
    Packed(std::sync::Arc<Packed>),
}

#[cfg(all(feature = "cpu", target_arch = "wasm32"))]
#[derive(Debug)]
pub struct Packed {
    weight: super::gemm::Panels,
    bias: Option<Vec<f32>>,
}

/// A weight `[out, in]` in PyTorch's layout, in f32 or as a file stores it in int8.
pub enum Weight {
    F32(Vec<f32>),
    /// `scaled`: the first `.0` output rows are multiplied by `.1` after dequantization.
    Int8 {
        tensor: Int8Tensor,
        scaled: Option<(usize, f32)>,
    },
}

impl Linear {
    /// From PyTorch's layout: `weight` is `[out, in]` row-major, `bias` has `out` entries. An int8
    /// weight stays int8 where the packed product runs, and is dequantized everywhere else.
    pub fn new(weight: Weight, d_in: usize, d_out: usize, bias: Option<Vec<f32>>, device: &Device) -> Self {
        let weight = match weight {
            #[cfg(all(feature = "cpu", target_arch = "wasm32"))]
            Weight::Int8 { tensor: t, scaled } if *device == Device::flex() => {
                assert_eq!(t.values.len(), d_in * d_out, "a [{d_out}, {d_in}] weight");
                let (q, groups) = (t.values, t.groups);
                let weight = super::gemm::Panels::int8(d_in, d_out, |i, o| q[o * d_in + i], t.scales, groups, scaled);
                return Self::Packed(std::sync::Arc::new(Packed { weight, bias }));
            }
            Weight::Int8 { tensor: t, scaled } => {
                let group = d_in / t.groups;
                let (rows, factor) = scaled.unwrap_or((0, 1.0));
                let weight = t.values.iter().enumerate().map(|(i, &q)| q as f32 * t.scales[i / group]);
                weight.enumerate().map(|(i, w)| if i / d_in < rows { w * factor } else { w }).collect()
            }
            Weight::F32(w) => w,
        };
        assert_eq!(weight.len(), d_in * d_out, "a [{d_out}, {d_in}] weight");
        #[cfg(all(feature = "cpu", target_arch = "wasm32"))]
        if *device == Device::flex() {
            let weight = super::gemm::Panels::new(d_in, d_out, |i, o| weight[o * d_in + i]);
            return Self::Packed(std::sync::Arc::new(Packed { weight, bias }));
        }
        let mut transposed = vec![0f32; d_in * d_out];
        for o in 0..d_out {
            for i in 0..d_in {
                transposed[i * d_out + o] = weight[o * d_in + i];
            }
        }
        Self::Tensors {
            weight: Tensor::from_data(TensorData::new(transposed, [d_in, d_out]), device),
            bias: bias.map(|b| Tensor::from_data(TensorData::new(b, [d_out]), device)),
        }
    }

    /// # Shapes
    /// x: `[..., in]` → `[..., out]`
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Self::Tensors { weight, bias } => burn::tensor::module::linear(x, weight.clone(), bias.clone()),
            #[cfg(all(feature = "cpu", target_arch = "wasm32"))]
            Self::Packed(packed) => packed.forward(x),
        }
    }
}

#[cfg(all(feature = "cpu", target_arch = "wasm32"))]
impl Packed {
    fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        use super::flex::{contiguous_f32, tensor, values};
        let (k, n) = (self.weight.k(), self.weight.n());
        let input = contiguous_f32(&x).expect("a packed weight only serves tensors on the CPU backend");
        assert_eq!(input.layout().shape()[D - 1], k, "the input's last dimension is the layer's input width");
        let x = values(&input);
        let m = x.len() / k;
        let mut y = vec![0f32; m * n];
        super::gemm::gemm(x, k, m, &self.weight, self.bias.as_deref(), &mut y, n);
        let mut shape = input.layout().shape().clone();
        shape[D - 1] = n;
        tensor(y, shape)
    }
}
