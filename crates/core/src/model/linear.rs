//! `y = x·Wᵀ + b`, the ViT's one learned map (q/k/v, projection, MLP, patch embedding). On burn's CPU
//! backend in the browser the weight lives packed for [`super::gemm`], 1.4× flex's matmul there;
//! everywhere else it is a burn tensor and the product is burn's. A weight stored in int8 can also
//! be multiplied in integers on the CPU ([`Arithmetic::Int8`]): natively its int8 panels are kept
//! beside the f32 tensor burn multiplies.

use burn::Tensor;
use burn::tensor::{Device, TensorData};
use vitscope_protocol::messages::Arithmetic;

use super::tensors::Int8Tensor;

// A model holds a few dozen of these, so the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Linear {
    /// `weight` is `[in, out]` (transposed from PyTorch's) so the product is `x @ weight`.
    Tensors { weight: Tensor<2>, bias: Option<Tensor<1>> },
    #[cfg(feature = "cpu")]
    Packed { packed: std::sync::Arc<Packed>, arithmetic: Arithmetic },
}

#[cfg(feature = "cpu")]
#[derive(Debug)]
pub struct Packed {
    weight: super::gemm::Panels,
    bias: Option<Vec<f32>>,
    /// Natively, the f32 product is burn's (faster there than the packed one), so an int8 weight is
    /// kept dequantized as well.
    #[cfg(not(target_arch = "wasm32"))]
    dequantized: Box<Linear>,
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
    /// weight stays int8 on the CPU backend, and is dequantized everywhere else.
    pub fn new(weight: Weight, d_in: usize, d_out: usize, bias: Option<Vec<f32>>, device: &Device) -> Self {
        #[cfg(feature = "cpu")]
        if let Weight::Int8 { tensor: t, scaled } = &weight
            && *device == Device::flex()
        {
            assert_eq!(t.values.len(), d_in * d_out, "a [{d_out}, {d_in}] weight");
            let q = &t.values;
            let panels =
                super::gemm::Panels::int8(d_in, d_out, |i, o| q[o * d_in + i], t.scales.clone(), t.groups, *scaled);
            #[cfg(not(target_arch = "wasm32"))]
            let dequantized = Box::new(Self::tensors(dequantize(weight, d_in), d_in, d_out, bias.clone(), device));
            let packed = Packed {
                weight: panels,
                bias,
                #[cfg(not(target_arch = "wasm32"))]
                dequantized,
            };
            return Self::Packed { packed: std::sync::Arc::new(packed), arithmetic: Arithmetic::default() };
        }
        let weight = dequantize(weight, d_in);
        assert_eq!(weight.len(), d_in * d_out, "a [{d_out}, {d_in}] weight");
        #[cfg(all(feature = "cpu", target_arch = "wasm32"))]
        if *device == Device::flex() {
            let weight = super::gemm::Panels::new(d_in, d_out, |i, o| weight[o * d_in + i]);
            let packed = Packed { weight, bias };
            return Self::Packed { packed: std::sync::Arc::new(packed), arithmetic: Arithmetic::default() };
        }
        Self::tensors(weight, d_in, d_out, bias, device)
    }

    fn tensors(weight: Vec<f32>, d_in: usize, d_out: usize, bias: Option<Vec<f32>>, device: &Device) -> Self {
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

    /// How an int8 weight multiplies from now on (a layer without one, or off the CPU, stays f32).
    pub fn set_arithmetic(&mut self, to: Arithmetic) {
        #[cfg(feature = "cpu")]
        if let Self::Packed { arithmetic, .. } = self {
            *arithmetic = to;
        }
        #[cfg(not(feature = "cpu"))]
        let _ = to;
    }

    /// # Shapes
    /// x: `[..., in]` → `[..., out]`
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Self::Tensors { weight, bias } => burn::tensor::module::linear(x, weight.clone(), bias.clone()),
            #[cfg(feature = "cpu")]
            Self::Packed { packed, arithmetic } => packed.forward(x, *arithmetic),
        }
    }
}

/// The weight in f32, as the file's dequantization gives it: `q as f32 * scale`, then `* factor`.
fn dequantize(weight: Weight, d_in: usize) -> Vec<f32> {
    match weight {
        Weight::Int8 { tensor: t, scaled } => {
            let group = d_in / t.groups;
            let (rows, factor) = scaled.unwrap_or((0, 1.0));
            let weight = t.values.iter().enumerate().map(|(i, &q)| q as f32 * t.scales[i / group]);
            weight.enumerate().map(|(i, w)| if i / d_in < rows { w * factor } else { w }).collect()
        }
        Weight::F32(w) => w,
    }
}

#[cfg(feature = "cpu")]
impl Packed {
    fn forward<const D: usize>(&self, x: Tensor<D>, arithmetic: Arithmetic) -> Tensor<D> {
        use super::flex::{contiguous_f32, tensor, values};
        #[cfg(not(target_arch = "wasm32"))]
        if arithmetic == Arithmetic::F32 {
            return self.dequantized.forward(x);
        }
        let (k, n) = (self.weight.k(), self.weight.n());
        let input = contiguous_f32(&x).expect("a packed weight only serves tensors on the CPU backend");
        assert_eq!(input.layout().shape()[D - 1], k, "the input's last dimension is the layer's input width");
        let x = values(&input);
        let m = x.len() / k;
        let mut y = vec![0f32; m * n];
        let product = match arithmetic {
            Arithmetic::F32 => super::gemm::gemm,
            Arithmetic::Int8 => super::gemm::int8::gemm_int8,
        };
        product(x, k, m, &self.weight, self.bias.as_deref(), &mut y, n);
        let mut shape = input.layout().shape().clone();
        shape[D - 1] = n;
        tensor(y, shape)
    }
}
