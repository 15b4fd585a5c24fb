//! Reading checkpoint files through a [`ByteSource`] (a file natively, a dropped `Blob` in the
//! page's worker): PyTorch `.pth`/`.pth.tar` zip pickles through `pytorch-reader` (which interprets
//! pickle opcodes as data and never executes code), and safetensors exports. Only the header and
//! the tensors a layout keeps are read: a 1 GB MoCo v3 file with both encoders and the optimizer
//! state costs the base encoder's bytes.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::Arc;

use half::{bf16, f16};
use pytorch_reader::{ByteSource, DType, PytorchReader, Tensor as TorchTensor};
use safetensors::tensor::{Dtype, Metadata};
use sha2::{Digest, Sha256};

use super::ConvertError;

/// A safetensors tensor located once, when the header is parsed.
pub struct Entry {
    dtype: &'static str,
    shape: Vec<usize>,
    bytes: Range<u64>,
}

pub enum Checkpoint {
    Pytorch(HashMap<String, TorchTensor>),
    Safetensors { source: Arc<dyn ByteSource>, index: BTreeMap<String, Entry> },
}

/// The safetensors format's own ceiling on its JSON header.
const MAX_SAFETENSORS_HEADER: u64 = 100_000_000;

/// Bytes hashed per read: large enough that a browser's `Blob` slices cost little each.
const HASH_CHUNK: usize = 8 << 20;

/// Element types vitscope reads, named once for both file kinds (`None`: unsupported).
fn torch_dtype(d: DType) -> Option<&'static str> {
    Some(match d {
        DType::F32 => "F32",
        DType::F64 => "F64",
        DType::F16 => "F16",
        DType::BF16 => "BF16",
        DType::I64 => "I64",
        DType::I32 => "I32",
        _ => return None,
    })
}

fn safetensors_dtype(d: Dtype) -> Option<&'static str> {
    Some(match d {
        Dtype::F32 => "F32",
        Dtype::F64 => "F64",
        Dtype::F16 => "F16",
        Dtype::BF16 => "BF16",
        Dtype::I64 => "I64",
        Dtype::I32 => "I32",
        _ => return None,
    })
}

fn element_size(dtype: &str) -> u64 {
    match dtype {
        "F64" | "I64" => 8,
        "F16" | "BF16" => 2,
        _ => 4,
    }
}

fn to_f32(bytes: &[u8], dtype: &str) -> Vec<f32> {
    let le = |b: &[u8], n| -> [u8; 8] {
        let mut a = [0u8; 8];
        a[..n].copy_from_slice(b);
        a
    };
    match dtype {
        "F32" => bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
        "F64" => bytes.chunks_exact(8).map(|b| f64::from_le_bytes(le(b, 8)) as f32).collect(),
        "F16" => bytes.chunks_exact(2).map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
        "BF16" => bytes.chunks_exact(2).map(|b| bf16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
        "I64" => bytes.chunks_exact(8).map(|b| i64::from_le_bytes(le(b, 8)) as f32).collect(),
        _ => bytes.chunks_exact(4).map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32).collect(),
    }
}

/// The source's sha256 (hex), read in chunks; `progress` hears the bytes hashed so far.
pub fn sha256(source: &dyn ByteSource, progress: &mut dyn FnMut(u64, u64)) -> Result<String, ConvertError> {
    let len = source.len().map_err(read_error)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; HASH_CHUNK.min(len as usize)];
    let mut done = 0u64;
    while done < len {
        let n = (len - done).min(buffer.len() as u64) as usize;
        source.read_exact_at(&mut buffer[..n], done).map_err(read_error)?;
        hasher.update(&buffer[..n]);
        done += n as u64;
        progress(done, len);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// A safetensors file's JSON header (after its 8-byte length), bounds-checked before it is read.
fn safetensors_header(source: &dyn ByteSource, len: u64) -> Result<Vec<u8>, ConvertError> {
    let mut n = [0u8; 8];
    source.read_exact_at(&mut n, 0).map_err(read_error)?;
    let header_len = u64::from_le_bytes(n);
    if header_len > MAX_SAFETENSORS_HEADER || 8 + header_len > len {
        return Err(ConvertError::Read(format!(
            "invalid safetensors file: its header claims {header_len} bytes of a {len}-byte file"
        )));
    }
    let mut header = vec![0u8; header_len as usize];
    source.read_exact_at(&mut header, 8).map_err(read_error)?;
    Ok(header)
}

/// Whether the source is already a vitscope weight file: a safetensors header whose metadata names
/// vitscope's format. Reads the header only.
pub fn is_vitscope_file(source: &dyn ByteSource) -> bool {
    let len = source.len().unwrap_or(0);
    let Ok(header) = safetensors_header(source, len) else { return false };
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&header) else { return false };
    json["__metadata__"]["format"] == vitscope_core::weights::format::FORMAT
}

fn read_error(e: std::io::Error) -> ConvertError {
    ConvertError::Read(format!("the file could not be read: {e}"))
}

impl Checkpoint {
    /// Reads the file's header (the safetensors JSON, or the pickle and the zip directory), not its
    /// tensors.
    pub fn open(source: Arc<dyn ByteSource>) -> Result<Self, ConvertError> {
        let len = source.len().map_err(read_error)?;
        let mut head = [0u8; 9];
        let has_head = len >= 9 && source.read_exact_at(&mut head, 0).is_ok();
        // safetensors: an 8-byte little-endian header length, then a JSON object.
        if has_head && head[8] == b'{' {
            return Self::open_safetensors(source, len);
        }
        let reader = PytorchReader::from_source(source, None)
            .map_err(|e| ConvertError::Read(format!("not a readable PyTorch checkpoint: {e}")))?;
        Ok(Self::Pytorch(reader.into_tensors()))
    }

    fn open_safetensors(source: Arc<dyn ByteSource>, len: u64) -> Result<Self, ConvertError> {
        let invalid = |why: String| ConvertError::Read(format!("invalid safetensors file: {why}"));
        let header = safetensors_header(&*source, len)?;
        let header_len = header.len() as u64;
        // Deserialising checks that the tensors tile the data section in order, each its exact size.
        let metadata: Metadata = serde_json::from_slice(&header).map_err(|e| invalid(e.to_string()))?;
        let start = 8 + header_len;
        let end = metadata.tensors().values().map(|info| info.data_offsets.1 as u64).max().unwrap_or(0);
        if start + end != len {
            return Err(invalid(format!("its tensors end at byte {} of a {len}-byte file", start + end)));
        }
        let index = metadata
            .tensors()
            .into_iter()
            .map(|(name, info)| {
                let entry = Entry {
                    dtype: safetensors_dtype(info.dtype).unwrap_or("unsupported"),
                    shape: info.shape.clone(),
                    bytes: start + info.data_offsets.0 as u64..start + info.data_offsets.1 as u64,
                };
                (name, entry)
            })
            .collect();
        Ok(Self::Safetensors { source, index })
    }

    pub fn is_safetensors(&self) -> bool {
        matches!(self, Self::Safetensors { .. })
    }

    pub fn shapes(&self) -> BTreeMap<String, Vec<usize>> {
        match self {
            Self::Pytorch(t) => t.iter().map(|(k, v)| (k.clone(), v.shape().to_vec())).collect(),
            Self::Safetensors { index, .. } => index.iter().map(|(k, e)| (k.clone(), e.shape.clone())).collect(),
        }
    }

    /// The bytes [`Self::load`] reads for `key` (0 for an unknown key), for a progress bar.
    pub fn stored_bytes(&self, key: &str) -> u64 {
        match self {
            Self::Pytorch(t) => t.get(key).map_or(0, |t| {
                let numel = t.shape().iter().product::<usize>() as u64;
                numel * torch_dtype(t.dtype()).map_or(4, element_size)
            }),
            Self::Safetensors { index, .. } => index.get(key).map_or(0, |e| e.bytes.end - e.bytes.start),
        }
    }

    /// Reads one tensor as f32 (floats of any width, and integer index buffers).
    pub fn load(&self, key: &str) -> Result<Vec<f32>, ConvertError> {
        let fail = |reason: String| ConvertError::Tensor { key: key.into(), reason };
        let (bytes, dtype) = match self {
            Self::Pytorch(t) => {
                let t = t.get(key).ok_or_else(|| fail("not found".into()))?;
                let dtype = torch_dtype(t.dtype()).ok_or_else(|| fail(format!("unsupported dtype {:?}", t.dtype())))?;
                // The reader's own message names the tensor again.
                let read = t.read().map_err(|e| fail(e.to_string().replace(&format!("tensor '{key}': "), "")))?;
                (read, dtype)
            }
            Self::Safetensors { source, index } => {
                let e = index.get(key).ok_or_else(|| fail("not found".into()))?;
                if e.dtype == "unsupported" {
                    return Err(fail("unsupported dtype".into()));
                }
                let mut bytes = vec![0u8; (e.bytes.end - e.bytes.start) as usize];
                source.read_exact_at(&mut bytes, e.bytes.start).map_err(|e| fail(e.to_string()))?;
                (bytes, e.dtype)
            }
        };
        Ok(to_f32(&bytes, dtype))
    }
}
