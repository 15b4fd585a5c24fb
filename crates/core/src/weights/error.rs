/// Why a weight file was refused. Every message names the tensor (or header field) and the problem.
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    #[error("the file is {0} bytes, too short to be a safetensors file (it needs at least an 8-byte header length)")]
    TooShort(usize),
    #[error("the file is {size} bytes; vitscope accepts at most {max} bytes")]
    TooLarge { size: u64, max: u64 },
    #[error("the header claims {claimed} bytes but {reason}")]
    HeaderLength { claimed: u64, reason: String },
    #[error("the safetensors header is invalid: {0}")]
    Header(String),
    #[error("this is a safetensors file but not a vitscope model: {0}. Convert checkpoints with `vitscope convert`")]
    NotVitscope(String),
    #[error("the header metadata field `{field}` is invalid: {reason}")]
    Metadata { field: &'static str, reason: String },
    #[error("the model config is inconsistent: {0}")]
    Config(String),
    #[error("missing tensors: {}", .0.join(", "))]
    Missing(Vec<String>),
    #[error("unexpected tensors: {}", .0.join(", "))]
    Unexpected(Vec<String>),
    #[error("tensor `{name}` has dtype {found}, expected {expected}")]
    Dtype { name: String, found: String, expected: String },
    #[error("tensor `{name}` has shape {found:?}, the config needs {expected:?}")]
    Shape { name: String, expected: Vec<usize>, found: Vec<usize> },
    #[error("tensor `{name}` holds a non-finite value ({value}) at element {index}")]
    NonFinite { name: String, index: usize, value: f32 },
    #[error("tensor `{name}`: {reason}")]
    Invalid { name: String, reason: String },
    #[error(
        "tensor `{name}` holds {value:e}, more than {precision} can store (at most {limit:e} in magnitude); convert it with --precision f32"
    )]
    OutOfRange { name: String, value: f32, precision: super::Precision, limit: f32 },
    #[error("could not write the weight file: {0}")]
    Write(String),
}
