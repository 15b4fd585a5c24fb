//! Model file → ready-to-run model → metrics for prepared images: the one path the CLI, the browser
//! worker and the tests all take, so preprocessing and analysis cannot drift apart.

use burn::Tensor;
use burn::tensor::{Device, TensorData};

use web_time::Instant;

use crate::analysis::{self, AnalysisError, Derived, Grams, LayerMetrics, MetricContext, Snapshot};
use crate::image::{Prepared, prepare};
use crate::model::{Capture, HostWeights, ModelError, TensorSource, Vit, VitOutput};
use crate::weights::ModelFile;
use vitscope_protocol::messages::Arithmetic;
use vitscope_protocol::probe::PooledFeatures;

/// A model bound to a device and an input resolution, with its metric constants.
pub struct LoadedModel {
    /// The file's config, card and precision. Its host weights are left behind once the model is on
    /// the device: a ViT-B would otherwise be held twice.
    pub file: ModelFile,
    pub vit: Vit,
    pub metrics: MetricContext,
    device: Device,
}

impl LoadedModel {
    /// `image_size` runs the model above (or below) its trained resolution; `None` runs it at its
    /// card's crop (the stored size, except for models stored above 224 px, which run at 224).
    pub fn new(mut file: ModelFile, image_size: Option<usize>, device: &Device) -> Result<Self, ModelError> {
        let size = image_size.unwrap_or(file.card.preprocessing.crop as usize);
        let weights = std::mem::take(&mut file.weights);
        let vit = Vit::from_weights(&file.config, weights, Some(size), device)?;
        Ok(Self::around(file, vit, device))
    }

    /// A model file's bytes, dequantized tensor by tensor straight onto the device: a ViT-B's f32
    /// weights are never all in host memory. `file` is the header [`ModelFile::open`] gave.
    pub fn from_stored(
        file: ModelFile,
        tensors: &dyn TensorSource,
        image_size: Option<usize>,
        device: &Device,
    ) -> Result<Self, ModelError> {
        let size = image_size.unwrap_or(file.card.preprocessing.crop as usize);
        let vit = Vit::from_source(&file.config, tensors, Some(size), device)?;
        Ok(Self::around(file, vit, device))
    }

    /// As [`Self::new`], leaving `file` with its owner (its weights copied).
    pub fn of(file: &ModelFile, image_size: Option<usize>, device: &Device) -> Result<Self, ModelError> {
        let size = image_size.unwrap_or(file.card.preprocessing.crop as usize);
        let vit = Vit::new(&file.config, &file.weights, Some(size), device)?;
        let header = ModelFile {
            config: file.config.clone(),
            card: file.card.clone(),
            weights: HostWeights::new(),
            precision: file.precision,
        };
        Ok(Self::around(header, vit, device))
    }

    fn around(file: ModelFile, vit: Vit, device: &Device) -> Self {
        let metrics = MetricContext::new(vit.grid(), file.config.patch_size, file.config.prefix_tokens(), device);
        Self { file, vit, metrics, device: device.clone() }
    }

    /// How weights stored in int8 multiply on the CPU from now on (see [`Arithmetic`]).
    pub fn set_arithmetic(&mut self, arithmetic: Arithmetic) {
        self.vit.set_arithmetic(arithmetic);
    }

    pub fn image_size(&self) -> u32 {
        self.vit.image_size() as u32
    }

    /// Decoded RGB → this model's input, per its card.
    pub fn prepare(&self, image: &::image::RgbImage) -> Prepared {
        let size = self.image_size();
        let override_size = (size != self.file.card.preprocessing.crop).then_some(size);
        prepare(image, &self.file.card.preprocessing, override_size)
    }

    /// `[B, 3, S, S]` from prepared images (all of this model's size).
    pub fn batch(&self, images: &[&Prepared]) -> Tensor<4> {
        let s = self.image_size() as usize;
        let data: Vec<f32> = images.iter().flat_map(|p| p.pixels.iter().copied()).collect();
        Tensor::from_data(TensorData::new(data, [images.len(), 3, s, s]), &self.device)
    }

    pub fn forward(&self, images: &[&Prepared], capture: Capture) -> VitOutput {
        self.vit.forward(self.batch(images), capture)
    }

    /// Forward plus every per-layer metric, one result per image.
    pub async fn layer_metrics(&self, images: &[&Prepared]) -> Result<Vec<LayerMetrics>, AnalysisError> {
        let out = self.forward(images, Self::MEASURED);
        analysis::layer_metrics(&self.metrics, &out).await
    }

    /// Forward plus each image's CLS and mean patch token after every block, for the probes.
    pub async fn pooled_features(&self, images: &[&Prepared]) -> Result<Vec<PooledFeatures>, AnalysisError> {
        let out = self.forward(images, Capture { attention: false, streams: true, final_tokens: false });
        let c = &self.file.config;
        analysis::probe::pooled_features(&out, c.prefix_tokens(), c.cls_token).await
    }

    /// Forward plus everything the explorer shows for one image, timed from before the pass.
    pub async fn snapshot(&self, image: &Prepared) -> Result<Snapshot, AnalysisError> {
        let clock = Instant::now();
        let out = self.forward(&[image], Self::MEASURED);
        analysis::snapshot(&self.metrics, &out, self.file.config.cls_token, clock).await
    }

    /// As [`Self::snapshot`], the maps alone, and the pass whose rest [`Self::derive`] gives.
    pub async fn snapshot_maps(&self, image: &Prepared) -> Result<(Snapshot, VitOutput), AnalysisError> {
        let clock = Instant::now();
        let out = self.forward(&[image], Self::MEASURED);
        Ok((analysis::snapshot_maps(&self.metrics, &out, self.file.config.cls_token, clock).await?, out))
    }

    /// The rest of [`Self::snapshot_maps`]' snapshot from its pass `out` and every layer's maps
    /// (`attention`, as that snapshot read them), the representation left to [`Grams::represent`]
    /// (host work only).
    pub async fn derive(&self, out: &VitOutput, attention: &[f32]) -> Result<(Derived, Grams), AnalysisError> {
        analysis::derive(&self.metrics, out, attention).await
    }

    /// What the metrics read from a pass: attention and the residual streams, not the final norm.
    const MEASURED: Capture = Capture { attention: true, streams: true, final_tokens: false };
}
