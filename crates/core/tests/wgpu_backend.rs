//! The wgpu backend (WebGPU in the browser; Vulkan/lavapipe natively) gives the CPU backend's numbers.
//! `tools/test.sh` installs Mesa's Vulkan drivers so an adapter exists on any Linux machine.

mod common;

use burn::tensor::Device;
use common::*;
use vitscope_core::model::Capture;
use vitscope_core::pipeline::LoadedModel;

fn wgpu() -> Device {
    Device::wgpu_options()
        .init()
        .unwrap_or_else(|e| panic!("no wgpu adapter ({e}); install mesa-vulkan-drivers (tools/test.sh does)"))
}

#[test]
fn wgpu_matches_cpu_forward_and_metrics() {
    let gpu = wgpu();
    for layout in ["mocov3", "simmim"] {
        let model = convert_fixture(layout);
        let reference = Reference::load(layout);
        let on_gpu = LoadedModel::new(model, None, &gpu).unwrap();
        let input = reference.tensor4("input", &gpu);
        let out = on_gpu.vit.forward(input, Capture::all());
        assert_close(
            &format!("{layout} wgpu final"),
            &read(out.final_tokens.clone().unwrap()),
            reference.values("final_tokens"),
            2e-4,
        );
        let metrics = pollster::block_on(vitscope_core::analysis::layer_metrics(&on_gpu.metrics, &out)).unwrap();
        let nmi: Vec<f32> = metrics.iter().flat_map(|m| m.nmi.concat()).collect();
        assert_close(&format!("{layout} wgpu NMI"), &nmi, reference.values("metrics.nmi"), 2e-4);
        let dla: Vec<f32> = metrics.iter().flat_map(|m| m.delta_log_amplitude.concat()).collect();
        assert_close(&format!("{layout} wgpu ΔlogA"), &dla, reference.values("metrics.delta_log_amplitude"), 2e-4);
    }
}
