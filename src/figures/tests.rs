//! The figures' numbers on a tiny two-layer model: query rows, map text, labels, chart series.

use std::rc::Rc;

use vitscope_protocol::card::{Preprocessing, Source};
use vitscope_protocol::messages::{Backend, ModelAnalysis, ModelInfo};
use vitscope_protocol::{Derived, Family, LayerMetrics, Metric, ModelCard, Representation, Snapshot, Timing};

use super::charts::{ChartKind, chart, metric_rows, view_charts};
use super::maps::{query_row, top_patches, view_pictures};
use super::picture::ColormapRgb;
use crate::store::{Analysis, Colormap, MapKind, ModelResult, Query, View, ViewState};

fn model(id: &str, family: Family) -> ModelResult {
    let card = ModelCard {
        name: id.to_uppercase(),
        family,
        objective: "o".into(),
        source: Source { checkpoint: "c".into(), sha256: None, url: None, layout: "mocov3".into() },
        license: "MIT".into(),
        training_data: "none".into(),
        preprocessing: Preprocessing::imagenet(112),
        citation: "c".into(),
        notes: None,
        training: None,
        reference_curves: None,
    };
    let info = ModelInfo {
        id: id.into(),
        card,
        image_size: 4,
        native_size: 4,
        patch_size: 2,
        prefix_tokens: 1,
        depth: 2,
        heads: 2,
        width: 4,
        precision: "f32".into(),
    };
    // 2×2 patches and a CLS token: T = 5; attention [2 layers, 2 heads, 5, 5].
    let mut attention = vec![0.0; 2 * 2 * 25];
    for (i, v) in attention.iter_mut().enumerate() {
        *v = (i % 5) as f32;
    }
    let snapshot = Snapshot {
        grid: 2,
        prefix: 1,
        cls: true,
        depth: 2,
        heads: 2,
        channels: 1,
        attention,
        attention_layer: None,
        derived: Some(Derived {
            attention: Vec::new(),
            rollout: vec![1.0; 25],
            metrics: LayerMetrics {
                attention_distance: vec![vec![1.0, 3.0], vec![5.0, 7.0]],
                nmi: vec![vec![0.1, 0.1], vec![0.2, 0.2]],
                delta_log_amplitude: vec![vec![0.0; 2]; 3],
                token_similarity: vec![0.5, 0.6, 0.7],
                head_similarity: vec![0.9, 0.8],
            },
            tokens: vec![1.0; 12],
            millis: 1.0,
        }),
        // Depth 1: patch 4 (token 4) is a high-norm outlier.
        token_norms: vec![1.0, 1.0, 1.1, 0.9, 1.0, 1.0, 1.0, 1.1, 0.9, 9.0, 1.0, 1.0, 1.0, 1.0, 1.0],
        representation: Some(Representation {
            pca_rgb: vec![vec![9; 12]; 3],
            foreground: vec![vec![false, true, true, false]; 3],
            foreground_rgb: vec![vec![0, 0, 0, 1, 2, 3, 4, 5, 6, 0, 0, 0]; 3],
            spectrum: vec![vec![0.0, -1.0]; 3],
            millis: 2.0,
        }),
        timing: Timing::default(),
    };
    let analysis = ModelAnalysis { id: id.into(), input: vec![0; 48], size: 4, spectrum: vec![0; 16], snapshot };
    ModelResult::new(Rc::new(info), analysis)
}

fn analysis() -> Analysis {
    Analysis {
        image: "cat.jpg".into(),
        width: 4,
        height: 4,
        backend: Backend::Cpu,
        models: vec![model("cl", Family::Contrastive), model("mim", Family::MaskedImageModeling)],
    }
}

#[test]
fn queries_map_to_token_rows_in_each_models_grid() {
    let snap = &analysis().models[0].snapshot;
    assert_eq!(query_row(Query::Cls, 2, snap), (0, None));
    assert_eq!(query_row(Query::Patch { row: 1, col: 0 }, 2, snap), (3, Some((1, 0))));
    // A query in a 4×4 reference grid lands on the 2×2 model's enclosing patch.
    assert_eq!(query_row(Query::Patch { row: 3, col: 3 }, 4, snap), (4, Some((1, 1))));
    assert_eq!(top_patches(&[0.1, 0.4, 0.2, 0.3], 2, 2), "row 1 col 2: 0.400; row 2 col 2: 0.300");
}

#[test]
fn each_view_lists_its_pictures_as_the_page_labels_them() {
    let a = analysis();
    let mut view = ViewState::default();
    let labels = |v: &ViewState| view_pictures(v, &a, Some(&a)).into_iter().map(|(l, _)| l).collect::<Vec<_>>();
    assert_eq!(labels(&view), ["CL CL", "MIM MIM"]);
    view.map = MapKind::Heads;
    assert_eq!(labels(&view).len(), 4);
    view.view = View::Representation;
    assert_eq!(labels(&view)[1], "CL CL PCA of the tokens as RGB");
    assert_eq!(labels(&view)[2], "CL CL PCA of the foreground tokens");
    let a_model = &a.models[0];
    assert_eq!(
        super::maps::foreground_text(&view, a_model),
        "CL: 2 of 4 patches after block 2 are foreground (the first component's side away from the border), rows 1–2, columns 1–2; they are coloured by a PCA of their own"
    );
    view.view = View::Frequency;
    assert_eq!(labels(&view)[3], "MIM MIM its spectrum");
    view.view = View::Metrics;
    assert!(labels(&view).is_empty());
}

#[test]
fn metric_charts_and_tables_number_layers_by_the_metrics_axis() {
    let a = analysis();
    let metrics = view_charts(&ViewState { view: View::Metrics, ..Default::default() });
    assert_eq!(metrics.len(), 4);
    let distance = chart(ChartKind::Metric(Metric::AttentionDistance), &a, None).expect("a chart");
    assert_eq!(distance.series[0].label, "CL (CL): this image");
    assert_eq!(distance.series[0].line, [(1.0, 2.0), (2.0, 6.0)]);
    assert_eq!(distance.series[0].dots.len(), 4, "one dot per head and layer");
    let similarity = chart(ChartKind::Metric(Metric::TokenSimilarity), &a, None).expect("a chart");
    assert_eq!(similarity.series[1].line[0], (0.0, 0.5), "depth 0 is the embedding");
    let rows = metric_rows(Metric::Nmi, &a);
    assert_eq!((rows[1].id.as_str(), rows[1].values.len()), ("mim", 2));
    assert!(chart(ChartKind::FeatureChange, &a, None).is_none(), "no filtered run yet");
    let moved = chart(ChartKind::FeatureChange, &a, Some(&a)).expect("a chart");
    assert_eq!(moved.series[0].line, [(0.0, 1.0), (1.0, 1.0), (2.0, 1.0)]);
    assert!(distance.svg().is_ok_and(|svg| svg.starts_with("<svg")));
}

#[test]
fn colormaps_run_dark_to_light() {
    for c in Colormap::ALL {
        let lum = |t| {
            let [r, g, b] = c.rgb(t);
            0.2126 * r as f32 + 0.7152 * g as f32 + 0.0722 * b as f32
        };
        assert!(lum(0.0) < lum(0.5) && lum(0.5) < lum(1.0), "{c:?}");
    }
}

#[test]
fn the_cls_views_and_the_norms_view_draw_and_say_their_numbers() {
    use super::maps::{attention_picture, attention_text};
    use super::picture::Picture;
    let a = analysis();
    let m = &a.models[0];
    let mut view = ViewState { layer: 1, ..Default::default() };
    // The CLS row over the patches is 1, 2, 3, 4 (renormalised 0.1–0.4) in both heads.
    view.map = MapKind::ClsMask;
    let Picture::Mask { keep, .. } = attention_picture(&view, 2, m, None) else { panic!("a mask") };
    assert_eq!(keep, [false, false, true, true]);
    assert_eq!(
        attention_text(&view, m, &attention_picture(&view, 2, m, None)),
        "CL layer 2 CLS attention, mean of heads: the patches holding 60 % of it: 2 of 4 patches hold 70.0 % of the CLS attention (rows 2–2)"
    );
    view.map = MapKind::ClsHeads;
    let Picture::Heads { maps, .. } = attention_picture(&view, 2, m, None) else { panic!("head maps") };
    assert_eq!(maps.len(), 2);
    assert!(
        attention_text(&view, m, &Picture::Heads { maps, input: dummy(), grid: 2 })
            .contains("head 1 strongest on 3 of 4 patches, peak at row 2 col 2 (0.400)")
    );

    // Layer 2 reads depth 1, where patch 4 (row 2 col 2) has norm 9 against a median of 1.05.
    view.map = MapKind::Norms;
    let Picture::Flagged { flagged, heat, .. } = attention_picture(&view, 2, m, None) else { panic!("norms") };
    assert_eq!((flagged, heat), (vec![false, false, false, true], vec![1.0, 1.1, 0.9, 9.0]));
    let text = attention_text(&view, m, &attention_picture(&view, 2, m, None));
    assert!(text.starts_with("CL: 1 high-norm patch enters layer 2 (above 2.05, the median 1.05 + 10 MAD; the largest 8.6× the median): row 2 col 2 (‖z‖ 9.0)."), "{text}");
    // Every query row gives the flagged column 4 of its (unnormalised) 0+1+2+3+4.
    assert!(text.contains("They draw 400.0 % of the layer's attention, against 20.0 % under uniform attention; the CLS query gives them 400.0 %"), "{text}");
    view.layer = 0;
    let text = attention_text(&view, m, &attention_picture(&view, 2, m, None));
    assert!(
        text.starts_with("CL: No high-norm tokens enter layer 1: the largest patch norm is 1.10, 1.1× the median 1.00"),
        "{text}"
    );
    assert_eq!(super::maps::legend(&view), Some(("low token norm", "high token norm")));
    view.map = MapKind::ClsHeads;
    assert_eq!(super::maps::legend(&view), None);
}

#[test]
fn a_model_with_a_register_and_no_cls_token_has_no_cls_views() {
    use super::maps::{attention_picture, attention_text};
    use super::picture::Picture;
    use super::sinks::sinks;
    let mut m = model("gap", Family::Contrastive);
    // Token 0 is a register (timm's `*_reg1_gap` ViTs): the same numbers, read differently.
    Rc::make_mut(&mut m.snapshot).cls = false;
    let mut view = ViewState { layer: 1, map: MapKind::ClsHeads, ..Default::default() };
    for map in [MapKind::ClsHeads, MapKind::ClsMask] {
        view.map = map;
        let picture = attention_picture(&view, 2, &m, None);
        assert!(matches!(picture, Picture::Rgb(_)), "{map:?}");
        assert_eq!(attention_text(&view, &m, &picture), "GAP has no CLS token, so there is no CLS attention to show.");
    }
    // The CLS query falls to the centre patch (row 2, col 2 of 2×2: token 1 + 3).
    assert_eq!(query_row(Query::Cls, 2, &m.snapshot), (4, Some((1, 1))));
    // Token 0 counts as a register: every row gives it 0 of its 0+1+2+3+4.
    let s = sinks(&m.snapshot, 1);
    assert_eq!((s.cls_share, s.register_share), (None, Some(0.0)));
    let a = Analysis { models: vec![m], ..analysis() };
    let json: serde_json::Value = serde_json::from_str(&super::exports::json(&a).unwrap()).unwrap();
    let layer = &json["models"][0]["maps"][1];
    assert_eq!(
        (&layer["cls_mask_patches"], &layer["cls_head_patches"]),
        (&serde_json::Value::Null, &serde_json::Value::Null)
    );
}

fn dummy() -> super::picture::Pixels {
    super::picture::Pixels { bytes: Rc::new(vec![0; 48]), size: 4 }
}

#[test]
fn the_metrics_exports_carry_each_layers_map_numbers() {
    let a = analysis();
    let json: serde_json::Value = serde_json::from_str(&super::exports::json(&a).unwrap()).unwrap();
    let maps = &json["models"][0]["maps"];
    assert_eq!(maps.as_array().unwrap().len(), 2, "one entry per layer");
    // Layer 2: the mask keeps patches 2 and 3 of 0.1–0.4; head 1 wins the three above the minimum (ties
    // with head 2);
    // patch 3 (norm 9) is the outlier and draws 4 of each unnormalised row; depth 2 has two foreground patches.
    let mut layer = maps[1].clone();
    for (key, expected) in [("norm_median", 1.05), ("norm_threshold", 2.05)] {
        let got = layer.as_object_mut().unwrap().remove(key).unwrap().as_f64().unwrap();
        assert!((got - expected).abs() < 1e-6, "{key}: {got}");
    }
    assert_eq!(
        layer,
        serde_json::json!({"layer": 2, "cls_mask_patches": 2, "cls_head_patches": [3, 0], "high_norm_patches": [3],
            "high_norm_attention_share": 4.0, "foreground_patches": 2})
    );
    assert_eq!(maps[0]["high_norm_patches"], serde_json::json!([]));
    let csv = super::exports::csv(&a);
    for row in [
        "cl,cls_mask_patches,2,,2\n",
        "cl,cls_head_patches,2,0,3\n",
        "cl,cls_head_patches,2,1,0\n",
        "cl,high_norm_patches,2,,1\n",
        "cl,high_norm_attention_share,2,,4\n",
        "mim,foreground_patches,1,,2\n",
    ] {
        assert!(csv.contains(row), "{row:?} missing from\n{csv}");
    }
}
