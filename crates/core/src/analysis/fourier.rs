//! Fourier analysis of token features (paper Fig. 9; official `representation_analysis.ipynb`):
//! take z_d without CLS, reshape to C×G×G (row-major tokens), unnormalised 2-D DFT per channel,
//! L = ln(|F| + 1e-6), mean over channels (and images); ΔlogA(k) = L[k, k] − L[0, 0] for
//! k = 0 … ⌊G/2⌋. The paper's headline is the highest bin below Nyquist (k = 6 for G = 14).
//!
//! Only the diagonal is needed, so F[k, k] = Σ_{m,n} X[m, n]·e^{−2πi·k(m+n)/G} is one matmul with a
//! `[G², K]` basis instead of a full FFT.

use std::f64::consts::PI;

use burn::Tensor;
use burn::tensor::{Device, TensorData};

pub use vitscope_protocol::metrics::headline_bin;

/// The `[G², K]` real and imaginary diagonal DFT bases, K = ⌊G/2⌋ + 1.
pub fn diagonal_basis(grid: usize, device: &Device) -> (Tensor<2>, Tensor<2>) {
    let k_count = grid / 2 + 1;
    let mut re = vec![0f32; grid * grid * k_count];
    let mut im = vec![0f32; grid * grid * k_count];
    for m in 0..grid {
        for n in 0..grid {
            for k in 0..k_count {
                // Reduce the phase modulo G first so large grids keep full precision.
                let phase = 2.0 * PI * ((k * (m + n)) % grid) as f64 / grid as f64;
                re[(m * grid + n) * k_count + k] = phase.cos() as f32;
                im[(m * grid + n) * k_count + k] = -phase.sin() as f32;
            }
        }
    }
    let shape = [grid * grid, k_count];
    (Tensor::from_data(TensorData::new(re, shape), device), Tensor::from_data(TensorData::new(im, shape), device))
}

/// Channel-mean log amplitude on the diagonal, `[B, K]`, from a stream `[B, T, C]`.
pub fn diagonal_log_amplitude(stream: &Tensor<3>, basis: &(Tensor<2>, Tensor<2>), prefix: usize) -> Tensor<2> {
    let [b, t, _] = stream.dims();
    let k_count = basis.0.dims()[1];
    let tokens = stream.clone().narrow(1, prefix, t - prefix).swap_dims(1, 2); // [B, C, N]
    let re = tokens.clone().matmul(basis.0.clone().unsqueeze::<3>());
    let im = tokens.matmul(basis.1.clone().unsqueeze::<3>());
    let amplitude = (re.clone() * re + im.clone() * im).sqrt();
    (amplitude + 1e-6).log().mean_dim(1).reshape([b, k_count])
}

/// ΔlogA(k) = L[k, k] − L[0, 0], `[B, K]`.
pub fn delta_log_amplitude(log_amplitude: Tensor<2>) -> Tensor<2> {
    let dc = log_amplitude.clone().narrow(1, 0, 1);
    log_amplitude - dc
}
