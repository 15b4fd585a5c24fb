use std::path::Path;

use vitscope_core::model::RelativePosition;
use vitscope_core::weights::{ModelFile, sha256_hex};

pub fn run(path: &Path) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let model = ModelFile::from_bytes(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    let (c, card) = (&model.config, &model.card);
    let params: usize = model.weights.values().map(|t| t.data.len()).sum();
    println!("{}  [{}]", card.name, card.family.label());
    println!("  objective     {}", card.objective);
    println!("  training data {}", card.training_data);
    println!("  license       {}", card.license);
    println!("  source        {} ({} layout)", card.source.checkpoint, card.source.layout);
    if let Some(url) = &card.source.url {
        println!("  published at  {url}");
    }
    if let Some(sha) = &card.source.sha256 {
        println!("  source sha256 {sha}");
    }
    println!("  citation      {}", card.citation);
    if let Some(notes) = &card.notes {
        println!("  notes         {notes}");
    }
    println!(
        "  architecture  ViT {} px, patch {}, width {}, depth {}, {} heads × {}, MLP {}, {:?} position{}, qkv bias {:?}{}",
        c.image_size,
        c.patch_size,
        c.width,
        c.depth,
        c.heads,
        c.head_dim(),
        c.mlp_hidden,
        c.absolute_position,
        match c.relative_position {
            RelativePosition::None => String::new(),
            r => format!(" + {r:?} relative bias"),
        },
        c.qkv_bias,
        if c.layer_scale { ", layer scale" } else { "" }
    );
    if c.register_tokens > 0 {
        println!("  registers     {} tokens after CLS", c.register_tokens);
    }
    let p = &card.preprocessing;
    println!("  preprocessing {}, mean {:?}, std {:?}", p.describe(), p.mean, p.std);
    if p.crop as usize != c.image_size {
        println!(
            "  runs at       {} px by default (stored at {} px; `analyze --image-size` changes it)",
            p.crop, c.image_size
        );
    }
    println!(
        "  storage       {}, {:.2} M parameters, {:.2} MB",
        model.precision,
        params as f64 / 1e6,
        bytes.len() as f64 / 1e6
    );
    println!("  sha256        {}", sha256_hex(&bytes));
    match &card.reference_curves {
        Some(r) => println!(
            "  reference     {} curves over {} images of {} at {} px",
            r.curves.len(),
            r.images,
            r.dataset,
            r.image_size
        ),
        None => println!("  reference     none (add with `vitscope analyze --into-card`)"),
    }
    Ok(())
}
