//! The Vision Transformer of Dosovitskiy et al. (2021) with every switch the self-supervised checkpoints
//! use: CLS token, absolute and/or relative position, q/v-only bias, layer scale.
//!
//! Every tensor is read through a [`Path`] that grows one module at a time, as the module tree
//! nests (candle's `VarBuilder::pp`), so the names live once, in [`super::names`]. Weights arrive
//! dequantized as f32 [`HostTensor`]s and are uploaded (or, for the browser's CPU kernels, packed)
//! once; the forward pass returns what the analyses need instead of logits.

use std::borrow::Cow;
use std::cell::RefCell;

use burn::Tensor;
use burn::tensor::module::layer_norm;
use burn::tensor::{Device, TensorData};
use vitscope_protocol::messages::Arithmetic;

use super::activation::{gelu, softmax_last};
use super::config::{AbsolutePosition, QkvBias, RelativePosition, VitConfig};
use super::linear::{Linear, Weight};
use super::matmul::matmul;
use super::names::{self, Path};
use super::position;
use super::tensors::{HostTensor, HostWeights, TensorSource};

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("tensor `{0}` is missing from the weights")]
    Missing(String),
    #[error("tensor `{name}` has shape {found:?}, the config needs {expected:?}")]
    Shape { name: String, expected: Vec<usize>, found: Vec<usize> },
    #[error("cannot run at {requested} px: {reason}")]
    Resolution { requested: usize, reason: String },
    /// The source holds the tensor but could not read it.
    #[error("{0}")]
    Unreadable(String),
}

/// Which intermediate results a forward pass keeps; everything else is dropped as soon as it is used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Capture {
    /// Post-softmax attention of every block, `[B, heads, T, T]`.
    pub attention: bool,
    /// The embedding (z₀) and the residual stream after each block's attention and MLP, `[B, T, C]`.
    pub streams: bool,
    /// The final LayerNorm's output, `[B, T, C]`.
    pub final_tokens: bool,
}

impl Capture {
    pub fn all() -> Self {
        Self { attention: true, streams: true, final_tokens: true }
    }
}

#[derive(Clone, Debug)]
pub struct BlockOutput {
    pub attention: Option<Tensor<4>>,
    pub after_attention: Option<Tensor<3>>,
    pub after_mlp: Option<Tensor<3>>,
}

#[derive(Clone, Debug)]
pub struct VitOutput {
    pub embedding: Option<Tensor<3>>,
    pub blocks: Vec<BlockOutput>,
    pub final_tokens: Option<Tensor<3>>,
}

impl VitOutput {
    /// z_d: the embedding for d = 0, else the stream after block d's MLP (the paper's depth index).
    pub fn stream(&self, depth: usize) -> Option<&Tensor<3>> {
        if depth == 0 { self.embedding.as_ref() } else { self.blocks.get(depth - 1)?.after_mlp.as_ref() }
    }
}

/// The host weights a model is built from: borrowed (each tensor copied to the device), owned
/// (each tensor freed as soon as it is on the device, so a ViT-B is never held twice), or produced
/// one at a time by a source (a model file, dequantized tensor by tensor).
enum Weights<'a> {
    Borrowed(&'a HostWeights),
    Owned(RefCell<HostWeights>),
    Source(&'a dyn TensorSource),
}

/// Reads named tensors out of the host weights, checking each shape.
struct Loader<'a> {
    weights: Weights<'a>,
    device: &'a Device,
}

impl Loader<'_> {
    /// Each tensor is read once.
    fn host(&self, name: &str, shape: &[usize]) -> Result<Cow<'_, HostTensor>, ModelError> {
        let t = match &self.weights {
            Weights::Borrowed(w) => w.get(name).map(Cow::Borrowed),
            Weights::Owned(w) => w.borrow_mut().remove(name).map(Cow::Owned),
            Weights::Source(s) => s.take(name).map_err(ModelError::Unreadable)?.map(Cow::Owned),
        };
        let t = t.ok_or_else(|| ModelError::Missing(name.into()))?;
        if t.shape != shape {
            return Err(ModelError::Shape { name: name.into(), expected: shape.to_vec(), found: t.shape.clone() });
        }
        Ok(t)
    }

    fn upload<const D: usize>(&self, data: Vec<f32>, shape: [usize; D]) -> Tensor<D> {
        Tensor::from_data(TensorData::new(data, shape), self.device)
    }

    fn tensor<const D: usize>(&self, name: &str, shape: [usize; D]) -> Result<Tensor<D>, ModelError> {
        Ok(self.upload(self.host(name, &shape)?.into_owned().data, shape))
    }

    /// A linear layer's weight `[out, …]` with the first `scaled.0` rows multiplied by `scaled.1`
    /// (after dequantization, so both routes give the same weights): as stored when a source holds it
    /// in int8 (the product may keep it so), else in f32.
    fn weight(&self, name: &str, shape: &[usize], scaled: Option<(usize, f32)>) -> Result<Weight, ModelError> {
        if let Weights::Source(source) = &self.weights
            && let Some(t) = source.take_int8(name).map_err(ModelError::Unreadable)?
        {
            if t.shape != shape {
                return Err(ModelError::Shape { name: name.into(), expected: shape.to_vec(), found: t.shape });
            }
            return Ok(Weight::Int8 { tensor: t, scaled });
        }
        let mut data = self.host(name, shape)?.into_owned().data;
        if let Some((rows, factor)) = scaled {
            let cols: usize = shape[1..].iter().product();
            data[..rows * cols].iter_mut().for_each(|w| *w *= factor);
        }
        Ok(Weight::F32(data))
    }

    /// A PyTorch `nn.Linear` (weight `[out, in]`).
    fn linear(&self, module: &Path, d_in: usize, d_out: usize) -> Result<Linear, ModelError> {
        let weight = self.weight(&module.key(names::WEIGHT), &[d_out, d_in], None)?;
        let bias = self.host(&module.key(names::BIAS), &[d_out])?.into_owned().data;
        Ok(Linear::new(weight, d_in, d_out, Some(bias), self.device))
    }

    /// The fused q, k, v projection with the attention scale 1/√d folded into the query's columns,
    /// which saves scaling every query (a strided copy) on every forward pass. For power-of-two head
    /// widths (64 here) the product is exact, so the logits are bit for bit timm's `(q·s) @ kᵀ`.
    fn qkv(&self, attn: &Path, config: &VitConfig) -> Result<Linear, ModelError> {
        let c = config.width;
        let scale = (config.head_dim() as f64).powf(-0.5) as f32;
        let qkv = attn.pp(names::QKV);
        let weight = self.weight(&qkv.key(names::WEIGHT), &[3 * c, c], Some((c, scale)))?;
        let mut bias = match config.qkv_bias {
            QkvBias::Full => Some(self.host(&qkv.key(names::BIAS), &[3 * c])?.into_owned().data),
            QkvBias::QueryValue => {
                let mut bias = self.host(&attn.key(names::QUERY_BIAS), &[c])?.into_owned().data;
                bias.extend(std::iter::repeat_n(0.0, c));
                bias.extend_from_slice(&self.host(&attn.key(names::VALUE_BIAS), &[c])?.data);
                Some(bias)
            }
            QkvBias::None => None,
        };
        if let Some(b) = &mut bias {
            b[..c].iter_mut().for_each(|v| *v *= scale);
        }
        Ok(Linear::new(weight, c, 3 * c, bias, self.device))
    }

    fn norm(&self, module: &Path, width: usize, eps: f64) -> Result<LayerNorm, ModelError> {
        Ok(LayerNorm {
            weight: self.tensor(&module.key(names::WEIGHT), [width])?,
            bias: self.tensor(&module.key(names::BIAS), [width])?,
            eps,
        })
    }
}

#[derive(Clone, Debug)]
struct LayerNorm {
    weight: Tensor<1>,
    bias: Tensor<1>,
    eps: f64,
}

impl LayerNorm {
    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        layer_norm(x, self.weight.clone(), Some(self.bias.clone()), self.eps)
    }
}

#[derive(Clone, Debug)]
struct Attention {
    qkv: Linear,
    proj: Linear,
    heads: usize,
    /// `[1, heads, T, T]`, already gathered from the table through the relative index.
    relative_bias: Option<Tensor<4>>,
}

impl Attention {
    /// # Shapes
    /// x: `[B, T, C]` → (output `[B, T, C]`, attention `[B, heads, T, T]`)
    fn forward(&self, x: Tensor<3>, shared_bias: Option<&Tensor<4>>) -> (Tensor<3>, Tensor<4>) {
        let [b, t, c] = x.dims();
        let h = self.heads;
        let qkv = self.qkv.forward(x).reshape([b, t, 3 * h, c / h]).swap_dims(1, 2);
        let q = qkv.clone().narrow(1, 0, h);
        let k = qkv.clone().narrow(1, h, h);
        let v = qkv.narrow(1, 2 * h, h);
        let mut logits = matmul(q, k.swap_dims(2, 3));
        if let Some(bias) = shared_bias.or(self.relative_bias.as_ref()) {
            logits = logits + bias.clone();
        }
        let attention = softmax_last(logits);
        let out = matmul(attention.clone(), v).swap_dims(1, 2).reshape([b, t, c]);
        (self.proj.forward(out), attention)
    }
}

#[derive(Clone, Debug)]
struct Block {
    norm1: LayerNorm,
    attn: Attention,
    gamma_1: Option<Tensor<1>>,
    norm2: LayerNorm,
    fc1: Linear,
    fc2: Linear,
    gamma_2: Option<Tensor<1>>,
}

fn scaled(x: Tensor<3>, gamma: &Option<Tensor<1>>) -> Tensor<3> {
    match gamma {
        Some(g) => x * g.clone().unsqueeze::<3>(),
        None => x,
    }
}

impl Block {
    fn forward(&self, x: Tensor<3>, shared_bias: Option<&Tensor<4>>) -> (Tensor<3>, Tensor<3>, Tensor<4>) {
        let (attended, attention) = self.attn.forward(self.norm1.forward(x.clone()), shared_bias);
        let x1 = x + scaled(attended, &self.gamma_1);
        let hidden = gelu(self.fc1.forward(self.norm2.forward(x1.clone())));
        let x2 = x1.clone() + scaled(self.fc2.forward(hidden), &self.gamma_2);
        (x1, x2, attention)
    }
}

/// One ViT bound to a device and an input resolution.
#[derive(Clone, Debug)]
pub struct Vit {
    config: VitConfig,
    /// The grid this instance runs at (position tables are resampled to it).
    grid: usize,
    /// The patch convolution as a linear map from `in_channels·P·P` pixels to C (a stride-P conv is a
    /// matmul over patches).
    patch_embed: Linear,
    cls_token: Option<Tensor<3>>,
    registers: Option<Tensor<3>>,
    pos_embed: Option<Tensor<3>>,
    shared_bias: Option<Tensor<4>>,
    blocks: Vec<Block>,
    norm: LayerNorm,
}

impl Vit {
    /// Builds the model for `image_size` pixels (the config's own when `None`), copying the weights.
    pub fn new(
        config: &VitConfig,
        weights: &HostWeights,
        image_size: Option<usize>,
        device: &Device,
    ) -> Result<Self, ModelError> {
        Self::build(config, Weights::Borrowed(weights), image_size, device)
    }

    /// As [`Self::new`], consuming the weights: each is freed once it is on the device.
    pub fn from_weights(
        config: &VitConfig,
        weights: HostWeights,
        image_size: Option<usize>,
        device: &Device,
    ) -> Result<Self, ModelError> {
        Self::build(config, Weights::Owned(RefCell::new(weights)), image_size, device)
    }

    /// As [`Self::new`], taking each tensor from `source` as it is needed.
    pub fn from_source(
        config: &VitConfig,
        source: &dyn TensorSource,
        image_size: Option<usize>,
        device: &Device,
    ) -> Result<Self, ModelError> {
        Self::build(config, Weights::Source(source), image_size, device)
    }

    fn build(
        config: &VitConfig,
        weights: Weights<'_>,
        image_size: Option<usize>,
        device: &Device,
    ) -> Result<Self, ModelError> {
        let image_size = image_size.unwrap_or(config.image_size);
        let p = config.patch_size;
        if !image_size.is_multiple_of(p) || image_size < p {
            return Err(ModelError::Resolution {
                requested: image_size,
                reason: format!("it must be a positive multiple of the patch size {p}"),
            });
        }
        if image_size > 4 * config.image_size {
            return Err(ModelError::Resolution {
                requested: image_size,
                reason: format!("more than 4× the trained {} px is not supported", config.image_size),
            });
        }
        let grid = image_size / p;
        let (c, heads, prefix) = (config.width, config.heads, config.prefix_tokens());
        let tokens = grid * grid + prefix;
        let load = Loader { weights, device };

        let root = Path::root();
        let patch = root.pp(names::PATCH_PROJECTION);
        let conv = load.weight(&patch.key(names::WEIGHT), &[c, config.in_channels, p, p], None)?;
        let bias = load.host(&patch.key(names::BIAS), &[c])?.into_owned().data;
        let patch_embed = Linear::new(conv, config.in_channels * p * p, c, Some(bias), device);
        let cls_token =
            if config.cls_token { Some(load.tensor(&root.key(names::CLS_TOKEN), [1, 1, c])?) } else { None };
        let r = config.register_tokens;
        let registers = if r > 0 { Some(load.tensor(&root.key(names::REGISTER_TOKENS), [1, r, c])?) } else { None };

        let pos_embed = match config.absolute_position {
            AbsolutePosition::None => None,
            _ => {
                let rows = config.position_prefix();
                let stored = load.host(&root.key(names::POSITION_TABLE), &[1, config.position_rows(), c])?;
                let table = position::resize_absolute(&stored.data, c, rows, config.grid(), grid);
                Some(load.upload(table, [1, grid * grid + rows, c]))
            }
        };

        let relative = |name: &str| -> Result<Tensor<4>, ModelError> {
            let rows = VitConfig::relative_table_rows(config.grid());
            let table = load.host(name, &[rows, heads])?;
            let table = position::resize_relative(&table.data, heads, config.grid(), grid);
            Ok(load.upload(position::expand_relative_bias(&table, heads, grid), [1, heads, tokens, tokens]))
        };
        let shared_bias = match config.relative_position {
            RelativePosition::Shared => Some(relative(&names::shared_relative_table())?),
            _ => None,
        };

        let mut blocks = Vec::with_capacity(config.depth);
        for i in 0..config.depth {
            let b = names::block(i);
            let attn = b.pp(names::ATTENTION);
            let qkv = load.qkv(&attn, config)?;
            let relative_bias = match config.relative_position {
                RelativePosition::PerBlock => Some(relative(&names::block_relative_table(i))?),
                _ => None,
            };
            let gamma = |leaf: &str| -> Result<Option<Tensor<1>>, ModelError> {
                if config.layer_scale { load.tensor(&b.key(leaf), [c]).map(Some) } else { Ok(None) }
            };
            let eps = config.layer_norm_eps;
            blocks.push(Block {
                norm1: load.norm(&b.pp(names::NORM_1), c, eps)?,
                attn: Attention { qkv, proj: load.linear(&attn.pp(names::PROJECTION), c, c)?, heads, relative_bias },
                gamma_1: gamma(names::LAYER_SCALE_1)?,
                norm2: load.norm(&b.pp(names::NORM_2), c, eps)?,
                fc1: load.linear(&b.pp(names::MLP_1), c, config.mlp_hidden)?,
                fc2: load.linear(&b.pp(names::MLP_2), config.mlp_hidden, c)?,
                gamma_2: gamma(names::LAYER_SCALE_2)?,
            });
        }
        Ok(Self {
            config: config.clone(),
            grid,
            patch_embed,
            cls_token,
            registers,
            pos_embed,
            shared_bias,
            blocks,
            norm: load.norm(&root.pp(names::NORM), c, config.layer_norm_eps)?,
        })
    }

    pub fn config(&self) -> &VitConfig {
        &self.config
    }

    /// How weights stored in int8 multiply on the CPU from now on (see [`Arithmetic`]).
    pub fn set_arithmetic(&mut self, arithmetic: Arithmetic) {
        self.patch_embed.set_arithmetic(arithmetic);
        for block in &mut self.blocks {
            for linear in [&mut block.attn.qkv, &mut block.attn.proj, &mut block.fc1, &mut block.fc2] {
                linear.set_arithmetic(arithmetic);
            }
        }
    }

    /// Tokens per side at this instance's resolution.
    pub fn grid(&self) -> usize {
        self.grid
    }

    pub fn image_size(&self) -> usize {
        self.grid * self.config.patch_size
    }

    /// z₀: patches projected, CLS prepended, absolute position added; registers, if any, go
    /// between CLS and the patches after the position is added (timm's `no_embed_class` order).
    ///
    /// # Shapes
    /// images: `[B, in_channels, S, S]` with S = this instance's image size → `[B, T, C]`
    pub fn embed(&self, images: Tensor<4>) -> Tensor<3> {
        let [b, ch, _, _] = images.dims();
        let (g, p, c) = (self.grid, self.config.patch_size, self.config.width as i64);
        let patches = images.reshape([b, ch, g, p, g, p]).permute([0, 2, 4, 1, 3, 5]).reshape([b, g * g, ch * p * p]);
        let mut x = self.patch_embed.forward(patches);
        let cls = self.cls_token.as_ref().map(|t| t.clone().expand([b as i64, 1, c]));
        let add_position = |x: Tensor<3>| match &self.pos_embed {
            Some(pos) => x + pos.clone(),
            None => x,
        };
        match &self.registers {
            None => {
                if let Some(cls) = cls {
                    x = Tensor::cat(vec![cls, x], 1);
                }
                add_position(x)
            }
            Some(registers) => {
                let r = self.config.register_tokens as i64;
                let prefix = cls.into_iter().chain([registers.clone().expand([b as i64, r, c])]);
                Tensor::cat(prefix.chain([add_position(x)]).collect(), 1)
            }
        }
    }

    /// Runs the network, keeping what `capture` asks for.
    pub fn forward(&self, images: Tensor<4>, capture: Capture) -> VitOutput {
        let mut x = self.embed(images);
        let embedding = capture.streams.then(|| x.clone());
        let mut blocks = Vec::with_capacity(self.blocks.len());
        for block in &self.blocks {
            let (x1, x2, attention) = block.forward(x, self.shared_bias.as_ref());
            blocks.push(BlockOutput {
                attention: capture.attention.then_some(attention),
                after_attention: capture.streams.then_some(x1),
                after_mlp: capture.streams.then(|| x2.clone()),
            });
            x = x2;
        }
        let final_tokens = capture.final_tokens.then(|| self.norm.forward(x));
        VitOutput { embedding, blocks, final_tokens }
    }
}
