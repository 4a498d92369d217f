//! Near-duplicate index over sampled frames: multi-index hashing (Norouzi,
//! Punjani & Fleet 2012) on the 64-bit foreground map, one table per 8-bit
//! row of the 8×8 map. Two frames whose maps agree on a whole non-empty row
//! become a candidate pair, which is then verified on all three hashes
//! (foreground, motion, appearance). This finds the same footage across all
//! videos of a dataset without comparing every frame with every other.
//!
//! Only frames with something moving in them are indexed: a motionless room
//! matches every other minute of itself and proves nothing (inconclusive).
//! Over-full buckets (a row value shared by more than `bucket_cap` frames)
//! are skipped as uninformative, like stop words.
//!
//! One frame's 8×8 map carries little information when one person moves in
//! a still room: the proctor in one cell looks the same in every session.
//! [`landmark_pairs`] therefore also indexes *pairs* of frames of one video
//! (an anchor, one of its next few indexed frames, and the gap between them),
//! the landmark idea of audio fingerprinting (Wang 2003, "An Industrial-
//! Strength Audio Search Algorithm"): the path someone walks over a minute is
//! specific to that recording where no single position is.

use std::collections::HashMap;

use super::hash::hamming;

/// The hashes of one indexed frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub fg: u64,
    pub motion: u64,
    pub phash: u64,
}

/// Largest Hamming distances at which two frames count as the same picture.
#[derive(Debug, Clone, Copy)]
pub struct Tolerance {
    pub fg: u32,
    pub motion: u32,
    pub phash: u32,
    pub bucket_cap: usize,
}

/// Adds the pairs of one bucket (skipped when over `bucket_cap`) that match
/// within `tol` on all three hashes.
fn verify_bucket(bucket: &[u32], items: &[Key], tol: &Tolerance, pairs: &mut Vec<(u32, u32)>) {
    if bucket.len() < 2 || bucket.len() > tol.bucket_cap {
        return;
    }
    for (x, &i) in bucket.iter().enumerate() {
        for &j in &bucket[x + 1..] {
            let (a, b) = (items[i as usize], items[j as usize]);
            if i != j
                && hamming(a.fg, b.fg) <= tol.fg
                && hamming(a.motion, b.motion) <= tol.motion
                && hamming(a.phash, b.phash) <= tol.phash
            {
                pairs.push((i.min(j), i.max(j)));
            }
        }
    }
}

/// Index pairs `(i, j)`, `i < j`, of items that match within `tol`; sorted.
pub fn near_pairs(items: &[Key], tol: &Tolerance) -> Vec<(u32, u32)> {
    let mut tables: Vec<HashMap<u8, Vec<u32>>> = vec![HashMap::new(); 8];
    for (i, k) in items.iter().enumerate() {
        for (row, table) in tables.iter_mut().enumerate() {
            let v = (k.fg >> (56 - 8 * row)) as u8;
            if v != 0 {
                table.entry(v).or_default().push(i as u32);
            }
        }
    }
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    for table in &tables {
        for bucket in table.values() {
            verify_bucket(bucket, items, tol, &mut pairs);
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

/// Where each indexed item sits: its video and its time in that video.
/// `near_pairs`-style input ordered by video, then time.
#[derive(Debug, Clone, Copy)]
pub struct Place {
    pub video: u32,
    pub t: f64,
}

/// How anchors are paired with later frames of the same video.
#[derive(Debug, Clone, Copy)]
pub struct Landmarks {
    /// Partners per anchor (the next indexed frames of its video).
    pub fanout: usize,
    /// Largest anchor–partner gap, seconds.
    pub max_gap: f64,
    /// Gap quantum, seconds (the sampling interval).
    pub step: f64,
}

/// Index pairs `(i, j)`, `i < j`, of anchors whose landmark keys agree
/// exactly — same foreground map of the anchor, same map of a partner, same
/// gap in steps — and which are within `tol` on all three hashes; sorted.
/// `items` and `places` are parallel and ordered by video, then time.
pub fn landmark_pairs(items: &[Key], places: &[Place], lm: &Landmarks, tol: &Tolerance) -> Vec<(u32, u32)> {
    let step = lm.step.max(1e-3);
    let mut table: HashMap<(u64, u64, i64), Vec<u32>> = HashMap::new();
    for i in 0..items.len() {
        let (pi, ki) = (places[i], items[i]);
        let partners = (i + 1..items.len())
            .take_while(|&j| places[j].video == pi.video && places[j].t - pi.t <= lm.max_gap)
            .take(lm.fanout);
        for j in partners {
            let gap = ((places[j].t - pi.t) / step).round() as i64;
            table.entry((ki.fg, items[j].fg, gap)).or_default().push(i as u32);
        }
    }
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    for bucket in table.values() {
        verify_bucket(bucket, items, tol, &mut pairs);
    }
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The naive all-pairs version the index must agree with on pairs that
    /// share a non-empty row.
    fn naive(items: &[Key], tol: &Tolerance) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        for i in 0..items.len() {
            for j in i + 1..items.len() {
                let (a, b) = (items[i], items[j]);
                let share_row = (0..8).any(|r| {
                    let (x, y) = ((a.fg >> (56 - 8 * r)) as u8, (b.fg >> (56 - 8 * r)) as u8);
                    x != 0 && x == y
                });
                if share_row
                    && hamming(a.fg, b.fg) <= tol.fg
                    && hamming(a.motion, b.motion) <= tol.motion
                    && hamming(a.phash, b.phash) <= tol.phash
                {
                    out.push((i as u32, j as u32));
                }
            }
        }
        out
    }

    #[test]
    fn agrees_with_naive_search() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let base: Vec<Key> = (0..40).map(|_| Key { fg: rng.gen(), motion: rng.gen(), phash: rng.gen() }).collect();
        let mut items = base.clone();
        // near copies: flip up to 3 bits of each hash
        for k in &base {
            let mut c = *k;
            for _ in 0..rng.gen_range(0..4) {
                c.fg ^= 1 << rng.gen_range(0..64);
                c.motion ^= 1 << rng.gen_range(0..64);
                c.phash ^= 1 << rng.gen_range(0..64);
            }
            items.push(c);
        }
        let tol = Tolerance { fg: 6, motion: 6, phash: 6, bucket_cap: 1000 };
        let got = near_pairs(&items, &tol);
        assert_eq!(got, naive(&items, &tol));
        // every near copy is found
        for i in 0..40u32 {
            assert!(got.contains(&(i, i + 40)), "copy of {i} missed");
        }
    }

    #[test]
    fn empty_maps_are_never_indexed() {
        let items = vec![Key { fg: 0, motion: 0, phash: 5 }; 3];
        assert!(near_pairs(&items, &Tolerance { fg: 0, motion: 0, phash: 0, bucket_cap: 10 }).is_empty());
    }

    /// A walk of one moving person over a small grid: each frame's map has
    /// one bit, so single frames collide everywhere; the walk does not.
    fn walk(seed: u64, n: usize) -> Vec<Key> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut cell: i32 = rng.gen_range(0..64);
        (0..n)
            .map(|_| {
                cell = (cell + rng.gen_range(-9..=9)).rem_euclid(64);
                Key { fg: 1 << cell, motion: 3 << (cell.min(62)), phash: 0 }
            })
            .collect()
    }

    #[test]
    fn landmarks_find_a_copied_walk_and_not_other_walks() {
        // video 0 and 2 are independent walks; video 1 copies video 0 from
        // its 30th frame on, shifted by 100 s.
        let a = walk(1, 120);
        let c = walk(2, 120);
        let mut items = Vec::new();
        let mut places = Vec::new();
        for (v, keys, t0) in [(0u32, &a[..], 0.0), (1, &a[30..], 100.0), (2, &c[..], 0.0)] {
            for (k, key) in keys.iter().enumerate() {
                items.push(*key);
                places.push(Place { video: v, t: t0 + 15.0 * k as f64 });
            }
        }
        let tol = Tolerance { fg: 0, motion: 0, phash: 0, bucket_cap: 1000 };
        let lm = Landmarks { fanout: 3, max_gap: 300.0, step: 15.0 };
        let pairs = landmark_pairs(&items, &places, &lm, &tol);
        let video = |i: u32| places[i as usize].video;
        let copy: Vec<_> = pairs.iter().filter(|&&(i, j)| video(i) == 0 && video(j) == 1).collect();
        // video 1 frame k (at 100 + 15k s) is video 0 frame k + 30 (at 450 + 15k s):
        // that offset collects far more pairs than any other (chance repeats
        // of a one-cell walk spread over many offsets)
        let mut by_offset: HashMap<i64, usize> = HashMap::new();
        for &&(i, j) in &copy {
            *by_offset.entry((places[j as usize].t - places[i as usize].t) as i64).or_default() += 1;
        }
        let at_offset = by_offset.get(&-350).copied().unwrap_or(0);
        let runner_up = by_offset.iter().filter(|(&d, _)| d != -350).map(|(_, &n)| n).max().unwrap_or(0);
        assert!(at_offset >= 80 && at_offset > 10 * runner_up, "{at_offset} at the offset, runner-up {runner_up}");
        // the unrelated walk shares far fewer landmarks than single cells
        let stray = pairs.iter().filter(|&&(i, j)| video(i) != video(j) && (video(i) == 2 || video(j) == 2)).count();
        let single = near_pairs(&items, &tol)
            .iter()
            .filter(|&&(i, j)| video(i) != video(j) && (video(i) == 2 || video(j) == 2))
            .count();
        assert!(stray * 5 < single, "landmarks {stray} vs single frames {single}");
    }
}
