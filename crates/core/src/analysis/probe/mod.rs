//! Per-layer probes of a labelled set: what each block's tokens know about the images' classes (the
//! paper's Fig. 10: CL's linear probe rises to the last layer, MIM's peaks in the middle). A forward
//! pass gives each image's [`PooledFeatures`]; [`probe_curves`] scores every layer with the kNN
//! ([`knn`]) and linear ([`ridge`]) probes, leaving each image out in turn.

pub mod knn;
pub mod ridge;

use burn::Tensor;

use super::measure::{AnalysisError, read};
use crate::model::VitOutput;
use vitscope_protocol::probe::{
    KNN_K, KNN_TEMPERATURE, PooledFeatures, Pooling, ProbeCurves, RIDGE_PENALTY_PER_IMAGE, linear_probe_runs,
};

pub use knn::knn_accuracy;
pub use ridge::ridge_accuracy;

/// Each image's CLS token (when `has_cls`) and mean patch token after every block, read back in two
/// transfers.
///
/// # Shapes
/// - streams after each block's MLP: `[B, T, C]`, T = `prefix` + patches
/// - returns B features of L · C values per pooling
pub async fn pooled_features(
    out: &VitOutput,
    prefix: usize,
    has_cls: bool,
) -> Result<Vec<PooledFeatures>, AnalysisError> {
    let streams: Vec<&Tensor<3>> = out
        .blocks
        .iter()
        .map(|b| b.after_mlp.as_ref().ok_or(AnalysisError::NotCaptured("the residual streams")))
        .collect::<Result<_, _>>()?;
    let Some(first) = streams.first() else { return Ok(Vec::new()) };
    let [b, t, c] = first.dims();
    let layers = streams.len();
    let pooled = |from: usize, len: usize| -> Tensor<3> {
        // [B, L, C]
        Tensor::cat(streams.iter().map(|&s| s.clone().narrow(1, from, len).mean_dim(1)).collect(), 1)
    };
    let avg = read(pooled(prefix, t - prefix)).await?;
    // The CLS token is token 0 when there is one; a model with registers but no CLS token has none.
    let cls = if has_cls { read(pooled(0, 1)).await? } else { Vec::new() };
    let per_image = layers * c;
    Ok((0..b)
        .map(|i| PooledFeatures {
            width: c,
            cls: cls.get(i * per_image..(i + 1) * per_image).map_or_else(Vec::new, <[f32]>::to_vec),
            avg: avg[i * per_image..(i + 1) * per_image].to_vec(),
        })
        .collect())
}

/// Every layer's probe accuracies over a labelled set; `on_layer(done, total)` after each layer, so a
/// caller can show progress (a ViT-B's 1,000 images take seconds per layer in the browser).
///
/// # Shapes
/// - `features`: one per image, all of one model (same layers and width)
/// - `labels`: one class index per image, each below `classes`
pub fn probe_curves(
    features: &[&PooledFeatures],
    labels: &[usize],
    classes: usize,
    on_layer: &mut dyn FnMut(usize, usize),
) -> ProbeCurves {
    let layers = features.first().map_or(0, |f| f.layers());
    let mut counts = vec![0usize; classes];
    labels.iter().for_each(|&l| counts[l] += 1);
    let linear = linear_probe_runs(&counts);
    let has_cls = features.iter().all(|f| !f.cls.is_empty());
    let rows = |pooling: Pooling, layer: usize| -> Vec<&[f32]> {
        features.iter().map(|f| f.layer(pooling, layer).expect("features of one model")).collect()
    };
    let knn = |r: &[&[f32]]| knn_accuracy(r, labels, classes, KNN_K, KNN_TEMPERATURE);
    let mut curves = ProbeCurves {
        knn_cls: has_cls.then(Vec::new),
        knn_avg: Vec::with_capacity(layers),
        linear_avg: linear.then(Vec::new),
    };
    for layer in 0..layers {
        if let Some(cls) = curves.knn_cls.as_mut() {
            cls.push(knn(&rows(Pooling::Cls, layer)));
        }
        let avg = rows(Pooling::Avg, layer);
        curves.knn_avg.push(knn(&avg));
        if let Some(linear) = curves.linear_avg.as_mut() {
            linear.push(ridge_accuracy(&avg, labels, classes, RIDGE_PENALTY_PER_IMAGE));
        }
        on_layer(layer + 1, layers);
    }
    curves
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two layers: in the first the classes overlap completely (every image alike), in the second
    /// each class has its own direction.
    fn two_layer_set() -> (Vec<PooledFeatures>, Vec<usize>) {
        let mut features = Vec::new();
        let mut labels = Vec::new();
        for class in 0..3 {
            for i in 0..6 {
                let jitter = 0.01 * i as f32;
                let mut second = vec![jitter; 3];
                second[class] += 1.0;
                let layer = |second: &[f32]| [vec![1.0, jitter, 0.5], second.to_vec()].concat();
                features.push(PooledFeatures { width: 3, cls: layer(&second), avg: layer(&second) });
                labels.push(class);
            }
        }
        (features, labels)
    }

    #[test]
    fn a_layer_that_separates_the_classes_scores_one_and_one_that_does_not_scores_chance() {
        let (features, labels) = two_layer_set();
        let refs: Vec<&PooledFeatures> = features.iter().collect();
        let mut seen = Vec::new();
        let curves = probe_curves(&refs, &labels, 3, &mut |done, total| seen.push((done, total)));
        assert_eq!(seen, vec![(1, 2), (2, 2)]);
        for curve in [curves.knn_cls.as_ref().unwrap(), &curves.knn_avg, curves.linear_avg.as_ref().unwrap()] {
            assert_eq!(curve.len(), 2);
            assert_eq!(curve[1], 1.0);
            assert!(curve[0] <= 1.0 / 3.0 + 1e-6, "identical classes must not be told apart: {}", curve[0]);
        }
    }

    #[test]
    fn small_classes_get_no_linear_probe_and_models_without_cls_no_cls_probe() {
        let (mut features, labels) = two_layer_set();
        features.iter_mut().for_each(|f| f.cls.clear());
        let refs: Vec<&PooledFeatures> = features[..12].iter().collect();
        let mut labels = labels[..12].to_vec();
        labels[11] = 2; // a third class of one image
        let curves = probe_curves(&refs, &labels, 3, &mut |_, _| {});
        assert_eq!(curves.knn_cls, None);
        assert_eq!(curves.linear_avg, None);
        assert_eq!(curves.knn_avg.len(), 2);
    }
}
