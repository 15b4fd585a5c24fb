//! What the explorer shows, as a value that round-trips through the URL: `?` parameters (for embeds)
//! and the `#` hash (kept up to date while exploring, so every moment has a permalink). Unknown or
//! malformed parameters are reported by name and fall back to their defaults; nothing else is lost.
//! Parameters arrive and leave as decoded `(key, value)` pairs: percent-coding is the browser's
//! `URLSearchParams`' job (see `service::url`), so this stays plain Rust and is tested natively.

use crate::settings::{
    Arithmetic, BackendParam, Colormap, MAX_MODELS, MapKind, PageParams, Query, Theme, View, ViewState,
};

/// Addresses a model or manifest may come from: http(s) or relative, never `javascript:`, `data:` or
/// `blob:` (a link must not make the page run or decode what it carries).
fn web_address(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://") || v.starts_with("./") || v.starts_with('/')
}

/// `a,b,,a` → `[a, b]`: a comma-separated id list, empty items and repeats dropped, order kept.
fn distinct_ids(list: &str) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for id in list.split(',').filter(|s| !s.is_empty()) {
        if !ids.iter().any(|i| i == id) {
            ids.push(id.to_string());
        }
    }
    ids
}

fn one_based(value: &str, name: &str, problems: &mut Vec<String>) -> Option<usize> {
    match value.parse::<usize>() {
        Ok(n) if (1..=64).contains(&n) => Some(n - 1),
        _ => {
            problems.push(format!("`{name}={value}` is not a number from 1 to 64"));
            None
        }
    }
}

impl ViewState {
    /// Applies URL parameters over `self`; returns a message per parameter it could not use.
    pub fn apply(&mut self, params: &[(String, String)], page: &mut PageParams) -> Vec<String> {
        let mut problems = Vec::new();
        for (key, value) in params {
            let v = value.as_str();
            match key.as_str() {
                "models" | "m" => {
                    let ids = distinct_ids(v);
                    if ids.is_empty() || ids.len() > MAX_MODELS {
                        problems
                            .push(format!("`{key}={v}` should list one to {MAX_MODELS} model ids, comma-separated"));
                    } else {
                        self.models = ids;
                    }
                }
                "native" => self.native = distinct_ids(v),
                "image" | "img" => {
                    if v.is_empty() || v.contains('/') || v.contains("..") {
                        problems.push(format!("`{key}={v}` is not a gallery file name"));
                    } else {
                        self.image = Some(v.to_string());
                    }
                }
                "view" => match View::ALL.iter().find(|x| x.key() == v) {
                    Some(&x) => self.view = x,
                    None => {
                        problems.push(format!("`view={v}` is not one of attention, metrics, representation, frequency"))
                    }
                },
                "layer" => {
                    if let Some(l) = one_based(v, key, &mut problems) {
                        self.layer = l;
                    }
                }
                "head" => {
                    if v == "mean" {
                        self.head = None;
                    } else if let Some(h) = one_based(v, key, &mut problems) {
                        self.head = Some(h);
                    }
                }
                "q" | "query" => {
                    if v == "cls" {
                        self.query = Query::Cls;
                    } else {
                        match v.split_once(',').map(|(r, c)| (r.parse::<usize>(), c.parse::<usize>())) {
                            Some((Ok(row), Ok(col))) if row < 256 && col < 256 => {
                                self.query = Query::Patch { row, col }
                            }
                            _ => problems.push(format!("`{key}={v}` should be `cls` or `row,col` of a patch")),
                        }
                    }
                }
                "map" => match MapKind::ALL.into_iter().find(|x| x.key() == v) {
                    Some(x) => self.map = x,
                    None => {
                        let keys: Vec<&str> = MapKind::ALL.iter().map(|m| m.key()).collect();
                        problems.push(format!("`map={v}` is not one of {}", keys.join(", ")))
                    }
                },
                "cmap" | "colormap" => match Colormap::ALL.iter().find(|x| x.key() == v) {
                    Some(&x) => self.colormap = x,
                    None => problems.push(format!("`{key}={v}` is not one of viridis, plasma, magma")),
                },
                "filter" => match v {
                    "low" => self.filter.high_pass = false,
                    "high" => self.filter.high_pass = true,
                    _ => problems.push(format!("`filter={v}` is not low or high")),
                },
                "cutoff" => match v.parse::<f32>() {
                    Ok(c) if (0.02..=1.0).contains(&c) => self.filter.cutoff = c,
                    _ => problems.push(format!("`cutoff={v}` is not a number from 0.02 to 1")),
                },
                "arith" => match v {
                    "f32" => self.arithmetic = Arithmetic::F32,
                    "int8" => self.arithmetic = Arithmetic::Int8,
                    _ => problems.push(format!("`arith={v}` is not f32 or int8")),
                },
                "embed" => page.embed = matches!(v, "1" | "true" | ""),
                "theme" => match v {
                    "light" => page.theme = Theme::Light,
                    "dark" => page.theme = Theme::Dark,
                    "system" | "auto" => page.theme = Theme::System,
                    _ => problems.push(format!("`theme={v}` is not light, dark or system")),
                },
                "backend" => match v {
                    "auto" => page.backend = BackendParam::Auto,
                    "webgpu" | "gpu" => page.backend = BackendParam::WebGpu,
                    "cpu" => page.backend = BackendParam::Cpu,
                    _ => problems.push(format!("`backend={v}` is not auto, webgpu or cpu")),
                },
                "model" | "manifest" => {
                    if !web_address(v) {
                        problems.push(format!("`{key}={v}` is not an http(s) or relative URL"));
                    } else if key == "model" {
                        page.model_url = Some(v.to_string());
                    } else {
                        page.manifest_url = Some(v.to_string());
                    }
                }
                _ => problems.push(format!("`{key}` is not a vitscope parameter")),
            }
        }
        problems
    }

    /// The parameters of `params` that apply, in order: what the address keeps once the page has
    /// named the rest in its notices (so a reload or a shared link does not name them again).
    pub fn valid(params: &[(String, String)]) -> Vec<(String, String)> {
        params
            .iter()
            .filter(|pair| Self::default().apply(std::slice::from_ref(*pair), &mut PageParams::default()).is_empty())
            .cloned()
            .collect()
    }

    /// The pairs that restore this state in the hash (page parameters stay in the `?` part).
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![("view", self.view.key().to_string())];
        if !self.models.is_empty() {
            pairs.push(("m", self.models.join(",")));
        }
        let native: Vec<&str> = self.native.iter().filter(|id| self.models.contains(id)).map(String::as_str).collect();
        if !native.is_empty() {
            pairs.push(("native", native.join(",")));
        }
        if let Some(img) = &self.image {
            pairs.push(("img", img.clone()));
        }
        pairs.push(("layer", (self.layer + 1).to_string()));
        pairs.push(("head", self.head.map_or_else(|| "mean".to_string(), |h| (h + 1).to_string())));
        pairs.push((
            "q",
            match self.query {
                Query::Cls => "cls".to_string(),
                Query::Patch { row, col } => format!("{row},{col}"),
            },
        ));
        pairs.push(("map", self.map.key().to_string()));
        pairs.push(("cmap", self.colormap.key().to_string()));
        pairs.push(("filter", if self.filter.high_pass { "high" } else { "low" }.to_string()));
        pairs.push(("cutoff", self.filter.cutoff.to_string()));
        // Only when chosen: every older link meant f32.
        if self.arithmetic != Arithmetic::F32 {
            pairs.push(("arith", self.arithmetic.label().to_string()));
        }
        pairs
    }

    /// This state as a link can carry it: models read from the reader's own files stay out (like
    /// their own image, they never leave the page); with none left, the link shows the default pair.
    pub fn shareable(&self) -> Self {
        let own = |id: &&String| !id.starts_with("file:");
        let models = self.models.iter().filter(own).cloned().collect();
        let native = self.native.iter().filter(own).cloned().collect();
        Self { models, native, ..self.clone() }
    }

    /// Whether a link leaves out a model of the reader's own.
    pub fn has_own_models(&self) -> bool {
        self.models.iter().any(|id| id.starts_with("file:"))
    }

    /// Keeps layer, head and query inside a model of this shape.
    pub fn clamp_to(&mut self, depth: usize, heads: usize, grid: usize) {
        self.layer = self.layer.min(depth.saturating_sub(1));
        if let Some(h) = self.head
            && h >= heads
        {
            self.head = None;
        }
        if let Query::Patch { row, col } = self.query {
            self.query = Query::Patch { row: row.min(grid - 1), col: col.min(grid - 1) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Filter;

    /// `a=1&b=2` → pairs, as `URLSearchParams` gives them (these inputs need no percent-decoding).
    fn pairs(query: &str) -> Vec<(String, String)> {
        query
            .trim_start_matches(['?', '#'])
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (k.to_string(), v.to_string())
            })
            .collect()
    }

    fn owned(pairs: Vec<(&'static str, String)>) -> Vec<(String, String)> {
        pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    #[test]
    fn the_hash_round_trips() {
        let mut s = ViewState {
            models: vec!["vitscope-mocov3-ti8".into(), "my model".into()],
            native: vec!["my model".into()],
            image: Some("Debian sunset.jpg".into()),
            view: View::Frequency,
            layer: 11,
            head: Some(2),
            query: Query::Patch { row: 3, col: 12 },
            map: MapKind::Rollout,
            colormap: Colormap::Magma,
            filter: Filter { high_pass: true, cutoff: 0.4 },
            arithmetic: Arithmetic::Int8,
        };
        let mut back = ViewState::default();
        let problems = back.apply(&owned(s.to_pairs()), &mut PageParams::default());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(back, s);
        s.query = Query::Cls;
        s.head = None;
        s.arithmetic = Arithmetic::F32;
        assert!(!s.to_pairs().iter().any(|(k, _)| *k == "arith"), "f32 is what every older link meant");
        let mut again = ViewState::default();
        again.apply(&owned(s.to_pairs()), &mut PageParams::default());
        assert_eq!(again, s);
    }

    #[test]
    fn bad_parameters_are_named_and_keep_defaults() {
        let mut s = ViewState::default();
        let mut page = PageParams::default();
        let problems = s.apply(
            &pairs("?view=banana&layer=0&head=x&q=3&cmap=jet&cutoff=7&theme=neon&backend=tpu&model=javascript:alert(1)&zzz=1&embed=1"),
            &mut page,
        );
        assert_eq!(s, ViewState::default());
        assert!(page.embed);
        assert_eq!(problems.len(), 10, "{problems:#?}");
        for needle in [
            "view=banana",
            "layer=0",
            "head=x",
            "q=3",
            "cmap=jet",
            "cutoff=7",
            "theme=neon",
            "backend=tpu",
            "model=",
            "`zzz`",
        ] {
            assert!(problems.iter().any(|p| p.contains(needle)), "no message names {needle}: {problems:#?}");
        }
    }

    #[test]
    fn clamping_keeps_selections_inside_the_model() {
        let mut s =
            ViewState { layer: 30, head: Some(9), query: Query::Patch { row: 20, col: 2 }, ..Default::default() };
        s.clamp_to(12, 3, 14);
        assert_eq!((s.layer, s.head, s.query), (11, None, Query::Patch { row: 13, col: 2 }));
    }

    /// Native only: proptest's random source does not build for the browser target.
    #[cfg(not(target_arch = "wasm32"))]
    mod properties {
        use proptest::prelude::*;
        use proptest::sample::select;

        use super::*;

        /// Every state a link can describe: ids as manifests allow them, selections in their ranges.
        fn any_state() -> impl Strategy<Value = ViewState> {
            let ids = proptest::collection::vec("[A-Za-z0-9._-]{1,12}", 1..=MAX_MODELS);
            let native = proptest::collection::vec(any::<bool>(), MAX_MODELS);
            let query = prop_oneof![
                Just(Query::Cls),
                (0usize..256, 0usize..256).prop_map(|(row, col)| Query::Patch { row, col })
            ];
            let shown = (select(View::ALL.to_vec()), select(MapKind::ALL.to_vec()), select(Colormap::ALL.to_vec()));
            let image = proptest::option::of(
                "[A-Za-z0-9 _()-][A-Za-z0-9 _().-]{0,20}".prop_filter("no ..", |s| !s.contains("..")),
            );
            let filter = (any::<bool>(), 0.02f32..=1.0).prop_map(|(high_pass, cutoff)| Filter { high_pass, cutoff });
            let arithmetic = select(vec![Arithmetic::F32, Arithmetic::Int8]);
            let selection = (0usize..64, proptest::option::of(0usize..64), query);
            (ids, native, image, shown, selection, filter, arithmetic).prop_map(
                |(ids, native, image, (view, map, colormap), (layer, head, query), filter, arithmetic)| {
                    let mut models: Vec<String> = Vec::new();
                    for id in ids {
                        if !models.contains(&id) {
                            models.push(id);
                        }
                    }
                    let native = models.iter().zip(native).filter(|(_, n)| *n).map(|(id, _)| id.clone()).collect();
                    ViewState { models, native, image, view, layer, head, query, map, colormap, filter, arithmetic }
                },
            )
        }

        /// Keys the page knows, and some it does not, with values of every kind.
        fn any_pairs() -> impl Strategy<Value = Vec<(String, String)>> {
            let keys = select(vec![
                "m", "models", "native", "img", "image", "view", "layer", "head", "q", "query", "map", "cmap",
                "filter", "cutoff", "arith", "embed", "theme", "backend", "model", "manifest", "zzz", "",
            ]);
            let values = prop_oneof![
                "[a-z0-9,.:/ -]{0,16}",
                "-?[0-9]{1,22}(\\.[0-9]{0,8})?(e-?[0-9]{1,3})?",
                Just("NaN".to_string()),
                Just("inf".to_string()),
                any::<String>(),
            ];
            proptest::collection::vec((keys.prop_map(String::from), values), 0..12)
        }

        proptest! {
            #[test]
            fn every_state_survives_its_link(s in any_state()) {
                let mut back = ViewState::default();
                let problems = back.apply(&owned(s.to_pairs()), &mut PageParams::default());
                prop_assert!(problems.is_empty(), "{problems:?}");
                prop_assert_eq!(back, s);
            }

            /// Whatever a link says, the state stays inside its ranges, each parameter it could not use
            /// is named, and the link the page then writes restores that state exactly (less `native`
            /// ids of models not shown, which links leave out).
            #[test]
            fn any_link_gives_a_state_that_links_to_itself(pairs in any_pairs()) {
                let mut s = ViewState::default();
                let mut page = PageParams::default();
                let problems = s.apply(&pairs, &mut page);
                prop_assert!(problems.len() <= pairs.len());
                prop_assert!(s.models.len() <= MAX_MODELS);
                prop_assert!(s.models.iter().all(|id| !id.is_empty() && !id.contains(',')));
                prop_assert!(s.layer < 64 && s.head.is_none_or(|h| h < 64));
                let in_grid = match s.query {
                    Query::Cls => true,
                    Query::Patch { row, col } => row < 256 && col < 256,
                };
                prop_assert!(in_grid, "{:?}", s.query);
                prop_assert!((0.02..=1.0).contains(&s.filter.cutoff));
                prop_assert!(s.image.as_ref().is_none_or(|i| !i.is_empty() && !i.contains('/') && !i.contains("..")));
                for url in [&page.model_url, &page.manifest_url].into_iter().flatten() {
                    prop_assert!(web_address(url), "{url}");
                }
                let mut back = ViewState::default();
                let again = back.apply(&owned(s.to_pairs()), &mut PageParams::default());
                prop_assert!(again.is_empty(), "{again:?}");
                s.native.retain(|id| s.models.contains(id));
                prop_assert_eq!(back, s);
            }
        }
    }

    #[test]
    fn the_address_keeps_only_the_parameters_that_apply() {
        let pairs = |text: &str| -> Vec<(String, String)> {
            text.split('&').filter_map(|p| p.split_once('=')).map(|(k, v)| (k.into(), v.into())).collect()
        };
        assert_eq!(
            ViewState::valid(&pairs(
                "view=banana&backend=cpu&model=javascript:alert(1)&embed=1&layer=0&layer=3&zoom=2"
            )),
            pairs("backend=cpu&embed=1&layer=3")
        );
        assert_eq!(
            ViewState::valid(&pairs("manifest=https://a.b/m.json&m=x,y")),
            pairs("manifest=https://a.b/m.json&m=x,y")
        );
    }
}
