//! A model list (the bundled `models/manifest.json`, or any site's through `?manifest=`): parsed
//! and checked whole before anything in it is fetched, every problem a sentence.

use serde::Deserialize;
use vitscope_protocol::Family;
use vitscope_protocol::download::MAX_MODEL_BYTES;

use crate::settings::MAX_MODELS;

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ManifestEntry {
    pub id: String,
    pub name: String,
    pub family: Family,
    /// Relative to the manifest (or an http(s) address).
    pub file: String,
    pub bytes: u64,
    pub sha256: String,
    /// Where `file` resolves to, when the manifest is not the page's own (`?manifest=`).
    #[serde(skip)]
    pub url: Option<String>,
}

impl ManifestEntry {
    /// The address the worker fetches.
    pub fn address(&self) -> String {
        self.url.clone().unwrap_or_else(|| format!("./models/{}", self.file))
    }
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct Manifest {
    pub models: Vec<ManifestEntry>,
    #[serde(default)]
    pub default_pair: Vec<String>,
    /// What went wrong with a `?manifest=` (shown as notices; the bundled models still work).
    #[serde(skip)]
    pub problems: Vec<String>,
}

impl Manifest {
    /// Parses and checks a manifest: every entry complete, ids unique, sizes within the format's
    /// limit, sha256 in hex, the default pair naming its own models.
    pub fn parse(bytes: &[u8], name: &str) -> Result<Self, String> {
        let manifest: Self = serde_json::from_slice(bytes).map_err(|e| format!("{name} is malformed: {e}"))?;
        if manifest.models.is_empty() {
            return Err(format!("{name} lists no models"));
        }
        for (i, m) in manifest.models.iter().enumerate() {
            let which = format!("{name}: model {} (`{}`)", i + 1, m.id);
            if m.id.trim().is_empty() || m.file.trim().is_empty() || m.name.trim().is_empty() {
                return Err(format!("{which} needs an id, a name and a file"));
            }
            // An id travels in links as one item of a comma-separated list (`m=a,b`), and `file:`
            // names the reader's own files, which links leave out.
            let id_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
            if m.id.len() > 64 || !m.id.chars().all(id_char) {
                return Err(format!("{which}: an id is 1 to 64 letters, digits, `.`, `_` or `-`"));
            }
            if manifest.models[..i].iter().any(|o| o.id == m.id) {
                return Err(format!("{which} repeats an id"));
            }
            if m.bytes == 0 || m.bytes > MAX_MODEL_BYTES {
                return Err(format!("{which} announces {} bytes (at most {MAX_MODEL_BYTES})", m.bytes));
            }
            if m.sha256.len() != 64 || !m.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("{which} has no valid sha256 (64 hex digits)"));
            }
            let lower = m.file.to_ascii_lowercase();
            if lower.contains(':') && !(lower.starts_with("https://") || lower.starts_with("http://")) {
                return Err(format!("{which}: `{}` is neither relative nor http(s)", m.file));
            }
        }
        if manifest.default_pair.len() > MAX_MODELS {
            return Err(format!(
                "{name}: the default pair names {} models; the page shows at most {MAX_MODELS}",
                manifest.default_pair.len()
            ));
        }
        let pair = &manifest.default_pair;
        if let Some(id) = pair.iter().enumerate().find(|(i, id)| pair[..*i].contains(id)).map(|(_, id)| id) {
            return Err(format!("{name}: the default pair names `{id}` twice"));
        }
        if let Some(id) = manifest.default_pair.iter().find(|id| !manifest.models.iter().any(|m| &m.id == *id)) {
            return Err(format!("{name}: the default pair names `{id}`, which it does not list"));
        }
        Ok(manifest)
    }

    /// The author's models first (each with its resolved address), then the bundled ones it does not
    /// shadow; the author's default pair, or its first two models.
    pub fn with_author(self, author: Self) -> Self {
        let pair = if author.default_pair.is_empty() {
            author.models.iter().take(2).map(|m| m.id.clone()).collect()
        } else {
            author.default_pair.clone()
        };
        let mut models = author.models;
        models.extend(self.models.into_iter().filter(|b| !models.iter().any(|a| a.id == b.id)).collect::<Vec<_>>());
        Self { models, default_pair: pair, problems: self.problems }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry_json(id: &str, file: &str, sha: &str, bytes: u64) -> String {
        format!(r#"{{"id":"{id}","name":"N {id}","family":"CL","file":"{file}","bytes":{bytes},"sha256":"{sha}"}}"#)
    }

    #[test]
    fn an_authors_manifest_is_checked_and_comes_first() {
        let sha = "ab".repeat(32);
        let text = format!(
            r#"{{"models":[{},{}],"default_pair":["b16","mine"]}}"#,
            entry_json("b16", "vit-b.safetensors", &sha, 90_000_000),
            entry_json("mine", "https://cdn.example/m.safetensors", &sha, 5)
        );
        let author = Manifest::parse(text.as_bytes(), "blog.json").unwrap();
        let bundled = Manifest::parse(
            format!(
                r#"{{"models":[{},{}]}}"#,
                entry_json("cl", "cl.safetensors", &sha, 9),
                entry_json("b16", "x", &sha, 9)
            )
            .as_bytes(),
            "bundled",
        )
        .unwrap();
        let merged = bundled.with_author(author);
        let ids: Vec<&str> = merged.models.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["b16", "mine", "cl"], "the author's b16 shadows the bundled one");
        assert_eq!(merged.default_pair, ["b16", "mine"]);
        assert_eq!(merged.models[2].address(), "./models/cl.safetensors");

        let bad = |models: String, pair: &str| {
            Manifest::parse(format!(r#"{{"models":[{models}],"default_pair":[{pair}]}}"#).as_bytes(), "m.json")
                .unwrap_err()
        };
        assert_eq!(
            bad(entry_json("a", "a.st", "xyz", 5), ""),
            "m.json: model 1 (`a`) has no valid sha256 (64 hex digits)"
        );
        assert_eq!(
            bad(entry_json("a", "a.st", &sha, 3 << 30), ""),
            "m.json: model 1 (`a`) announces 3221225472 bytes (at most 2147483648)"
        );
        assert_eq!(
            bad(entry_json("a", "javascript:alert(1)", &sha, 5), ""),
            "m.json: model 1 (`a`): `javascript:alert(1)` is neither relative nor http(s)"
        );
        assert_eq!(
            bad(format!("{},{}", entry_json("a", "a", &sha, 5), entry_json("a", "b", &sha, 5)), ""),
            "m.json: model 2 (`a`) repeats an id"
        );
        assert_eq!(
            bad(entry_json("a", "a", &sha, 5), r#""zz""#),
            "m.json: the default pair names `zz`, which it does not list"
        );
        assert!(Manifest::parse(b"<html>not json</html>", "m.json").unwrap_err().starts_with("m.json is malformed"));
        assert_eq!(Manifest::parse(br#"{"models":[]}"#, "m.json").unwrap_err(), "m.json lists no models");
        let five = (0..5).map(|i| entry_json(&format!("m{i}"), "f", &sha, 5)).collect::<Vec<_>>().join(",");
        assert_eq!(
            bad(five, r#""m0","m1","m2","m3","m4""#),
            "m.json: the default pair names 5 models; the page shows at most 4"
        );
        assert_eq!(bad(entry_json("a", "a", &sha, 5), r#""a","a""#), "m.json: the default pair names `a` twice");
        for id in ["a,b", "file:x", "<img>", "a b"] {
            assert_eq!(
                bad(entry_json(id, "a", &sha, 5), ""),
                format!("m.json: model 1 (`{id}`): an id is 1 to 64 letters, digits, `.`, `_` or `-`")
            );
        }
    }

    /// Native only: proptest's random source does not build for the browser target.
    #[cfg(not(target_arch = "wasm32"))]
    mod properties {
        use super::*;

        proptest::proptest! {
            /// A manifest from anywhere (`?manifest=` is any site's JSON) is refused with a message or
            /// accepted whole, never a panic; whatever is accepted keeps the promises the page relies on.
            #[test]
            fn any_manifest_is_refused_or_keeps_its_promises(
                ids in proptest::collection::vec("[a-z0-9,:. <>-]{0,8}", 1..4),
                files in proptest::collection::vec("(https?://|javascript:|data:|\\./|)[a-z/.:]{0,10}", 1..4),
                sizes in proptest::collection::vec(proptest::prelude::any::<u64>(), 1..4),
                sha in "[0-9a-fA-F]{63,65}",
                pair in proptest::collection::vec("[a-z0-9]{0,3}", 0..7),
                cut in proptest::prelude::any::<usize>(),
            ) {
                let n = ids.len().min(files.len()).min(sizes.len());
                let models: Vec<String> = (0..n).map(|i| entry_json(&ids[i], &files[i], &sha, sizes[i])).collect();
                let pair: Vec<String> = pair.iter().map(|p| format!("{p:?}")).collect();
                let text = format!(r#"{{"models":[{}],"default_pair":[{}]}}"#, models.join(","), pair.join(","));
                for bytes in [text.as_bytes(), &text.as_bytes()[..cut % (text.len() + 1)]] {
                    let Ok(m) = Manifest::parse(bytes, "m.json") else { continue };
                    for (i, e) in m.models.iter().enumerate() {
                        proptest::prop_assert!(!e.id.is_empty() && !e.id.contains(',') && !e.id.starts_with("file:"));
                        proptest::prop_assert!(!m.models[..i].iter().any(|o| o.id == e.id));
                        proptest::prop_assert!((1..=MAX_MODEL_BYTES).contains(&e.bytes));
                        proptest::prop_assert!(e.sha256.len() == 64);
                        let lower = e.file.to_ascii_lowercase();
                        proptest::prop_assert!(!lower.starts_with("javascript:") && !lower.starts_with("data:"));
                    }
                    proptest::prop_assert!(m.default_pair.iter().all(|id| m.models.iter().any(|e| &e.id == id)));
                    proptest::prop_assert!(m.default_pair.len() <= MAX_MODELS);
                    proptest::prop_assert!(m.default_pair.iter().enumerate().all(|(i, id)| !m.default_pair[..i].contains(id)));
                }
            }
        }
    }
}
