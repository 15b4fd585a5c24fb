//! The URL: parameters read with the browser's `URLSearchParams` (it does the percent-decoding), the
//! hash kept current with `history.replaceState`, and the links that embeds and the Embed button give.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::UrlSearchParams;

use super::dom::window;
use crate::store::ViewState;
use crate::store::settings::Params;

/// `?a=1&b=2` or `#a=1&b=2` → decoded pairs, in order.
pub fn read_params(text: &str) -> Params {
    let Ok(params) = UrlSearchParams::new_with_str(text.trim_start_matches(['?', '#'])) else { return Vec::new() };
    let entries = params.entries().into_iter().filter_map(Result::ok);
    entries
        .filter_map(|entry| {
            let pair: js_sys::Array = entry.dyn_into().ok()?;
            Some((pair.get(0).as_string()?, pair.get(1).as_string()?))
        })
        .collect()
}

/// The page's `?` and `#` parameters.
pub fn location_params() -> (Params, Params) {
    let Some(location) = window().map(|w| w.location()) else { return Default::default() };
    (read_params(&location.search().unwrap_or_default()), read_params(&location.hash().unwrap_or_default()))
}

/// The hash (without `#`) that restores `view`, less the reader's own model files.
pub fn hash_of(view: &ViewState) -> String {
    let Ok(params) = UrlSearchParams::new() else { return String::new() };
    for (key, value) in view.shareable().to_pairs() {
        params.append(key, &value);
    }
    // Commas are legal in a fragment and keep `q=row,col` and model lists readable.
    String::from(params.to_string()).replace("%2C", ",")
}

/// Replaces the hash when it no longer matches (no history entry, no `hashchange`).
pub fn keep_hash(hash: &str) {
    let Some(window) = window() else { return };
    let wanted = format!("#{hash}");
    if window.location().hash().ok().as_deref() != Some(wanted.as_str())
        && let Ok(history) = window.history()
    {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&wanted));
    }
}

/// Drops the `?` parameters that do not apply from the address bar (the page has named them in a
/// notice), so a reload or a copied link does not carry them on.
pub fn drop_bad_search() {
    let Some(window) = window() else { return };
    let location = window.location();
    let search = read_params(&location.search().unwrap_or_default());
    let valid = ViewState::valid(&search);
    if valid.len() == search.len() {
        return;
    }
    let query = if valid.is_empty() { String::new() } else { format!("?{}", encode(&valid)) };
    let address = format!("{}{query}{}", base(), location.hash().unwrap_or_default());
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&address));
    }
}

fn base() -> String {
    let Some(location) = window().map(|w| w.location()) else { return String::new() };
    format!("{}{}", location.origin().unwrap_or_default(), location.pathname().unwrap_or_default())
}

/// `pairs` percent-encoded as a query string (without `?`).
fn encode(pairs: &[(String, String)]) -> String {
    let Ok(params) = UrlSearchParams::new() else { return String::new() };
    for (key, value) in pairs {
        params.append(key, value);
    }
    params.to_string().into()
}

/// This page's `?model=` and `?manifest=`, so its links and embeds show the same models.
fn model_sources() -> Vec<(String, String)> {
    let Some(location) = window().map(|w| w.location()) else { return Vec::new() };
    let search = read_params(&location.search().unwrap_or_default());
    search.into_iter().filter(|(key, _)| key == "model" || key == "manifest").collect()
}

/// This state's full-page address (embeds link back to it).
pub fn full_page_url(view: &ViewState) -> String {
    let sources = model_sources();
    let query = if sources.is_empty() { String::new() } else { format!("?{}", encode(&sources)) };
    format!("{}{query}#{}", base(), hash_of(view))
}

pub fn embed_snippet(view: &ViewState) -> String {
    let mut pairs = vec![("embed".to_string(), "1".to_string()), ("view".to_string(), view.view.key().to_string())];
    pairs.extend(model_sources());
    // URLSearchParams percent-encodes the sources: a quote in one cannot end the src attribute.
    let src = format!("{}?{}#{}", base(), encode(&pairs), hash_of(view));
    format!(
        "<iframe id=\"vitscope-embed\" src=\"{src}\" title=\"vitscope: {} of self-supervised ViTs\" style=\"width:100%;height:560px;border:0\" loading=\"lazy\"></iframe>\n<script>addEventListener('message',function(e){{if(e.data&&e.data.vitscopeHeight){{document.getElementById('vitscope-embed').style.height=e.data.vitscopeHeight+'px'}}}})</script>",
        view.view.title().to_lowercase()
    )
}

/// Tells an embedding page how tall this one is.
pub fn post_height() {
    let Some(w) = window() else { return };
    let Ok(Some(parent)) = w.parent() else { return };
    if parent == w {
        return;
    }
    let height = w.document().and_then(|d| d.document_element()).map_or(0, |e| e.scroll_height());
    let message = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&message, &"vitscopeHeight".into(), &JsValue::from(height));
    let _ = parent.post_message(&message, "*");
}
