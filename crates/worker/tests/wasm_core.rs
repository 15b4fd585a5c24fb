//! The worker's session in the browser (wasm-bindgen-test, headless Chromium): a bundled model loads
//! and runs on burn's CPU backend and on WebGPU (the test browser has SwiftShader's adapter; a browser
//! without one fails the test rather than skipping it), and the two agree.
//!
//!   cargo test -p vitscope-worker --features cpu,gpu --profile wasm-size \
//!     --target wasm32-unknown-unknown --test wasm_core      (as tools/test.sh runs it; the runner
//!   is set in .cargo/config.toml, Chromium's flags in this crate's webdriver.json)
#![cfg(target_arch = "wasm32")]

use vitscope_core::image::decode;
use vitscope_core::weights::Family;
use vitscope_protocol::messages::{ModelAnalysis, RunSize};
use vitscope_worker::Session;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

const MODEL: &[u8] = include_bytes!("../../../www/models/vitscope-simmim-ti8.safetensors");
const PHOTO: &[u8] = include_bytes!("../../../www/gallery/skimage_chelsea.jpg");

async fn run(device: burn::tensor::Device) -> ModelAnalysis {
    let mut session = Session::new(device);
    let info = session.load("mim", MODEL, RunSize::Card).expect("the bundled model loads");
    assert_eq!((info.family(), info.depth, info.heads), (Family::MaskedImageModeling, 12, 3));
    assert_eq!(session.open_image(PHOTO).expect("the photo decodes"), (451, 300));
    let mut models = session.analyze(&["mim".into()], None).await.expect("analysis runs");
    models.remove(0)
}

#[wasm_bindgen_test]
async fn the_cpu_backend_runs_a_bundled_model() {
    let m = run(burn::tensor::Device::flex()).await;
    let metrics = &m.snapshot.derived.as_ref().expect("analyze derives").metrics;
    assert_eq!(metrics.attention_distance.len(), 12);
    assert!(metrics.nmi.iter().flatten().all(|v| v.is_finite() && (0.0..=1.0).contains(v)));
    assert!(metrics.attention_distance.iter().flatten().all(|d| (0.0..=160.0).contains(d)));
    // Attention rows are distributions.
    let map = m.snapshot.attention_map(5, None, 1 + 7 * 14 + 7);
    assert!((map.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    // The clock works in a worker (std's Instant would panic there).
    let t = m.snapshot.timing;
    assert!(t.forward_ms > 0.0 && t.total_ms > t.forward_ms, "forward {} ms of {} ms", t.forward_ms, t.total_ms);
    assert!(decode(b"not an image").is_err());
}

#[wasm_bindgen_test]
async fn webgpu_agrees_with_the_cpu() {
    let gpu = burn::tensor::Device::wgpu_options()
        .init_async()
        .await
        .expect("the test browser has a WebGPU adapter (this crate's webdriver.json enables SwiftShader's)");
    let cpu = run(burn::tensor::Device::flex()).await.snapshot.derived.expect("analyze derives").metrics;
    let gpu = run(gpu).await.snapshot.derived.expect("analyze derives").metrics;
    for (a, b) in cpu.attention_distance.iter().flatten().zip(gpu.attention_distance.iter().flatten()) {
        assert!((a - b).abs() < 0.05, "distance {a} vs {b}");
    }
    for (a, b) in cpu.token_similarity.iter().zip(&gpu.token_similarity) {
        assert!((a - b).abs() < 1e-3, "token similarity {a} vs {b}");
    }
}

#[wasm_bindgen_test]
fn the_simd_gemm_matches_the_textbook_product_bit_for_bit() {
    use vitscope_core::model::gemm::{Panels, gemm};
    // The browser's CPU linear layers: WebAssembly SIMD lanes here, plain arrays in the native tests.
    let (m, k, n) = (197, 64, 21);
    let a: Vec<f32> = (0..m * k).map(|i| ((i * 7919) % 2003) as f32 / 1001.0 - 1.0).collect();
    let b: Vec<f32> = (0..k * n).map(|i| ((i * 104_729) % 2003) as f32 / 1001.0 - 1.0).collect();
    let bias: Vec<f32> = (0..n).map(|j| j as f32 / 8.0).collect();
    let mut c = vec![f32::NAN; m * n];
    gemm(&a, k, m, &Panels::new(k, n, |p, j| b[p * n + j]), Some(&bias), &mut c, n);
    for i in 0..m {
        for j in 0..n {
            let want = (0..k).fold(bias[j], |s, p| s + a[i * k + p] * b[p * n + j]);
            assert_eq!(c[i * n + j], want, "({i}, {j})");
        }
    }
}

#[wasm_bindgen_test]
fn the_simd_integer_gemm_matches_its_formula_bit_for_bit() {
    use vitscope_core::model::gemm::Panels;
    use vitscope_core::model::gemm::int8::{CHUNK, gemm_int8};
    // `i32x4.dot_i16x8_s` here, SSE2 or plain arrays in the native tests: the formula of
    // `gemm::int8`, scalar, in its order (one group, longer than a chunk, odd k padded).
    let (m, k, n) = (6, CHUNK + 7, 11);
    let a: Vec<f32> = (0..m * k).map(|i| ((i * 7919) % 2003) as f32 / 1001.0 - 1.0).collect();
    let q: Vec<i8> = (0..n * k).map(|i| ((i * 37 % 255) as i32 - 127) as i8).collect();
    let scales: Vec<f32> = (0..n).map(|j| 0.001 + j as f32 * 0.0007).collect();
    let bias: Vec<f32> = (0..n).map(|j| j as f32 / 8.0).collect();
    let mut c = vec![f32::NAN; m * n];
    gemm_int8(&a, k, m, &Panels::int8(k, n, |p, j| q[j * k + p], scales.clone(), 1, None), Some(&bias), &mut c, n);
    for i in 0..m {
        let row = &a[i * k..][..k];
        let max = row.iter().fold(0f32, |m, v| m.max(v.abs()));
        let inputs: Vec<i32> = row.iter().map(|v| (v * (32767.0 / max)).round_ties_even() as i32).collect();
        for j in 0..n {
            let mut sum = 0f32;
            for chunk in (0..k).collect::<Vec<_>>().chunks(CHUNK) {
                let ints: i32 = chunk.iter().map(|&p| inputs[p] * q[j * k + p] as i32).sum();
                sum += ints as f32 * scales[j];
            }
            assert_eq!(c[i * n + j], bias[j] + sum * (max / 32767.0), "({i}, {j})");
        }
    }
}
