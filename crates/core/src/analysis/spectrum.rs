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
    let centred = centred_tokens(tokens);
    centred.clone().matmul(centred.swap_dims(1, 2)) / (n.max(2) - 1) as f64
}

/// X̄: tokens `[B, N, C]` less their mean over the N tokens.
pub fn centred_tokens(tokens: &Tensor<3>) -> Tensor<3> {
    tokens.clone() - tokens.clone().mean_dim(1)
}

/// One image's Gram matrix (row-major N×N): all its eigenvalues, descending, and the eigenvectors
/// of the leading three, which are all that the PCA colours use.
///
/// The eigenvalues come from nalgebra without eigenvectors (no accumulated rotations). The three
/// vectors come from [`leading_eigenpairs`], a Lanczos
/// run of a few dozen matrix–vector products, checked against those eigenvalues; where it does not
/// converge (equal leading eigenvalues, a zero matrix) the full decomposition gives them, as before.
pub struct Spectrum {
    pub eigenvalues: Vec<f64>,
    /// `leading[j]` is the unit eigenvector of `eigenvalues[j]`, its largest entry positive.
    leading: Vec<Vec<f64>>,
    tokens: usize,
    channels: usize,
}

/// Components the PCA colours use (red, green, blue).
const COLOURS: usize = 3;
/// Leading eigenvalues closer than this (against λ₁) leave their vectors to the full decomposition:
/// Lanczos's converged vectors are then within 10⁻⁷ of it (residual over gap), far below a colour step.
const SEPARATED: f64 = 1e-4;

impl Spectrum {
    pub fn new(gram: &[f32], tokens: usize, channels: usize) -> Self {
        let m = DMatrix::from_row_slice(tokens, tokens, &gram.iter().map(|&v| f64::from(v)).collect::<Vec<_>>());
        let mut eigenvalues: Vec<f64> = m.symmetric_eigenvalues().iter().map(|&v| v.max(0.0)).collect();
        eigenvalues.sort_by(|a, b| b.total_cmp(a));
        let k = COLOURS.min(tokens);
        // Where two of the leading eigenvalues (or the third and fourth) nearly meet, their vectors
        // are any basis of a shared plane: the full decomposition then picks them, as it always has.
        let scale = eigenvalues[0];
        let separated = eigenvalues.windows(2).take(k).all(|w| w[0] - w[1] > SEPARATED * scale);
        let agrees = |(values, _): &(Vec<f64>, Vec<Vec<f64>>)| {
            separated && values.iter().zip(&eigenvalues).all(|(a, b)| (a - b).abs() <= 1e-8 * scale)
        };
        let leading = match leading_eigenpairs(&m, k).filter(agrees) {
            Some((_, vectors)) => vectors,
            None => full_decomposition(m, k).1,
        };
        Self { eigenvalues, leading, tokens, channels }
    }

    /// The leading three eigenpairs alone (the other eigenvalues are left out): what a PCA's
    /// colours need, for the foreground's Gram.
    fn leading(gram: &[f32], tokens: usize, channels: usize) -> Self {
        let m = DMatrix::from_row_slice(tokens, tokens, &gram.iter().map(|&v| f64::from(v)).collect::<Vec<_>>());
        let k = COLOURS.min(tokens);
        let (values, leading) = leading_eigenpairs(&m, k).unwrap_or_else(|| full_decomposition(m, k));
        Self { eigenvalues: values.into_iter().map(|v| v.max(0.0)).collect(), leading, tokens, channels }
    }

    /// ln of the covariance's singular values, descending (the rank-limited part only).
    pub fn log_singular_values(&self) -> Vec<f32> {
        let rank = (self.tokens.saturating_sub(1)).min(self.channels);
        self.eigenvalues.iter().take(rank).map(|&v| v.max(1e-30).ln() as f32).collect()
    }

    /// Scores of the patches on component `j`: u_j·√((N − 1)·λ_j).
    fn scores(&self, j: usize) -> Vec<f64> {
        let scale = (self.tokens.max(2) - 1) as f64;
        let factor = (scale * self.eigenvalues[j]).sqrt();
        self.leading[j].iter().map(|v| v * factor).collect()
    }

    /// `[N][3]` RGB in [0, 1] from the top three components.
    pub fn pca_rgb(&self) -> Vec<[f32; 3]> {
        let mut rgb = vec![[0f32; 3]; self.tokens];
        for j in 0..self.leading.len() {
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
    for (i, colour) in kept.iter().zip(Spectrum::leading(&centred, k, channels).pca_rgb()) {
        rgb[*i] = colour;
    }
    (foreground, rgb)
}

/// The `k` leading eigenpairs of the full decomposition, vectors sign-normalised.
fn full_decomposition(m: DMatrix<f64>, k: usize) -> (Vec<f64>, Vec<Vec<f64>>) {
    let eig = SymmetricEigen::new(m);
    let mut order: Vec<usize> = (0..eig.eigenvalues.len()).collect();
    order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
    let values = order.iter().take(k).map(|&i| eig.eigenvalues[i]).collect();
    let vectors = order.iter().take(k).map(|&i| sign_normalised(eig.eigenvectors.column(i).iter().copied().collect()));
    (values, vectors.collect())
}

/// An eigenvector's sign is arbitrary: its entry of largest magnitude is made positive.
fn sign_normalised(mut v: Vec<f64>) -> Vec<f64> {
    let peak = v.iter().copied().fold(0f64, |m, x| if x.abs() > m.abs() { x } else { m });
    if peak < 0.0 {
        v.iter_mut().for_each(|x| *x = -*x);
    }
    v
}

/// Matrices this small are decomposed whole: Lanczos would save nothing.
const LANCZOS_FROM: usize = 32;
/// A Ritz pair counts as converged when its residual ‖Av − θv‖ is this small against λ₁.
const LANCZOS_TOLERANCE: f64 = 1e-11;

/// The `k` leading eigenpairs of symmetric `m` (descending, vectors unit and sign-normalised) by
/// Lanczos with full reorthogonalisation from a fixed start, so every run gives the same colours;
/// `None` when they have not converged within `min(N, 96)` steps or `m` is zero or small.
///
/// Token Gram matrices have fast-decaying spectra, so the leading pairs converge in a few dozen
/// products of N² each, against the N³ of a full decomposition.
fn leading_eigenpairs(m: &DMatrix<f64>, k: usize) -> Option<(Vec<f64>, Vec<Vec<f64>>)> {
    let (n, scale) = (m.nrows(), m.norm());
    if n < LANCZOS_FROM || k == 0 || scale == 0.0 {
        return None;
    }
    // Below this the Krylov space is exhausted: what it holds is all a start vector can reach.
    let exhausted = 1e-14 * scale;
    // A centred Gram matrix has the all-ones vector in its null space: the start must not be it.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut q: Vec<f64> = (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        })
        .collect();
    let norm = dot(&q, &q).sqrt();
    q.iter_mut().for_each(|x| *x /= norm);
    let (mut basis, mut alpha, mut beta) = (vec![q], Vec::new(), Vec::new());
    let steps = n.min(96);
    for step in 0..steps {
        let current = &basis[step];
        // Symmetric, so row i is column i, which nalgebra stores contiguously.
        let mut w: Vec<f64> = m.column_iter().map(|col| col.iter().zip(current).map(|(a, b)| a * b).sum()).collect();
        alpha.push(dot(&w, current));
        // Twice, so the basis stays orthogonal to working precision.
        for _ in 0..2 {
            for b in &basis {
                let c = dot(&w, b);
                w.iter_mut().zip(b).for_each(|(x, y)| *x -= c * y);
            }
        }
        let next = dot(&w, &w).sqrt();
        let size = step + 1;
        if size >= k && (size % 8 == 0 || size == steps || next <= exhausted) {
            let t = DMatrix::from_fn(size, size, |i, j| match i.abs_diff(j) {
                0 => alpha[i],
                1 => beta[i.min(j)],
                _ => 0.0,
            });
            let ritz = SymmetricEigen::new(t);
            let mut order: Vec<usize> = (0..size).collect();
            order.sort_by(|&a, &b| ritz.eigenvalues[b].total_cmp(&ritz.eigenvalues[a]));
            let top = ritz.eigenvalues[order[0]];
            if top <= 0.0 {
                return None;
            }
            let residual = |i: usize| next * ritz.eigenvectors[(size - 1, i)].abs();
            if order.iter().take(k).all(|&i| residual(i) <= LANCZOS_TOLERANCE * top) {
                let values = order.iter().take(k).map(|&i| ritz.eigenvalues[i]).collect();
                let vectors = order.iter().take(k).map(|&i| {
                    let mut v = vec![0f64; n];
                    for (b, &s) in basis.iter().zip(ritz.eigenvectors.column(i).iter()) {
                        v.iter_mut().zip(b).for_each(|(x, y)| *x += s * y);
                    }
                    let norm = dot(&v, &v).sqrt();
                    sign_normalised(v.into_iter().map(|x| x / norm).collect())
                });
                return Some((values, vectors.collect()));
            }
        }
        if next <= exhausted {
            return None;
        }
        beta.push(next);
        basis.push(w.into_iter().map(|x| x / next).collect());
    }
    None
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
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

    /// A centred Gram matrix of `n` random tokens whose `c` channels have decaying scales, as a
    /// trained model's tokens do, from a fixed seed.
    fn decaying_gram(n: usize, c: usize, seed: u64) -> Vec<f32> {
        let mut state = seed;
        let mut random = move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let tokens: Vec<Vec<f64>> =
            (0..n).map(|_| (0..c).map(|k| random() * (-(k as f64) / 6.0).exp()).collect()).collect();
        gram_of(&tokens)
    }

    fn full(gram: &[f32], n: usize) -> (Vec<f64>, Vec<Vec<f64>>) {
        let m = DMatrix::from_row_slice(n, n, &gram.iter().map(|&v| f64::from(v)).collect::<Vec<_>>());
        full_decomposition(m, n)
    }

    #[test]
    fn lanczos_gives_the_full_decompositions_leading_vectors_and_values() {
        for (n, c, seed) in [(196, 192, 1), (196, 768, 2), (49, 64, 3), (120, 30, 4)] {
            let gram = decaying_gram(n, c, seed);
            let m = DMatrix::from_row_slice(n, n, &gram.iter().map(|&v| f64::from(v)).collect::<Vec<_>>());
            let (values, vectors) = leading_eigenpairs(&m, 3).expect("converges on a decaying spectrum");
            let (all, expected) = full(&gram, n);
            for j in 0..3 {
                assert!((values[j] - all[j]).abs() <= 1e-10 * all[0], "n {n}: λ{j} {} vs {}", values[j], all[j]);
                let worst = vectors[j].iter().zip(&expected[j]).map(|(a, b)| (a - b).abs()).fold(0f64, f64::max);
                assert!(worst < 1e-8, "n {n}: eigenvector {j} differs by {worst}");
            }
            let spectrum = Spectrum::new(&gram, n, c);
            assert_eq!(spectrum.eigenvalues.len(), n);
            assert!(spectrum.eigenvalues.windows(2).all(|w| w[0] >= w[1]), "descending");
        }
    }

    #[test]
    fn equal_leading_eigenvalues_and_a_zero_matrix_take_the_full_decomposition() {
        // Three equal leading eigenvalues: any basis of their space is theirs.
        let n = 40;
        let diagonal: Vec<f32> = (0..n * n)
            .map(|i| {
                if i / n != i % n {
                    0.0
                } else if i / n < 3 {
                    5.0
                } else {
                    1.0 / (1 + i / n) as f32
                }
            })
            .collect();
        let spectrum = Spectrum::new(&diagonal, n, n);
        assert_eq!(spectrum.leading, full(&diagonal, n).1[..3].to_vec());
        let zero = vec![0f32; n * n];
        assert_eq!(leading_eigenpairs(&DMatrix::zeros(n, n), 3), None);
        assert_eq!(Spectrum::new(&zero, n, 8).pca_rgb(), vec![[0.0; 3]; n]);
    }

    #[test]
    fn pca_colours_match_those_of_the_full_decomposition() {
        let (n, c) = (196, 192);
        let gram = decaying_gram(n, c, 7);
        let (all, vectors) = full(&gram, n);
        let reference = Spectrum { eigenvalues: all, leading: vectors[..3].to_vec(), tokens: n, channels: c };
        let ours = Spectrum::new(&gram, n, c);
        for (a, b) in ours.pca_rgb().iter().zip(reference.pca_rgb()) {
            for k in 0..3 {
                assert!((a[k] - b[k]).abs() < 1e-6, "{a:?} vs {b:?}");
            }
        }
        assert_eq!(ours.log_singular_values(), reference.log_singular_values());
    }

    #[test]
    fn the_foregrounds_colours_match_those_of_the_full_decomposition() {
        let (n, c) = (196, 192);
        let gram = decaying_gram(n, c, 11);
        let (all, vectors) = full(&gram, n);
        let reference = Spectrum { eigenvalues: all, leading: vectors[..3].to_vec(), tokens: n, channels: c };
        let (kept, ours) = foreground_pca_rgb(&Spectrum::new(&gram, n, c), &gram, 14);
        let (kept_before, theirs) = foreground_pca_rgb_full(&reference, &gram, 14);
        assert_eq!(kept, kept_before);
        assert!(kept.iter().filter(|&&k| k).count() >= LANCZOS_FROM, "the foreground is large enough for Lanczos");
        for (a, b) in ours.iter().zip(&theirs) {
            for k in 0..3 {
                assert!((a[k] - b[k]).abs() < 1e-6, "{a:?} vs {b:?}");
            }
        }
    }

    /// The foreground's colours as they were computed before Lanczos: a full decomposition.
    fn foreground_pca_rgb_full(spectrum: &Spectrum, gram: &[f32], grid: usize) -> (Vec<bool>, Vec<[f32; 3]>) {
        let n = grid * grid;
        let first = spectrum.scores(0);
        let border = |i: usize| i / grid == 0 || i / grid == grid - 1 || i.is_multiple_of(grid) || i % grid == grid - 1;
        let sign = if (0..n).filter(|&i| border(i)).map(|i| first[i]).sum::<f64>() > 0.0 { -1.0 } else { 1.0 };
        let foreground: Vec<bool> = first.iter().map(|&v| sign * v > 0.0).collect();
        let kept: Vec<usize> = (0..n).filter(|&i| foreground[i]).collect();
        let k = kept.len();
        let sub: Vec<Vec<f64>> =
            kept.iter().map(|&a| kept.iter().map(|&b| f64::from(gram[a * n + b])).collect()).collect();
        let rows: Vec<f64> = sub.iter().map(|r| r.iter().sum::<f64>() / k as f64).collect();
        let total = rows.iter().sum::<f64>() / k as f64;
        let rescale = (n - 1) as f64 / (k - 1) as f64;
        let centred: Vec<f32> =
            (0..k * k).map(|i| ((sub[i / k][i % k] - rows[i / k] - rows[i % k] + total) * rescale) as f32).collect();
        let (values, vectors) = full(&centred, k);
        let alone =
            Spectrum { eigenvalues: values, leading: vectors[..3].to_vec(), tokens: k, channels: spectrum.channels };
        let mut rgb = vec![[0f32; 3]; n];
        for (i, colour) in kept.iter().zip(alone.pca_rgb()) {
            rgb[*i] = colour;
        }
        (foreground, rgb)
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
