//! The settings a permalink restores ([`ViewState`]) and the page-level ones only the URL sets
//! ([`PageParams`]), with their URL keys. [`crate::url`] reads and writes them.

pub use vitscope_protocol::messages::Arithmetic;

/// URL parameters, decoded, in order.
pub type Params = Vec<(String, String)>;

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
    /// The CLS query's attention at one layer, every head in its own colour (DINO's figure).
    ClsHeads,
    /// The patches holding the top 60 % of the CLS query's attention mass (DINO's threshold).
    ClsMask,
    /// Each token's norm entering the layer, high-norm outliers outlined, and the attention they
    /// draw (Darcet et al.'s attention sinks).
    Norms,
}

impl MapKind {
    pub const ALL: [MapKind; 6] =
        [MapKind::Query, MapKind::Heads, MapKind::Rollout, MapKind::ClsHeads, MapKind::ClsMask, MapKind::Norms];

    pub fn key(self) -> &'static str {
        match self {
            Self::Query => "query",
            Self::Heads => "heads",
            Self::Rollout => "rollout",
            Self::ClsHeads => "cls-heads",
            Self::ClsMask => "cls-mask",
            Self::Norms => "norms",
        }
    }

    /// Whether the map ignores the selected query (the CLS views and the norms).
    pub fn fixed_query(self) -> bool {
        matches!(self, Self::ClsHeads | Self::ClsMask | Self::Norms)
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

/// How many models the page shows side by side (a CL, a MIM, the hybrid and one of the reader's).
pub const MAX_MODELS: usize = 4;

/// Everything a permalink restores.
#[derive(Clone, Debug, PartialEq)]
pub struct ViewState {
    /// Model ids (from the manifest), in display order.
    pub models: Vec<String>,
    /// Models run at the size they were trained at rather than their card's (a 518-px DINOv2 runs at
    /// 224 unless listed here).
    pub native: Vec<String>,
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
    /// How int8 weights multiply on the CPU.
    pub arithmetic: Arithmetic,
}

impl Default for ViewState {
    fn default() -> Self {
        Self {
            models: Vec::new(),
            native: Vec::new(),
            image: None,
            view: View::Attention,
            layer: 5,
            head: None,
            query: Query::Patch { row: 7, col: 7 },
            map: MapKind::Query,
            colormap: Colormap::Viridis,
            filter: Filter { high_pass: false, cutoff: 0.25 },
            arithmetic: Arithmetic::F32,
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
    /// `?manifest=<url>`: a blog author's model list (the bundled manifest's schema, CORS); its
    /// models come first and its default pair is shown.
    pub manifest_url: Option<String>,
}

impl Default for PageParams {
    fn default() -> Self {
        Self { embed: false, theme: Theme::System, backend: BackendParam::Auto, model_url: None, manifest_url: None }
    }
}
