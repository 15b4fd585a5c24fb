//! DINO's views of the CLS query (Caron et al., ICCV 2021, `visualize_attention.py`): every head's map
//! in its own colour, and the patches holding the top 60 % of the attention mass. Computed from the
//! snapshot's attention, so they need no second pass.

use vitscope_protocol::Snapshot;

/// The share of the CLS attention the mask keeps (DINO's `--threshold 0.6`). An f64, as in Python:
/// 1 − 0.6 is then 0.4 when it meets the f32 sums, as in DINO's comparison.
pub const KEPT_MASS: f64 = 0.6;

/// DINO's mask: sort a map ascending, normalise it to sum 1, and keep the patches whose cumulative
/// sum passes 1 − `kept`, i.e. the fewest strongest patches holding `kept` of the mass. The sums follow
/// torch's (f64 running sums rounded to f32); its total is summed in another order, so a patch within
/// a rounding step of the threshold may fall the other way. DINO masks each head; the page also masks
/// their mean.
pub fn mass_mask(map: &[f32], kept: f64) -> Vec<bool> {
    let threshold = (1.0 - kept) as f32;
    let mut order: Vec<usize> = (0..map.len()).collect();
    order.sort_by(|&a, &b| map[a].total_cmp(&map[b]).then(a.cmp(&b)));
    let total: f32 = map.iter().sum::<f32>().max(1e-30);
    let mut keep = vec![false; map.len()];
    // torch's cumsum of f32 accumulates in f64 and rounds each sum to f32.
    let mut cumulative = 0.0f64;
    for &i in &order {
        cumulative += f64::from(map[i] / total);
        keep[i] = (cumulative as f32) > threshold;
    }
    keep
}

/// The CLS query's map of every head at `layer`, or `None` for a model without a CLS token.
pub fn cls_head_maps(snapshot: &Snapshot, layer: usize) -> Option<Vec<Vec<f32>>> {
    snapshot.cls.then(|| (0..snapshot.heads).map(|h| snapshot.attention_map(layer, Some(h), 0)).collect())
}

/// For each head, the patches where it is the strongest (each map scaled to its own range, as the
/// head-colour picture shows them; a tie goes to the lower head). A patch at every head's minimum is
/// nobody's, as the picture leaves it uncoloured.
pub fn head_wins(maps: &[Vec<f32>]) -> Vec<usize> {
    let scaled: Vec<Vec<f32>> = maps.iter().map(|m| super::picture::normalise(m)).collect();
    let patches = maps.first().map_or(0, Vec::len);
    let mut wins = vec![0usize; maps.len()];
    let strongest = |p: usize| {
        let h = (0..maps.len()).max_by(|&a, &b| scaled[a][p].total_cmp(&scaled[b][p]).then(b.cmp(&a)))?;
        (scaled[h][p] > 0.0).then_some(h)
    };
    (0..patches).filter_map(strongest).for_each(|h| wins[h] += 1);
    wins
}

/// The head-colour view in words: for each head, the patches where it is the strongest ([`head_wins`])
/// and its strongest patch.
pub fn heads_text(maps: &[Vec<f32>], grid: usize) -> String {
    let patches = maps.first().map_or(0, Vec::len);
    let wins = head_wins(maps);
    maps.iter()
        .enumerate()
        .map(|(h, m)| {
            let top = (0..m.len()).max_by(|&a, &b| m[a].total_cmp(&m[b]).then(b.cmp(&a))).unwrap_or(0);
            format!(
                "head {} strongest on {} of {patches} patches, peak at row {} col {} ({:.3})",
                h + 1,
                wins[h],
                top / grid + 1,
                top % grid + 1,
                m[top]
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The mask in words: how many patches hold the kept mass, and where the mask's rows lie.
pub fn mask_text(map: &[f32], keep: &[bool], grid: usize) -> String {
    let kept: Vec<usize> = (0..keep.len()).filter(|&i| keep[i]).collect();
    let mass: f32 = kept.iter().map(|&i| map[i]).sum::<f32>() / map.iter().sum::<f32>().max(1e-30);
    let rows = kept.iter().map(|&i| i / grid + 1);
    let (top, bottom) = (rows.clone().min().unwrap_or(0), rows.max().unwrap_or(0));
    format!(
        "{} of {} patches hold {:.1} % of the CLS attention (rows {top}–{bottom})",
        kept.len(),
        keep.len(),
        100.0 * mass
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mask_keeps_the_fewest_strongest_patches_past_sixty_percent_as_dino_does() {
        // Ascending 0.1, 0.2, 0.3, 0.4: cumulative 0.1, 0.3, 0.6, 1.0; above 0.4 are 0.3 and 0.4.
        assert_eq!(mass_mask(&[0.4, 0.1, 0.3, 0.2], 0.6), [true, false, true, false]);
        // Unnormalised maps give the same mask.
        assert_eq!(mass_mask(&[4.0, 1.0, 3.0, 2.0], 0.6), [true, false, true, false]);
        // One patch with all the mass is the whole mask; of eight equal patches (cumulative 1/8, 2/8, …)
        // the five past 0.4 stay.
        assert_eq!(mass_mask(&[0.0, 1.0, 0.0], 0.6), [false, true, false]);
        assert_eq!(mass_mask(&[1.0; 8], 0.6).iter().filter(|&&k| k).count(), 5);
        // A cumulative sum that reaches exactly 0.4 is not past it: 0.1 + 0.1 + 0.2 = 0.4 in f32.
        assert_eq!(mass_mask(&[0.1, 0.1, 0.2, 0.6], 0.6), [false, false, false, true]);
    }

    #[test]
    fn the_mask_equals_dinos_code_where_f32_sums_would_differ() {
        // What DINO's visualize_attention.py keeps (torch 2.15: sort, normalise, cumsum, > 1 − 0.6).
        let ten: Vec<bool> = mass_mask(&[1.0; 10], 0.6);
        assert_eq!(ten.iter().filter(|&&k| k).count(), 6, "a plain f32 running sum passes 0.4 one patch early");
        let map = [
            0.1531, 0.0079, 0.2865, 0.2835, 0.0126, 0.0768, 0.0089, 0.2497, 0.0488, 0.6169, 0.6249, 0.1672, 0.0236,
            0.0088, 0.0882, 0.0464,
        ];
        let dino = [0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0];
        assert_eq!(mass_mask(&map, KEPT_MASS), dino.map(|k| k == 1));
    }

    #[test]
    fn the_texts_give_the_numbers_shown() {
        let maps = vec![vec![0.7, 0.1, 0.1, 0.1], vec![0.1, 0.1, 0.2, 0.6]];
        assert_eq!(
            heads_text(&maps, 2),
            "head 1 strongest on 1 of 4 patches, peak at row 1 col 1 (0.700); head 2 strongest on 2 of 4 patches, peak at row 2 col 2 (0.600)"
        );
        let keep = mass_mask(&maps[1], KEPT_MASS);
        assert_eq!(mask_text(&maps[1], &keep, 2), "1 of 4 patches hold 60.0 % of the CLS attention (rows 2–2)");
    }
}
