//! The CLI as a new user runs it: convert every layout, inspect, analyse the gallery with two models.

#[path = "../../core/tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::Command;

use common::*;

fn vitscope(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vitscope")).args(args).output().expect("runs")
}

/// `vitscope analyze` of one model over a folder, writing `report`.
fn analyze_one<'a>(model: &'a Path, images: &'a Path, report: &'a Path) -> [&'a str; 7] {
    let text = |p: &'a Path| p.to_str().unwrap();
    ["analyze", "--models", text(model), "--images", text(images), "--out", text(report)]
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("vitscope-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn convert_info_and_analyze_end_to_end() {
    let dir = temp_dir("e2e");
    let mut outputs = Vec::new();
    for layout in ["mocov3", "simmim", "mae", "dino", "dino-full", "beit", "timm"] {
        let out = dir.join(format!("{layout}.safetensors"));
        let o = vitscope(&[
            "convert",
            checkpoint_path(layout).to_str().unwrap(),
            "--heads",
            "2",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{layout}: {}", String::from_utf8_lossy(&o.stderr));
        assert!(String::from_utf8_lossy(&o.stdout).contains(&format!("({layout} layout)")));
        outputs.push(out);
    }
    let info = vitscope(&["info", outputs[1].to_str().unwrap()]);
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(text.contains("[MIM]") && text.contains("Shared relative bias") && text.contains("int8"), "{text}");

    let report = dir.join("report.json");
    let models = format!("{},{}", outputs[0].display(), outputs[1].display());
    let gallery = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../www/gallery");
    let o = vitscope(&[
        "analyze",
        "--models",
        &models,
        "--images",
        gallery.to_str().unwrap(),
        "--out",
        report.to_str().unwrap(),
        "--csv",
        dir.join("csv").to_str().unwrap(),
        "--svg",
        dir.join("svg").to_str().unwrap(),
        "--paper",
        "--into-card",
        "--dataset",
        "gallery",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(json["images"].as_array().unwrap().len(), 22);
    let models = json["models"].as_array().unwrap();
    assert_eq!(models.len(), 2);
    for m in models {
        let distance = &m["curves"]["attention_distance"];
        assert_eq!(distance["mean"].as_array().unwrap().len(), 2, "one value per layer");
        assert_eq!(distance["per_head"][0].as_array().unwrap().len(), 2, "one value per head");
        let d = distance["mean"][0].as_f64().unwrap();
        assert!(d > 0.0 && d < 48.0 * 1.5, "distance {d} px must lie inside the image diagonal");
        let nmi = m["curves"]["nmi"]["mean"][1].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&nmi));
        assert_eq!(m["curves"]["delta_log_amplitude"]["mean"].as_array().unwrap().len(), 3, "depths 0..=2");
        // The spread over the 22 photos: quartiles per layer, ordered, around a median inside the range.
        for (metric, layers) in
            [("attention_distance", 2), ("nmi", 2), ("token_similarity", 3), ("delta_log_amplitude", 3)]
        {
            let q = &m["quartiles"][metric];
            let at = |key: &str, layer: usize| q[key][layer].as_f64().unwrap();
            assert_eq!(q["median"].as_array().unwrap().len(), layers, "{metric}");
            for layer in 0..layers {
                assert!(
                    at("q1", layer) <= at("median", layer) && at("median", layer) <= at("q3", layer),
                    "{metric} {layer}"
                );
            }
            assert!(at("q1", 0) < at("q3", 0), "{metric}: 22 different photos spread");
        }
    }
    for metric in ["attention_distance", "nmi", "delta_log_amplitude", "token_similarity", "head_similarity"] {
        let svg = std::fs::read_to_string(dir.join("svg").join(format!("{metric}.svg"))).unwrap();
        assert!(svg.contains("<svg") && svg.contains("<polyline"), "{metric}.svg has lines");
        assert_eq!(svg.matches("<polygon").count(), 2, "{metric}.svg shades each model's interquartile band");
    }
    let csv = std::fs::read_to_string(dir.join("csv").join("vit-s-300ep.csv")).unwrap();
    assert!(csv.starts_with("metric,layer,index,value\n") && csv.contains("\nnmi,2,1,"));
    // --into-card stored the same curves in the model file.
    let info = vitscope(&["info", outputs[0].to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&info.stdout).contains("5 curves over 22 images of gallery at 48 px"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn card_fields_can_be_overridden_on_conversion() {
    let dir = temp_dir("card");
    let card = dir.join("card.json");
    std::fs::write(&card, r#"{"family": "hybrid", "notes": "trained by vitscope", "license": "MIT"}"#).unwrap();
    let out = dir.join("h.safetensors");
    let o = vitscope(&[
        "convert",
        checkpoint_path("simmim").to_str().unwrap(),
        "--card",
        card.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let info = String::from_utf8_lossy(&vitscope(&["info", out.to_str().unwrap()]).stdout).into_owned();
    assert!(info.contains("[hybrid]") && info.contains("trained by vitscope") && info.contains("MIT"), "{info}");
    std::fs::write(&card, r#"{"family": "alien"}"#).unwrap();
    let o = vitscope(&[
        "convert",
        checkpoint_path("simmim").to_str().unwrap(),
        "--card",
        card.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("the merged card is invalid"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_inputs_exit_nonzero_with_a_sentence() {
    let dir = temp_dir("bad");
    let o = vitscope(&["info", fixtures().join("images/plain.jpg").to_str().unwrap()]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.starts_with("error: ") && err.contains("plain.jpg"), "{err}");
    let o = vitscope(&[
        "convert",
        fixtures().join("bad/mocov3_missing_key.pth.tar").to_str().unwrap(),
        "--heads",
        "2",
        "--out",
        dir.join("x.safetensors").to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("blocks.1.mlp.fc2.bias"), "{err}");
    assert_eq!(err.matches("mocov3_missing_key.pth.tar").count(), 1, "the file is named once: {err}");
    let garbage = dir.join("garbage.pth");
    std::fs::write(&garbage, b"definitely not a checkpoint").unwrap();
    let o = vitscope(&["convert", garbage.to_str().unwrap(), "--out", dir.join("y.safetensors").to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.starts_with(&format!("error: {}: not a readable PyTorch checkpoint", garbage.display())), "{err}");
    assert!(!dir.join("x.safetensors").exists(), "nothing is written on failure");
    // A folder with one good and several broken images: the good one is analysed, the rest listed.
    let images = dir.join("images");
    std::fs::create_dir_all(&images).unwrap();
    for name in ["plain.jpg", "truncated.jpg", "bomb.png", "empty.jpg"] {
        std::fs::copy(fixtures().join("images").join(name), images.join(name)).unwrap();
    }
    let model = dir.join("m.safetensors");
    vitscope(&["convert", checkpoint_path("simmim").to_str().unwrap(), "--out", model.to_str().unwrap()]);
    let report = dir.join("r.json");
    let o = vitscope(&analyze_one(&model, &images, &report));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(json["images"].as_array().unwrap().len(), 1);
    assert_eq!(json["skipped"].as_array().unwrap().len(), 3);
    std::fs::remove_dir_all(&dir).ok();
}

/// Runs the CLI, killing it after `limit`: a file that blocks (a pipe) must not hang the test.
fn vitscope_within(args: &[&str], limit: std::time::Duration) -> std::process::Output {
    let child = Command::new(env!("CARGO_BIN_EXE_vitscope"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    let id = child.id();
    let (done, waited) = std::sync::mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    waited
        .recv_timeout(limit)
        .unwrap_or_else(|_| {
            let _ = Command::new("kill").arg("-9").arg(id.to_string()).status();
            panic!("vitscope {args:?} still ran after {limit:?}");
        })
        .expect("waits")
}

#[test]
#[cfg(unix)]
fn analyze_skips_each_hostile_file_in_a_folder_with_its_reason() {
    use std::os::unix::ffi::OsStrExt;
    let dir = temp_dir("hostile");
    let images = dir.join("images");
    std::fs::create_dir_all(images.join("folder.jpg")).unwrap();
    let fixture = |name: &str| fixtures().join("images").join(name);
    std::fs::copy(fixture("plain.jpg"), images.join("plain.jpg")).unwrap();
    // A name that is HTML, and one that is not UTF-8: both just names (JPEG bytes under `.png`).
    std::fs::copy(fixture("plain.jpg"), images.join("<img src=x onerror=alert(1)>.png")).unwrap();
    std::fs::copy(fixture("plain.jpg"), images.join(std::ffi::OsStr::from_bytes(b"\xff photo.jpg"))).unwrap();
    for name in ["bomb.png", "not_an_image.png", "empty.jpg"] {
        std::fs::copy(fixture(name), images.join(name)).unwrap();
    }
    for name in ["crashes-0.jpg", "crashes-1.jpg", "crashes-2.jpg", "crashes-3.jpg"] {
        std::fs::copy(fixtures().join("hostile/image").join(name), images.join(format!("fuzz-{name}"))).unwrap();
    }
    // Sparse: 300 MB that take no disk, past the 250 MB an image may have.
    std::fs::File::create(images.join("huge.jpg")).unwrap().set_len(300_000_000).unwrap();
    assert!(Command::new("mkfifo").arg(images.join("pipe.png")).status().unwrap().success());
    std::os::unix::fs::symlink("/dev/zero", images.join("zero.gif")).unwrap();
    std::os::unix::fs::symlink("loop.webp", images.join("loop.webp")).unwrap();

    let model = dir.join("m.safetensors");
    vitscope(&["convert", checkpoint_path("simmim").to_str().unwrap(), "--out", model.to_str().unwrap()]);
    let report = dir.join("r.json");
    let o = vitscope_within(&analyze_one(&model, &images, &report), std::time::Duration::from_secs(300));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let analysed: Vec<&str> = json["images"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(analysed, ["<img src=x onerror=alert(1)>.png", "plain.jpg", "\u{fffd} photo.jpg"]);
    let skipped: std::collections::BTreeMap<&str, &str> = json["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["file"].as_str().unwrap(), s["error"].as_str().unwrap()))
        .collect();
    let expected = [
        ("bomb.png", "100000×100000"),
        ("empty.jpg", "the file is empty"),
        ("folder.jpg", "not a regular file"),
        ("fuzz-crashes-0.jpg", "damaged or truncated"),
        ("fuzz-crashes-1.jpg", "damaged or truncated"),
        ("fuzz-crashes-2.jpg", "damaged or truncated"),
        ("fuzz-crashes-3.jpg", "damaged or truncated"),
        ("huge.jpg", "the file has 300 MB; vitscope reads images of at most 250 MB"),
        ("loop.webp", "symbolic links"),
        ("not_an_image.png", "not an image"),
        ("pipe.png", "not a regular file"),
        ("zero.gif", "not a regular file"),
    ];
    assert_eq!(skipped.keys().copied().collect::<Vec<_>>(), expected.map(|(f, _)| f));
    for (file, reason) in expected {
        assert!(skipped[file].contains(reason), "{file}: {}", skipped[file]);
    }
    // Each reason is also said as it happens.
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(stderr.matches("warning: skipping").count(), expected.len(), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn probe_reports_each_layers_accuracy_over_class_folders_and_skips_what_has_no_class() {
    let dir = temp_dir("probe");
    let model = dir.join("moco.safetensors");
    let checkpoint = checkpoint_path("mocov3");
    let o = vitscope(&["convert", checkpoint.to_str().unwrap(), "--heads", "2", "--out", model.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Two classes, each a photo's shifted crops: separable by any features.
    let images = dir.join("labelled");
    let gallery = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../www/gallery");
    for (class, photo) in [("coffee", "skimage_coffee.jpg"), ("astronaut", "skimage_astronaut.jpg")] {
        std::fs::create_dir_all(images.join(class).join("more")).unwrap();
        let img = image::open(gallery.join(photo)).unwrap().to_rgb8();
        let (w, h) = img.dimensions();
        for shift in 0..6u32 {
            let crop = image::imageops::crop_imm(&img, shift * 8, shift * 4, w - 48, h - 24).to_image();
            // Deeper folders belong to their first-level class.
            let sub = if shift == 5 { "more/" } else { "" };
            crop.save(images.join(class).join(format!("{sub}{shift}.png"))).unwrap();
        }
    }
    std::fs::copy(gallery.join("skimage_camera.jpg"), images.join("loose.jpg")).unwrap();
    let (report, svg) = (dir.join("probe.json"), dir.join("svg"));
    let text = |p: &Path| p.to_str().unwrap().to_string();
    let o = vitscope(&[
        "probe",
        "--models",
        &text(&model),
        "--images",
        &text(&images),
        "--out",
        &text(&report),
        "--svg",
        &text(&svg),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(
        json["classes"],
        serde_json::json!([{"name": "astronaut", "images": 6}, {"name": "coffee", "images": 6}])
    );
    assert_eq!(json["majority"], 0.5);
    assert_eq!(json["images"][5], serde_json::json!({"file": "astronaut/more/5.png", "class": 0}));
    assert_eq!(json["skipped"], serde_json::json!([{"file": "loose.jpg", "error": "not in a class subfolder"}]));
    let m = &json["models"][0];
    for probe in ["knn_cls", "knn_avg", "linear_avg"] {
        let curve: Vec<f64> = m[probe].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        assert_eq!(curve.len(), 2, "{probe}: one accuracy per layer");
        assert!(curve.iter().all(|&a| (0.0..=1.0).contains(&a)), "{probe}: {curve:?}");
    }
    assert_eq!(m["knn_avg"], serde_json::json!([1.0, 1.0]), "two photos' crops are told apart at every layer");
    for probe in ["knn_cls", "knn_avg", "linear_avg"] {
        let chart = std::fs::read_to_string(svg.join(format!("{probe}.svg"))).unwrap();
        assert!(chart.contains("largest class (always naming it)"), "{probe}.svg has the chance line");
    }

    let probe = |images: &Path| {
        vitscope(&["probe", "--models", &text(&model), "--images", &text(images), "--out", &text(&report)])
    };
    // The report of a probe that must succeed.
    let probed = |images: &Path| -> serde_json::Value {
        let o = probe(images);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap()
    };
    let refused = |images: &Path, says: &str| {
        let o = probe(images);
        assert!(!o.status.success());
        assert!(String::from_utf8_lossy(&o.stderr).contains(says), "{}", String::from_utf8_lossy(&o.stderr));
    };

    // One class is not a probe.
    let one = dir.join("one");
    std::fs::create_dir_all(one.join("coffee")).unwrap();
    std::fs::copy(gallery.join("skimage_coffee.jpg"), one.join("coffee/a.jpg")).unwrap();
    refused(&one, "a probe needs images of at least two classes (found 1)");

    // A labels.csv names the classes instead: here of one flat folder, the photos' crops interleaved.
    let listed = dir.join("listed");
    std::fs::create_dir_all(&listed).unwrap();
    let mut csv = String::from("file,label\n");
    for (i, class) in ["astronaut", "coffee"].iter().cycle().take(12).enumerate() {
        let name = format!("{:02}.png", i);
        std::fs::copy(images.join(class).join(format!("{}.png", i / 2 % 5)), listed.join(&name)).unwrap();
        csv += &format!("{name},{class}\n");
    }
    std::fs::copy(gallery.join("skimage_camera.jpg"), listed.join("unlisted.jpg")).unwrap();
    std::fs::write(listed.join("labels.csv"), &csv).unwrap();
    let json = probed(&listed);
    assert_eq!(
        json["classes"],
        serde_json::json!([{"name": "astronaut", "images": 6}, {"name": "coffee", "images": 6}])
    );
    assert_eq!(json["images"][1], serde_json::json!({"file": "01.png", "class": 1}));
    assert_eq!(json["skipped"], serde_json::json!([{"file": "unlisted.jpg", "error": "not listed in labels.csv"}]));
    assert_eq!(json["models"][0]["knn_avg"], serde_json::json!([1.0, 1.0]));
    // Written where case does not count (`Labels.CSV` naming `00.PNG`): the same list, as the page reads it.
    std::fs::remove_file(listed.join("labels.csv")).unwrap();
    std::fs::write(listed.join("Labels.CSV"), csv.replace(".png", ".PNG")).unwrap();
    let again = probed(&listed);
    assert_eq!(
        (&again["classes"], &again["images"], &again["skipped"]),
        (&json["classes"], &json["images"], &json["skipped"])
    );
    std::fs::remove_file(listed.join("Labels.CSV")).unwrap();
    // An image that does not decode still places its class, as the page numbers classes before
    // decoding: coffee's first listed image is broken, and coffee is still the first class.
    std::fs::copy(fixtures().join("images/truncated.jpg"), listed.join("!broken.jpg")).unwrap();
    std::fs::write(listed.join("labels.csv"), csv.replace("file,label\n", "file,label\n!broken.jpg,coffee\n")).unwrap();
    let json = probed(&listed);
    assert_eq!(
        json["classes"],
        serde_json::json!([{"name": "coffee", "images": 6}, {"name": "astronaut", "images": 6}])
    );
    assert_eq!(json["images"][1], serde_json::json!({"file": "01.png", "class": 0}));
    assert_eq!(json["skipped"][0]["file"], "!broken.jpg");
    std::fs::remove_file(listed.join("!broken.jpg")).unwrap();
    // A broken one stops the probe with its line.
    std::fs::write(listed.join("labels.csv"), "file,label\n00.png\n").unwrap();
    refused(&listed, "labels.csv line 2: expected `file,label`, found 1 field");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bench_reports_its_arithmetic_and_times() {
    let model =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../www/models/vitscope-simmim-ti8.safetensors");
    for arithmetic in ["f32", "int8"] {
        let o = vitscope(&[
            "bench",
            "--model",
            model.to_str().unwrap(),
            "--runs",
            "1",
            "--warmup",
            "0",
            "--arithmetic",
            arithmetic,
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!((report["arithmetic"].as_str(), report["precision"].as_str()), (Some(arithmetic), Some("int8")));
        assert!(
            report["median_ms"].as_f64().unwrap() > 0.0 && report["forward_only_median_ms"].as_f64().unwrap() > 0.0
        );
    }
    let o = vitscope(&["bench", "--model", model.to_str().unwrap(), "--arithmetic", "int4"]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("int4"));
    let path = model.to_str().unwrap();
    let o = vitscope(&["bench", "--model", path, "--runs", "1", "--warmup", "0", "--batch", "3"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["batch"], 3);
    let o = vitscope(&["bench", "--model", path, "--batch", "0"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && stderr.contains("--batch") && stderr.contains("1..=1024"), "{stderr}");
}
