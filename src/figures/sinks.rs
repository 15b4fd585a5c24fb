//! High-norm tokens and attention sinks (Darcet et al., "Vision Transformers Need Registers", ICLR
//! 2024): large ViTs trained long hand a few background patches a norm many times the others', and
//! those patches draw a large share of the attention. Per layer, from the snapshot: the norms of the
//! tokens entering the layer, the patches above median + k·MAD, and the attention the layer pays them.

use vitscope_protocol::Snapshot;

/// Outliers sit above the median by this many median absolute deviations: far enough that the tail
/// of an ordinary layer stays unflagged (Darcet et al.'s outliers are several times the median).
pub const OUTLIER_MADS: f32 = 10.0;

#[derive(Clone, Debug, PartialEq)]
pub struct Sinks {
    /// ‖z‖ of each patch token entering the layer.
    pub norms: Vec<f32>,
    pub median: f32,
    pub threshold: f32,
    pub flagged: Vec<bool>,
    /// Mean over heads and queries of the attention paid to the flagged patches.
    pub attention_share: f32,
    /// The flagged patches' share of all tokens: what uniform attention would pay them.
    pub token_share: f32,
    /// The CLS query's share to them, for a model with a CLS token.
    pub cls_share: Option<f32>,
    /// The share paid to the register tokens, for a model with registers.
    pub register_share: Option<f32>,
}

fn median(values: &[f32]) -> f32 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f32::total_cmp);
    let n = sorted.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// The layer's (0-based) sinks: norms of z_layer (the tokens its attention reads) and its attention.
pub fn sinks(snapshot: &Snapshot, layer: usize) -> Sinks {
    let layer = snapshot.shown_layer(layer);
    let (t, prefix) = (snapshot.prefix + snapshot.patches(), snapshot.prefix);
    let norms = snapshot.token_norms[layer * t + prefix..(layer + 1) * t].to_vec();
    let m = median(&norms);
    let mad = median(&norms.iter().map(|v| (v - m).abs()).collect::<Vec<_>>());
    let threshold = m + OUTLIER_MADS * mad.max(1e-6 * m.abs());
    let flagged: Vec<bool> = norms.iter().map(|&v| v > threshold).collect();
    // Column sums of the layer's attention over its heads, per query row (zero while its maps are
    // still coming).
    let maps = snapshot.layer_attention(layer).unwrap_or_default();
    let share_to = |rows: std::ops::Range<usize>, columns: &dyn Fn(usize) -> bool| -> f32 {
        if maps.is_empty() {
            return 0.0;
        }
        let count = rows.len() * snapshot.heads;
        let mut total = 0.0f64;
        for h in 0..snapshot.heads {
            for r in rows.clone() {
                let start = (h * t + r) * t;
                let row = &maps[start..start + t];
                total += row.iter().enumerate().filter(|(c, _)| columns(*c)).map(|(_, &a)| f64::from(a)).sum::<f64>();
            }
        }
        (total / count.max(1) as f64) as f32
    };
    let is_flagged = |c: usize| c >= prefix && flagged[c - prefix];
    let registers_from = usize::from(snapshot.cls);
    let count = flagged.iter().filter(|&&f| f).count();
    Sinks {
        attention_share: share_to(0..t, &is_flagged),
        token_share: count as f32 / t as f32,
        cls_share: snapshot.cls.then(|| share_to(0..1, &is_flagged)),
        register_share: (prefix > registers_from).then(|| share_to(0..t, &|c| (registers_from..prefix).contains(&c))),
        norms,
        median: m,
        threshold,
        flagged,
    }
}

impl Sinks {
    /// What the view shows, in words, with its numbers.
    pub fn text(&self, grid: usize, layer: usize) -> String {
        let largest = self.norms.iter().copied().fold(0.0f32, f32::max);
        let ratio = largest / self.median.max(1e-12);
        let registers = self
            .register_share
            .map_or(String::new(), |r| format!(" The registers draw {:.1} % of the attention.", 100.0 * r));
        let where_: Vec<String> = (0..self.flagged.len())
            .filter(|&i| self.flagged[i])
            .take(8)
            .map(|i| format!("row {} col {} (‖z‖ {:.1})", i / grid + 1, i % grid + 1, self.norms[i]))
            .collect();
        if where_.is_empty() {
            return format!(
                "No high-norm tokens enter layer {}: the largest patch norm is {largest:.2}, {ratio:.1}× the median {:.2} (outliers would pass {:.2}, the median + {OUTLIER_MADS} MAD).{registers}",
                layer + 1,
                self.median,
                self.threshold
            );
        }
        let count = self.flagged.iter().filter(|&&f| f).count();
        let cls = self.cls_share.map_or(String::new(), |c| format!("; the CLS query gives them {:.1} %", 100.0 * c));
        format!(
            "{count} high-norm patch{} enter{} layer {} (above {:.2}, the median {:.2} + {OUTLIER_MADS} MAD; the largest {ratio:.1}× the median): {}. They draw {:.1} % of the layer's attention, against {:.1} % under uniform attention{cls}.{registers}",
            if count == 1 { "" } else { "es" },
            if count == 1 { "s" } else { "" },
            layer + 1,
            self.threshold,
            self.median,
            where_.join(", "),
            100.0 * self.attention_share,
            100.0 * self.token_share,
        )
    }
}
