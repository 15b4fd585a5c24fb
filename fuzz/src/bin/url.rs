//! A link's query and hash, as the page reads them (search, then hash): whatever a link says, the
//! state stays in its ranges, each parameter it could not use is named, and the link the page then
//! writes restores that state exactly. The same promises as `crates/links/src/url.rs`'s property
//! test, with coverage guiding the inputs.
use vitscope_links::{MAX_MODELS, PageParams, Query, ViewState};

/// `a=1&b=2` → pairs, as `URLSearchParams` gives them once decoded.
fn pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (p.to_string(), String::new()),
        })
        .collect()
}

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let text = String::from_utf8_lossy(data);
        let (search, hash) = text.split_once('#').unwrap_or((&text, ""));
        let (search, hash) = (pairs(search), pairs(hash));
        let mut state = ViewState::default();
        let mut page = PageParams::default();
        let mut problems = state.apply(&search, &mut page);
        problems.extend(state.apply(&hash, &mut page));
        assert!(problems.len() <= search.len() + hash.len());
        assert!(state.models.len() <= MAX_MODELS);
        assert!(state.models.iter().all(|id| !id.is_empty() && !id.contains(',')));
        assert!(state.layer < 64 && state.head.is_none_or(|h| h < 64));
        if let Query::Patch { row, col } = state.query {
            assert!(row < 256 && col < 256);
        }
        assert!((0.02..=1.0).contains(&state.filter.cutoff));
        assert!(state.image.as_ref().is_none_or(|i| !i.is_empty() && !i.contains('/') && !i.contains("..")));
        // http(s), or relative to the page (`./a:b` is a path): never `javascript:`, `data:`, `blob:`.
        for url in [&page.model_url, &page.manifest_url].into_iter().flatten() {
            let lower = url.to_ascii_lowercase();
            let relative = url.starts_with("./") || url.starts_with('/');
            assert!(relative || lower.starts_with("https://") || lower.starts_with("http://"), "{url}");
        }
        let link: Vec<(String, String)> = state.to_pairs().into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let mut back = ViewState::default();
        let again = back.apply(&link, &mut PageParams::default());
        assert!(again.is_empty(), "{again:?}");
        state.native.retain(|id| state.models.contains(id));
        assert_eq!(back, state);
    });
}
