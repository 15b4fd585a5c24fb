//! int8 against f32 on the same images. Bounds (chosen so no chart moves visibly; measured values
//! are printed with `--nocapture` and recorded in BENCHMARKS.md):
//! - final tokens: cosine ≥ 0.999 per token;
//! - attention probabilities: max abs difference ≤ 0.03 (the colour scale spans 0–1);
//! - attention distance ≤ 1 % of the layer's value; NMI ≤ 0.01; token similarity ≤ 0.01;
//! - ΔlogA at the charted (headline) bin ≤ 0.02, anywhere on the half diagonal ≤ 0.05.
//!
//! These hold for a ViT-Ti/8 with timm-scale weights on gallery photos. The layout fixtures are
//! harsher (random weights scaled up for peaked attention, random patch filters full of high
//! frequencies), so for them the charted ΔlogA bound is relaxed to 0.05.

mod common;

use common::*;
use vitscope_core::analysis::LayerMetrics;
use vitscope_core::model::{Capture, VitConfig};
use vitscope_core::pipeline::LoadedModel;
use vitscope_core::weights::{ModelFile, Precision};

struct Worst {
    token_cosine: f64,
    attention: f32,
    distance_rel: f32,
    nmi: f32,
    dla: f32,
    dla_headline: f32,
    token_sim: f32,
}

fn compare(model: ModelFile, images: &[image::RgbImage]) -> Worst {
    let device = device();
    let int8 = ModelFile::from_bytes(&model.to_bytes(Precision::Int8).unwrap()).unwrap();
    let a = LoadedModel::new(model, None, &device).unwrap();
    let b = LoadedModel::new(int8, None, &device).unwrap();
    let prepared: Vec<_> = images.iter().map(|i| a.prepare(i)).collect();
    let refs: Vec<_> = prepared.iter().collect();
    let oa = a.forward(&refs, Capture::all());
    let ob = b.forward(&refs, Capture::all());
    let c = a.file.config.width;
    let (fa, fb) = (read(oa.final_tokens.clone().unwrap()), read(ob.final_tokens.clone().unwrap()));
    let token_cosine = fa.chunks(c).zip(fb.chunks(c)).map(|(x, y)| cosine(x, y)).fold(1.0, f64::min);
    let attention = oa
        .blocks
        .iter()
        .zip(&ob.blocks)
        .map(|(x, y)| max_abs_diff(&read(x.attention.clone().unwrap()), &read(y.attention.clone().unwrap())))
        .fold(0.0, f32::max);
    let ma =
        LayerMetrics::mean_of(&pollster::block_on(vitscope_core::analysis::layer_metrics(&a.metrics, &oa)).unwrap());
    let mb =
        LayerMetrics::mean_of(&pollster::block_on(vitscope_core::analysis::layer_metrics(&b.metrics, &ob)).unwrap());
    let da = LayerMetrics::layer_means(&ma.attention_distance);
    let db = LayerMetrics::layer_means(&mb.attention_distance);
    let distance_rel = da.iter().zip(&db).map(|(x, y)| (x - y).abs() / x.abs().max(1e-6)).fold(0.0, f32::max);
    Worst {
        token_cosine,
        attention,
        distance_rel,
        nmi: max_abs_diff(&LayerMetrics::layer_means(&ma.nmi), &LayerMetrics::layer_means(&mb.nmi)),
        dla: max_abs_diff(&ma.delta_log_amplitude.concat(), &mb.delta_log_amplitude.concat()),
        dla_headline: max_abs_diff(
            &ma.delta_log_amplitude_headline(a.vit.grid()),
            &mb.delta_log_amplitude_headline(b.vit.grid()),
        ),
        token_sim: max_abs_diff(&ma.token_similarity, &mb.token_similarity),
    }
}

fn gallery(n: usize) -> Vec<image::RgbImage> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../www/gallery");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    files.sort();
    files.iter().take(n).map(|p| vitscope_core::image::decode(&std::fs::read(p).unwrap()).unwrap()).collect()
}

fn check(label: &str, w: Worst, headline_bound: f32) {
    println!(
        "{label}: min token cosine {:.6}, attention max |Δ| {:.5}, distance max rel {:.4}, NMI max |Δ| {:.5}, ΔlogA max |Δ| {:.5} (headline bin {:.5}), token-sim max |Δ| {:.5}",
        w.token_cosine, w.attention, w.distance_rel, w.nmi, w.dla, w.dla_headline, w.token_sim
    );
    assert!(w.token_cosine >= 0.999, "{label}: token cosine {}", w.token_cosine);
    assert!(w.attention <= 0.03, "{label}: attention {}", w.attention);
    assert!(w.distance_rel <= 0.01, "{label}: distance {}", w.distance_rel);
    assert!(w.nmi <= 0.01, "{label}: nmi {}", w.nmi);
    assert!(w.dla <= 0.05, "{label}: ΔlogA {}", w.dla);
    assert!(w.dla_headline <= headline_bound, "{label}: ΔlogA at the headline bin {}", w.dla_headline);
    assert!(w.token_sim <= 0.01, "{label}: token similarity {}", w.token_sim);
}

#[test]
fn int8_matches_f32_on_every_fixture() {
    for layout in ["mocov3", "simmim", "timm"] {
        check(layout, compare(convert_fixture(layout), &gallery(4)), 0.05);
    }
}

#[test]
fn int8_matches_f32_for_vit_tiny_on_gallery_photos() {
    check("ViT-Ti/8@112", compare(random_model(VitConfig::vit_tiny8_112(), 9), &gallery(6)), 0.02);
}
