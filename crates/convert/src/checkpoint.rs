//! Reading checkpoint files: PyTorch `.pth`/`.pth.tar` zip pickles through `pytorch-reader` (which
//! interprets pickle opcodes as data and never executes code), and safetensors exports.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::Path;

use half::{bf16, f16};
use pytorch_reader::{DType, PytorchReader, Tensor as TorchTensor};
use safetensors::SafeTensors;
use safetensors::tensor::Dtype;

use super::ConvertError;

/// A safetensors tensor located once, when the header is parsed.
pub struct Entry {
    dtype: &'static str,
    shape: Vec<usize>,
    bytes: Range<usize>,
}

pub enum Checkpoint {
    Pytorch(HashMap<String, TorchTensor>),
    Safetensors { bytes: Vec<u8>, index: BTreeMap<String, Entry> },
}

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

impl Checkpoint {
    pub fn open(path: &Path) -> Result<Self, ConvertError> {
        let io = |e: std::io::Error| ConvertError::Read(format!("{}: {e}", path.display()));
        let mut head = [0u8; 9];
        let len = std::fs::File::open(path).and_then(|mut f| std::io::Read::read(&mut f, &mut head)).map_err(io)?;
        // safetensors: an 8-byte little-endian header length, then a JSON object.
        if len == 9 && head[8] == b'{' {
            let bytes = std::fs::read(path).map_err(io)?;
            let invalid = |e: safetensors::SafeTensorError| {
                ConvertError::Read(format!("{}: invalid safetensors file: {e}", path.display()))
            };
            SafeTensors::deserialize(&bytes).map_err(invalid)?;
            let (header, metadata) = SafeTensors::read_metadata(&bytes).map_err(invalid)?;
            let start = 8 + header;
            let index = metadata
                .tensors()
                .into_iter()
                .map(|(name, info)| {
                    let entry = Entry {
                        dtype: safetensors_dtype(info.dtype).unwrap_or("unsupported"),
                        shape: info.shape.clone(),
                        bytes: start + info.data_offsets.0..start + info.data_offsets.1,
                    };
                    (name, entry)
                })
                .collect();
            return Ok(Self::Safetensors { bytes, index });
        }
        let reader = PytorchReader::new(path)
            .map_err(|e| ConvertError::Read(format!("{}: not a readable PyTorch checkpoint: {e}", path.display())))?;
        Ok(Self::Pytorch(reader.into_tensors()))
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

    /// Reads one tensor as f32 (floats of any width, and integer index buffers).
    pub fn load(&self, key: &str) -> Result<Vec<f32>, ConvertError> {
        let fail = |reason: String| ConvertError::Tensor { key: key.into(), reason };
        let (bytes, dtype) = match self {
            Self::Pytorch(t) => {
                let t = t.get(key).ok_or_else(|| fail("not found".into()))?;
                let dtype = torch_dtype(t.dtype()).ok_or_else(|| fail(format!("unsupported dtype {:?}", t.dtype())))?;
                (t.read().map_err(|e| fail(e.to_string()))?, dtype)
            }
            Self::Safetensors { bytes, index } => {
                let e = index.get(key).ok_or_else(|| fail("not found".into()))?;
                if e.dtype == "unsupported" {
                    return Err(fail("unsupported dtype".into()));
                }
                (bytes[e.bytes.clone()].to_vec(), e.dtype)
            }
        };
        Ok(to_f32(&bytes, dtype))
    }
}
