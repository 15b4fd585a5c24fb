//! Attention rollout (Abnar & Zuidema, ACL 2020): Â_l = ½·mean_h A_l + ½·I (rows sum to 1, so no
//! renormalisation is needed), R_l = Â_l · R_{l−1}, R_0 = I. The CLS row of R_L, patches only,
//! renormalised, is the usual "what the model looks at" map; any patch row gives that query's map.

use burn::Tensor;

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
