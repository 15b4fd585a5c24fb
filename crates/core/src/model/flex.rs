//! The bridge between burn tensors and the hand-written CPU kernels (activation, linear): plain f32
//! slices in, flex tensors out, through burn's `extension` feature.

use burn::Tensor;
use burn::tensor::{Bytes, DType, Device, Shape};
use burn_flex::{Flex, FlexTensor, Layout};

/// The flex primitive of an f32 tensor on the CPU backend, made contiguous; `None` on other devices.
pub fn contiguous_f32<const D: usize>(x: &Tensor<D>) -> Option<FlexTensor> {
    if x.device() != Device::flex() || x.dtype() != DType::F32 {
        return None;
    }
    let t = x.clone().try_into_primitive::<Flex>().ok()?;
    Some(if t.is_contiguous() && t.layout().start_offset() == 0 { t } else { t.to_contiguous() })
}

/// `x` laid out contiguously on the CPU backend (a copy only if it was a view), `x` elsewhere: for a
/// tensor that several host passes read whole.
pub fn contiguous<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    match contiguous_f32(&x) {
        Some(t) => Tensor::from_primitive::<Flex>(t),
        None => x,
    }
}

/// The values of a tensor from [`contiguous_f32`], in row-major order.
pub fn values(t: &FlexTensor) -> &[f32] {
    &t.storage::<f32>()[..t.layout().shape().num_elements()]
}

/// A contiguous flex tensor owning `values`.
pub fn tensor<const D: usize>(values: Vec<f32>, shape: Shape) -> Tensor<D> {
    debug_assert_eq!(values.len(), shape.num_elements());
    Tensor::from_primitive::<Flex>(FlexTensor::new(Bytes::from_elems(values), Layout::contiguous(shape), DType::F32))
}
