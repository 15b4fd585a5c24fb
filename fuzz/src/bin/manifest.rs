//! A model list from any site (`?manifest=`): refused with a message or accepted whole; whatever is
//! accepted keeps the promises the page relies on (ids fit links, files are relative or http(s),
//! sizes within the format, a default pair of its own distinct models), also once merged with the
//! bundled list.
use vitscope_links::{MAX_MODELS, Manifest};
use vitscope_protocol::download::MAX_MODEL_BYTES;

fn main() {
    let bundled = Manifest::parse(include_bytes!("../../../www/models/manifest.json"), "bundled").expect("bundled");
    afl::fuzz!(|data: &[u8]| {
        let Ok(m) = Manifest::parse(data, "m.json") else { return };
        for (i, e) in m.models.iter().enumerate() {
            assert!((1..=64).contains(&e.id.len()));
            assert!(e.id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')));
            assert!(!m.models[..i].iter().any(|o| o.id == e.id));
            assert!((1..=MAX_MODEL_BYTES).contains(&e.bytes));
            assert!(e.sha256.len() == 64 && e.sha256.bytes().all(|b| b.is_ascii_hexdigit()));
            let lower = e.file.to_ascii_lowercase();
            assert!(!lower.contains(':') || lower.starts_with("https://") || lower.starts_with("http://"));
        }
        assert!(m.default_pair.len() <= MAX_MODELS);
        assert!(m.default_pair.iter().enumerate().all(|(i, id)| !m.default_pair[..i].contains(id)));
        assert!(m.default_pair.iter().all(|id| m.models.iter().any(|e| &e.id == id)));
        let merged = bundled.clone().with_author(m);
        assert!(merged.models.iter().enumerate().all(|(i, e)| !merged.models[..i].iter().any(|o| o.id == e.id)));
        assert!(merged.default_pair.iter().all(|id| merged.models.iter().any(|e| &e.id == id)));
    });
}
