//! String interner: each distinct text of a dataset is stored once and named
//! by a 4-byte [`Sym`]. Ids, names and categorical values repeat millions of
//! times in a province's attendance log; interning keeps the hot tables small
//! and makes equality and hashing integer operations.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// FxHash (rustc's hasher): the interner and the reader's per-chunk maps
/// hash millions of short ids, where SipHash's DoS resistance buys nothing
/// (added for the reader, issue 2; the interner's API is unchanged).
#[derive(Default)]
pub struct FxHasher(u64);

impl FxHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut it = bytes.chunks_exact(8);
        for c in &mut it {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = it.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w) ^ (rest.len() as u64) << 59);
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn finish(&self) -> u64 {
        // Fx's multiply mixes only upwards: ids that differ in their last
        // digits would share the low bits hashbrown indexes by. A MurmurHash3
        // fmix64 finaliser folds the high bits down.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

pub type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// A handle to an interned string. Only meaningful with the [`Interner`]
/// that produced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Sym(pub u32);

#[derive(Debug)]
pub struct Interner {
    map: FxMap<Box<str>, Sym>,
    texts: Vec<Box<str>>,
}

impl Default for Interner {
    fn default() -> Self {
        let mut i = Interner { map: FxMap::default(), texts: Vec::new() };
        // Sym(0) is always the empty string (e.g. an unanswered item).
        i.intern("");
        i
    }
}

impl Interner {
    /// The symbol of the empty string.
    pub const EMPTY: Sym = Sym(0);

    pub fn intern(&mut self, text: &str) -> Sym {
        if let Some(&s) = self.map.get(text) {
            return s;
        }
        let s = Sym(self.texts.len() as u32);
        let boxed: Box<str> = text.into();
        self.texts.push(boxed.clone());
        self.map.insert(boxed, s);
        s
    }

    /// [`Interner::intern`] for text the caller owns already (one
    /// allocation instead of two when it is new).
    pub fn intern_owned(&mut self, text: Box<str>) -> Sym {
        if let Some(&s) = self.map.get(&text) {
            return s;
        }
        let s = Sym(self.texts.len() as u32);
        self.map.insert(text.clone(), s);
        self.texts.push(text);
        s
    }

    /// Makes room for `additional` new strings.
    pub fn reserve(&mut self, additional: usize) {
        self.map.reserve(additional);
        self.texts.reserve(additional);
    }

    pub fn get(&self, sym: Sym) -> &str {
        &self.texts[sym.0 as usize]
    }

    /// The symbol of `text` if it was interned.
    pub fn lookup(&self, text: &str) -> Option<Sym> {
        self.map.get(text).copied()
    }

    pub fn len(&self) -> usize {
        self.texts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.texts.len() <= 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_once() {
        let mut i = Interner::default();
        let a = i.intern("410102199001011234");
        let b = i.intern("410102199001011234");
        assert_eq!(a, b);
        assert_eq!(i.get(a), "410102199001011234");
        assert_eq!(i.intern(""), Interner::EMPTY);
        assert_eq!(i.lookup("nope"), None);
    }
}
