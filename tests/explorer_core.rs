//! The explorer's worker code, natively: a snapshot must carry exactly what the analysis functions
//! compute on the device, and every bad input must come back as a reason.

mod common;

use burn::Tensor;
use common::{assert_close, convert_fixture, device, read};
use vitscope::analysis::{LayerMetrics, Query, Snapshot, attention_map, rollout, similarity, spectrum};
use vitscope::image::{FilterKind, FrequencyFilter, decode};
use vitscope::model::Capture;
use vitscope::pipeline::LoadedModel;
use vitscope::weights::Precision;
use vitscope::worker::Session;
use vitscope::worker::protocol::{self, Envelope, Response};

fn photo() -> Vec<u8> {
    std::fs::read(common::fixtures().join("../../www/gallery/skimage_chelsea.jpg")).unwrap()
}

#[test]
fn a_snapshot_holds_what_the_device_functions_compute() {
    let file = convert_fixture("mocov3");
    let model = LoadedModel::new(file, None, &device()).unwrap();
    let prepared = model.prepare(&decode(&photo()).unwrap());
    let snap = pollster::block_on(Snapshot::compute(&model, &prepared)).unwrap();
    let metrics = pollster::block_on(model.layer_metrics(&[&prepared])).unwrap().remove(0);
    assert_eq!(snap.metrics, metrics);
    let t = snap.timing;
    assert!(t.forward_ms > 0.0 && t.total_ms > t.forward_ms, "forward {} ms of {} ms", t.forward_ms, t.total_ms);

    let out = model.forward(&[&prepared], Capture { attention: true, streams: true, final_tokens: false });
    let prefix = snap.prefix;
    for layer in 0..snap.depth {
        let a = out.blocks[layer].attention.clone().unwrap();
        for (query, row) in [(Query::Cls, 0), (Query::Patch(17), prefix + 17)] {
            let maps = read(attention_map(&a, query, prefix)); // [1, H, N]
            let n = snap.patches();
            for h in 0..snap.heads {
                assert_close(
                    "attention map",
                    &snap.attention_map(layer, Some(h), row),
                    &maps[h * n..(h + 1) * n],
                    1e-6,
                );
            }
            let mean: Vec<f32> =
                (0..n).map(|i| (0..snap.heads).map(|h| maps[h * n + i]).sum::<f32>() / snap.heads as f32).collect();
            assert_close("head-mean map", &snap.attention_map(layer, None, row), &mean, 1e-6);
        }
    }
    let attentions: Vec<Tensor<4>> = out.blocks.iter().map(|b| b.attention.clone().unwrap()).collect();
    let roll = rollout::rollout(&attentions).unwrap();
    assert_close("rollout", &snap.rollout_map(0), &read(rollout::rollout_map(&roll, 0, prefix)), 1e-5);
    for depth in [0, snap.depth] {
        let tokens = similarity::patch_tokens(out.stream(depth).unwrap(), prefix);
        let expected = read(similarity::query_similarity(&tokens, 20));
        assert_close("query similarity", &snap.query_similarity(depth, 20), &expected, 1e-5);
        let gram = read(spectrum::centred_gram(&tokens));
        let s = spectrum::Spectrum::new(&gram, snap.patches(), snap.channels);
        assert_close("spectrum", &snap.spectrum[depth], &s.log_singular_values(), 1e-4);
        let rgb: Vec<u8> = s.pca_rgb().iter().flat_map(|p| p.map(|v| (v * 255.0).round() as u8)).collect();
        assert_eq!(snap.pca_rgb[depth], rgb);
    }
}

#[test]
fn the_session_loads_validated_files_and_names_every_problem() {
    let bytes = convert_fixture("simmim").to_bytes(Precision::Int8).unwrap();
    let mut session = Session::new(device());
    let info = session.load("mim", &bytes).unwrap();
    assert_eq!((info.family.as_str(), info.depth, info.heads, info.precision.as_str()), ("MIM", 2, 2, "int8"));

    let truncated = session.load("cut", &bytes[..bytes.len() / 2]).unwrap_err();
    assert!(truncated.contains("not a usable vitscope model"), "{truncated}");
    let garbage = session.load("junk", b"<html>404 Not Found</html>").unwrap_err();
    assert!(garbage.contains("not a usable vitscope model"), "{garbage}");
    assert!(!session.has("cut") && !session.has("junk") && session.has("mim"));

    let images = common::fixtures().join("images");
    let broken = std::fs::read(images.join("truncated.jpg")).unwrap();
    let err = pollster::block_on(session.analyze(&broken, &["mim".into()], None)).unwrap_err();
    assert!(!err.is_empty());
    let err = pollster::block_on(session.analyze(&photo(), &["nope".into()], None)).unwrap_err();
    assert!(err.contains("`nope`"), "{err}");

    let (w, h, models) = pollster::block_on(session.analyze(&photo(), &["mim".into()], None)).unwrap();
    assert_eq!((w, h), (451, 300));
    assert_eq!(models[0].input.len(), (models[0].size * models[0].size * 3) as usize);
    assert_eq!(models[0].spectrum.len(), (models[0].size * models[0].size) as usize);
}

#[test]
fn filtering_changes_the_input_and_an_open_filter_changes_nothing() {
    let mut session = Session::new(device());
    session.load("cl", &convert_fixture("mocov3").to_bytes(Precision::F32).unwrap()).unwrap();
    let ids = ["cl".to_string()];
    let run = |filter| pollster::block_on(session.analyze(&photo(), &ids, filter)).unwrap().2.remove(0);
    let plain = run(None);
    let open = run(Some(FrequencyFilter { kind: FilterKind::LowPass, cutoff: 2.0 }));
    assert_eq!(open.input, plain.input);
    assert_eq!(open.snapshot.metrics, plain.snapshot.metrics);
    let blurred = run(Some(FrequencyFilter { kind: FilterKind::LowPass, cutoff: 0.1 }));
    let diff: u64 = blurred.input.iter().zip(&plain.input).map(|(a, b)| a.abs_diff(*b) as u64).sum();
    assert!(diff as f64 / plain.input.len() as f64 > 5.0, "a strong low-pass barely changed the input");
    assert_ne!(blurred.snapshot.metrics, plain.snapshot.metrics);
}

#[test]
fn messages_cross_the_worker_boundary_intact() {
    let mut session = Session::new(device());
    session.load("cl", &convert_fixture("mocov3").to_bytes(Precision::Int8).unwrap()).unwrap();
    let (width, height, models) = pollster::block_on(session.analyze(&photo(), &["cl".into()], None)).unwrap();
    let message = Envelope { id: 7, body: Response::Analyzed { width, height, models, filter: None, millis: 1.5 } };
    let back: Envelope<Response> = protocol::decode(&protocol::encode(&message)).unwrap();
    assert_eq!(back, message);
    assert!(protocol::decode::<Envelope<Response>>(&[1, 2, 3]).unwrap_err().contains("malformed"));
}

#[test]
fn attention_entirely_on_cls_gives_uniform_patch_statistics_not_nan() {
    // One head, CLS + 2×2 patches; every query puts all its attention on CLS.
    let t = 5;
    let mut a = vec![0f32; t * t];
    for q in 0..t {
        a[q * t] = 1.0;
    }
    let attention = Tensor::<4>::from_data(burn::tensor::TensorData::new(a, [1, 1, t, t]), &device());
    let ctx = vitscope::analysis::MetricContext::new(2, 8, 1, &device());
    let d = read(vitscope::analysis::distance::attention_distance(
        &attention,
        &vitscope::analysis::distance::distance_matrix(2, 8, &device()),
        1,
    ));
    // Uniform over 4 patches of a 2×2 grid: mean distance = (0 + 8 + 8 + 8√2) / 4.
    let uniform = (16.0 + 8.0 * 2f32.sqrt()) / 4.0;
    assert!((d[0] - uniform).abs() < 1e-4, "{d:?}");
    let n = read(vitscope::analysis::nmi::nmi(&attention, 1));
    assert!(n[0].is_finite() && n[0].abs() < 1e-3, "{n:?}");
    let _ = (ctx, LayerMetrics::default());
}
