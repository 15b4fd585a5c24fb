//! What a link may tell the explorer, read as a stranger may have written it: the view a permalink
//! restores and the settings only a URL sets ([`settings`], read and written by [`url`]), and the
//! model lists a `?manifest=` names ([`manifest`]). Plain Rust, so the page's tests, the property
//! tests and the fuzz targets (`fuzz/src/bin/url.rs`, `manifest.rs`) all reach the same code.

pub mod manifest;
pub mod settings;
pub mod url;

pub use manifest::{Manifest, ManifestEntry};
pub use settings::{Colormap, Filter, MAX_MODELS, MapKind, PageParams, Params, Query, View, ViewState};
