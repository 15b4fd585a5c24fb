//! Published curves from Park et al. (ICLR 2023), for charts. Source: shared/reference/paper.md
//! (MoCo v3 ViT-B/16 official notebook on 59 Imagenette-160 val images at 224 px; ΔlogA from Fig. 9).

use crate::metric::Metric;

/// A published per-layer curve and what it is (its x axis is its metric's).
pub struct PaperCurve {
    pub metric: Metric,
    pub model: &'static str,
    pub values: &'static [f32],
}

// −3.140 is a measured value that merely resembles π.
#[allow(clippy::approx_constant)]
pub const CURVES: &[PaperCurve] = &[
    PaperCurve {
        metric: Metric::AttentionDistance,
        model: "MoCo v3 ViT-B/16 (paper)",
        values: &[110.5, 89.2, 73.3, 69.5, 72.9, 81.4, 88.2, 79.9, 95.7, 101.2, 109.7, 113.6],
    },
    PaperCurve {
        metric: Metric::Nmi,
        model: "MoCo v3 ViT-B/16 (paper)",
        values: &[0.063, 0.120, 0.321, 0.295, 0.238, 0.181, 0.145, 0.171, 0.094, 0.076, 0.030, 0.008],
    },
    PaperCurve {
        metric: Metric::DeltaLogAmplitude,
        model: "MoCo v3 ViT-B/16 (paper)",
        values: &[
            -2.905, -3.180, -3.140, -3.075, -2.952, -2.810, -2.665, -2.554, -2.463, -2.404, -2.389, -2.401, -2.508,
        ],
    },
    PaperCurve {
        metric: Metric::DeltaLogAmplitude,
        model: "SimMIM ViT-B/16 (paper)",
        values: &[
            -1.999, -2.049, -2.245, -2.184, -2.133, -2.122, -2.091, -2.064, -2.038, -2.057, -2.128, -2.116, -2.308,
        ],
    },
];

pub fn curves_for(metric: Metric) -> impl Iterator<Item = &'static PaperCurve> {
    CURVES.iter().filter(move |c| c.metric == metric)
}
