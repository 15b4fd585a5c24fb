//! The `vitscope` command line: convert checkpoints, inspect and analyse models, benchmark. Each
//! subcommand lives in its own file; this one parses and dispatches. CPU by default; the `gpu`
//! feature adds `--device wgpu`.

mod analyze;
mod bench;
mod convert;
mod info;
mod probe;

use std::path::PathBuf;

use burn::tensor::Device;
use clap::{Parser, Subcommand, ValueEnum};
use vitscope_core::weights::ModelFile;

// Large short-lived tensors churn the system allocator (page faults, brk); mimalloc keeps them warm.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(run());
}

#[derive(Parser)]
#[command(name = "vitscope", version, about = "See what self-supervised Vision Transformers learn")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Backend {
    /// burn's CPU backend (flex).
    Cpu,
    /// WebGPU through wgpu (Vulkan, Metal, DX12; lavapipe on machines without a GPU).
    Wgpu,
}

#[derive(Subcommand)]
enum Command {
    /// Convert an official checkpoint (MoCo v3, SimMIM, MAE, DINO, BEiT, timm) into a vitscope model.
    Convert(convert::Args),
    /// Show a model's card, architecture and storage.
    Info {
        /// A vitscope `.safetensors` model.
        model: PathBuf,
    },
    /// Per-layer metrics over a folder of images, as JSON (and CSV, SVG charts, card curves).
    Analyze(analyze::Args),
    /// Per-layer kNN and linear-probe accuracy over a folder of class subfolders, as JSON (and SVG charts).
    Probe(probe::Args),
    /// Time forward + all metrics per image.
    Bench(bench::Args),
}

/// Runs the CLI; returns the process exit code. Errors print their `Display` text, never Debug.
fn run() -> i32 {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Convert(args) => convert::run(args),
        Command::Info { model } => info::run(&model),
        Command::Analyze(args) => analyze::run(args),
        Command::Probe(args) => probe::run(args),
        Command::Bench(args) => bench::run(args),
    };
    match result {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("error: {message}");
            1
        }
    }
}

/// The device for a backend; wgpu reports a missing adapter as an error rather than panicking, and
/// a backend this build lacks says how to get it.
pub fn device(backend: Backend) -> Result<Device, String> {
    match backend {
        #[cfg(feature = "cpu")]
        Backend::Cpu => Ok(Device::flex()),
        #[cfg(not(feature = "cpu"))]
        Backend::Cpu => Err("this vitscope was built without the CPU backend (cargo feature `cpu`)".into()),
        #[cfg(not(feature = "gpu"))]
        Backend::Wgpu => Err("this vitscope was built without WebGPU: rebuild it with `--features gpu`".into()),
        #[cfg(feature = "gpu")]
        Backend::Wgpu => {
            let (device, setup) = Device::wgpu_options()
                .init_with_setup()
                .map_err(|e| format!("no usable WebGPU/wgpu adapter ({e}); use --device cpu"))?;
            let info = setup.adapter.get_info();
            eprintln!("wgpu adapter: {} ({:?}, {:?})", info.name, info.backend, info.device_type);
            Ok(device)
        }
    }
}

/// Reads and validates a model file, naming the file in any error.
pub fn load_model(path: &std::path::Path) -> Result<ModelFile, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    ModelFile::from_bytes(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}
