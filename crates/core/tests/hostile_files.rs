//! Files from strangers, changed at random: vitscope weight files (bytes flipped, cut, grown; the
//! header's numbers, those of the config and card inside it included, replaced by extreme ones) and
//! official checkpoints (the zip's directory and the pickle changed, then converted). Each is read
//! or refused with a typed error, never a panic, and never with more memory than a small multiple
//! of its own size, whatever sizes it claims. The regression inputs that property tests or fuzzing
//! found live in `tests/fixtures/hostile/` and are read back at the bottom.

mod common;
mod heap;

use std::sync::{Arc, OnceLock};

use common::*;
use heap::peak_during;
use proptest::prelude::*;
use proptest::sample::select;
use std::collections::BTreeMap;

use vitscope_convert::checkpoint::Checkpoint;
use vitscope_convert::layout::{self, Layout, Overrides};
use vitscope_convert::{ConvertOptions, convert_source};
use vitscope_core::weights::{ModelFile, Precision};

/// What reading a file may hold at once: its f32 weights (4 bytes a weight, from 1 byte in int8)
/// and the header's parse, so 5× the file plus a fixed 4 MiB. Stated in RELIABILITY.md.
const READ_FACTOR: usize = 5;
/// Converting holds the checkpoint's kept tensors as f32 and the model built from them (the
/// fixtures store f32, so about 2× the kept bytes), plus the zip directory and the pickle's objects.
const CONVERT_FACTOR: usize = 3;
const SLACK: usize = 4 << 20;

/// The SimMIM fixture as a vitscope file of each precision.
fn weight_files() -> &'static [Vec<u8>; 3] {
    static FILES: OnceLock<[Vec<u8>; 3]> = OnceLock::new();
    FILES.get_or_init(|| {
        let model = convert_fixture("simmim");
        [Precision::Int8, Precision::F16, Precision::F32].map(|p| model.to_bytes(p).unwrap())
    })
}

/// The byte ranges of the header's digit runs (JSON numbers, and the numbers inside the config and
/// card, which the header stores as JSON strings).
fn digit_runs(file: &[u8]) -> Vec<(usize, usize)> {
    let header_len = u64::from_le_bytes(file[..8].try_into().unwrap()) as usize;
    let header = &file[8..8 + header_len];
    let mut runs = Vec::new();
    let mut i = 0;
    while i < header.len() {
        if header[i].is_ascii_digit() {
            let start = i;
            while i < header.len() && header[i].is_ascii_digit() {
                i += 1;
            }
            runs.push((8 + start, 8 + i));
        }
        i += 1;
    }
    runs
}

/// Replaces one digit run of the header and writes the header's new length.
fn with_number(file: &[u8], run: (usize, usize), number: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(file.len() + number.len());
    out.extend_from_slice(&file[..run.0]);
    out.extend_from_slice(number.as_bytes());
    out.extend_from_slice(&file[run.1..]);
    let header_len = u64::from_le_bytes(file[..8].try_into().unwrap()) as usize;
    let new_len = header_len + number.len() - (run.1 - run.0);
    out[..8].copy_from_slice(&(new_len as u64).to_le_bytes());
    out
}

fn extreme_numbers() -> impl Strategy<Value = &'static str> {
    select(vec![
        "0",
        "1",
        "2",
        "3",
        "7",
        "64",
        "129",
        "4097",
        "65536",
        "2147483648",
        "4294967297",
        "18446744073709551615",
        "340282366920938463463374607431768211457",
    ])
}

/// Each fixture checkpoint's keys and shapes.
fn fixture_shapes() -> &'static Vec<BTreeMap<String, Vec<usize>>> {
    static SHAPES: OnceLock<Vec<BTreeMap<String, Vec<usize>>>> = OnceLock::new();
    SHAPES.get_or_init(|| {
        let layouts = ["dino", "dino-full", "mocov3", "simmim", "mae", "beit", "timm"];
        let open = |l: &str| Checkpoint::open(Arc::new(std::fs::read(checkpoint_path(l)).unwrap())).unwrap().shapes();
        layouts.iter().map(|l| open(l)).collect()
    })
}

fn read_within_bounds(bytes: &[u8]) -> Result<(), TestCaseError> {
    let (result, peak) = peak_during(|| ModelFile::from_bytes(bytes));
    if let Ok(model) = result {
        prop_assert!(model.validate().is_ok());
    }
    prop_assert!(peak <= READ_FACTOR * bytes.len() + SLACK, "{peak} bytes held reading a {}-byte file", bytes.len());
    Ok(())
}

proptest! {
    #[test]
    fn a_changed_weight_file_is_read_or_refused(
        which in 0usize..3,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        in_header in any::<bool>(),
        cut in any::<prop::sample::Index>(),
        grow in proptest::collection::vec(any::<u8>(), 0..16),
    ) {
        let files = weight_files();
        let mut bytes = files[which].clone();
        let header_end = 8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        for (at, value) in edits {
            let at = if in_header { at.index(header_end) } else { at.index(bytes.len()) };
            bytes[at] = value;
        }
        read_within_bounds(&bytes)?;
        bytes.truncate(cut.index(bytes.len() + 1));
        bytes.extend(grow);
        read_within_bounds(&bytes)?;
    }

    #[test]
    fn a_weight_file_claiming_extreme_numbers_is_read_or_refused(
        which in 0usize..3,
        run in any::<prop::sample::Index>(),
        number in extreme_numbers(),
    ) {
        let files = weight_files();
        let runs = digit_runs(&files[which]);
        read_within_bounds(&with_number(&files[which], runs[run.index(runs.len())], number))?;
    }

    /// A checkpoint's zip directory (its last bytes), its pickle (its first) or anything in
    /// between, changed and then converted as `vitscope convert` would.
    #[test]
    fn a_changed_checkpoint_converts_or_is_refused(
        layout in select(vec!["dino", "mocov3", "simmim", "mae", "beit", "timm"]),
        edits in proptest::collection::vec((0u8..3, any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in proptest::option::of(any::<prop::sample::Index>()),
    ) {
        let mut bytes = std::fs::read(checkpoint_path(layout)).unwrap();
        let n = bytes.len();
        for (region, at, value) in edits {
            let at = match region {
                0 => at.index(n.min(4096)),
                1 => n - 1 - at.index(n.min(4096)),
                _ => at.index(n),
            };
            bytes[at] = value;
        }
        if let Some(cut) = cut {
            bytes.truncate(cut.index(n));
        }
        let len = bytes.len();
        // Heads given, as `vitscope convert --heads` would (the fixtures' widths name no published
        // model), so a checkpoint that parses is read to its last tensor.
        let overrides = Overrides { heads: Some(meta(layout).heads), image_size: None };
        let options = ConvertOptions { sha256: Some("0".repeat(64)), overrides, ..ConvertOptions::default() };
        let (result, peak) =
            peak_during(|| convert_source(Arc::new(bytes), "changed.pth", &options, &mut |_| {}).map(drop));
        prop_assert!(peak <= CONVERT_FACTOR * len + SLACK, "{peak} bytes held converting a {len}-byte file ({result:?})");
    }

    /// The keys and shapes a checkpoint claims, before any tensor is read: a real layout's with
    /// keys dropped, dimensions added or removed, and sizes from 0 to the largest `usize`. Every
    /// layout's plan is worked out from them (a wrong one refuses), never a panic.
    #[test]
    fn any_claimed_shapes_are_planned_or_refused(
        fixture in any::<prop::sample::Index>(),
        drops in proptest::collection::vec(any::<prop::sample::Index>(), 0..3),
        dims in proptest::collection::vec(
            (any::<prop::sample::Index>(), 0usize..5, select(vec![0, 1, 2, 3, 7, 13, 64, 4097, usize::MAX / 2, usize::MAX])),
            0..4,
        ),
        from_safetensors in any::<bool>(),
        heads in proptest::option::of(0usize..20),
    ) {
        let all = fixture_shapes();
        let mut shapes = all[fixture.index(all.len())].clone();
        for drop in drops {
            let key = shapes.keys().nth(drop.index(shapes.len())).cloned().unwrap();
            shapes.remove(&key);
        }
        for (key, axis, size) in dims {
            let key = shapes.keys().nth(key.index(shapes.len())).cloned().unwrap();
            let shape = shapes.get_mut(&key).unwrap();
            match axis {
                4 => { shape.pop(); }
                3 => shape.push(size),
                _ if axis < shape.len() => shape[axis] = size,
                _ => shape.push(size),
            }
        }
        let keys: Vec<String> = shapes.keys().cloned().collect();
        let _ = Layout::detect(&keys, from_safetensors);
        let overrides = Overrides { heads, image_size: None };
        for layout in Layout::ALL {
            if let Ok(plan) = layout::plan(layout, &shapes, &overrides) {
                prop_assert!(plan.config.validate().is_ok(), "{layout:?}: {:?}", plan.config);
            }
        }
    }
}
