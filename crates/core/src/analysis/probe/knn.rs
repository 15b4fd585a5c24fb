//! Weighted k-nearest-neighbour accuracy, leave one out (the kNN protocol of Wu et al. 2018 as DINO and
//! MoCo v3 report it, with the labelled set as its own bank):
//!
//! ẑ = z / max(‖z‖, 1e-12); for each image i, the k images j ≠ i of largest s_ij = ẑ_i · ẑ_j vote for
//! their class with weight exp(s_ij / T); i is right when its class gets the largest vote (the lowest
//! class index wins a tie, as `argmax` does). k = 20, T = 0.07 ([`vitscope_protocol::probe`]).

use crate::model::gemm::{Panels, gemm};

/// The share of images whose leave-one-out vote names their class.
///
/// # Shapes
/// - `rows`: n vectors of one length d
/// - `labels`: n class indices, each below `classes`
pub fn knn_accuracy(rows: &[&[f32]], labels: &[usize], classes: usize, k: usize, temperature: f32) -> f32 {
    // A NaN or an infinity in a feature (a model that overflows) has no neighbours to speak of.
    if !all_finite(rows) {
        return f32::NAN;
    }
    let predicted = knn_predictions(rows, labels, classes, k, temperature);
    accuracy(&predicted, labels)
}

/// Each image's leave-one-out kNN class.
pub fn knn_predictions(rows: &[&[f32]], labels: &[usize], classes: usize, k: usize, temperature: f32) -> Vec<usize> {
    let n = rows.len();
    assert_eq!(labels.len(), n, "one label per row");
    let Some(d) = rows.first().map(|r| r.len()) else { return Vec::new() };
    let unit: Vec<f32> = rows
        .iter()
        .flat_map(|r| {
            assert_eq!(r.len(), d, "rows of one length");
            let norm = r.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
            r.iter().map(move |v| v / norm)
        })
        .collect();
    // Every pair's similarity in one product: n·n·d multiply–adds on the page's own GEMM.
    let transposed = Panels::new(d, n, |p, j| unit[j * d + p]);
    let mut similarity = vec![0.0f32; n * n];
    gemm(&unit, d, n, &transposed, None, &mut similarity, n);

    let mut order: Vec<usize> = Vec::with_capacity(n);
    let mut votes = vec![0.0f64; classes];
    (0..n)
        .map(|i| {
            let row = &similarity[i * n..(i + 1) * n];
            order.clear();
            order.extend((0..n).filter(|&j| j != i));
            let nearest = k.min(order.len());
            // Most similar first; equal similarities by index, so the result does not depend on the sort.
            let closer = |a: &usize, b: &usize| row[*b].total_cmp(&row[*a]).then(a.cmp(b));
            if nearest < order.len() && nearest > 0 {
                order.select_nth_unstable_by(nearest - 1, closer);
            }
            votes.iter_mut().for_each(|v| *v = 0.0);
            for &j in &order[..nearest] {
                votes[labels[j]] += f64::from((row[j] / temperature).exp());
            }
            argmax(&votes)
        })
        .collect()
}

pub(super) fn all_finite(rows: &[&[f32]]) -> bool {
    rows.iter().all(|r| r.iter().all(|v| v.is_finite()))
}

/// The first index of the largest value.
pub(super) fn argmax(values: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

pub(super) fn accuracy(predicted: &[usize], labels: &[usize]) -> f32 {
    if labels.is_empty() {
        return 0.0;
    }
    let right = predicted.iter().zip(labels).filter(|(p, l)| p == l).count();
    right as f32 / labels.len() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_neighbours_vote_and_the_image_itself_does_not() {
        // Two tight clusters; image 2 sits in cluster A but is labelled B. Leaving it out, A's two
        // images outvote B's, so 2 is wrong; 0 and 1 see 2 (B) nearest but A's other image too.
        let rows: Vec<&[f32]> = vec![&[1.0, 0.0], &[0.99, 0.1], &[0.98, -0.1], &[0.0, 1.0], &[0.1, 0.99]];
        let labels = [0, 0, 1, 1, 1];
        let predicted = knn_predictions(&rows, &labels, 2, 2, 0.07);
        assert_eq!(predicted, vec![0, 0, 0, 1, 1]);
        assert_eq!(knn_accuracy(&rows, &labels, 2, 2, 0.07), 0.8);
    }

    #[test]
    fn votes_are_weighted_by_similarity() {
        // Query 0's neighbours: one of class 1 at cos 1.0 and two of class 0 at cos 0.8. With T = 0.07
        // e^(1/0.07) outweighs 2·e^(0.8/0.07) (a ratio of e^(0.2/0.07)/2 ≈ 8.7), so class 1 wins;
        // at T = 1 the two class-0 votes win.
        let c = 0.8f32;
        let s = (1.0 - c * c).sqrt();
        let (near, far) = ([c, s, 0.0], [c, 0.0, s]);
        let rows: Vec<&[f32]> = vec![&[1.0, 0.0, 0.0], &[1.0, 0.0, 0.0], &near, &far];
        let labels = [0, 1, 0, 0];
        assert_eq!(knn_predictions(&rows, &labels, 2, 3, 0.07)[0], 1);
        assert_eq!(knn_predictions(&rows, &labels, 2, 3, 1.0)[0], 0);
    }

    #[test]
    fn a_non_finite_feature_gives_no_accuracy_rather_than_a_wrong_one() {
        let rows: Vec<&[f32]> = vec![&[1.0, 0.0], &[f32::NAN, 1.0], &[0.1, 1.0]];
        assert!(knn_accuracy(&rows, &[0, 1, 1], 2, 20, 0.07).is_nan());
        assert!(super::super::ridge::ridge_accuracy(&rows, &[0, 1, 1], 2, 1.0).is_nan());
    }

    #[test]
    fn fewer_images_than_k_all_vote() {
        let rows: Vec<&[f32]> = vec![&[1.0, 0.0], &[0.0, 1.0], &[0.1, 1.0]];
        assert_eq!(knn_predictions(&rows, &[0, 1, 1], 2, 20, 0.07), vec![1, 1, 1]);
    }
}
