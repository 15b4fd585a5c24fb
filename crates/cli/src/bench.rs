//! `vitscope bench`: forward + all per-layer metrics on one image, median over runs, as JSON.
//! Ratios against PyTorch come from `tools/bench/run.sh`, which runs both side by side.

use std::path::PathBuf;
use std::time::Instant;

use vitscope_core::model::Capture;
use vitscope_core::pipeline::LoadedModel;
use vitscope_core::weights::ModelFile;
use vitscope_protocol::messages::Arithmetic;

use super::{Backend, device, load_model};

/// How the CPU multiplies by int8 weights.
#[derive(Clone, Copy, Debug, PartialEq, clap::ValueEnum)]
pub enum ArithmeticArg {
    /// Dequantized to f32 at load (burn's product, every thread).
    F32,
    /// Integer products of the int8 weights and 16-bit inputs (the page's int8 arithmetic; natively
    /// on the CPU's threads, a block of rows each).
    Int8,
}

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    model: PathBuf,
    /// An image; a synthetic gradient when omitted.
    #[arg(long)]
    image: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "cpu")]
    device: Backend,
    #[arg(long, default_value_t = 10)]
    runs: usize,
    #[arg(long, default_value_t = 2)]
    warmup: usize,
    #[arg(long, value_enum, default_value = "f32")]
    arithmetic: ArithmeticArg,
    /// Images per forward pass (copies of the one image): a GPU's throughput shows at 64.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=1024))]
    batch: u16,
}

pub fn run(args: Args) -> Result<(), String> {
    let clock = Instant::now();
    let device = device(args.device)?;
    let model = match args.arithmetic {
        ArithmeticArg::F32 => LoadedModel::new(load_model(&args.model)?, None, &device).map_err(|e| e.to_string())?,
        ArithmeticArg::Int8 => {
            // Taken tensor by tensor, as the page does, so int8 weights stay int8.
            let path = &args.model;
            let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let (header, tensors) = ModelFile::open(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
            let mut model = LoadedModel::from_stored(header, &tensors, None, &device).map_err(|e| e.to_string())?;
            model.set_arithmetic(Arithmetic::Int8);
            model
        }
    };
    let precision = model.file.precision;
    // File read, checked, dequantized and on the device, weights packed.
    let load_ms = clock.elapsed().as_secs_f64() * 1e3;
    let image = match &args.image {
        Some(p) => vitscope_core::image::decode(&std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?)
            .map_err(|e| format!("{}: {e}", p.display()))?,
        None => ::image::RgbImage::from_fn(320, 240, |x, y| {
            ::image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
        }),
    };
    let prepared = model.prepare(&image);
    let batch = vec![&prepared; usize::from(args.batch)];
    let time = |step: &dyn Fn() -> Result<(), String>| -> Result<Vec<f64>, String> {
        let mut times = Vec::with_capacity(args.runs);
        for i in 0..args.warmup + args.runs {
            let start = Instant::now();
            step()?;
            if i >= args.warmup {
                times.push(start.elapsed().as_secs_f64() * 1e3);
            }
        }
        times.sort_by(f64::total_cmp);
        Ok(times)
    };
    let forward = time(&|| {
        let out = model.forward(&batch, Capture { attention: false, streams: false, final_tokens: true });
        pollster::block_on(vitscope_core::analysis::read(out.final_tokens.expect("captured")))
            .map_err(|e| e.to_string())?;
        Ok(())
    })?;
    let times = time(&|| pollster::block_on(model.layer_metrics(&batch)).map(drop).map_err(|e| e.to_string()))?;
    let median = times[times.len() / 2];
    println!(
        "{}",
        serde_json::json!({
            "model": model.file.card.name,
            "precision": precision.to_string(),
            "arithmetic": format!("{:?}", args.arithmetic).to_lowercase(),
            "device": format!("{:?}", args.device).to_lowercase(),
            "image_size": model.image_size(),
            "batch": args.batch,
            "runs": args.runs,
            "load_ms": load_ms,
            "median_ms": median,
            "forward_only_median_ms": forward[forward.len() / 2],
            "min_ms": times[0],
        })
    );
    Ok(())
}
