//! `vitscope probe`: per-layer kNN and linear-probe accuracy of several models over a labelled folder
//! (one subfolder per class, or a `labels.csv` at its top), as the page's probe computes them.

use std::path::{Path, PathBuf};

use serde::Serialize;

use vitscope_charts::{line_chart, probe_series};
use vitscope_core::analysis::probe::probe_curves;
use vitscope_core::protocol::download::is_image_name;
use vitscope_core::protocol::labels::{LABELS_FILE, Labels, labels_file, number_classes};
use vitscope_core::protocol::probe::{Probe, ProbeCurves, protocol_text};

use super::analyze::{Models, file_stem, progress, read_image};
use super::device;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    run: Models,
    /// A folder with one subfolder of images per class (its name is the class), or with a
    /// `labels.csv` at its top: `file,label` rows, paths relative to the folder.
    #[arg(long)]
    images: PathBuf,
    /// The JSON report.
    #[arg(long)]
    out: PathBuf,
    /// Also write one SVG chart per probe into this folder.
    #[arg(long)]
    svg: Option<PathBuf>,
}

#[derive(Serialize)]
struct Class {
    name: String,
    images: usize,
}

#[derive(Serialize)]
struct Image {
    file: String,
    class: usize,
}

#[derive(Serialize)]
struct Skipped {
    file: String,
    error: String,
}

#[derive(Serialize)]
struct ModelProbes {
    name: String,
    file: String,
    family: String,
    /// Accuracies in [0, 1] after each block (index i is block i + 1).
    #[serde(flatten)]
    curves: ProbeCurves,
}

#[derive(Serialize)]
struct Report {
    tool: String,
    protocol: String,
    classes: Vec<Class>,
    /// The share of the largest class: what always naming it scores.
    majority: f64,
    images: Vec<Image>,
    skipped: Vec<Skipped>,
    models: Vec<ModelProbes>,
}

/// Every image under `dir` with its path relative to it (`/`-separated), in byte order of that path
/// (the order the page sorts a picked folder in).
fn walk(dir: &Path, relative: &str, out: &mut Vec<(String, PathBuf)>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let rel = if relative.is_empty() { name.clone() } else { format!("{relative}/{name}") };
        // Symlinked folders are not followed: a loop would never end.
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            walk(&path, &rel, out)?;
        } else if is_image_name(&name) {
            out.push((rel, path));
        }
    }
    Ok(())
}

pub fn run(args: Args) -> Result<(), String> {
    let mut files = Vec::new();
    walk(&args.images, "", &mut files)?;
    files.sort();
    // The page chooses among the same names by the same rule.
    let top: Vec<String> = std::fs::read_dir(&args.images)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let listed = args.images.join(labels_file(top.iter().map(String::as_str)).unwrap_or(LABELS_FILE));
    let labels = match std::fs::read_to_string(&listed) {
        Ok(text) => Labels::from_csv(&text).map_err(|e| format!("{}: {e}", args.images.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Labels::Subfolders,
        Err(e) => return Err(format!("{}: {e}", listed.display())),
    };
    let mut skipped = Vec::new();
    let mut labelled = Vec::new();
    let classes: Vec<Option<&str>> = files.iter().map(|(rel, _)| labels.class_of(rel)).collect();
    let bar = progress(files.len(), "decoding");
    for ((rel, path), class) in files.iter().zip(&classes) {
        let decoded = match class {
            None => Err(labels.why_unlabelled()),
            Some(class) => read_image(path)
                .and_then(|b| vitscope_core::image::decode(&b).map_err(|e| e.to_string()))
                .map(|img| (class.to_string(), img)),
        };
        match decoded {
            Ok((class, img)) => labelled.push((rel.clone(), class, img)),
            Err(error) => {
                bar.suspend(|| eprintln!("warning: skipping {rel}: {error}"));
                skipped.push(Skipped { file: rel.clone(), error });
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    // Classes in the order their first listed image comes, decoded or not, as the page numbers them
    // before it decodes anything; a class none of whose images decoded is left out.
    let (listed_classes, _) = number_classes(classes.iter().copied());
    let names: Vec<String> =
        listed_classes.into_iter().filter(|n| labelled.iter().any(|(_, class, _)| class == n)).collect();
    let labels: Vec<Option<usize>> =
        labelled.iter().map(|(_, class, _)| names.iter().position(|n| n == class)).collect();
    if names.len() < 2 {
        return Err(format!(
            "{}: a probe needs images of at least two classes (found {}): one subfolder per class, or a labels.csv",
            args.images.display(),
            names.len()
        ));
    }
    let labels: Vec<usize> = labels.into_iter().map(|l| l.expect("every decoded image has a class")).collect();
    let classes: Vec<Class> = names
        .iter()
        .enumerate()
        .map(|(i, n)| Class { name: n.clone(), images: labels.iter().filter(|&&l| l == i).count() })
        .collect();
    let majority = classes.iter().map(|c| c.images).max().unwrap_or(0) as f64 / labels.len() as f64;

    let device = device(args.run.device)?;
    let mut models = Vec::new();
    for model_path in &args.run.models {
        let model = args.run.load(model_path, &device)?;
        let bar = progress(labelled.len(), &model.file.card.name);
        let mut features = Vec::with_capacity(labelled.len());
        for chunk in labelled.chunks(args.run.batch.max(1)) {
            let prepared: Vec<_> = chunk.iter().map(|(_, _, img)| model.prepare(img)).collect();
            let refs: Vec<_> = prepared.iter().collect();
            features.extend(pollster::block_on(model.pooled_features(&refs)).map_err(|e| e.to_string())?);
            bar.inc(chunk.len() as u64);
        }
        bar.finish_and_clear();
        let refs: Vec<_> = features.iter().collect();
        let curves = probe_curves(&refs, &labels, names.len(), &mut |_, _| {});
        eprintln!("{}: {} images probed", model.file.card.name, labels.len());
        models.push(ModelProbes {
            name: model.file.card.name.clone(),
            file: model_path.display().to_string(),
            family: model.file.card.family.label().into(),
            curves,
        });
    }

    let report = Report {
        tool: format!("vitscope {}", env!("CARGO_PKG_VERSION")),
        protocol: protocol_text(),
        classes,
        majority,
        images: labelled
            .iter()
            .zip(&labels)
            .map(|((file, _, _), &class)| Image { file: file.clone(), class })
            .collect(),
        skipped,
        models,
    };
    let json = serde_json::to_string_pretty(&report).expect("plain data serialises");
    std::fs::write(&args.out, json).map_err(|e| format!("{}: {e}", args.out.display()))?;
    if let Some(dir) = &args.svg {
        write_svg(dir, &report)?;
    }
    println!("wrote {}", args.out.display());
    Ok(())
}

fn write_svg(dir: &Path, report: &Report) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let models: Vec<(String, &ProbeCurves)> =
        report.models.iter().map(|m| (format!("{} ({})", m.name, m.family), &m.curves)).collect();
    for probe in Probe::ALL {
        let series = probe_series(probe, &models, report.majority);
        if series.is_empty() {
            continue;
        }
        let svg = line_chart(probe.title(), "layer", "accuracy (%)", &series, (720, 420))?;
        let path = dir.join(format!("{}.svg", file_stem(probe.key())));
        std::fs::write(&path, svg).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}
