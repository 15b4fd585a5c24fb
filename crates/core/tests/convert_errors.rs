//! Bad checkpoints: every error names the key and the problem.

mod common;

use common::*;
use vitscope_convert::{ConvertOptions, Layout, Overrides, convert};

fn bad(name: &str) -> std::path::PathBuf {
    fixtures().join("bad").join(name)
}

fn convert_err(path: &std::path::Path, layout: Option<Layout>) -> String {
    let options =
        ConvertOptions { layout, overrides: Overrides { heads: Some(2), image_size: None }, name: None, sha256: None };
    match convert(path, &options) {
        Ok(_) => panic!("{} converted, but should have failed", path.display()),
        Err(e) => e.to_string(),
    }
}

#[track_caller]
fn assert_mentions(message: &str, parts: &[&str]) {
    for p in parts {
        assert!(message.contains(p), "error `{message}` does not mention `{p}`");
    }
}

#[test]
fn missing_key_is_named() {
    let e = convert_err(&bad("mocov3_missing_key.pth.tar"), None);
    assert_mentions(&e, &["lacks", "blocks.1.mlp.fc2.bias"]);
}

#[test]
fn unexpected_key_is_named() {
    let e = convert_err(&bad("mocov3_unexpected_key.pth.tar"), None);
    assert_mentions(&e, &["blocks.0.attn.extra_scale"]);
}

#[test]
fn wrong_shape_is_named() {
    let e = convert_err(&bad("mocov3_wrong_shape.pth.tar"), None);
    assert_mentions(&e, &["blocks.0.attn.proj.weight", "[64, 32]", "[64, 64]"]);
}

#[test]
fn non_finite_value_is_named() {
    let e = convert_err(&bad("mocov3_nan.pth.tar"), None);
    assert_mentions(&e, &["blocks.0.norm1.weight", "non-finite", "element 3"]);
}

#[test]
fn relative_index_mismatch_is_refused() {
    let e = convert_err(&bad("simmim_bad_index.pth"), None);
    assert_mentions(&e, &["model.encoder.rel_pos_bias.relative_position_index", "differs"]);
}

#[test]
fn unknown_layout_lists_keys() {
    let e = convert_err(&bad("not_a_vit.pth"), None);
    assert_mentions(&e, &["no known ViT layout", "something"]);
}

#[test]
fn forcing_the_wrong_layout_says_so() {
    let e = convert_err(&checkpoint_path("mocov3"), Some(Layout::SimMim));
    assert_mentions(&e, &["model.encoder.", "not a simmim checkpoint"]);
}

#[test]
fn truncated_and_garbage_files_are_refused() {
    let dir = std::env::temp_dir().join(format!("vitscope-convert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let full = std::fs::read(checkpoint_path("mae")).unwrap();
    let truncated = dir.join("truncated.pth");
    std::fs::write(&truncated, &full[..full.len() / 2]).unwrap();
    assert_mentions(&convert_err(&truncated, None), &["not a readable PyTorch checkpoint", "EOCD"]);
    let garbage = dir.join("garbage.pth");
    std::fs::write(&garbage, b"definitely not a checkpoint").unwrap();
    assert_mentions(&convert_err(&garbage, None), &["not a readable PyTorch checkpoint"]);
    let fake_st = dir.join("fake.safetensors");
    std::fs::write(&fake_st, [8, 0, 0, 0, 0, 0, 0, 0, b'{', b'"']).unwrap();
    assert_mentions(&convert_err(&fake_st, None), &["invalid safetensors", "claims 8 bytes of a 10-byte file"]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn missing_heads_for_unusual_width_asks_for_flag() {
    let options = ConvertOptions::default();
    let e = convert(&checkpoint_path("mae"), &options).unwrap_err().to_string();
    assert_mentions(&e, &["heads", "--heads"]);
}

/// The page converts from a `Blob`, the CLI from a path: through a byte source every layout gives the
/// same model, the card naming the same file and sha256, and the progress counts the bytes read; a
/// source cut short is refused, never half-read.
#[test]
fn every_layout_reads_the_same_through_a_byte_source() {
    use std::sync::Arc;
    use vitscope_convert::{ByteSource, Step, convert_source};
    for layout in ["mocov3", "simmim", "mae", "dino", "dino-full", "beit", "timm"] {
        let path = checkpoint_path(layout);
        let options = ConvertOptions {
            overrides: Overrides { heads: Some(meta(layout).heads), image_size: None },
            ..ConvertOptions::default()
        };
        let from_path = convert(&path, &options).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_str().unwrap();
        let mut steps = Vec::new();
        let source: Arc<dyn ByteSource> = Arc::new(bytes.clone());
        let from_source = convert_source(source, name, &options, &mut |s| steps.push(s)).unwrap();
        assert_eq!(from_source.card, from_path.card, "{layout}");
        assert!(from_source.weights == from_path.weights, "{layout}: the weights differ");
        let len = bytes.len() as u64;
        assert!(steps.contains(&Step::Hashing { done: len, total: len }), "{layout}: {steps:?}");
        let Some(Step::Reading { done, total }) = steps.last().copied() else { panic!("{layout}: {steps:?}") };
        assert!(done == total && total > 0 && total <= len, "{layout}: read {done} of {total}");

        let cut: Arc<dyn ByteSource> = Arc::new(bytes[..bytes.len() * 2 / 3].to_vec());
        assert!(convert_source(cut, name, &options, &mut |_| {}).is_err(), "{layout}: a cut file converted");
    }
}
