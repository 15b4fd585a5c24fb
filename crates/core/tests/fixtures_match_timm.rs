//! Every official layout converts and matches timm's forward pass and the numpy metrics (≤ 1e-4, f32).

mod common;

use common::*;
use vitscope_core::analysis::{LayerMetrics, MetricContext, Query, attention_map, rollout, similarity, spectrum};
use vitscope_core::model::{Capture, Vit};

const LAYOUTS: [&str; 7] = ["mocov3", "simmim", "mae", "dino", "dino-full", "beit", "timm"];
const TOL: f32 = 1e-4;

fn check_layout(layout: &str) {
    let device = device();
    let model = convert_fixture(layout);
    let reference = Reference::load(layout);
    let vit = Vit::new(&model.config, &model.weights, None, &device).unwrap();
    let out = vit.forward(reference.tensor4("input", &device), Capture::all());

    assert_close(
        &format!("{layout} embedding"),
        &read(out.embedding.clone().unwrap()),
        reference.values("embedding"),
        TOL,
    );
    for (i, block) in out.blocks.iter().enumerate() {
        for (what, t) in [("after_attention", &block.after_attention), ("after_mlp", &block.after_mlp)] {
            let name = format!("blocks.{i}.{what}");
            assert_close(&format!("{layout} {name}"), &read(t.clone().unwrap()), reference.values(&name), TOL);
        }
        let name = format!("blocks.{i}.attention");
        assert_close(
            &format!("{layout} {name}"),
            &read(block.attention.clone().unwrap()),
            reference.values(&name),
            1e-5,
        );
    }
    assert_close(
        &format!("{layout} final"),
        &read(out.final_tokens.clone().unwrap()),
        reference.values("final_tokens"),
        TOL,
    );

    // Metrics, per image.
    let ctx = MetricContext::new(vit.grid(), model.config.patch_size, 1, &device);
    let metrics = pollster::block_on(vitscope_core::analysis::layer_metrics(&ctx, &out)).unwrap();
    let flat = |f: &dyn Fn(&LayerMetrics) -> Vec<f32>| metrics.iter().flat_map(f).collect::<Vec<f32>>();
    let nested = |v: &Vec<Vec<f32>>| v.concat();
    assert_close(
        "attention distance (px)",
        &flat(&|m| nested(&m.attention_distance)),
        reference.values("metrics.attention_distance"),
        TOL,
    );
    assert_close("nmi", &flat(&|m| nested(&m.nmi)), reference.values("metrics.nmi"), TOL);
    assert_close(
        "ΔlogA",
        &flat(&|m| nested(&m.delta_log_amplitude)),
        reference.values("metrics.delta_log_amplitude"),
        TOL,
    );
    assert_close(
        "token similarity",
        &flat(&|m| m.token_similarity.clone()),
        reference.values("metrics.token_similarity"),
        TOL,
    );
    assert_close(
        "head similarity",
        &flat(&|m| m.head_similarity.clone()),
        reference.values("metrics.head_similarity"),
        TOL,
    );

    // Attention maps of the CLS and a patch query, rollout.
    let query = meta(layout).query;
    let attentions: Vec<_> = out.blocks.iter().map(|b| b.attention.clone().unwrap()).collect();
    for (q, name) in [(Query::Cls, "map.cls".to_string()), (Query::Patch(query), format!("map.query{query}"))] {
        let maps: Vec<Vec<f32>> = attentions.iter().map(|a| read(attention_map(a, q, 1))).collect();
        // Reference is [B, L, H, N]; ours per layer [B, H, N].
        let per_image = maps[0].len() / 2;
        let ours: Vec<f32> = (0..2)
            .flat_map(|b| maps.iter().flat_map(move |m| m[b * per_image..(b + 1) * per_image].to_vec()))
            .collect();
        assert_close(&name, &ours, reference.values(&name), 1e-5);
    }
    let r = rollout::rollout(&attentions).unwrap();
    assert_close("rollout", &read(r.clone()), reference.values("rollout.full"), 1e-5);
    assert_close("rollout CLS map", &read(rollout::rollout_map(&r, 0, 1)), reference.values("rollout.cls"), 1e-5);

    // Same token across depths.
    let streams: Vec<_> =
        (0..=model.config.depth).map(|d| similarity::patch_tokens(out.stream(d).unwrap(), 1)).collect();
    assert_close(
        "same-token similarity",
        &read(similarity::same_token_similarity(&streams)),
        reference.values("similarity.same_token"),
        TOL,
    );

    assert_close(
        "layer similarity",
        &read(similarity::layer_similarity(&attentions, 1)),
        reference.values("similarity.layers"),
        TOL,
    );
    assert_close(
        "selected-token similarity",
        &read(similarity::query_similarity(streams.last().unwrap(), query)),
        reference.values(&format!("similarity.query{query}")),
        TOL,
    );

    // Spectrum and PCA colours of the last stream.
    let last = streams.last().unwrap();
    let gram = read(spectrum::centred_gram(last));
    let n = last.dims()[1];
    let (logs, rgbs): (Vec<f32>, Vec<f32>) = gram.chunks(n * n).fold((vec![], vec![]), |(mut l, mut c), g| {
        let s = spectrum::Spectrum::new(g, n, model.config.width);
        l.extend(s.log_singular_values());
        c.extend(s.pca_rgb().into_iter().flatten());
        (l, c)
    });
    assert_close("log singular values", &logs, reference.values("spectrum.log_singular_values"), TOL);
    assert_close("PCA RGB", &rgbs, reference.values("spectrum.pca_rgb"), TOL);
}

macro_rules! layout_tests {
    ($($name:ident => $layout:expr),* $(,)?) => {
        $(#[test] fn $name() { check_layout($layout); })*
    };
}

layout_tests! {
    mocov3_matches_timm => "mocov3",
    simmim_matches_timm_beit => "simmim",
    mae_matches_timm => "mae",
    dino_bare_matches_timm => "dino",
    dino_full_matches_timm => "dino-full",
    beit_matches_timm_beit => "beit",
    timm_export_matches_timm => "timm",
}

#[test]
fn every_layout_is_detected() {
    for layout in LAYOUTS {
        convert_fixture(layout);
    }
}

/// Running at 2× resolution: the absolute table (timm's own resampling) and the relative table.
#[test]
fn double_resolution_matches_reference() {
    let device = device();
    for layout in ["mocov3", "simmim"] {
        let model = convert_fixture(layout);
        let reference = Reference::load(layout);
        let vit = Vit::new(&model.config, &model.weights, Some(2 * model.config.image_size), &device).unwrap();
        assert_eq!(vit.grid(), 2 * model.config.grid());
        let out = vit.forward(reference.tensor4("x2.input", &device), Capture::all());
        assert_close(
            &format!("{layout} 2× final"),
            &read(out.final_tokens.unwrap()),
            reference.values("x2.final_tokens"),
            TOL,
        );
        let last = out.blocks.last().unwrap().attention.clone().unwrap();
        assert_close(&format!("{layout} 2× attention"), &read(last), reference.values("x2.blocks.1.attention"), 1e-5);
    }
}

/// Sizes the model cannot run at are refused with the reason.
#[test]
fn impossible_resolutions_are_refused_clearly() {
    let device = device();
    let model = convert_fixture("simmim");
    let err = |size| Vit::new(&model.config, &model.weights, Some(size), &device).unwrap_err().to_string();
    assert_eq!(err(50), "cannot run at 50 px: it must be a positive multiple of the patch size 8");
    assert_eq!(err(0), "cannot run at 0 px: it must be a positive multiple of the patch size 8");
    assert_eq!(err(400), "cannot run at 400 px: more than 4× the trained 48 px is not supported");
    // Smaller than trained works too (the resampling is anti-aliased).
    assert_eq!(Vit::new(&model.config, &model.weights, Some(16), &device).unwrap().grid(), 2);
}
