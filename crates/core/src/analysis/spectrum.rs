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
//! - **PCA → RGB on the foreground** (the DINOv2 recipe, Oquab et al. 2023, Fig. 1): the first
//!   component splits the patches; its sign is chosen so the border patches (mostly background) score
//!   below their mean on average, and the patches above the mean (score > 0) are the foreground. A
//!   second PCA fitted on the foreground patches alone (centred on their own mean: the Gram submatrix,
//!   centred again) colours them as above; the background is black.

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

    /// Scores of the patches on component `j`: u_j·√((N − 1)·λ_j).
    fn scores(&self, j: usize) -> Vec<f64> {
        let scale = (self.tokens.max(2) - 1) as f64;
        (0..self.tokens).map(|i| self.vectors[(i, j)] * (scale * self.eigenvalues[j]).sqrt()).collect()
    }

    /// `[N][3]` RGB in [0, 1] from the top three components.
    pub fn pca_rgb(&self) -> Vec<[f32; 3]> {
        let mut rgb = vec![[0f32; 3]; self.tokens];
        for j in 0..3.min(self.tokens) {
            let values = self.scores(j);
            let (lo, hi) = values.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
            let range = (hi - lo).max(1e-12);
            for (pixel, v) in rgb.iter_mut().zip(&values) {
                pixel[j] = ((v - lo) / range) as f32;
            }
        }
        rgb
    }
}

/// The foreground of a `grid × grid` image's patches from their centred Gram matrix (row-major, as
/// [`centred_gram`] gives it) and its [`Spectrum`], and their RGB from a PCA fitted on the foreground
/// alone (black elsewhere). Fewer than three foreground patches leave every patch black.
pub fn foreground_pca_rgb(spectrum: &Spectrum, gram: &[f32], grid: usize) -> (Vec<bool>, Vec<[f32; 3]>) {
    let (n, channels) = (grid * grid, spectrum.channels);
    assert_eq!(spectrum.tokens, n, "a spectrum of this grid's patches");
    let first = spectrum.scores(0);
    let border = |i: usize| {
        let (row, col) = (i / grid, i % grid);
        row == 0 || row == grid - 1 || col == 0 || col == grid - 1
    };
    let border_mean: f64 = (0..n).filter(|&i| border(i)).map(|i| first[i]).sum::<f64>();
    let sign = if border_mean > 0.0 { -1.0 } else { 1.0 };
    let foreground: Vec<bool> = first.iter().map(|&v| sign * v > 0.0).collect();
    let kept: Vec<usize> = (0..n).filter(|&i| foreground[i]).collect();
    let mut rgb = vec![[0f32; 3]; n];
    if kept.len() < 3 {
        return (foreground, rgb);
    }
    // The Gram of tokens centred on all patches, restricted to the foreground and centred again, is
    // the Gram of the foreground tokens centred on their own mean; rescaled from N − 1 to n_f − 1.
    let k = kept.len();
    let sub = DMatrix::from_fn(k, k, |a, b| f64::from(gram[kept[a] * n + kept[b]]));
    let (rows, total) = (sub.row_mean(), sub.mean());
    let rescale = (n.max(2) - 1) as f64 / (k - 1) as f64;
    let centred: Vec<f32> = (0..k)
        .flat_map(|a| (0..k).map(move |b| (a, b)))
        .map(|(a, b)| ((sub[(a, b)] - rows[a] - rows[b] + total) * rescale) as f32)
        .collect();
    for (i, colour) in kept.iter().zip(Spectrum::new(&centred, k, channels).pca_rgb()) {
        rgb[*i] = colour;
    }
    (foreground, rgb)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tokens `[N][C]` of a 4×4 grid: a 2×2 centre unlike the border, each with its own detail.
    fn tokens() -> Vec<Vec<f64>> {
        (0..16)
            .map(|i| {
                let centre = matches!(i, 5 | 6 | 9 | 10);
                let base = if centre { 4.0 } else { 0.0 };
                vec![
                    base + 0.1 * (i % 3) as f64,
                    0.2 * (i % 5) as f64,
                    if centre { (i % 4) as f64 } else { 0.05 * i as f64 },
                ]
            })
            .collect()
    }

    fn gram_of(tokens: &[Vec<f64>]) -> Vec<f32> {
        let n = tokens.len();
        let c = tokens[0].len();
        let mean: Vec<f64> = (0..c).map(|k| tokens.iter().map(|t| t[k]).sum::<f64>() / n as f64).collect();
        let centred: Vec<Vec<f64>> = tokens.iter().map(|t| t.iter().zip(&mean).map(|(v, m)| v - m).collect()).collect();
        (0..n)
            .flat_map(|a| (0..n).map(move |b| (a, b)))
            .map(|(a, b)| (centred[a].iter().zip(&centred[b]).map(|(x, y)| x * y).sum::<f64>() / (n - 1) as f64) as f32)
            .collect()
    }

    #[test]
    fn the_foreground_is_the_side_of_the_first_component_away_from_the_border_and_is_coloured_alone() {
        let tokens = tokens();
        let gram = gram_of(&tokens);
        let (foreground, rgb) = foreground_pca_rgb(&Spectrum::new(&gram, 16, 3), &gram, 4);
        let centre: Vec<usize> = (0..16).filter(|&i| foreground[i]).collect();
        assert_eq!(centre, [5, 6, 9, 10]);
        assert!((0..16).filter(|i| !foreground[*i]).all(|i| rgb[i] == [0.0; 3]), "the background is black");
        // The same colours as a PCA of the four centre tokens by themselves.
        let alone: Vec<Vec<f64>> = centre.iter().map(|&i| tokens[i].clone()).collect();
        let expected = Spectrum::new(&gram_of(&alone), 4, 3).pca_rgb();
        for (k, &i) in centre.iter().enumerate() {
            for c in 0..3 {
                assert!(
                    (rgb[i][c] - expected[k][c]).abs() < 1e-4,
                    "patch {i} channel {c}: {:?} vs {:?}",
                    rgb[i],
                    expected[k]
                );
            }
        }
    }
}
