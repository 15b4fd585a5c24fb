//! A linear probe that needs no training loop and no random start: the ridge-regression classifier,
//! scored leave one out in closed form, so the CLI and the page reach the same answer.
//!
//! Features are standardised over the set (z = (x − mean) / (std + 1e-6), std with n − 1, as the
//! project's PyTorch probe does; no labels are used). With one-hot targets Y (n × C), an unpenalised
//! intercept and penalty α = n · [`RIDGE_PENALTY_PER_IMAGE`], the fit is
//! Ŷ = 1·ȳᵀ + Z (ZᵀZ + αI)⁻¹ ZᵀY, a linear smoother Ŷ = HY with H = 11ᵀ/n + Z(ZᵀZ + αI)⁻¹Zᵀ (the
//! columns of Z have mean zero, so the intercept separates). Refitting without image i changes its
//! scores to (ŷᵢ − hᵢᵢ yᵢ) / (1 − hᵢᵢ) exactly (Hastie et al., ESL §7.10); the positive divisor does not
//! change the argmax, so image i is predicted argmax_c (ŷᵢc − hᵢᵢ [c = yᵢ]).
//!
//! [`RIDGE_PENALTY_PER_IMAGE`]: vitscope_protocol::probe::RIDGE_PENALTY_PER_IMAGE

use nalgebra::DMatrix;

use super::knn::{accuracy, all_finite, argmax};
use crate::model::gemm::{Panels, gemm};

/// The share of images the leave-one-out ridge classifier gets right.
///
/// # Shapes
/// - `rows`: n vectors of one length d
/// - `labels`: n class indices, each below `classes`
pub fn ridge_accuracy(rows: &[&[f32]], labels: &[usize], classes: usize, penalty_per_image: f64) -> f32 {
    if !all_finite(rows) {
        return f32::NAN;
    }
    accuracy(&ridge_predictions(rows, labels, classes, penalty_per_image), labels)
}

/// Each image's class as the ridge classifier fitted on the others predicts it.
pub fn ridge_predictions(rows: &[&[f32]], labels: &[usize], classes: usize, penalty_per_image: f64) -> Vec<usize> {
    let n = rows.len();
    assert_eq!(labels.len(), n, "one label per row");
    let Some(d) = rows.first().map(|r| r.len()) else { return Vec::new() };
    let z = standardised(rows, d);

    // ZᵀZ on the project's GEMM (n·d² multiply–adds, the bulk of the work), solved in f64.
    let zt: Vec<f32> = (0..d).flat_map(|p| (0..n).map(move |i| (p, i))).map(|(p, i)| z[i * d + p]).collect();
    let mut gram = vec![0.0f32; d * d];
    gemm(&zt, n, d, &Panels::new(n, d, |i, q| z[i * d + q]), None, &mut gram, d);
    let alpha = penalty_per_image * n as f64;
    let regularised = DMatrix::from_fn(d, d, |p, q| f64::from(gram[p * d + q]) + if p == q { alpha } else { 0.0 });
    let inverse = regularised.cholesky().expect("ZᵀZ + αI with α > 0 is positive definite").inverse();

    // W = (ZᵀZ + αI)⁻¹ ZᵀY, where ZᵀY sums each class's rows.
    let mut zty = DMatrix::<f64>::zeros(d, classes);
    for (i, &label) in labels.iter().enumerate() {
        for p in 0..d {
            zty[(p, label)] += f64::from(z[i * d + p]);
        }
    }
    let w = &inverse * zty;
    let mut prior = vec![0.0f64; classes];
    labels.iter().for_each(|&l| prior[l] += 1.0 / n as f64);

    // hᵢᵢ = 1/n + zᵢᵀ (ZᵀZ + αI)⁻¹ zᵢ, through P = Z (ZᵀZ + αI)⁻¹ on the GEMM.
    let mut projected = vec![0.0f32; n * d];
    gemm(&z, d, n, &Panels::new(d, d, |p, q| inverse[(p, q)] as f32), None, &mut projected, d);

    let mut scores = vec![0.0f64; classes];
    (0..n)
        .map(|i| {
            let zi = &z[i * d..(i + 1) * d];
            let leverage = 1.0 / n as f64
                + zi.iter().zip(&projected[i * d..(i + 1) * d]).map(|(a, b)| f64::from(a * b)).sum::<f64>();
            for (c, score) in scores.iter_mut().enumerate() {
                *score = prior[c] + zi.iter().enumerate().map(|(p, &v)| f64::from(v) * w[(p, c)]).sum::<f64>();
            }
            scores[labels[i]] -= leverage;
            argmax(&scores)
        })
        .collect()
}

/// `[i · d + p]`: feature p of image i, standardised over the images.
fn standardised(rows: &[&[f32]], d: usize) -> Vec<f32> {
    let n = rows.len() as f64;
    let mut mean = vec![0.0f64; d];
    for r in rows {
        assert_eq!(r.len(), d, "rows of one length");
        mean.iter_mut().zip(*r).for_each(|(m, &v)| *m += f64::from(v) / n);
    }
    let mut var = vec![0.0f64; d];
    for r in rows {
        var.iter_mut().zip(*r).zip(&mean).for_each(|((s, &v), m)| *s += (f64::from(v) - m).powi(2));
    }
    let scale: Vec<f64> = var.iter().map(|s| 1.0 / ((s / (n - 1.0).max(1.0)).sqrt() + 1e-6)).collect();
    rows.iter().flat_map(|r| r.iter().enumerate().map(|(p, &v)| ((f64::from(v) - mean[p]) * scale[p]) as f32)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Refits the ridge classifier without each image in turn: what the closed form must equal.
    fn refit_predictions(rows: &[&[f32]], labels: &[usize], classes: usize, penalty: f64) -> Vec<usize> {
        let n = rows.len();
        let d = rows[0].len();
        let z = standardised(rows, d);
        let alpha = penalty * n as f64;
        (0..n)
            .map(|out| {
                let kept: Vec<usize> = (0..n).filter(|&i| i != out).collect();
                // The intercept is unpenalised: centre Z and Y over the kept images.
                let mean = |f: &dyn Fn(usize) -> f64| kept.iter().map(|&i| f(i)).sum::<f64>() / kept.len() as f64;
                let zc = DMatrix::from_fn(kept.len(), d, |r, p| {
                    f64::from(z[kept[r] * d + p]) - mean(&|i| f64::from(z[i * d + p]))
                });
                let ybar: Vec<f64> = (0..classes).map(|c| mean(&|i| f64::from(u8::from(labels[i] == c)))).collect();
                let yc =
                    DMatrix::from_fn(kept.len(), classes, |r, c| f64::from(u8::from(labels[kept[r]] == c)) - ybar[c]);
                let a = zc.transpose() * &zc + DMatrix::identity(d, d) * alpha;
                let w = a.cholesky().unwrap().solve(&(zc.transpose() * yc));
                let zbar: Vec<f64> = (0..d).map(|p| mean(&|i| f64::from(z[i * d + p]))).collect();
                let scores: Vec<f64> = (0..classes)
                    .map(|c| ybar[c] + (0..d).map(|p| (f64::from(z[out * d + p]) - zbar[p]) * w[(p, c)]).sum::<f64>())
                    .collect();
                argmax(&scores)
            })
            .collect()
    }

    fn noisy_clusters(n_per: usize, classes: usize, d: usize, spread: f32) -> (Vec<Vec<f32>>, Vec<usize>) {
        // A fixed-seed LCG keeps the test exact without a dependency.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut uniform = move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) - 0.5
        };
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        for c in 0..classes {
            for _ in 0..n_per {
                rows.push((0..d).map(|p| if p == c { 1.0 } else { 0.0 } + spread * uniform()).collect());
                labels.push(c);
            }
        }
        (rows, labels)
    }

    #[test]
    fn the_closed_form_equals_refitting_without_each_image() {
        // Overlapping clusters, so some images are misclassified and the shortcut is really tested.
        let (rows, labels) = noisy_clusters(12, 3, 6, 2.5);
        let refs: Vec<&[f32]> = rows.iter().map(Vec::as_slice).collect();
        for penalty in [0.01, 1.0] {
            let fast = ridge_predictions(&refs, &labels, 3, penalty);
            assert_eq!(fast, refit_predictions(&refs, &labels, 3, penalty), "penalty {penalty}");
            let acc = accuracy(&fast, &labels);
            assert!((0.4..0.95).contains(&acc), "overlapping clusters give {acc}");
        }
    }

    #[test]
    fn separable_classes_are_separated() {
        let (rows, labels) = noisy_clusters(10, 4, 16, 0.3);
        let refs: Vec<&[f32]> = rows.iter().map(Vec::as_slice).collect();
        assert_eq!(ridge_accuracy(&refs, &labels, 4, 1.0), 1.0);
    }
}
