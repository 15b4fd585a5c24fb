//! The exports, built from the analysis and the chosen colormap (never read back from the page):
//! CSV and JSON of every metric, and a PNG of the current view's pictures and charts with its legend,
//! drawn on an offscreen canvas.

use crate::figures::picture::ColormapRgb;
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, HtmlImageElement, ImageData};

use super::dom::create;
use crate::figures::charts::{chart, set_charts, view_charts};
use crate::figures::exports::{STILL_COMPUTING, csv, json, probe_csv, probe_json, set_csv, set_json, stem};
use crate::figures::maps::{legend, view_pictures};
use crate::figures::picture::Picture;
use crate::store::{ExportKind, ProbeState, State, View};

fn download_url(name: &str, url: &str) -> Result<(), String> {
    let a: web_sys::HtmlAnchorElement = create("a")?;
    a.set_href(url);
    a.set_download(name);
    a.click();
    Ok(())
}

fn download(name: &str, bytes: &[u8], mime: &str) -> Result<(), String> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(|e| format!("{e:?}"))?;
    download_blob(name, &blob)
}

/// Offers the browser's copy of a file as a download, without reading it.
pub fn download_blob(name: &str, blob: &web_sys::Blob) -> Result<(), String> {
    let url = web_sys::Url::create_object_url_with_blob(blob).map_err(|e| format!("{e:?}"))?;
    let result = download_url(name, &url);
    // The click has started the download; the link's address can go.
    let _ = web_sys::Url::revoke_object_url(&url);
    result
}

/// The measured set's numbers, every image's (`json` also the means and quartiles).
fn export_set(state: &State, json: bool) -> Result<(), String> {
    let set = state.dataset.as_ref().filter(|s| !s.measured.is_empty()).ok_or("no image of the set is measured yet")?;
    let stem = format!("vitscope-set-{}-images", set.measured.len());
    if let ProbeState::Done(probed) = &set.probe {
        let stem = format!("vitscope-probe-{}-images", probed.images);
        return if json {
            download(&format!("{stem}.json"), probe_json(set, probed)?.as_bytes(), "application/json")
        } else {
            download(&format!("{stem}.csv"), probe_csv(probed).as_bytes(), "text/csv")
        };
    }
    if json {
        download(&format!("{stem}.json"), set_json(set)?.as_bytes(), "application/json")
    } else {
        download(&format!("{stem}.csv"), set_csv(set).as_bytes(), "text/csv")
    }
}

pub fn export(kind: ExportKind, state: &State) -> Result<(), String> {
    match kind {
        ExportKind::SetCsv => return export_set(state, false),
        ExportKind::SetJson => return export_set(state, true),
        _ => {}
    }
    let analysis = state.analysis.clone().ok_or("nothing to export yet: choose an image first")?;
    let stem = stem(state.view.view, state.image.as_ref().map_or("image", |i| i.name.as_str()));
    if matches!(kind, ExportKind::Csv | ExportKind::Json) && !analysis.is_derived() {
        return Err(STILL_COMPUTING.into());
    }
    match kind {
        ExportKind::Json => download(&format!("{stem}.json"), json(&analysis)?.as_bytes(), "application/json"),
        ExportKind::Csv => download(&format!("{stem}.csv"), csv(&analysis).as_bytes(), "text/csv"),
        ExportKind::Png => {
            let view = state.view.clone();
            let title = format!("vitscope · {} · {} · layer {}", view.view.title(), analysis.image, view.layer + 1);
            let mut sheet = Sheet { title, pictures: Vec::new(), charts: Vec::new(), legend: None };
            sheet.pictures = view_pictures(&view, &analysis, state.filtered.as_deref());
            for kind in view_charts(&view) {
                if let Some(svg) = chart(kind, &analysis, state.filtered.as_deref()).and_then(|c| c.svg().ok()) {
                    sheet.charts.push(svg);
                }
            }
            // The metrics view shows a measured set's charts under this image's.
            if let Some(set) = state.dataset.as_deref().filter(|_| view.view == View::Metrics) {
                sheet.charts.extend(set_charts(set).iter().filter_map(|c| c.svg().ok()));
            }
            sheet.legend = legend(&view).map(|ends| (ends, view.colormap));
            let name = format!("{stem}.png");
            wasm_bindgen_futures::spawn_local(async move {
                if let Err(e) = sheet.draw(&name).await {
                    web_sys::console::error_1(&e.into());
                }
            });
            Ok(())
        }
        ExportKind::SetCsv | ExportKind::SetJson => unreachable!("exported above"),
    }
}

struct Sheet {
    title: String,
    pictures: Vec<(String, Picture)>,
    charts: Vec<String>,
    legend: Option<((&'static str, &'static str), crate::store::Colormap)>,
}

/// A picture on a canvas of its own resolution, to be scaled onto the sheet.
fn picture_canvas(picture: &Picture) -> Result<HtmlCanvasElement, String> {
    let canvas: HtmlCanvasElement = create("canvas")?;
    let (rgba, size) = picture.rgba();
    canvas.set_width(size);
    canvas.set_height(size);
    let ctx = context(&canvas)?;
    let data = ImageData::new_with_u8_clamped_array(Clamped(&rgba), size).map_err(|e| format!("{e:?}"))?;
    ctx.put_image_data(&data, 0.0, 0.0).map_err(|e| format!("{e:?}"))?;
    Ok(canvas)
}

fn context(canvas: &HtmlCanvasElement) -> Result<CanvasRenderingContext2d, String> {
    canvas.get_context("2d").ok().flatten().ok_or("no 2d context")?.dyn_into().map_err(|_| "no 2d context".into())
}

async fn load_svg(svg: &str) -> Result<HtmlImageElement, String> {
    let img = HtmlImageElement::new().map_err(|e| format!("{e:?}"))?;
    let encoded = js_sys::encode_uri_component(svg);
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        img.set_onload(Some(&resolve));
        img.set_onerror(Some(&reject));
    });
    img.set_src(&format!("data:image/svg+xml;charset=utf-8,{}", String::from(encoded)));
    wasm_bindgen_futures::JsFuture::from(promise).await.map_err(|_| "a chart could not be drawn".to_string())?;
    Ok(img)
}

impl Sheet {
    /// Every picture and chart, labelled, with the colour legend, on one white sheet.
    async fn draw(self, name: &str) -> Result<(), String> {
        enum Item {
            Picture(HtmlCanvasElement),
            Chart(HtmlImageElement),
        }
        let mut items: Vec<(String, Item, f64, f64)> = Vec::new();
        for (label, picture) in &self.pictures {
            items.push((label.clone(), Item::Picture(picture_canvas(picture)?), 224.0, 224.0));
        }
        for svg in &self.charts {
            // Charts grow with their legend (a row per series): drawn at their own size.
            let img = load_svg(svg).await?;
            let (w, h) = (f64::from(img.natural_width()), f64::from(img.natural_height()));
            items.push((String::new(), Item::Chart(img), w, h));
        }
        let columns = if items.iter().any(|i| i.2 > 300.0) { 2.0 } else { 4.0f64.min(items.len().max(1) as f64) };
        let cell_w = items.iter().map(|i| i.2).fold(0.0, f64::max) + 16.0;
        let cell_h = items.iter().map(|i| i.3).fold(0.0, f64::max) + 36.0;
        let rows = (items.len() as f64 / columns).ceil().max(1.0);
        let canvas: HtmlCanvasElement = create("canvas")?;
        canvas.set_width((columns * cell_w + 16.0) as u32);
        canvas.set_height((rows * cell_h + 90.0) as u32);
        let ctx = context(&canvas)?;
        ctx.set_fill_style_str("#fff");
        ctx.fill_rect(0.0, 0.0, canvas.width() as f64, canvas.height() as f64);
        ctx.set_fill_style_str("#111");
        ctx.set_font("16px sans-serif");
        let _ = ctx.fill_text(&self.title, 16.0, 24.0);
        ctx.set_image_smoothing_enabled(false);
        for (k, (label, item, w, h)) in items.iter().enumerate() {
            let (x, y) = ((k as f64 % columns) * cell_w + 16.0, (k as f64 / columns).floor() * cell_h + 44.0);
            ctx.set_font("13px sans-serif");
            let _ = ctx.fill_text(label, x, y + 12.0);
            match item {
                Item::Picture(c) => ctx.draw_image_with_html_canvas_element_and_dw_and_dh(c, x, y + 20.0, *w, *h),
                Item::Chart(img) => ctx.draw_image_with_html_image_element_and_dw_and_dh(img, x, y + 20.0, *w, *h),
            }
            .map_err(|e| format!("{e:?}"))?;
        }
        if let Some(((low, high), colormap)) = self.legend {
            let y = rows * cell_h + 56.0;
            let gradient = ctx.create_linear_gradient(16.0, 0.0, 336.0, 0.0);
            for i in 0..=10 {
                let [r, g, b] = colormap.rgb(i as f32 / 10.0);
                let _ = gradient.add_color_stop(i as f32 / 10.0, &format!("rgb({r},{g},{b})"));
            }
            ctx.set_fill_style_canvas_gradient(&gradient);
            ctx.fill_rect(16.0, y, 320.0, 14.0);
            ctx.set_fill_style_str("#111");
            let _ = ctx.fill_text(&format!("{low} → {high}"), 350.0, y + 12.0);
        }
        let url = canvas.to_data_url_with_type("image/png").map_err(|e| format!("{e:?}"))?;
        download_url(name, &url)
    }
}
