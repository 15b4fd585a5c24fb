//! Attention rollout (Abnar & Zuidema, ACL 2020): Â_l = ½·mean_h A_l + ½·I (rows sum to 1, so no
//! renormalisation is needed), R_l = Â_l · R_{l−1}, R_0 = I. The CLS row of R_L, patches only,
//! renormalised, is the usual "what the model looks at" map; any patch row gives that query's map.

use burn::Tensor;

use crate::model::gemm::{Panels, gemm};

/// `[B, T, T]` rollout through all given layers' attention `[B, H, T, T]`.
pub fn rollout(attentions: &[Tensor<4>]) -> Option<Tensor<3>> {
    let first = attentions.first()?;
    let [b, _, t, _] = first.dims();
    let eye = Tensor::<2>::eye(t, &first.device()).unsqueeze::<3>();
    let mut r = eye.clone().expand([b as i64, t as i64, t as i64]);
    for a in attentions {
        let mixed = a.clone().mean_dim(1).reshape([b, t, t]) * 0.5 + eye.clone() * 0.5;
        r = mixed.matmul(r);
    }
    Some(r)
}

/// `[B, N]`: row `row` of a rollout without prefix columns, renormalised.
pub fn rollout_map(rollout: &Tensor<3>, row: usize, prefix: usize) -> Tensor<2> {
    let [b, t, _] = rollout.dims();
    let r = rollout.clone().narrow(1, row, 1).narrow(2, prefix, t - prefix);
    let sum = r.clone().sum_dim(2);
    (r / sum).reshape([b, t - prefix])
}

/// [`rollout`] of one image whose attention maps `[L, H, T, T]` are already on the host (the
/// snapshot reads them back first), `[T, T]` row-major, on the project's GEMM: no second trip
/// through the device, and the same code on every backend.
pub fn rollout_host(attention: &[f32], heads: usize, t: usize) -> Vec<f32> {
    let layer = heads * t * t;
    let mut r: Option<Vec<f32>> = None;
    let mut mixed = vec![0f32; t * t];
    for maps in attention.chunks_exact(layer.max(1)) {
        // ½·mean_h A + ½·I with the burn formula's steps: the heads' sum over H, then × ½, + ½ on
        // the diagonal. Head by head, so each pass runs over contiguous memory.
        mixed.copy_from_slice(&maps[..t * t]);
        for head in maps.chunks_exact(t * t).skip(1) {
            mixed.iter_mut().zip(head).for_each(|(m, a)| *m += a);
        }
        mixed.iter_mut().for_each(|m| *m = *m / heads as f32 * 0.5);
        for d in 0..t {
            mixed[d * t + d] += 0.5;
        }
        r = Some(match r {
            // R₁ = Â₁·I = Â₁.
            None => mixed.clone(),
            Some(previous) => {
                let panels = Panels::new(t, t, |p, j| previous[p * t + j]);
                let mut next = vec![0f32; t * t];
                gemm(&mixed, t, t, &panels, None, &mut next, t);
                next
            }
        });
    }
    r.unwrap_or_else(|| (0..t * t).map(|i| if i / t == i % t { 1.0 } else { 0.0 }).collect())
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, TensorData};

    use super::*;

    #[test]
    fn host_rollout_is_the_burn_formula() {
        // Three layers, two heads, 11 tokens: rows of each map sum to 1, as a softmax's do.
        let (depth, heads, t) = (3, 2, 11);
        let mut maps: Vec<f32> = (0..depth * heads * t * t).map(|i| ((i * 7919) % 97) as f32 + 1.0).collect();
        for row in maps.chunks_exact_mut(t) {
            let sum: f32 = row.iter().sum();
            row.iter_mut().for_each(|v| *v /= sum);
        }
        let device = Device::flex();
        let layers: Vec<Tensor<4>> = maps
            .chunks_exact(heads * t * t)
            .map(|m| Tensor::from_data(TensorData::new(m.to_vec(), [1, heads, t, t]), &device))
            .collect();
        let want = rollout(&layers).unwrap().into_data().try_to_vec::<f32>().unwrap();
        let got = rollout_host(&maps, heads, t);
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= 1e-6 * w.abs().max(1e-3), "{g} against {w}");
        }
        // Rows still sum to one, and the diagonal keeps its ½ share through the layers.
        for row in got.chunks_exact(t) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
        assert!((0..t).all(|i| got[i * t + i] > 0.125));
        assert_eq!(rollout_host(&[], heads, 2), vec![1.0, 0.0, 0.0, 1.0]);
    }
}
