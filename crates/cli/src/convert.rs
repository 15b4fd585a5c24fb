use std::path::PathBuf;

use vitscope_convert::{ConvertOptions, Layout, Overrides, convert, int8};
use vitscope_core::weights::{ModelCard, ModelFile, Precision};

use crate::Backend;

#[derive(clap::Args)]
pub struct Args {
    /// The checkpoint: `.pth`, `.pth.tar` or `.safetensors`.
    input: PathBuf,
    /// auto, mocov3, simmim, mae, dino, dino-full, beit or timm.
    #[arg(long, default_value = "auto")]
    layout: String,
    #[arg(long)]
    out: PathBuf,
    /// int8 (per-channel, ~¼ of f32), f16 or f32.
    #[arg(long, default_value = "int8")]
    precision: Precision,
    /// Attention heads, when the checkpoint's shapes cannot tell (no relative bias table).
    #[arg(long)]
    heads: Option<usize>,
    /// Input size, when the checkpoint has no position table to tell it.
    #[arg(long)]
    image_size: Option<usize>,
    /// The name shown in the explorer (default: the file name).
    #[arg(long)]
    name: Option<String>,
    /// A JSON object whose fields replace the card's (family, objective, license, training_data,
    /// notes, citation, source, preprocessing, …), e.g. for models vitscope trained itself.
    #[arg(long)]
    card: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<(), String> {
    let options = ConvertOptions {
        layout: Layout::parse(&args.layout)?,
        overrides: Overrides { heads: args.heads, image_size: args.image_size },
        name: args.name,
        sha256: None,
    };
    let mut model = convert(&args.input, &options).map_err(|e| format!("{}: {e}", args.input.display()))?;
    if let Some(path) = &args.card {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        model.card = merge_card(&model.card, &text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let (bytes, precision) = encode(&model, args.precision)?;
    std::fs::write(&args.out, &bytes).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let c = &model.config;
    println!(
        "{} ({} layout) → {}: ViT {}×{} px/{}, width {}, depth {}, heads {}, {} ({:.1} MB)",
        args.input.display(),
        model.card.source.layout,
        args.out.display(),
        c.image_size,
        c.image_size,
        c.patch_size,
        c.width,
        c.depth,
        c.heads,
        precision,
        bytes.len() as f64 / 1e6
    );
    Ok(())
}

/// The file's bytes. int8 is grouped as finely as the model needs, measured against f32 on two
/// photos; when no grouping holds the bounds the matrices go to f16 instead, and it says so.
fn encode(model: &ModelFile, precision: Precision) -> Result<(Vec<u8>, Precision), String> {
    if precision != Precision::Int8 {
        return Ok((model.to_bytes(precision).map_err(|e| e.to_string())?, precision));
    }
    let device = crate::device(Backend::Cpu).or_else(|_| crate::device(Backend::Wgpu))?;
    let encoded = pollster::block_on(int8::encode(model, &device, &mut |_| {}))?;
    for (grouping, fidelity) in &encoded.tried {
        let verdict = int8::Bounds::STORED.violation(fidelity).unwrap_or_else(|| "within the bounds".into());
        eprintln!("int8, {grouping}: {verdict}");
    }
    match encoded.precision {
        Precision::Int8 => {}
        Precision::F16 => eprintln!("no int8 grouping holds the bounds on this model: storing f16"),
        Precision::F32 => eprintln!("a weight is too large for int8's f16 scales and for f16: storing f32"),
    }
    Ok((encoded.bytes, encoded.precision))
}

/// Replaces top-level card fields with those of a JSON object, then checks the result is a valid card.
fn merge_card(card: &ModelCard, overrides: &str) -> Result<ModelCard, String> {
    let overrides: serde_json::Value = serde_json::from_str(overrides).map_err(|e| format!("not JSON: {e}"))?;
    let serde_json::Value::Object(fields) = overrides else {
        return Err("the card overrides must be a JSON object".into());
    };
    let mut merged = serde_json::to_value(card).expect("cards serialise");
    for (key, value) in fields {
        merged[key] = value;
    }
    serde_json::from_value(merged).map_err(|e| format!("the merged card is invalid: {e}"))
}
