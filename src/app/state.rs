//! What the explorer shows, as a value that round-trips through the URL: `?` parameters (for embeds)
//! and the `#` hash (kept up to date while exploring, so every moment has a permalink). Unknown or
//! malformed parameters are reported by name and fall back to their defaults; nothing else is lost.

use std::fmt::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Attention,
    Metrics,
    Representation,
    Frequency,
}

impl View {
    pub const ALL: [View; 4] = [View::Attention, View::Metrics, View::Representation, View::Frequency];

    pub fn key(self) -> &'static str {
        match self {
            Self::Attention => "attention",
            Self::Metrics => "metrics",
            Self::Representation => "representation",
            Self::Frequency => "frequency",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::Attention => "Attention",
            Self::Metrics => "Layer metrics",
            Self::Representation => "Representation",
            Self::Frequency => "Frequency",
        }
    }
}

/// What the attention canvases show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapKind {
    /// The selected query's attention at one layer (one head or their mean).
    Query,
    /// Every head of the layer for the selected query.
    Heads,
    /// Attention rollout through all layers for the selected query.
    Rollout,
}

impl MapKind {
    pub fn key(self) -> &'static str {
        match self {
            Self::Query => "query",
            Self::Heads => "heads",
            Self::Rollout => "rollout",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Colormap {
    Viridis,
    Plasma,
    Magma,
}

impl Colormap {
    pub const ALL: [Colormap; 3] = [Colormap::Viridis, Colormap::Plasma, Colormap::Magma];

    pub fn key(self) -> &'static str {
        match self {
            Self::Viridis => "viridis",
            Self::Plasma => "plasma",
            Self::Magma => "magma",
        }
    }

    /// RGB of t ∈ [0, 1].
    pub fn rgb(self, t: f32) -> [u8; 3] {
        let g = match self {
            Self::Viridis => colorous::VIRIDIS,
            Self::Plasma => colorous::PLASMA,
            Self::Magma => colorous::MAGMA,
        };
        let c = g.eval_continuous(t.clamp(0.0, 1.0) as f64);
        [c.r, c.g, c.b]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Theme {
    System,
    Light,
    Dark,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Query {
    Cls,
    /// Row and column of a patch in the model's grid.
    Patch {
        row: usize,
        col: usize,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendParam {
    Auto,
    WebGpu,
    Cpu,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Filter {
    pub high_pass: bool,
    /// Fraction of the Nyquist frequency.
    pub cutoff: f32,
}

/// Everything a permalink restores.
#[derive(Clone, Debug, PartialEq)]
pub struct ViewState {
    /// Model ids (from the manifest), in display order.
    pub models: Vec<String>,
    /// A gallery photo's file name (a user's own image is never put in the URL).
    pub image: Option<String>,
    pub view: View,
    /// 0-based layer (shown 1-based).
    pub layer: usize,
    /// None = mean over heads.
    pub head: Option<usize>,
    pub query: Query,
    pub map: MapKind,
    pub colormap: Colormap,
    pub filter: Filter,
}

impl Default for ViewState {
    fn default() -> Self {
        Self {
            models: Vec::new(),
            image: None,
            view: View::Attention,
            layer: 5,
            head: None,
            query: Query::Patch { row: 7, col: 7 },
            map: MapKind::Query,
            colormap: Colormap::Viridis,
            filter: Filter { high_pass: false, cutoff: 0.25 },
        }
    }
}

/// Page-level settings that only come from the URL.
#[derive(Clone, Debug, PartialEq)]
pub struct PageParams {
    pub embed: bool,
    pub theme: Theme,
    pub backend: BackendParam,
    /// `?model=<url>`: an extra model file to fetch (CORS).
    pub model_url: Option<String>,
}

impl Default for PageParams {
    fn default() -> Self {
        Self { embed: false, theme: Theme::System, backend: BackendParam::Auto, model_url: None }
    }
}

fn decode_component(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn encode_component(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~,".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `a=1&b=2` → pairs, decoded.
pub fn pairs(query: &str) -> Vec<(String, String)> {
    query
        .trim_start_matches(['?', '#'])
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode_component(k), decode_component(v))
        })
        .collect()
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
                    let ids: Vec<String> = v.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect();
                    if ids.is_empty() || ids.len() > 4 {
                        problems.push(format!("`{key}={v}` should list one to four model ids, comma-separated"));
                    } else {
                        self.models = ids;
                    }
                }
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
                "map" => match [MapKind::Query, MapKind::Heads, MapKind::Rollout].into_iter().find(|x| x.key() == v) {
                    Some(x) => self.map = x,
                    None => problems.push(format!("`map={v}` is not one of query, heads, rollout")),
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
                "model" => {
                    if v.starts_with("https://")
                        || v.starts_with("http://")
                        || v.starts_with("./")
                        || v.starts_with('/')
                    {
                        page.model_url = Some(v.to_string());
                    } else {
                        problems.push(format!("`model={v}` is not an http(s) or relative URL"));
                    }
                }
                _ => problems.push(format!("`{key}` is not a vitscope parameter")),
            }
        }
        problems
    }

    /// The hash that restores this state (page parameters stay in the `?` part).
    pub fn to_hash(&self) -> String {
        let mut h = format!("view={}", self.view.key());
        if !self.models.is_empty() {
            let _ = write!(h, "&m={}", encode_component(&self.models.join(",")));
        }
        if let Some(img) = &self.image {
            let _ = write!(h, "&img={}", encode_component(img));
        }
        let _ = write!(h, "&layer={}", self.layer + 1);
        match self.head {
            Some(x) => {
                let _ = write!(h, "&head={}", x + 1);
            }
            None => h.push_str("&head=mean"),
        }
        match self.query {
            Query::Cls => h.push_str("&q=cls"),
            Query::Patch { row, col } => {
                let _ = write!(h, "&q={row},{col}");
            }
        }
        let _ = write!(h, "&map={}&cmap={}", self.map.key(), self.colormap.key());
        let _ =
            write!(h, "&filter={}&cutoff={}", if self.filter.high_pass { "high" } else { "low" }, self.filter.cutoff);
        h
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

    #[test]
    fn the_hash_round_trips() {
        let mut s = ViewState {
            models: vec!["vitscope-mocov3-ti8".into(), "my model".into()],
            image: Some("Debian sunset.jpg".into()),
            view: View::Frequency,
            layer: 11,
            head: Some(2),
            query: Query::Patch { row: 3, col: 12 },
            map: MapKind::Rollout,
            colormap: Colormap::Magma,
            filter: Filter { high_pass: true, cutoff: 0.4 },
        };
        let hash = s.to_hash();
        let mut back = ViewState::default();
        let problems = back.apply(&pairs(&hash), &mut PageParams::default());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(back, s);
        s.query = Query::Cls;
        s.head = None;
        let mut again = ViewState::default();
        again.apply(&pairs(&format!("#{}", s.to_hash())), &mut PageParams::default());
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

    #[test]
    fn colormaps_run_dark_to_light() {
        for c in Colormap::ALL {
            let lum = |t| {
                let [r, g, b] = c.rgb(t);
                0.2126 * r as f32 + 0.7152 * g as f32 + 0.0722 * b as f32
            };
            assert!(lum(0.0) < lum(0.5) && lum(0.5) < lum(1.0), "{c:?}");
        }
    }
}
