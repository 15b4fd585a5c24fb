//! Token covariance spectrum and PCA colouring of patch tokens (one image).
//!
//! - **SVD spectrum** (the author's description in the paper): singular values of the covariance
//!   Σ = X̄ᵀX̄ / (N − 1) of the centred patch tokens X̄ (N × C). Σ is symmetric PSD, so its singular
//!   values are its eigenvalues, and its non-zero eigenvalues equal those of the N × N Gram matrix
//!   X̄X̄ᵀ / (N − 1): the device computes that small Gram matrix and the host diagonalises it.
//!   Reported as ln σ_i, descending, for i < min(N − 1, C) (centring removes one dimension).
//! - **PCA → RGB**: the projections onto the top three principal components, u_j·√((N − 1)·λ_j),
//!   each min-max scaled to [0, 1]. An eigenvector's sign is arbitrary; vitscope makes the entry of
//!   largest magnitude positive so the colours are reproducible.

use burn::Tensor;
use nalgebra::{DMatrix, SymmetricEigen};

/// `[B, N, N]` Gram matrix X̄X̄ᵀ/(N−1) of centred tokens `[B, N, C]`.
pub fn centred_gram(tokens: &Tensor<3>) -> Tensor<3> {
    let [_, n, _] = tokens.dims();
    let centred = tokens.clone() - tokens.clone().mean_dim(1);
    centred.clone().matmul(centred.swap_dims(1, 2)) / (n.max(2) - 1) as f64
}

/// Eigen-decomposition of one image's Gram matrix (row-major N×N), eigenvalues descending.
pub struct Spectrum {
    pub eigenvalues: Vec<f64>,
    /// Column j is the eigenvector of `eigenvalues[j]`, sign-normalised.
    vectors: DMatrix<f64>,
    tokens: usize,
    channels: usize,
}

impl Spectrum {
    pub fn new(gram: &[f32], tokens: usize, channels: usize) -> Self {
        let m = DMatrix::from_row_slice(tokens, tokens, &gram.iter().map(|&v| v as f64).collect::<Vec<_>>());
        let eig = SymmetricEigen::new(m);
        let mut order: Vec<usize> = (0..tokens).collect();
        order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
        let eigenvalues = order.iter().map(|&i| eig.eigenvalues[i].max(0.0)).collect();
        let mut vectors = DMatrix::zeros(tokens, tokens);
        for (j, &i) in order.iter().enumerate() {
            let mut v = eig.eigenvectors.column(i).into_owned();
            let peak = v.iter().copied().fold(0f64, |m, x| if x.abs() > m.abs() { x } else { m });
            if peak < 0.0 {
                v = -v;
            }
            vectors.set_column(j, &v);
        }
        Self { eigenvalues, vectors, tokens, channels }
    }

    /// ln of the covariance's singular values, descending (the rank-limited part only).
    pub fn log_singular_values(&self) -> Vec<f32> {
        let rank = (self.tokens.saturating_sub(1)).min(self.channels);
        self.eigenvalues.iter().take(rank).map(|&v| v.max(1e-30).ln() as f32).collect()
    }

    /// `[N][3]` RGB in [0, 1] from the top three components.
    pub fn pca_rgb(&self) -> Vec<[f32; 3]> {
        let scale = (self.tokens.max(2) - 1) as f64;
        let mut rgb = vec![[0f32; 3]; self.tokens];
        for j in 0..3.min(self.tokens) {
            let values: Vec<f64> =
                (0..self.tokens).map(|i| self.vectors[(i, j)] * (scale * self.eigenvalues[j]).sqrt()).collect();
            let (lo, hi) = values.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
            let range = (hi - lo).max(1e-12);
            for (pixel, v) in rgb.iter_mut().zip(&values) {
                pixel[j] = ((v - lo) / range) as f32;
            }
        }
        rgb
    }
}
