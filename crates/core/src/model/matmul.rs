//! Batched `a @ b` for the attention products (q·kᵀ and attention·v): burn's, except on burn's CPU
//! backend in the browser, where [`super::gemm`] is 1.4× flex's matmul; there b is packed per call,
//! a copy the size of one head's keys or values.

use burn::Tensor;

/// # Shapes
/// a: `[..., m, k]`, b: `[..., k, n]` with the same leading dimensions → `[..., m, n]`
pub fn matmul<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> Tensor<D> {
    #[cfg(all(feature = "cpu", target_arch = "wasm32"))]
    if let (Some(x), Some(y)) = (super::flex::contiguous_f32(&a), super::flex::contiguous_f32(&b)) {
        let (sa, sb) = (x.layout().shape(), y.layout().shape());
        if D >= 2 && sa[..D - 2] == sb[..D - 2] && sa[D - 1] == sb[D - 2] {
            return packed(&x, &y);
        }
    }
    a.matmul(b)
}

#[cfg(all(feature = "cpu", target_arch = "wasm32"))]
fn packed<const D: usize>(a: &burn_flex::FlexTensor, b: &burn_flex::FlexTensor) -> Tensor<D> {
    use super::flex::{tensor, values};
    use super::gemm::{Panels, gemm};
    let mut shape = a.layout().shape().clone();
    let (m, k, n) = (shape[D - 2], shape[D - 1], b.layout().shape()[D - 1]);
    shape[D - 1] = n;
    let (a, b) = (values(a), values(b));
    let mut c = vec![0f32; shape.num_elements()];
    if m * k * n > 0 {
        for (i, c) in c.chunks_exact_mut(m * n).enumerate() {
            let b = &b[i * k * n..][..k * n];
            gemm(&a[i * m * k..][..m * k], k, m, &Panels::new(k, n, |p, j| b[p * n + j]), None, c, n);
        }
    }
    tensor(c, shape)
}
