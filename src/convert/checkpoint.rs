//! Reading checkpoint files: PyTorch `.pth`/`.pth.tar` zip pickles through `pytorch-reader` (which
//! interprets pickle opcodes as data and never executes code), and safetensors exports.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use half::{bf16, f16};
use pytorch_reader::{DType, PytorchReader, Tensor as TorchTensor};
use safetensors::SafeTensors;
use safetensors::tensor::Dtype;

use super::ConvertError;

pub enum Checkpoint {
    Pytorch(HashMap<String, TorchTensor>),
    Safetensors(Vec<u8>),
}

fn to_f32(bytes: &[u8], dtype: &str, size: usize) -> Option<Vec<f32>> {
    let chunks = bytes.chunks_exact(size);
    Some(match dtype {
        "F32" => chunks.map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect(),
        "F64" => chunks.map(|b| f64::from_le_bytes(b.try_into().unwrap()) as f32).collect(),
        "F16" => chunks.map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
        "BF16" => chunks.map(|b| bf16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
        "I64" => chunks.map(|b| i64::from_le_bytes(b.try_into().unwrap()) as f32).collect(),
        "I32" => chunks.map(|b| i32::from_le_bytes(b.try_into().unwrap()) as f32).collect(),
        _ => return None,
    })
}

impl Checkpoint {
    pub fn open(path: &Path) -> Result<Self, ConvertError> {
        let io = |e: std::io::Error| ConvertError::Read(format!("{}: {e}", path.display()));
        let mut head = [0u8; 9];
        let len = std::fs::File::open(path).and_then(|mut f| std::io::Read::read(&mut f, &mut head)).map_err(io)?;
        // safetensors: an 8-byte little-endian header length, then a JSON object.
        if len == 9 && head[8] == b'{' {
            let bytes = std::fs::read(path).map_err(io)?;
            SafeTensors::deserialize(&bytes)
                .map_err(|e| ConvertError::Read(format!("{}: invalid safetensors file: {e}", path.display())))?;
            return Ok(Self::Safetensors(bytes));
        }
        let reader = PytorchReader::new(path)
            .map_err(|e| ConvertError::Read(format!("{}: not a readable PyTorch checkpoint: {e}", path.display())))?;
        Ok(Self::Pytorch(reader.into_tensors()))
    }

    pub fn is_safetensors(&self) -> bool {
        matches!(self, Self::Safetensors(_))
    }

    pub fn shapes(&self) -> BTreeMap<String, Vec<usize>> {
        match self {
            Self::Pytorch(t) => t.iter().map(|(k, v)| (k.clone(), v.shape().to_vec())).collect(),
            Self::Safetensors(bytes) => {
                let st = SafeTensors::deserialize(bytes).expect("validated in open");
                st.iter().map(|(k, v)| (k.to_string(), v.shape().to_vec())).collect()
            }
        }
    }

    /// Reads one tensor as f32 (floats of any width, and integer index buffers).
    pub fn load(&self, key: &str) -> Result<Vec<f32>, ConvertError> {
        let unsupported =
            |d: String| ConvertError::Tensor { key: key.into(), reason: format!("unsupported dtype {d}") };
        match self {
            Self::Pytorch(t) => {
                let t =
                    t.get(key).ok_or_else(|| ConvertError::Tensor { key: key.into(), reason: "not found".into() })?;
                let bytes = t.read().map_err(|e| ConvertError::Tensor { key: key.into(), reason: e.to_string() })?;
                let name = match t.dtype() {
                    DType::F32 => "F32",
                    DType::F64 => "F64",
                    DType::F16 => "F16",
                    DType::BF16 => "BF16",
                    DType::I64 => "I64",
                    DType::I32 => "I32",
                    other => return Err(unsupported(format!("{other:?}"))),
                };
                to_f32(&bytes, name, t.dtype().size()).ok_or_else(|| unsupported(name.into()))
            }
            Self::Safetensors(bytes) => {
                let st = SafeTensors::deserialize(bytes).expect("validated in open");
                let v = st.tensor(key).map_err(|e| ConvertError::Tensor { key: key.into(), reason: e.to_string() })?;
                let name = match v.dtype() {
                    Dtype::F32 => "F32",
                    Dtype::F64 => "F64",
                    Dtype::F16 => "F16",
                    Dtype::BF16 => "BF16",
                    Dtype::I64 => "I64",
                    Dtype::I32 => "I32",
                    other => return Err(unsupported(format!("{other:?}"))),
                };
                to_f32(v.data(), name, v.dtype().bitsize() / 8).ok_or_else(|| unsupported(name.into()))
            }
        }
    }
}
