//! Exports (PNG of the current view with its legend, CSV and JSON of every metric), the embed
//! snippet, and the embedded page's height report to its parent.

use serde::Serialize;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};
use yew::html::Scope;
use yew::prelude::*;

use super::super::component::{App, Msg, window};
use super::super::state::Colormap;
use crate::analysis::LayerMetrics;
use crate::analysis::report::metrics_csv;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Png,
    Csv,
    Json,
}

#[derive(Serialize)]
struct ModelExport<'a> {
    id: &'a str,
    name: &'a str,
    family: &'a str,
    image_size: u32,
    grid: usize,
    metrics: &'a LayerMetrics,
}

#[derive(Serialize)]
struct Export<'a> {
    tool: String,
    image: &'a str,
    width: u32,
    height: u32,
    backend: &'a str,
    models: Vec<ModelExport<'a>>,
}

fn download(name: &str, bytes: &[u8], mime: &str) -> Result<(), String> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(|e| format!("{e:?}"))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| format!("{e:?}"))?;
    let document = window().document().ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement = document.create_element("a").map_err(|e| format!("{e:?}"))?.unchecked_into();
    a.set_href(&url);
    a.set_download(name);
    a.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

fn stem(app: &App) -> String {
    let image = app.image.as_ref().map_or("image", |i| i.name.as_str());
    let clean: String = image.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    format!("vitscope-{}-{}", app.state.view.key(), clean.trim_end_matches("_jpg").trim_end_matches("_png"))
}

pub fn export(app: &App, kind: Kind) -> Result<(), String> {
    let analysis = app.analysis.clone().ok_or("nothing to export yet: choose an image first")?;
    match kind {
        Kind::Json => {
            let export = Export {
                tool: format!("vitscope {}", env!("CARGO_PKG_VERSION")),
                image: app.image.as_ref().map_or("", |i| i.name.as_str()),
                width: analysis.width,
                height: analysis.height,
                backend: app.backend.as_ref().map_or("", |b| b.0.label()),
                models: analysis
                    .models
                    .iter()
                    .filter_map(|m| {
                        let info = app.model_info(&m.id)?;
                        Some(ModelExport {
                            id: &m.id,
                            name: &info.name,
                            family: &info.family,
                            image_size: m.size,
                            grid: m.snapshot.grid,
                            metrics: &m.snapshot.metrics,
                        })
                    })
                    .collect(),
            };
            let text = serde_json::to_string_pretty(&export).map_err(|e| e.to_string())?;
            download(&format!("{}.json", stem(app)), text.as_bytes(), "application/json")
        }
        Kind::Csv => {
            let mut out = String::from("model,metric,layer,index,value\n");
            for m in &analysis.models {
                let csv =
                    metrics_csv(&m.snapshot.metrics.curves(m.snapshot.grid), &m.snapshot.metrics.delta_log_amplitude);
                for line in csv.lines().skip(1) {
                    out += &format!("{},{line}\n", m.id);
                }
            }
            download(&format!("{}.csv", stem(app)), out.as_bytes(), "text/csv")
        }
        Kind::Png => {
            let name = format!("{}.png", stem(app));
            let title = format!(
                "vitscope · {} · {} · layer {}",
                app.state.view.title(),
                app.image.as_ref().map_or("", |i| i.name.as_str()),
                app.state.layer + 1
            );
            let colormap = app.state.colormap;
            wasm_bindgen_futures::spawn_local(async move {
                if let Err(e) = compose_png(&title, &name, colormap).await {
                    web_sys::console::error_1(&e.into());
                }
            });
            Ok(())
        }
    }
}

async fn load_svg(svg: &str) -> Result<web_sys::HtmlImageElement, String> {
    let img = web_sys::HtmlImageElement::new().map_err(|e| format!("{e:?}"))?;
    let encoded = js_sys::encode_uri_component(svg);
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        img.set_onload(Some(&resolve));
        img.set_onerror(Some(&reject));
    });
    img.set_src(&format!("data:image/svg+xml;charset=utf-8,{}", String::from(encoded)));
    wasm_bindgen_futures::JsFuture::from(promise).await.map_err(|_| "a chart could not be drawn".to_string())?;
    Ok(img)
}

/// The text of `selector` inside the element's closest `ancestor` (a panel's title, a figure's caption).
fn nearby_text(element: &web_sys::Element, ancestor: &str, selector: &str) -> String {
    element
        .closest(ancestor)
        .ok()
        .flatten()
        .and_then(|a| a.query_selector(selector).ok().flatten())
        .and_then(|e| e.text_content())
        .unwrap_or_default()
}

/// Every canvas and chart of the view, labelled, with the colour legend, on one white sheet.
async fn compose_png(title: &str, name: &str, cmap: Colormap) -> Result<(), String> {
    let document = window().document().ok_or("no document")?;
    let view = document.get_element_by_id("view").ok_or("no view")?;
    let mut items: Vec<(String, JsValue, f64, f64)> = Vec::new();
    let canvases = view.query_selector_all("canvas").map_err(|e| format!("{e:?}"))?;
    for i in 0..canvases.length() {
        let Some(c) = canvases.item(i).and_then(|n| n.dyn_into::<HtmlCanvasElement>().ok()) else { continue };
        let (label, caption) = (nearby_text(&c, "article", "h3"), nearby_text(&c, "figure", "figcaption"));
        items.push((format!("{label} {caption}").trim().to_string(), c.into(), 224.0, 224.0));
    }
    let charts = view.query_selector_all(".chart svg").map_err(|e| format!("{e:?}"))?;
    for i in 0..charts.length() {
        let Some(svg) = charts.item(i).and_then(|n| n.dyn_into::<web_sys::Element>().ok()) else { continue };
        let img = load_svg(&svg.outer_html()).await?;
        items.push((String::new(), img.into(), 640.0, 400.0));
    }
    let columns = if items.iter().any(|i| i.2 > 300.0) { 2.0 } else { 4.0f64.min(items.len().max(1) as f64) };
    let cell_w = items.iter().map(|i| i.2).fold(0.0, f64::max) + 16.0;
    let cell_h = items.iter().map(|i| i.3).fold(0.0, f64::max) + 36.0;
    let rows = (items.len() as f64 / columns).ceil().max(1.0);
    let canvas: HtmlCanvasElement = document.create_element("canvas").map_err(|e| format!("{e:?}"))?.unchecked_into();
    canvas.set_width((columns * cell_w + 16.0) as u32);
    canvas.set_height((rows * cell_h + 90.0) as u32);
    let ctx: CanvasRenderingContext2d =
        canvas.get_context("2d").ok().flatten().ok_or("no 2d context")?.unchecked_into();
    ctx.set_fill_style_str("#fff");
    ctx.fill_rect(0.0, 0.0, canvas.width() as f64, canvas.height() as f64);
    ctx.set_fill_style_str("#111");
    ctx.set_font("16px sans-serif");
    let _ = ctx.fill_text(title, 16.0, 24.0);
    ctx.set_image_smoothing_enabled(false);
    for (k, (label, source, w, h)) in items.iter().enumerate() {
        let (x, y) = ((k as f64 % columns) * cell_w + 16.0, (k as f64 / columns).floor() * cell_h + 44.0);
        ctx.set_font("13px sans-serif");
        let _ = ctx.fill_text(label, x, y + 12.0);
        let result = if let Some(c) = source.dyn_ref::<HtmlCanvasElement>() {
            ctx.draw_image_with_html_canvas_element_and_dw_and_dh(c, x, y + 20.0, *w, *h)
        } else {
            ctx.draw_image_with_html_image_element_and_dw_and_dh(source.unchecked_ref(), x, y + 20.0, *w, *h)
        };
        result.map_err(|e| format!("{e:?}"))?;
    }
    // The colour legend, as on the page.
    if view.query_selector(".colorbar .bar").ok().flatten().is_some() {
        let y = rows * cell_h + 56.0;
        let gradient = ctx.create_linear_gradient(16.0, 0.0, 336.0, 0.0);
        let spans = view.query_selector_all(".colorbar span").map_err(|e| format!("{e:?}"))?;
        let text = |i| spans.item(i).and_then(|n| n.text_content()).unwrap_or_default();
        for i in 0..=10 {
            let [r, g, b] = cmap.rgb(i as f32 / 10.0);
            let _ = gradient.add_color_stop(i as f32 / 10.0, &format!("rgb({r},{g},{b})"));
        }
        ctx.set_fill_style_canvas_gradient(&gradient);
        ctx.fill_rect(16.0, y, 320.0, 14.0);
        ctx.set_fill_style_str("#111");
        let _ = ctx.fill_text(&format!("{} → {}", text(0), text(2)), 350.0, y + 12.0);
    }
    let url = canvas.to_data_url_with_type("image/png").map_err(|e| format!("{e:?}"))?;
    let a: web_sys::HtmlAnchorElement = document.create_element("a").map_err(|e| format!("{e:?}"))?.unchecked_into();
    a.set_href(&url);
    a.set_download(name);
    a.click();
    Ok(())
}

/// This state's full-page address (embeds link back to it).
pub fn full_page_url(app: &App) -> String {
    let location = window().location();
    let base = format!("{}{}", location.origin().unwrap_or_default(), location.pathname().unwrap_or_default());
    format!("{base}#{}", app.state.to_hash())
}

pub fn embed_snippet(app: &App) -> String {
    let location = window().location();
    let base = format!("{}{}", location.origin().unwrap_or_default(), location.pathname().unwrap_or_default());
    let src = format!("{base}?embed=1&view={}#{}", app.state.view.key(), app.state.to_hash());
    format!(
        "<iframe id=\"vitscope-embed\" src=\"{src}\" title=\"vitscope: {} of self-supervised ViTs\" style=\"width:100%;height:560px;border:0\" loading=\"lazy\"></iframe>\n<script>addEventListener('message',function(e){{if(e.data&&e.data.vitscopeHeight){{document.getElementById('vitscope-embed').style.height=e.data.vitscopeHeight+'px'}}}})</script>",
        app.state.view.title().to_lowercase()
    )
}

pub fn buttons(app: &App, link: &Scope<App>) -> Html {
    let ready = app.analysis.is_some();
    let own_image = app.image.as_ref().is_some_and(|i| i.gallery.is_none());
    html! {
        <section class="export" aria-label="Export and share">
            <button disabled={!ready} onclick={link.callback(|_| Msg::Export(Kind::Png))}>{ "Save view as PNG" }</button>
            <button disabled={!ready} onclick={link.callback(|_| Msg::Export(Kind::Csv))}>{ "Metrics CSV" }</button>
            <button disabled={!ready} onclick={link.callback(|_| Msg::Export(Kind::Json))}>{ "Metrics JSON" }</button>
            <button aria-expanded={app.embed_open.to_string()} onclick={link.callback(|_| Msg::ToggleEmbed)}>{ "Embed" }</button>
            if app.embed_open {
                <div class="embed-box">
                    <label for="embed-code">{ "Paste this into a web page (it resizes itself):" }</label>
                    <textarea id="embed-code" readonly=true rows="4" value={embed_snippet(app)} onfocus={Callback::from(|e: FocusEvent| {
                        if let Some(t) = e.target_dyn_into::<web_sys::HtmlTextAreaElement>() { t.select(); }
                    })} />
                    if own_image {
                        <p class="caption">{ "Your own image is not part of the link (it never leaves this page): the embed shows the first gallery photo." }</p>
                    }
                </div>
            }
        </section>
    }
}

/// Tells an embedding page how tall this one is.
pub fn post_height() {
    let w = window();
    let Ok(Some(parent)) = w.parent() else { return };
    if parent == w {
        return;
    }
    let height = w.document().and_then(|d| d.document_element()).map_or(0, |e| e.scroll_height());
    let message = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&message, &"vitscopeHeight".into(), &JsValue::from(height));
    let _ = parent.post_message(&message, "*");
}
