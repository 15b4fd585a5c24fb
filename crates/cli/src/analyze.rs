//! `vitscope analyze`: per-layer curves (with per-head values) of several models over a folder.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use vitscope_charts::{Series, interquartile_band, line_chart};
use vitscope_core::analysis::{LayerMetrics, Metric, headline_bin, paper};
use vitscope_core::image::ImageError;
use vitscope_core::pipeline::LoadedModel;
use vitscope_core::protocol::download::{MAX_IMAGE_FILE_BYTES, is_image_name};
use vitscope_core::protocol::metric::Axis;
use vitscope_core::protocol::metrics::Quartiles;
use vitscope_core::protocol::report::metrics_csv;
use vitscope_core::weights::{Curve, ModelFile, ReferenceCurves, replace_card};

use super::{Backend, device, load_model};

/// The models to run and how: shared by `analyze` and `probe`.
#[derive(clap::Args)]
pub struct Models {
    /// Comma-separated vitscope model files.
    #[arg(long, value_delimiter = ',', required = true)]
    pub models: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: Backend,
    /// Run every model at this input size instead of its card's.
    #[arg(long)]
    pub image_size: Option<usize>,
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
}

impl Models {
    /// Model `path`, loaded to run on `device`; errors name the file.
    pub fn load(&self, path: &Path, device: &burn::tensor::Device) -> Result<LoadedModel, String> {
        let file = load_model(path)?;
        LoadedModel::new(file, self.image_size, device).map_err(|e| format!("{}: {e}", path.display()))
    }
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    run: Models,
    /// A folder of images (JPEG, PNG, WebP, GIF, BMP).
    #[arg(long)]
    images: PathBuf,
    /// The JSON report.
    #[arg(long)]
    out: PathBuf,
    /// Also write one CSV per model into this folder.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Also write one SVG chart per metric into this folder.
    #[arg(long)]
    svg: Option<PathBuf>,
    /// Draw the paper's published curves in the SVG charts.
    #[arg(long)]
    paper: bool,
    /// Store the curves in each model file's card as its reference curves.
    #[arg(long)]
    into_card: bool,
    /// Dataset name recorded with --into-card (default: the folder's name).
    #[arg(long)]
    dataset: Option<String>,
    /// Use at most this many images (sorted by name).
    #[arg(long)]
    limit: Option<usize>,
}

#[derive(Serialize)]
struct Skipped {
    file: String,
    error: String,
}

#[derive(Serialize)]
struct ModelReport {
    name: String,
    file: String,
    family: String,
    image_size: usize,
    grid: usize,
    patch_size: usize,
    depth: usize,
    heads: usize,
    /// Per-layer means with per-head values; ΔlogA at the headline bin per depth 0..=L.
    curves: BTreeMap<String, Curve>,
    /// Per-layer quartiles over the images of each image's layer value (numpy's linear percentiles).
    quartiles: BTreeMap<String, Quartiles>,
    headline_bin: usize,
    /// `[depth][k]`, the whole half diagonal.
    delta_log_amplitude_full: Vec<Vec<f32>>,
}

/// What a curve key means, so a reader of the report need not know vitscope's conventions.
#[derive(Serialize)]
struct MetricInfo {
    key: &'static str,
    title: &'static str,
    unit: &'static str,
    /// `layer` (attention metrics, `curves[k].mean[i]` is layer i + 1) or `depth` (stream metrics,
    /// index i is depth i, 0 = the embedding).
    axis: Axis,
}

#[derive(Serialize)]
struct Report {
    tool: String,
    metrics: Vec<MetricInfo>,
    images: Vec<String>,
    skipped: Vec<Skipped>,
    models: Vec<ModelReport>,
}

fn list_images(dir: &Path, limit: Option<usize>) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().is_some_and(|n| is_image_name(&n.to_string_lossy())))
        .collect();
    files.sort();
    files.truncate(limit.unwrap_or(usize::MAX));
    if files.is_empty() {
        return Err(format!("{}: no images (JPEG, PNG, WebP, GIF or BMP) found", dir.display()));
    }
    Ok(files)
}

/// The bytes of an image file, or why not: a folder, a pipe or a device named like an image would
/// block or never end, and a file past the image limit is refused before it takes the memory.
pub(crate) fn read_image(path: &Path) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file (a folder, a pipe or a device)".into());
    }
    if meta.len() > MAX_IMAGE_FILE_BYTES {
        return Err(ImageError::FileTooLarge(meta.len()).to_string());
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // A file that grows while it is read stops at the limit too.
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_IMAGE_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_IMAGE_FILE_BYTES {
        return Err(ImageError::FileTooLarge(bytes.len() as u64).to_string());
    }
    Ok(bytes)
}

pub(crate) fn progress(len: usize, label: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg:>24} [{bar:32}] {pos}/{len} images, {elapsed} ({eta} left)")
            .expect("static template")
            .progress_chars("=> "),
    );
    bar.set_message(label.to_string());
    bar
}

pub fn run(args: Args) -> Result<(), String> {
    let files = list_images(&args.images, args.limit)?;
    let mut images = Vec::new();
    let mut skipped = Vec::new();
    let bar = progress(files.len(), "decoding");
    for path in &files {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let decoded = read_image(path).and_then(|b| vitscope_core::image::decode(&b).map_err(|e| e.to_string()));
        match decoded {
            Ok(img) => images.push((name, img)),
            Err(error) => {
                bar.suspend(|| eprintln!("warning: skipping {}: {error}", path.display()));
                skipped.push(Skipped { file: name, error });
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if images.is_empty() {
        return Err("none of the images could be decoded".into());
    }

    let device = device(args.run.device)?;
    let mut reports = Vec::new();
    for model_path in &args.run.models {
        let model = args.run.load(model_path, &device)?;
        let bar = progress(images.len(), &model.file.card.name);
        let mut per_image = Vec::with_capacity(images.len());
        for chunk in images.chunks(args.run.batch.max(1)) {
            let prepared: Vec<_> = chunk.iter().map(|(_, img)| model.prepare(img)).collect();
            let refs: Vec<_> = prepared.iter().collect();
            per_image.extend(pollster::block_on(model.layer_metrics(&refs)).map_err(|e| e.to_string())?);
            bar.inc(chunk.len() as u64);
        }
        bar.finish_and_clear();
        let mean = LayerMetrics::mean_of(&per_image);
        let grid = model.vit.grid();
        let c = &model.file.config;
        reports.push(ModelReport {
            name: model.file.card.name.clone(),
            file: model_path.display().to_string(),
            family: model.file.card.family.label().into(),
            image_size: model.vit.image_size(),
            grid,
            patch_size: c.patch_size,
            depth: c.depth,
            heads: c.heads,
            curves: mean.curves(grid),
            quartiles: LayerMetrics::quartiles_of(&per_image, grid),
            headline_bin: headline_bin(grid),
            delta_log_amplitude_full: mean.delta_log_amplitude.clone(),
        });
        eprintln!("{}: {} images analysed", model.file.card.name, per_image.len());
        if args.into_card {
            store_in_card(model_path, &args, images.len(), model.vit.image_size(), mean.curves(grid))?;
        }
    }

    let report = Report {
        tool: format!("vitscope {}", env!("CARGO_PKG_VERSION")),
        metrics: Metric::ALL
            .into_iter()
            .map(|m| MetricInfo { key: m.key(), title: m.title(), unit: m.unit(), axis: m.axis() })
            .collect(),
        images: images.iter().map(|(n, _)| n.clone()).collect(),
        skipped,
        models: reports,
    };
    let json = serde_json::to_string_pretty(&report).expect("plain data serialises");
    std::fs::write(&args.out, json).map_err(|e| format!("{}: {e}", args.out.display()))?;
    if let Some(dir) = &args.csv {
        write_csv(dir, &report)?;
    }
    if let Some(dir) = &args.svg {
        write_svg(dir, &report, args.paper)?;
    }
    println!("wrote {}", args.out.display());
    Ok(())
}

fn store_in_card(
    path: &Path,
    args: &Args,
    images: usize,
    image_size: usize,
    curves: BTreeMap<String, Curve>,
) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (_, mut card, _) = ModelFile::read_header(&bytes).map_err(|e| e.to_string())?;
    let dataset = args.dataset.clone().unwrap_or_else(|| {
        args.images
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_default()
    });
    card.reference_curves = Some(ReferenceCurves { dataset, images, image_size, curves });
    let updated = replace_card(&bytes, &card).map_err(|e| e.to_string())?;
    std::fs::write(path, updated).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("{}: reference curves stored in the card", path.display());
    Ok(())
}

pub(crate) fn file_stem(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

/// One CSV per model: `metric,layer,index,value` (index = head or frequency bin; empty for means).
fn write_csv(dir: &Path, report: &Report) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for m in &report.models {
        let path = dir.join(format!("{}.csv", file_stem(&m.name)));
        std::fs::write(&path, metrics_csv(&m.curves, &m.delta_log_amplitude_full))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

fn write_svg(dir: &Path, report: &Report, with_paper: bool) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for metric in Metric::ALL {
        let mut series: Vec<Series> = report
            .models
            .iter()
            .filter_map(|m| {
                let curve = m.curves.get(metric.key())?;
                let x = |i: usize| metric.axis().number(i) as f64;
                Some(Series {
                    label: format!("{} ({})", m.name, m.family),
                    line: curve.mean.iter().enumerate().map(|(i, &v)| (x(i), v as f64)).collect(),
                    dots: curve
                        .per_head
                        .iter()
                        .enumerate()
                        .flat_map(|(i, heads)| heads.iter().map(move |&v| (x(i), v as f64)))
                        .collect(),
                    band: m.quartiles.get(metric.key()).map_or_else(Vec::new, |q| interquartile_band(q, x)),
                    dashed: false,
                    color: None,
                })
            })
            .collect();
        if with_paper {
            series.extend(paper::curves_for(metric).map(|p| Series::paper(p, None)));
        }
        let svg = line_chart(metric.title(), metric.axis().label(), metric.unit(), &series, (720, 420))?;
        let path = dir.join(format!("{metric}.svg"));
        std::fs::write(&path, svg).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}
