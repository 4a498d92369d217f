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
            if bucket.len() < 2 || bucket.len() > tol.bucket_cap {
                continue;
            }
            for (x, &i) in bucket.iter().enumerate() {
                let a = items[i as usize];
                for &j in &bucket[x + 1..] {
                    let b = items[j as usize];
                    if hamming(a.fg, b.fg) <= tol.fg
                        && hamming(a.motion, b.motion) <= tol.motion
                        && hamming(a.phash, b.phash) <= tol.phash
                    {
                        pairs.push((i.min(j), i.max(j)));
                    }
                }
            }
        }
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
}
