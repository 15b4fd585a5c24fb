//! The weight format: round trips, size, and a clear refusal for every kind of broken file.

mod common;

use std::collections::HashMap;

use common::*;
use safetensors::tensor::{Dtype, TensorView};
use vitscope_core::weights::{ModelFile, Precision, WeightsError};

fn model() -> ModelFile {
    convert_fixture("simmim")
}

fn err(bytes: &[u8]) -> String {
    match ModelFile::from_bytes(bytes) {
        Ok(_) => panic!("accepted a bad file"),
        Err(e) => e.to_string(),
    }
}

/// Re-serialises a file's tensors with `edit` applied to the (name → (dtype, shape, bytes)) map.
fn rewrite(
    bytes: &[u8],
    edit: impl FnOnce(&mut HashMap<String, (Dtype, Vec<usize>, Vec<u8>)>, &mut HashMap<String, String>),
) -> Vec<u8> {
    let st = safetensors::SafeTensors::deserialize(bytes).unwrap();
    let (_, meta) = safetensors::SafeTensors::read_metadata(bytes).unwrap();
    let mut metadata = meta.metadata().clone().unwrap();
    let mut tensors: HashMap<String, (Dtype, Vec<usize>, Vec<u8>)> =
        st.iter().map(|(n, v)| (n.to_string(), (v.dtype(), v.shape().to_vec(), v.data().to_vec()))).collect();
    edit(&mut tensors, &mut metadata);
    let views: Vec<(String, TensorView)> =
        tensors.iter().map(|(n, (d, s, b))| (n.clone(), TensorView::new(*d, s.clone(), b).unwrap())).collect();
    safetensors::serialize(views, Some(metadata)).unwrap()
}

#[test]
fn f32_round_trip_is_exact_and_f16_is_close() {
    let m = model();
    let back = ModelFile::from_bytes(&m.to_bytes(Precision::F32).unwrap()).unwrap();
    assert_eq!(back.weights, m.weights);
    assert_eq!(back.config, m.config);
    assert_eq!(back.card, m.card);
    assert_eq!(back.precision, Precision::F32);
    let half = ModelFile::from_bytes(&m.to_bytes(Precision::F16).unwrap()).unwrap();
    for (name, t) in &m.weights {
        let d = max_abs_diff(&half.weights[name].data, &t.data);
        let scale = t.data.iter().fold(0f32, |a, v| a.max(v.abs()));
        assert!(d <= scale * 1e-3, "{name}: f16 error {d}");
    }
}

#[test]
fn int8_file_is_at_most_27_percent_of_f32() {
    // ViT-Ti/8 at 112 px, the size vitscope ships, with random weights.
    let m = random_model(vitscope_core::model::VitConfig::vit_tiny8_112(), 5);
    let f32_len = m.to_bytes(Precision::F32).unwrap().len();
    let int8_len = m.to_bytes(Precision::Int8).unwrap().len();
    let ratio = int8_len as f64 / f32_len as f64;
    assert!(ratio <= 0.27, "int8 is {:.1}% of f32", ratio * 100.0);
    assert!(ratio > 0.24, "suspiciously small: {:.1}%", ratio * 100.0);
}

#[test]
fn weights_a_precision_cannot_hold_are_refused_not_written_as_infinity() {
    let mut m = model();
    let name = "blocks.1.mlp.fc1.weight";
    m.weights.get_mut(name).unwrap().data[3] = 70_000.0;
    // f16 stops at 65504; int8's scale (70000 / 127) fits an f16.
    assert_eq!(
        m.to_bytes(Precision::F16).unwrap_err().to_string(),
        "tensor `blocks.1.mlp.fc1.weight` holds 7e4, more than f16 can store (at most 6.5504e4 in magnitude); convert it with --precision f32"
    );
    let back = ModelFile::from_bytes(&m.to_bytes(Precision::Int8).unwrap()).unwrap();
    assert!((back.weights[name].data[3] - 70_000.0).abs() < 70_000.0 / 127.0);
    m.weights.get_mut(name).unwrap().data[3] = -1e7;
    assert!(matches!(
        m.to_bytes(Precision::Int8).unwrap_err(),
        WeightsError::OutOfRange { value: -1e7, precision: Precision::Int8, .. }
    ));
    let back = ModelFile::from_bytes(&m.to_bytes(Precision::F32).unwrap()).unwrap();
    assert_eq!(back.weights[name].data[3], -1e7);
}

#[test]
fn int8_dequantizes_within_half_a_step() {
    let m = model();
    let back = ModelFile::from_bytes(&m.to_bytes(Precision::Int8).unwrap()).unwrap();
    assert_eq!(back.precision, Precision::Int8);
    let name = "blocks.1.mlp.fc1.weight";
    let (orig, deq) = (&m.weights[name], &back.weights[name]);
    let cols = orig.shape[1];
    for (row, (a, b)) in orig.data.chunks(cols).zip(deq.data.chunks(cols)).enumerate() {
        let step = a.iter().fold(0f32, |m, v| m.max(v.abs())) / 127.0;
        assert!(max_abs_diff(a, b) <= step * 0.51 + 1e-6, "row {row}");
    }
    // Small tensors are kept in f32, bit for bit.
    assert_eq!(back.weights["blocks.0.gamma_1"], m.weights["blocks.0.gamma_1"]);
}

#[test]
fn header_bounds_are_checked_before_parsing() {
    let good = model().to_bytes(Precision::Int8).unwrap();
    assert!(err(&good[..5]).contains("too short"));
    let mut huge = good.clone();
    huge[..8].copy_from_slice(&(1u64 << 40).to_le_bytes());
    assert!(err(&huge).contains("the limit is"), "{}", err(&huge));
    let truncated = &good[..good.len() / 2];
    let e = err(truncated);
    assert!(e.contains("invalid") || e.contains("truncated"), "{e}");
    let mut past_end = good[..200].to_vec();
    past_end[..8].copy_from_slice(&10_000u64.to_le_bytes());
    assert!(err(&past_end).contains("truncated?"), "{}", err(&past_end));
}

#[test]
fn foreign_safetensors_are_refused() {
    let data = vec![0u8; 16];
    let plain = safetensors::serialize([("w", TensorView::new(Dtype::F32, vec![4], &data).unwrap())], None).unwrap();
    assert!(err(&plain).contains("not a vitscope model"));
}

#[test]
fn tensor_problems_name_the_tensor() {
    let good = model().to_bytes(Precision::Int8).unwrap();
    let missing = rewrite(&good, |t, _| {
        t.remove("blocks.1.norm2.bias");
    });
    assert_eq!(err(&missing), "missing tensors: blocks.1.norm2.bias");
    let extra = rewrite(&good, |t, _| {
        t.insert("evil".into(), (Dtype::F32, vec![1], vec![0; 4]));
    });
    assert_eq!(err(&extra), "unexpected tensors: evil");
    let wrong_dtype = rewrite(&good, |t, _| {
        t.insert("norm.weight".into(), (Dtype::I32, vec![64], vec![0; 256]));
    });
    assert!(err(&wrong_dtype).contains("`norm.weight` has dtype I32"), "{}", err(&wrong_dtype));
    let wrong_shape = rewrite(&good, |t, _| {
        t.insert("norm.weight".into(), (Dtype::F32, vec![32], vec![0; 128]));
    });
    assert!(err(&wrong_shape).contains("`norm.weight` has shape [32]"));
    let nan = rewrite(&good, |t, _| {
        let mut bytes = vec![0u8; 256];
        bytes[8..12].copy_from_slice(&f32::INFINITY.to_le_bytes());
        t.insert("norm.bias".into(), (Dtype::F32, vec![64], bytes));
    });
    assert_eq!(err(&nan), "tensor `norm.bias` holds a non-finite value (inf) at element 2");
    let negative_scale = rewrite(&good, |t, _| {
        let entry = t.get_mut("blocks.0.attn.qkv.weight_scale").unwrap();
        entry.2[0..2].copy_from_slice(&half::f16::from_f32(-1.0).to_le_bytes());
    });
    assert!(err(&negative_scale).contains("blocks.0.attn.qkv.weight_scale"));
    let scale_on_float = rewrite(&good, |t, _| {
        t.insert("norm.weight_scale".into(), (Dtype::F16, vec![64], vec![0; 128]));
    });
    assert!(err(&scale_on_float).contains("unexpected tensors: norm.weight_scale"));
}

#[test]
fn bad_metadata_is_explained() {
    let good = model().to_bytes(Precision::F16).unwrap();
    let no_config = rewrite(&good, |_, m| {
        m.remove("config");
    });
    assert!(matches!(ModelFile::from_bytes(&no_config), Err(WeightsError::Metadata { field: "config", .. })));
    let absurd = rewrite(&good, |_, m| {
        let mut c: serde_json::Value = serde_json::from_str(&m["config"]).unwrap();
        c["depth"] = 100000.into();
        m.insert("config".into(), c.to_string());
    });
    assert!(err(&absurd).contains("depth = 100000 exceeds"), "{}", err(&absurd));
    let other_format = rewrite(&good, |_, m| {
        m.insert("format".into(), "vitscope/99".into());
    });
    assert!(err(&other_format).contains("vitscope/99"));
    let bad_card = rewrite(&good, |_, m| {
        m.insert("card".into(), "{\"name\": 3}".into());
    });
    assert!(err(&bad_card).contains("`card`"));
}

#[test]
fn replacing_the_card_keeps_tensor_bytes() {
    let m = model();
    let bytes = m.to_bytes(Precision::Int8).unwrap();
    let mut card = m.card.clone();
    card.notes = Some("a note".into());
    let updated = vitscope_core::weights::replace_card(&bytes, &card).unwrap();
    let back = ModelFile::from_bytes(&updated).unwrap();
    assert_eq!(back.card.notes.as_deref(), Some("a note"));
    assert_eq!(back.weights, ModelFile::from_bytes(&bytes).unwrap().weights);
}

/// A converted file is the same bytes every time (the safetensors writer's metadata map has no
/// order of its own), so a bundled model's sha256 and a page conversion can be compared to the CLI's.
#[test]
fn a_file_is_the_same_bytes_every_time_with_its_header_sorted() {
    let model = model();
    for precision in [Precision::Int8, Precision::F16, Precision::F32] {
        let first = model.to_bytes(precision).unwrap();
        for _ in 0..8 {
            assert!(model.to_bytes(precision).unwrap() == first, "{precision} files differ between writes");
        }
        let len = u64::from_le_bytes(first[..8].try_into().unwrap()) as usize;
        assert_eq!((8 + len) % 8, 0, "the data section stays 8-byte aligned");
        let text = std::str::from_utf8(&first[8..8 + len]).unwrap();
        let metadata = ["\"card\"", "\"config\"", "\"format\"", "\"precision\""].map(|k| text.find(k).unwrap());
        assert!(metadata.is_sorted(), "metadata keys out of order: {text:.200}");
        ModelFile::from_bytes(&first).unwrap();
    }
}

#[test]
fn a_file_taken_tensor_by_tensor_builds_the_same_model_and_names_a_bad_tensor_when_taken() {
    use vitscope_core::model::{Capture, ModelError};
    use vitscope_core::pipeline::LoadedModel;

    let bytes = model().to_bytes(Precision::Int8).unwrap();
    let whole = LoadedModel::new(ModelFile::from_bytes(&bytes).unwrap(), None, &device()).unwrap();
    let (header, tensors) = ModelFile::open(&bytes).unwrap();
    assert!(header.weights.is_empty(), "opening reads no tensor");
    let stored = LoadedModel::from_stored(header, &tensors, None, &device()).unwrap();
    let size = whole.image_size();
    let photo = image::RgbImage::from_fn(size, size, |x, y| image::Rgb([(x * 7) as u8, (y * 5) as u8, (x ^ y) as u8]));
    let image = whole.prepare(&photo);
    let run = |m: &LoadedModel| {
        let out = m.forward(&[&image], Capture { attention: false, streams: false, final_tokens: true });
        out.final_tokens.unwrap().into_data().try_to_vec::<f32>().unwrap()
    };
    assert_eq!(run(&whole), run(&stored), "the same weights, bit for bit");

    let nan = rewrite(&bytes, |t, _| {
        let mut bytes = vec![0u8; 256];
        bytes[8..12].copy_from_slice(&f32::INFINITY.to_le_bytes());
        t.insert("norm.bias".into(), (Dtype::F32, vec![64], bytes));
    });
    let (header, tensors) = ModelFile::open(&nan).expect("names and shapes are fine");
    match LoadedModel::from_stored(header, &tensors, None, &device()) {
        Err(ModelError::Unreadable(reason)) => {
            assert_eq!(reason, "tensor `norm.bias` holds a non-finite value (inf) at element 2")
        }
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("a non-finite weight was accepted"),
    }
}
