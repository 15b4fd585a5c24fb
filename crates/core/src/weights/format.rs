//! Reading and writing vitscope `.safetensors` files.
//!
//! Header metadata: `format` = `vitscope/1`, `precision`, `config` (JSON [`VitConfig`]) and `card`
//! (JSON [`ModelCard`]). Tensors use canonical timm names; an int8 matrix `X` has its f16 scales in
//! `X_scale`, `[rows]` (one per output channel) or `[rows, G]` (G groups of consecutive inputs, see
//! [`super::quantize`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use half::f16;
use safetensors::tensor::{Dtype, TensorView};
use safetensors::{SafeTensors, serialize};
use serde::{Deserialize, Serialize};

use super::quantize::{Grouping, dequantize, quantize};
use super::{ModelCard, WeightsError};
use crate::model::VitConfig;
use crate::model::schema::{Expected, Role, SCALE_SUFFIX, expected_tensors};
use crate::model::{HostTensor, HostWeights, Int8Tensor, TensorSource};

pub const FORMAT: &str = "vitscope/1";
/// Larger than any ViT-L in f32; refuses absurd inputs before any allocation. Downloads stop there
/// too, so it lives with their limits.
pub const MAX_FILE_BYTES: u64 = vitscope_protocol::download::MAX_MODEL_BYTES;
pub const MAX_HEADER_BYTES: u64 = 16 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    Int8,
    F16,
    F32,
}

impl std::str::FromStr for Precision {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "int8" => Ok(Self::Int8),
            "f16" => Ok(Self::F16),
            "f32" => Ok(Self::F32),
            other => Err(format!("unknown precision `{other}` (choose int8, f16 or f32)")),
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Int8 => "int8",
            Self::F16 => "f16",
            Self::F32 => "f32",
        })
    }
}

/// A model: its architecture, its card and its (dequantized) weights.
#[derive(Clone, Debug)]
pub struct ModelFile {
    pub config: VitConfig,
    pub card: ModelCard,
    pub weights: HostWeights,
    /// How the matrices were stored in the file this came from.
    pub precision: Precision,
}

enum Stored {
    F32(Vec<f32>),
    F16(Vec<f16>),
    I8(Vec<i8>),
}

impl Stored {
    fn dtype_and_bytes(&self) -> (Dtype, Vec<u8>) {
        match self {
            Stored::F32(v) => (Dtype::F32, v.iter().flat_map(|x| x.to_le_bytes()).collect()),
            Stored::F16(v) => (Dtype::F16, v.iter().flat_map(|x| x.to_le_bytes()).collect()),
            Stored::I8(v) => (Dtype::I8, v.iter().map(|&x| x as u8).collect()),
        }
    }
}

impl ModelFile {
    /// Checks the weights against the config: names, shapes and finiteness.
    pub fn validate(&self) -> Result<(), WeightsError> {
        self.config.validate().map_err(WeightsError::Config)?;
        let expected = expected_tensors(&self.config);
        check_names(expected.iter().map(|e| e.name.clone()), self.weights.keys().cloned())?;
        for e in &expected {
            let t = &self.weights[&e.name];
            check_shape(&e.name, &e.shape, &t.shape)?;
            check_finite(&e.name, &t.data)?;
        }
        Ok(())
    }

    /// Serialises at the given precision (see [`Role`] for which tensors each precision touches);
    /// int8 with one scale per output channel.
    pub fn to_bytes(&self, precision: Precision) -> Result<Vec<u8>, WeightsError> {
        self.to_bytes_grouped(precision, Grouping::Row)
    }

    /// As [`Self::to_bytes`], with int8 matrices quantized in `grouping`'s groups of inputs.
    pub fn to_bytes_grouped(&self, precision: Precision, grouping: Grouping) -> Result<Vec<u8>, WeightsError> {
        self.validate()?;
        let mut stored: Vec<(String, Vec<usize>, Stored)> = Vec::new();
        for e in expected_tensors(&self.config) {
            let t = &self.weights[&e.name];
            let to_f16 = |v: &[f32]| v.iter().map(|&x| f16::from_f32(x)).collect();
            match (precision, e.role) {
                (Precision::F32, _) | (_, Role::Small) => {
                    stored.push((e.name, t.shape.clone(), Stored::F32(t.data.clone())));
                }
                (Precision::Int8, Role::Matrix) => {
                    // The largest weight's scale, max|w| / 127, must fit an f16.
                    check_range(&e.name, &t.data, precision, 127.0 * f16::MAX.to_f32())?;
                    let rows = t.shape[0];
                    let groups = grouping.groups(t.data.len() / rows.max(1));
                    let (q, scales) = quantize(&t.data, rows, groups);
                    // One scale per row keeps the original `[rows]` shape.
                    let shape = if groups == 1 { vec![rows] } else { vec![rows, groups] };
                    stored.push((format!("{}{SCALE_SUFFIX}", e.name), shape, Stored::F16(scales)));
                    stored.push((e.name, t.shape.clone(), Stored::I8(q)));
                }
                _ => {
                    check_range(&e.name, &t.data, precision, f16::MAX.to_f32())?;
                    stored.push((e.name, t.shape.clone(), Stored::F16(to_f16(&t.data))));
                }
            }
        }
        let encoded: Vec<(String, Vec<usize>, Dtype, Vec<u8>)> = stored
            .into_iter()
            .map(|(name, shape, s)| {
                let (dtype, bytes) = s.dtype_and_bytes();
                (name, shape, dtype, bytes)
            })
            .collect();
        let views = encoded
            .iter()
            .map(|(name, shape, dtype, bytes)| TensorView::new(*dtype, shape.clone(), bytes).map(|v| (name.clone(), v)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| WeightsError::Write(e.to_string()))?;
        let metadata = HashMap::from([
            ("format".to_string(), FORMAT.to_string()),
            ("precision".to_string(), precision.to_string()),
            ("config".to_string(), serde_json::to_string(&self.config).expect("plain data serialises")),
            ("card".to_string(), serde_json::to_string(&self.card).expect("plain data serialises")),
        ]);
        let bytes = serialize(views, Some(metadata)).map_err(|e| WeightsError::Write(e.to_string()))?;
        // A ViT-B's file is then in memory twice, not three times (the page converts beside its heap).
        drop(encoded);
        with_sorted_header(bytes)
    }

    /// Parses and validates a file, dequantizing everything to f32.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, WeightsError> {
        let (mut file, tensors) = Self::open(bytes)?;
        for e in &tensors.expected {
            file.weights.insert(e.name.clone(), tensors.read(e)?);
        }
        Ok(file)
    }

    /// Parses the header and checks every tensor's name and shape, reading none: the file without its
    /// weights, and the weights to take one at a time ([`StoredTensors`], a
    /// [`crate::model::TensorSource`]), each dequantized and checked as it is taken.
    pub fn open(bytes: &[u8]) -> Result<(Self, StoredTensors<'_>), WeightsError> {
        let (config, card, precision) = Self::read_header(bytes)?;
        let st = SafeTensors::deserialize(bytes).map_err(|e| WeightsError::Header(e.to_string()))?;
        let expected = expected_tensors(&config);
        let mut wanted: Vec<String> = expected.iter().map(|e| e.name.clone()).collect();
        for e in expected.iter().filter(|e| e.role == Role::Matrix) {
            if st.names().iter().any(|n| *n == format!("{}{SCALE_SUFFIX}", e.name)) {
                wanted.push(format!("{}{SCALE_SUFFIX}", e.name));
            }
        }
        check_names(wanted, st.names().into_iter().map(String::from))?;
        for e in &expected {
            let view = st.tensor(&e.name).map_err(|err| WeightsError::Header(err.to_string()))?;
            check_shape(&e.name, &e.shape, view.shape())?;
        }
        let file = Self { config, card, weights: HostWeights::new(), precision };
        Ok((file, StoredTensors { st, expected }))
    }

    /// Reads only the header: config, card and precision, all validated.
    pub fn read_header(bytes: &[u8]) -> Result<(VitConfig, ModelCard, Precision), WeightsError> {
        check_sizes(bytes)?;
        let (_, metadata) = SafeTensors::read_metadata(bytes).map_err(|e| WeightsError::Header(e.to_string()))?;
        let meta = metadata.metadata().clone().unwrap_or_default();
        match meta.get("format") {
            Some(f) if f == FORMAT => {}
            Some(f) => {
                return Err(WeightsError::NotVitscope(format!("its format is `{f}`, this build reads `{FORMAT}`")));
            }
            None => {
                return Err(WeightsError::NotVitscope("its header has no `format` metadata".into()));
            }
        }
        let field =
            |name: &'static str| meta.get(name).ok_or(WeightsError::Metadata { field: name, reason: "missing".into() });
        let config: VitConfig = serde_json::from_str(field("config")?)
            .map_err(|e| WeightsError::Metadata { field: "config", reason: e.to_string() })?;
        config.validate().map_err(WeightsError::Config)?;
        let card: ModelCard = serde_json::from_str(field("card")?)
            .map_err(|e| WeightsError::Metadata { field: "card", reason: e.to_string() })?;
        let precision: Precision =
            field("precision")?.parse().map_err(|reason| WeightsError::Metadata { field: "precision", reason })?;
        Ok((config, card, precision))
    }
}

/// A model file's tensors, dequantized to f32 one at a time as they are taken.
pub struct StoredTensors<'a> {
    st: SafeTensors<'a>,
    expected: Vec<Expected>,
}

impl StoredTensors<'_> {
    fn read(&self, e: &Expected) -> Result<HostTensor, WeightsError> {
        let view = self.st.tensor(&e.name).map_err(|err| WeightsError::Header(err.to_string()))?;
        let scale = self.st.tensor(&format!("{}{SCALE_SUFFIX}", e.name)).ok();
        let data = decode(e, &view, scale.as_ref())?;
        check_finite(&e.name, &data)?;
        Ok(HostTensor::new(e.shape.clone(), data))
    }
}

impl TensorSource for StoredTensors<'_> {
    fn take(&self, name: &str) -> Result<Option<HostTensor>, String> {
        let Some(e) = self.expected.iter().find(|e| e.name == name) else { return Ok(None) };
        self.read(e).map(Some).map_err(|err| err.to_string())
    }

    fn take_int8(&self, name: &str) -> Result<Option<Int8Tensor>, String> {
        let Some(e) = self.expected.iter().find(|e| e.name == name && e.role == Role::Matrix) else { return Ok(None) };
        let view = self.st.tensor(&e.name).map_err(|err| err.to_string())?;
        if view.dtype() != Dtype::I8 {
            return Ok(None);
        }
        let scale = self.st.tensor(&format!("{}{SCALE_SUFFIX}", e.name)).ok();
        let (values, scales) = decode_int8(e, &view, scale.as_ref()).map_err(|err| err.to_string())?;
        let groups = scales.len() / e.shape[0];
        let scales = scales.iter().map(|s| s.to_f32()).collect();
        Ok(Some(Int8Tensor { shape: e.shape.clone(), values, scales, groups }))
    }
}

/// Bounds checks before the safetensors parser allocates anything.
fn check_sizes(bytes: &[u8]) -> Result<(), WeightsError> {
    if bytes.len() < 8 {
        return Err(WeightsError::TooShort(bytes.len()));
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(WeightsError::TooLarge { size: bytes.len() as u64, max: MAX_FILE_BYTES });
    }
    let claimed = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
    if claimed > MAX_HEADER_BYTES {
        return Err(WeightsError::HeaderLength { claimed, reason: format!("the limit is {MAX_HEADER_BYTES} bytes") });
    }
    if claimed + 8 > bytes.len() as u64 {
        return Err(WeightsError::HeaderLength {
            claimed,
            reason: format!("the file has only {} bytes after the length (truncated?)", bytes.len() - 8),
        });
    }
    Ok(())
}

fn check_names(
    expected: impl IntoIterator<Item = String>,
    found: impl IntoIterator<Item = String>,
) -> Result<(), WeightsError> {
    let expected: BTreeSet<String> = expected.into_iter().collect();
    let found: BTreeSet<String> = found.into_iter().collect();
    let missing: Vec<String> = expected.difference(&found).cloned().collect();
    if !missing.is_empty() {
        return Err(WeightsError::Missing(missing));
    }
    let unexpected: Vec<String> = found.difference(&expected).cloned().collect();
    if !unexpected.is_empty() {
        return Err(WeightsError::Unexpected(unexpected));
    }
    Ok(())
}

fn check_shape(name: &str, expected: &[usize], found: &[usize]) -> Result<(), WeightsError> {
    if expected != found {
        return Err(WeightsError::Shape { name: name.into(), expected: expected.to_vec(), found: found.to_vec() });
    }
    Ok(())
}

fn check_finite(name: &str, data: &[f32]) -> Result<(), WeightsError> {
    match data.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(WeightsError::NonFinite { name: name.into(), index, value: data[index] }),
        None => Ok(()),
    }
}

/// A weight this precision would store as infinity is refused rather than written.
fn check_range(name: &str, data: &[f32], precision: Precision, limit: f32) -> Result<(), WeightsError> {
    match data.iter().find(|v| v.abs() > limit) {
        Some(&value) => Err(WeightsError::OutOfRange { name: name.into(), value, precision, limit }),
        None => Ok(()),
    }
}

fn dtype_error(name: &str, found: Dtype, expected: &str) -> WeightsError {
    WeightsError::Dtype { name: name.into(), found: format!("{found:?}"), expected: expected.into() }
}

/// An int8 matrix's values and its checked f16 scales (`[rows]` or `[rows, G]`, flattened).
fn decode_int8(
    e: &Expected,
    view: &TensorView,
    scale: Option<&TensorView>,
) -> Result<(Vec<i8>, Vec<f16>), WeightsError> {
    let scale_name = format!("{}{SCALE_SUFFIX}", e.name);
    let scale = scale.ok_or_else(|| WeightsError::Missing(vec![scale_name.clone()]))?;
    if scale.dtype() != Dtype::F16 {
        return Err(dtype_error(&scale_name, scale.dtype(), "F16"));
    }
    let cols: usize = e.shape[1..].iter().product();
    let valid_groups = match scale.shape() {
        [rows] => *rows == e.shape[0],
        [rows, groups] => *rows == e.shape[0] && *groups > 0 && cols.is_multiple_of(*groups),
        _ => false,
    };
    if !valid_groups {
        return Err(WeightsError::Invalid {
            name: scale_name,
            reason: format!(
                "shape {:?}: expected [{}] or [{}, G] with G dividing the {cols} inputs",
                scale.shape(),
                e.shape[0],
                e.shape[0]
            ),
        });
    }
    let scales: Vec<f16> = scale.data().chunks_exact(2).map(|b| f16::from_le_bytes([b[0], b[1]])).collect();
    if let Some(i) = scales.iter().position(|s| !s.is_finite() || s.to_f32() < 0.0) {
        return Err(WeightsError::Invalid {
            name: scale_name,
            reason: format!("scale {i} is {} (scales must be finite and non-negative)", scales[i]),
        });
    }
    let q: Vec<i8> = view.data().iter().map(|&b| b as i8).collect();
    Ok((q, scales))
}

fn decode(e: &Expected, view: &TensorView, scale: Option<&TensorView>) -> Result<Vec<f32>, WeightsError> {
    let bytes = view.data();
    let allowed = match e.role {
        Role::Matrix => "I8 (with f16 scales), F16 or F32",
        Role::Table | Role::Small => "F16 or F32",
    };
    if scale.is_some() && view.dtype() != Dtype::I8 {
        return Err(WeightsError::Invalid {
            name: format!("{}{SCALE_SUFFIX}", e.name),
            reason: format!("scales are only valid beside an I8 tensor, but `{}` is {:?}", e.name, view.dtype()),
        });
    }
    match view.dtype() {
        Dtype::F32 => Ok(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()),
        Dtype::F16 => Ok(bytes.chunks_exact(2).map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32()).collect()),
        Dtype::I8 if e.role == Role::Matrix => {
            let (q, scales) = decode_int8(e, view, scale)?;
            Ok(dequantize(&q, &scales))
        }
        other => Err(dtype_error(&e.name, other, allowed)),
    }
}

/// The same file with its header's keys sorted. The safetensors writer keeps the metadata in a
/// `HashMap`, whose order changes from run to run; a converted file must be the same bytes every time
/// (the bundled models' sha256, the page's "Save converted file" against the CLI's).
fn with_sorted_header(mut bytes: Vec<u8>) -> Result<Vec<u8>, WeightsError> {
    let header_len = u64::from_le_bytes(bytes[..8].try_into().expect("a written file has a length")) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header_len])
        .map_err(|e| WeightsError::Write(format!("header is not JSON: {e}")))?;
    // In place: the data stays where it is (the sorted header is as long as the written one).
    let prefix = with_header(&sorted(header), &[]);
    bytes.splice(..8 + header_len, prefix);
    Ok(bytes)
}

/// A header's entries, and each entry's fields, in key order however serde_json keeps its maps.
fn sorted(header: serde_json::Value) -> BTreeMap<String, serde_json::Value> {
    let serde_json::Value::Object(entries) = header else { return BTreeMap::new() };
    let sort = |value| match value {
        serde_json::Value::Object(fields) => {
            serde_json::to_value(fields.into_iter().collect::<BTreeMap<_, _>>()).expect("JSON values serialise")
        }
        other => other,
    };
    entries.into_iter().map(|(key, value)| (key, sort(value))).collect()
}

/// Length, header JSON padded with spaces so the data section stays 8-byte aligned (as safetensors
/// writers do), then the data.
fn with_header(header: &impl Serialize, data: &[u8]) -> Vec<u8> {
    let mut text = serde_json::to_vec(header).expect("JSON values serialise");
    while !(8 + text.len()).is_multiple_of(8) {
        text.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + text.len() + data.len());
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(&text);
    out.extend_from_slice(data);
    out
}

/// Rewrites only the card in a file's header; tensor bytes stay identical (no re-quantization).
pub fn replace_card(bytes: &[u8], card: &ModelCard) -> Result<Vec<u8>, WeightsError> {
    ModelFile::read_header(bytes)?;
    let header_len = u64::from_le_bytes(bytes[..8].try_into().expect("checked")) as usize;
    let mut header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header_len])
        .map_err(|e| WeightsError::Header(format!("header is not JSON: {e}")))?;
    let card_json = serde_json::to_string(card).expect("plain data serialises");
    header["__metadata__"]["card"] = serde_json::Value::String(card_json);
    Ok(with_header(&sorted(header), &bytes[8 + header_len..]))
}
