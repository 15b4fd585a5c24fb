//! The explorer's worker code, natively: a snapshot must carry what the analysis functions compute
//! on the device and what the official formulas give, and every bad input must come back as a typed
//! reason.
#![cfg(not(target_arch = "wasm32"))]

#[path = "../../core/tests/common/mod.rs"]
mod common;

use burn::Tensor;
use common::{Reference, assert_close, convert_fixture, device, read};
use image::RgbImage;
use vitscope_core::analysis::{Derived, LayerMetrics, Query, Snapshot, attention_map, rollout, similarity, spectrum};
use vitscope_core::image::{FilterKind, FrequencyFilter, Prepared, decode};
use vitscope_core::model::{Capture, HostTensor};
use vitscope_core::pipeline::LoadedModel;
use vitscope_core::weights::{Family, ModelFile, Precision};
use vitscope_protocol::messages::{self, Envelope, Measurement, Measures, Response, RunSize, WorkerError};
use vitscope_protocol::probe::Pooling;
use vitscope_worker::Session;

fn photo() -> Vec<u8> {
    std::fs::read(common::fixtures().join("../../www/gallery/skimage_chelsea.jpg")).unwrap()
}

/// A session with the MoCo v3 fixture loaded as "cl" (stored at `precision`) and the photo open.
fn cl_with_photo(precision: Precision) -> Session {
    let mut session = Session::new(device());
    session.load("cl", &convert_fixture("mocov3").to_bytes(precision).unwrap(), RunSize::Card).unwrap();
    session.open_image(&photo()).unwrap();
    session
}

#[test]
fn a_snapshot_carries_what_timm_and_the_numpy_formulas_give() {
    let model = LoadedModel::new(convert_fixture("mocov3"), None, &device()).unwrap();
    let reference = Reference::load("mocov3");
    let (shape, input) = reference.get("input");
    let size = shape[2];
    let pixels = input[..3 * size * size].to_vec();
    let prepared = Prepared { pixels, size: size as u32, cropped: RgbImage::new(size as u32, size as u32) };
    let snap = pollster::block_on(model.snapshot(&prepared)).unwrap();
    // The references hold a batch, image after image: the snapshot is of the first.
    let first = |name: &str, per_image: usize| reference.values(name)[..per_image].to_vec();
    let (l, h) = (snap.depth, snap.heads);
    let k = derived(&snap).metrics.delta_log_amplitude[0].len();
    let m = &derived(&snap).metrics;
    let tol = 1e-4;
    assert_close("distance", &m.attention_distance.concat(), &first("metrics.attention_distance", l * h), tol);
    assert_close("nmi", &m.nmi.concat(), &first("metrics.nmi", l * h), tol);
    let dla = first("metrics.delta_log_amplitude", (l + 1) * k);
    assert_close("ΔlogA", &m.delta_log_amplitude.concat(), &dla, tol);
    assert_close("token similarity", &m.token_similarity, &first("metrics.token_similarity", l + 1), tol);
    assert_close("head similarity", &m.head_similarity, &first("metrics.head_similarity", l), tol);
    let t = snap.prefix + snap.patches();
    for layer in 0..l {
        let timm = first(&format!("blocks.{layer}.attention"), h * t * t);
        assert_close("attention", &snap.attention[layer * h * t * t..][..h * t * t], &timm, 1e-5);
    }
}

#[test]
fn a_snapshot_holds_what_the_device_functions_compute() {
    let file = convert_fixture("mocov3");
    let model = LoadedModel::new(file, None, &device()).unwrap();
    let prepared = model.prepare(&decode(&photo()).unwrap());
    let snap = pollster::block_on(model.snapshot(&prepared)).unwrap();
    assert!(snap.cls && snap.prefix == 1, "MoCo v3's token 0 is its CLS token");
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
    assert_close("rollout", &snap.rollout_map(derived(&snap), 0), &read(rollout::rollout_map(&roll, 0, prefix)), 1e-5);
    for depth in [0, snap.depth] {
        let tokens = similarity::patch_tokens(out.stream(depth).unwrap(), prefix);
        let expected = read(similarity::query_similarity(&tokens, 20));
        assert_close("query similarity", &snap.query_similarity(derived(&snap), depth, 20), &expected, 1e-5);
        let gram = read(spectrum::centred_gram(&tokens));
        let s = spectrum::Spectrum::new(&gram, snap.patches(), snap.channels);
        let r = snap.representation.as_ref().expect("analyze completes the snapshot");
        assert_close("spectrum", &r.spectrum[depth], &s.log_singular_values(), 1e-4);
        let rgb: Vec<u8> = s.pca_rgb().iter().flat_map(|p| p.map(|v| (v * 255.0).round() as u8)).collect();
        assert_eq!(r.pca_rgb[depth], rgb);
        let (kept, rgb) = spectrum::foreground_pca_rgb(&s, &gram, snap.grid);
        let rgb: Vec<u8> = rgb.iter().flat_map(|p| p.map(|v| (v * 255.0).round() as u8)).collect();
        assert_eq!((&r.foreground[depth], &r.foreground_rgb[depth]), (&kept, &rgb));
        let count = kept.iter().filter(|&&k| k).count();
        assert!(count > 0 && count < snap.patches(), "depth {depth}: {count} foreground patches");
    }
    // Every token's norm at every depth, CLS included, as the stream holds it.
    let t = prefix + snap.patches();
    assert_eq!(snap.token_norms.len(), (snap.depth + 1) * t);
    for depth in 0..=snap.depth {
        let stream = read(out.stream(depth).unwrap().clone());
        let c = stream.len() / t;
        let norms: Vec<f32> = stream.chunks_exact(c).map(|z| z.iter().map(|v| v * v).sum::<f32>().sqrt()).collect();
        assert_close("token norms", &snap.token_norms[depth * t..(depth + 1) * t], &norms, 1e-4);
    }
}

#[test]
fn the_session_loads_validated_files_and_names_every_problem() {
    let bytes = convert_fixture("simmim").to_bytes(Precision::Int8).unwrap();
    let mut session = Session::new(device());
    let info = session.load("mim", &bytes, RunSize::Card).unwrap();
    assert_eq!(
        (info.family(), info.depth, info.heads, info.precision.as_str()),
        (Family::MaskedImageModeling, 2, 2, "int8")
    );
    assert_eq!(info.card.source.layout, "simmim");

    let refused = |e: WorkerError, id: &str| match e {
        WorkerError::Model { id: got, reason } => {
            assert_eq!(got, id);
            assert!(reason.starts_with("this is not a usable vitscope model"), "{reason}");
        }
        other => panic!("{other:?}"),
    };
    refused(session.load("cut", &bytes[..bytes.len() / 2], RunSize::Card).unwrap_err(), "cut");
    refused(session.load("junk", b"<html>404 Not Found</html>", RunSize::Card).unwrap_err(), "junk");
    assert!(!session.has("cut") && !session.has("junk") && session.has("mim"));

    let analyze = |session: &Session, ids: &[&str]| {
        let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        pollster::block_on(session.analyze(&ids, None))
    };
    assert_eq!(analyze(&session, &["mim"]).unwrap_err(), WorkerError::NoImage);
    let images = common::fixtures().join("images");
    let broken = std::fs::read(images.join("truncated.jpg")).unwrap();
    assert!(matches!(session.open_image(&broken).unwrap_err(), WorkerError::Image(m) if !m.is_empty()));
    assert_eq!(session.open_image(&photo()).unwrap(), (451, 300));
    // A refused image keeps the one before it.
    assert!(session.open_image(b"GIF89a").is_err());
    assert_eq!(analyze(&session, &["nope"]).unwrap_err(), WorkerError::NotLoaded("nope".into()));
    assert!(WorkerError::NotLoaded("nope".into()).to_string().contains("`nope`"));

    let models = analyze(&session, &["mim"]).unwrap();
    assert_eq!(models[0].input.len(), (models[0].size * models[0].size * 3) as usize);
    assert_eq!(models[0].spectrum.len(), (models[0].size * models[0].size) as usize);

    // A model the page stopped showing is freed.
    session.unload("mim");
    assert!(!session.has("mim"));
    assert_eq!(analyze(&session, &["mim"]).unwrap_err(), WorkerError::NotLoaded("mim".into()));
}

#[test]
fn filtering_changes_the_input_and_an_open_filter_changes_nothing() {
    let session = cl_with_photo(Precision::F32);
    let ids = ["cl".to_string()];
    let run = |filter| pollster::block_on(session.analyze(&ids, filter)).unwrap().remove(0);
    let plain = run(None);
    let open = run(Some(FrequencyFilter { kind: FilterKind::LowPass, cutoff: 2.0 }));
    assert_eq!(open.input, plain.input);
    assert_eq!(derived(&open.snapshot).metrics, derived(&plain.snapshot).metrics);
    let blurred = run(Some(FrequencyFilter { kind: FilterKind::LowPass, cutoff: 0.1 }));
    let diff: u64 = blurred.input.iter().zip(&plain.input).map(|(a, b)| a.abs_diff(*b) as u64).sum();
    assert!(diff as f64 / plain.input.len() as f64 > 5.0, "a strong low-pass barely changed the input");
    assert_ne!(derived(&blurred.snapshot).metrics, derived(&plain.snapshot).metrics);
}

#[test]
fn a_camera_frame_of_a_photo_analyses_as_the_photo_does() {
    let mut session = cl_with_photo(Precision::F32);
    let ids = ["cl".to_string()];
    // Everything but how long it took.
    let run = |session: &Session| {
        let mut analysis = pollster::block_on(session.analyze(&ids, None)).unwrap().remove(0);
        analysis.snapshot.timing = Default::default();
        analysis.snapshot.representation.as_mut().expect("complete").millis = 0.0;
        analysis.snapshot.derived.as_mut().expect("complete").millis = 0.0;
        analysis
    };
    let from_file = run(&session);
    // What a canvas holding the photo gives: RGBA rows.
    let pixels = decode(&photo()).unwrap();
    let rgba: Vec<u8> = pixels.pixels().flat_map(|p| [p[0], p[1], p[2], 255]).collect();
    assert_eq!(session.open_frame(451, 300, rgba.clone()).unwrap(), (451, 300));
    assert_eq!(run(&session), from_file);
    // A frame whose pixels do not fill its size is refused, and the frame before it stays.
    let short = session.open_frame(452, 300, rgba).unwrap_err();
    assert_eq!(short, WorkerError::Image("a 452×300 frame has 542400 RGBA bytes, not 541200".into()));
    assert_eq!(run(&session), from_file);
}

#[test]
fn the_first_answer_leaves_out_only_the_derived_part_and_representation_that_follow() {
    let session = cl_with_photo(Precision::Int8);
    let ids = ["cl".to_string()];
    let whole = pollster::block_on(session.analyze(&ids, None)).unwrap().remove(0);
    let every_layer = &whole.snapshot.attention;
    // The fixture has two blocks of two heads over 1 + 6×6 tokens: 2·37² values a layer.
    let size = 2 * 37 * 37;
    assert_eq!((whole.snapshot.depth, whole.snapshot.heads, every_layer.len()), (2, 2, 2 * size));
    // All layers' maps at once (as the CLI), or the shown layer's first (as the page: a layer past
    // the last shows the last).
    for (layer, held) in [(None, None), (Some(0), Some(0)), (Some(1), Some(1)), (Some(11), Some(1))] {
        let first = pollster::block_on(session.analyze_first(&ids, None, layer)).unwrap();
        let (derived_parts, pending) = pollster::block_on(session.derive(&first.models, first.passes)).unwrap();
        let representations = pending.represent();
        let drawn = &first.models[0].snapshot;
        assert!(drawn.derived.is_none() && drawn.representation.is_none());
        let t = drawn.timing;
        assert!(t.forward_ms < t.first_ms && t.first_ms == t.total_ms, "{t:?}");
        assert_eq!(drawn.token_norms, whole.snapshot.token_norms);
        assert_eq!(drawn.attention_layer, held);
        let (id, mut d) = derived_parts.into_iter().next().unwrap();
        match held {
            None => assert_eq!(&drawn.attention, every_layer),
            Some(l) => {
                assert_eq!(drawn.attention, every_layer[l * size..(l + 1) * size]);
                assert_eq!(drawn.layer_attention(l), whole.snapshot.layer_attention(l));
                assert_eq!(std::mem::take(&mut d.attention), *every_layer, "the derived part brings every layer's");
            }
        }
        // The rollout and the rest are the same either way (computed from every layer's maps).
        let mut expected = whole.snapshot.derived.clone().unwrap();
        assert!(d.millis > 0.0);
        (d.millis, expected.millis) = (0.0, 0.0);
        assert_eq!((id.as_str(), d), ("cl", expected));
        let (id, mut r) = representations.into_iter().next().unwrap();
        let mut expected = whole.snapshot.representation.clone().unwrap();
        (r.millis, expected.millis) = (0.0, 0.0);
        assert_eq!((id.as_str(), r), ("cl", expected));
    }
}

#[test]
fn the_shown_depth_comes_first_and_the_rest_completes_it_exactly() {
    let session = cl_with_photo(Precision::Int8);
    let ids = ["cl".to_string()];
    let first = pollster::block_on(session.analyze_first(&ids, None, Some(0))).unwrap();
    let (_, pending) = pollster::block_on(session.derive(&first.models, first.passes)).unwrap();
    let mut whole = pending.represent().remove(0).1;
    // The fixture has two blocks: depths 0 (embedding), 1 and 2; a later layer shows its last.
    for (layer, shown) in [(0, 1), (1, 2), (11, 2)] {
        let (id, part) = pending.represent_shown(layer).remove(0);
        assert_eq!(id, "cl");
        assert!((0..3).all(|d| part.has(d) == (d == shown)) && !part.is_complete(), "layer {layer}");
        assert_eq!(part.pca_rgb[shown], whole.pca_rgb[shown]);
        assert_eq!(part.spectrum[shown], whole.spectrum[shown]);
        let (_, mut rest) = pending.represent_rest(vec![(id, part)]).remove(0);
        assert!(rest.is_complete());
        (rest.millis, whole.millis) = (0.0, 0.0);
        assert_eq!(rest, whole, "layer {layer}");
    }
}

#[test]
fn messages_cross_the_worker_boundary_intact() {
    let session = cl_with_photo(Precision::Int8);
    let models = pollster::block_on(session.analyze(&["cl".into()], None)).unwrap();
    let message = Envelope { id: 7, body: Response::Analyzed { models, filter: None, millis: 1.5 } };
    let back: Envelope<Response> = messages::decode(&messages::encode(&message)).unwrap();
    assert_eq!(back, message);
    assert!(matches!(messages::decode::<Envelope<Response>>(&[1, 2, 3]), Err(WorkerError::Malformed(_))));
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
    let ctx = vitscope_core::analysis::MetricContext::new(2, 8, 1, &device());
    let d = read(vitscope_core::analysis::distance::attention_distance(
        &attention,
        &vitscope_core::analysis::distance::distance_matrix(2, 8, &device()),
        1,
    ));
    // Uniform over 4 patches of a 2×2 grid: mean distance = (0 + 8 + 8 + 8√2) / 4.
    let uniform = (16.0 + 8.0 * 2f32.sqrt()) / 4.0;
    assert!((d[0] - uniform).abs() < 1e-4, "{d:?}");
    let n = read(vitscope_core::analysis::nmi::nmi(&attention, 1));
    assert!(n[0].is_finite() && n[0].abs() < 1e-3, "{n:?}");
    let _ = (ctx, LayerMetrics::default());
}

/// A dropped checkpoint becomes, byte for byte, the file `vitscope convert` writes; a vitscope file
/// passes as it is; a cut checkpoint is refused with its reason; progress counts real bytes.
#[test]
fn a_dropped_checkpoint_converts_to_the_clis_file() {
    use std::sync::Arc;
    use vitscope_convert::{ByteSource, ConvertOptions, convert, encode};
    use vitscope_protocol::messages::Stage;

    let path = common::checkpoint_path("simmim");
    let name = path.file_name().unwrap().to_str().unwrap().to_string();
    let checkpoint = std::fs::read(&path).unwrap();
    let session = Session::new(device());
    let read = |bytes: Vec<u8>, sha256: Option<String>| {
        let mut stages: Vec<(Stage, u64, Option<u64>)> = Vec::new();
        let source: Arc<dyn ByteSource> = Arc::new(bytes);
        let result = pollster::block_on(
            session.read_dropped("file:x", &name, source, sha256, &mut |s, d, t| stages.push((s, d, t))),
        );
        (result, stages)
    };

    let cli = convert(&path, &ConvertOptions::default()).unwrap();
    let cli = pollster::block_on(encode(&cli, &device(), &mut |_| {})).unwrap().bytes;
    let (dropped, stages) = read(checkpoint.clone(), None);
    let dropped = dropped.unwrap();
    assert_eq!(dropped.converted_from.as_deref(), Some("simmim"));
    assert!(dropped.bytes == cli, "the page's conversion differs from the CLI's");
    let last = |stage| stages.iter().rfind(|s| s.0 == stage).copied();
    let len = checkpoint.len() as u64;
    assert_eq!(last(Stage::Hashing), Some((Stage::Hashing, len, Some(len))));
    let (_, read_bytes, total) = last(Stage::Converting).unwrap();
    assert!(read_bytes == total.unwrap() && read_bytes > 0 && read_bytes < len, "{read_bytes} of {total:?}");
    assert!(last(Stage::CheckingInt8).is_some());

    // Hashed already (the page looks for an earlier conversion first): not hashed again, same file.
    let sha = vitscope_convert::checkpoint::sha256(&checkpoint, &mut |_, _| {}).unwrap();
    let (again, stages) = read(checkpoint.clone(), Some(sha));
    assert!(again.unwrap().bytes == cli);
    assert!(stages.iter().all(|s| s.0 != Stage::Hashing));

    let (vitscope, _) = read(cli.clone(), None);
    let vitscope = vitscope.unwrap();
    assert!(vitscope.converted_from.is_none() && vitscope.bytes == cli);

    let (cut, _) = read(checkpoint[..checkpoint.len() / 2].to_vec(), None);
    match cut {
        Err(WorkerError::Model { id, reason }) => {
            assert_eq!(id, "file:x");
            assert!(
                reason.starts_with("this is neither a vitscope model nor a checkpoint vitscope can convert"),
                "{reason}"
            );
        }
        other => panic!("a cut checkpoint was accepted: {:?}", other.map(|d| d.bytes.len())),
    }
}

#[test]
fn a_model_stored_larger_than_its_card_runs_at_the_card_size_or_natively_on_request() {
    // As a 518-px DINOv2 whose card asks for 224: the fixture keeps its stored size, its card a
    // smaller crop.
    let mut file = convert_fixture("mocov3");
    let native = file.config.image_size as u32;
    let patch = file.config.patch_size as u32;
    file.card.preprocessing.crop = native - 2 * patch;
    file.card.preprocessing.resize = native - patch;
    let bytes = file.to_bytes(Precision::F32).unwrap();
    let mut session = Session::new(device());
    session.open_image(&photo()).unwrap();
    let run = |session: &Session| pollster::block_on(session.analyze(&["m".to_string()], None)).unwrap().remove(0);

    let info = session.load("m", &bytes, RunSize::Card).unwrap();
    assert_eq!((info.image_size, info.native_size), (native - 2 * patch, native));
    assert!(info.has_native_choice());
    let card = run(&session);
    assert_eq!((card.size, card.snapshot.grid), (native - 2 * patch, (native / patch - 2) as usize));

    let info = session.load("m", &bytes, RunSize::Native).unwrap();
    assert_eq!(info.image_size, native);
    let natively = run(&session);
    assert_eq!((natively.size, natively.snapshot.grid), (native, (native / patch) as usize));
    let t = natively.snapshot.prefix + natively.snapshot.patches();
    assert_eq!(natively.snapshot.attention.len() as u64 * 4, info.attention_bytes(native));
    assert_eq!(natively.snapshot.attention.len(), info.depth * info.heads * t * t);
}

#[test]
fn a_native_size_whose_attention_the_page_cannot_hold_is_refused_with_the_cli_command() {
    let mut file = convert_fixture("mocov3");
    let mut tokens = file.card.preprocessing.crop as usize / file.config.patch_size;
    // The stored size at which this model's attention maps pass the page's limit.
    while messages::attention_bytes(file.config.depth, file.config.heads, 1, tokens) <= messages::MAX_ATTENTION_BYTES {
        tokens += 8;
    }
    file.config.image_size = tokens * file.config.patch_size;
    let width = file.config.width;
    let table = 1 + tokens * tokens;
    file.weights.insert("pos_embed".into(), HostTensor::new(vec![1, table, width], vec![0.0; table * width]));
    let bytes = file.to_bytes(Precision::F32).unwrap();
    let mut session = Session::new(device());
    match session.load("big", &bytes, RunSize::Native) {
        Err(WorkerError::Model { id, reason }) => {
            assert_eq!(id, "big");
            let size = file.config.image_size;
            assert!(reason.starts_with(&format!("at its native {size} px its attention maps alone take")), "{reason}");
            assert!(
                reason.ends_with(&format!("`vitscope analyze --image-size {size}` measures it natively")),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(!session.has("big"));
}

#[test]
fn measuring_an_image_of_a_set_gives_the_clis_numbers_and_keeps_the_open_image() {
    let file = convert_fixture("mocov3");
    let mut session = Session::new(device());
    session.load("cl", &file.to_bytes(Precision::Int8).unwrap(), RunSize::Card).unwrap();
    session.open_image(&photo()).unwrap();
    let ids = ["cl".to_string()];
    let before = pollster::block_on(session.analyze(&ids, None)).unwrap().remove(0);

    let other = std::fs::read(common::fixtures().join("../../www/gallery/skimage_coffee.jpg")).unwrap();
    let measured = pollster::block_on(session.measure(&other, &ids, Measures::Metrics)).unwrap();
    // What `vitscope analyze` computes for that image with the same int8 file.
    let cli =
        LoadedModel::new(ModelFile::from_bytes(&file.to_bytes(Precision::Int8).unwrap()).unwrap(), None, &device())
            .unwrap();
    let expected = pollster::block_on(cli.layer_metrics(&[&cli.prepare(&decode(&other).unwrap())])).unwrap();
    assert_eq!(measured, [("cl".to_string(), Measurement::Metrics(expected[0].clone()))]);
    assert_ne!(
        measured[0].1,
        Measurement::Metrics(derived(&before.snapshot).metrics.clone()),
        "another image, other numbers"
    );

    // The open image is untouched; a bad image of the set is named as an image error.
    let after = pollster::block_on(session.analyze(&ids, None)).unwrap().remove(0);
    assert_eq!(derived(&after.snapshot).metrics, derived(&before.snapshot).metrics);
    let bad = pollster::block_on(session.measure(b"GIF89a", &ids, Measures::Metrics));
    assert!(matches!(bad, Err(WorkerError::Image(_))));
    let unknown = pollster::block_on(session.measure(&other, &["nope".to_string()], Measures::Pooled)).unwrap_err();
    assert_eq!(unknown, WorkerError::NotLoaded("nope".into()));
}

#[test]
fn a_labelled_set_pools_as_the_cli_does_and_its_probes_separate_what_is_separable() {
    let file = convert_fixture("mocov3");
    let bytes = file.to_bytes(Precision::Int8).unwrap();
    let mut session = Session::new(device());
    session.load("cl", &bytes, RunSize::Card).unwrap();
    let ids = ["cl".to_string()];
    let gallery = common::fixtures().join("../../www/gallery");
    let image = std::fs::read(gallery.join("skimage_coffee.jpg")).unwrap();
    let Measurement::Pooled(pooled) =
        pollster::block_on(session.measure(&image, &ids, Measures::Pooled)).unwrap().remove(0).1
    else {
        panic!("pooled features were asked for")
    };
    // The CLS token and the mean patch token after each block, read from the streams directly.
    let cli = LoadedModel::new(ModelFile::from_bytes(&bytes).unwrap(), None, &device()).unwrap();
    let out = cli.forward(&[&cli.prepare(&decode(&image).unwrap())], Capture { streams: true, ..Capture::default() });
    let (depth, width) = (file.config.depth, file.config.width);
    assert_eq!((pooled.width, pooled.layers()), (width, depth));
    for layer in 0..depth {
        let stream = read(out.blocks[layer].after_mlp.clone().unwrap()); // [1, T, C]
        let tokens = stream.len() / width;
        let mean: Vec<f32> =
            (0..width).map(|c| (1..tokens).map(|t| stream[t * width + c]).sum::<f32>() / (tokens - 1) as f32).collect();
        assert_close("CLS", pooled.layer(Pooling::Cls, layer).unwrap(), &stream[..width], 1e-6);
        assert_close("mean patch token", pooled.layer(Pooling::Avg, layer).unwrap(), &mean, 1e-5);
    }

    // Two classes of images, each a photo's own variants (shifted crops), probed in the worker.
    let photos = ["skimage_coffee.jpg", "skimage_astronaut.jpg"];
    let (mut features, mut labels) = (Vec::new(), Vec::new());
    for (class, name) in photos.iter().enumerate() {
        let photo = decode(&std::fs::read(gallery.join(name)).unwrap()).unwrap();
        for shift in 0..6u32 {
            let (w, h) = photo.dimensions();
            let crop = image::imageops::crop_imm(&photo, shift * 8, shift * 4, w - 48, h - 24).to_image();
            let mut png = Vec::new();
            crop.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
            let Measurement::Pooled(f) =
                pollster::block_on(session.measure(&png, &ids, Measures::Pooled)).unwrap().remove(0).1
            else {
                panic!("pooled")
            };
            features.push(f);
            labels.push(class);
        }
    }
    let probed = Session::probe(2, &labels, &[("cl".into(), features.clone())]).unwrap();
    let curves = &probed[0].1;
    assert_eq!(curves.knn_avg.len(), depth);
    assert_eq!(curves.linear_avg.as_ref().map(Vec::len), Some(depth));
    assert!(curves.knn_avg.iter().all(|&a| a == 1.0), "two photos' crops are told apart: {curves:?}");

    // Labels and features that do not fit are refused, not probed.
    let refused = Session::probe(2, &labels[..3], &[("cl".into(), features.clone())]).unwrap_err();
    assert!(matches!(refused, WorkerError::Malformed(_)), "{refused:?}");
    assert!(Session::probe(1, &labels, &[("cl".into(), features)]).is_err(), "a label past the classes");
}

#[test]
fn integer_arithmetic_moves_the_numbers_within_the_int8_bounds_and_f32_comes_back_exactly() {
    let mut session = Session::new(device());
    let int8 = convert_fixture("mocov3").to_bytes(Precision::Int8).unwrap();
    session.load("cl", &int8, RunSize::Card).unwrap();
    session.open_image(&photo()).unwrap();
    let ids = ["cl".to_string()];
    let run = |session: &Session| pollster::block_on(session.analyze(&ids, None)).unwrap().remove(0).snapshot;
    let f32 = run(&session);
    session.set_arithmetic(messages::Arithmetic::Int8);
    let integers = run(&session);
    let attention = f32.attention.iter().zip(&integers.attention).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(attention > 0.0 && attention <= 0.03, "attention moved by {attention}");
    let distance = derived(&f32)
        .metrics
        .attention_distance
        .iter()
        .flatten()
        .zip(derived(&integers).metrics.attention_distance.iter().flatten());
    for (a, b) in distance {
        assert!((a - b).abs() <= 0.01 * a.abs(), "attention distance {a} vs {b}");
    }
    // A model loaded afterwards multiplies in integers too.
    session.load("again", &int8, RunSize::Card).unwrap();
    let again = pollster::block_on(session.analyze(&["again".to_string()], None)).unwrap().remove(0).snapshot;
    assert_eq!(again.attention, integers.attention);
    session.set_arithmetic(messages::Arithmetic::F32);
    assert_eq!(run(&session).attention, f32.attention);
}

/// The rollout, metrics and unit tokens of a snapshot from `Session::analyze` (which derives them).
fn derived(snapshot: &Snapshot) -> &Derived {
    snapshot.derived.as_ref().expect("a whole analysis derives")
}
