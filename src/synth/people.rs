//! Synthetic people: resident ID numbers (GB 11643-1999, with correct or
//! deliberately wrong check characters), Chinese names, regions, and the
//! deterministic per-unit random streams every generator draws from.

use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::dataset::rows::{civil_from_days, days_from_civil};

/// GB 11643-1999 weights of the first 17 digits.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for `S mod 11`.
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The check character of the first 17 digits, `None` if they are not 17 digits.
pub fn check_char(first17: &str) -> Option<char> {
    let b = first17.as_bytes();
    if b.len() != 17 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let s: u32 = b.iter().zip(WEIGHTS).map(|(d, w)| (d - b'0') as u32 * w).sum();
    Some(CHECK[(s % 11) as usize])
}

/// Whether an 18-character ID has the right check character.
pub fn id_is_valid(id: &str) -> bool {
    id.len() == 18 && id.is_char_boundary(17) && check_char(&id[..17]) == id[17..].chars().next()
}

/// A fresh RNG for one unit of work (institution, stage), independent of
/// every other unit and of the order units are processed in.
pub fn unit_rng(seed: u64, unit: u64, stage: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(splitmix(seed ^ splitmix(unit.wrapping_add(0x9E37))));
    r.set_stream(stage);
    r
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// County codes people are born in: mostly the audited province (Henan),
/// some migrant workers from neighbouring provinces.
const COUNTIES: &[&str] = &[
    "410802", "410803", "410804", "410811", "410821", "410822", "410823", "410825", "410882", "410883", "410102",
    "410103", "410104", "410105", "410122", "410181", "410182", "410183", "410184", "410185", "410302", "410303",
    "410305", "410322", "410323", "410324", "410325", "410381", "410702", "410703", "410721", "410724", "410725",
    "410726", "410781", "410782", "411002", "411023", "411024", "411025", "411081", "411082", "410202", "410221",
    "410222", "410223", "410225", "411302", "411321", "411322", "411323", "411324", "411325", "411326", "411327",
    "411328", "411329", "411330", "411381", "411402", "411421", "411422", "411423", "411424", "411425", "411426",
    "411481", "411502", "411521", "411522", "411523", "411524", "411525", "411526", "411527", "411528", "411602",
    "411621", "411622", "411623", "411624", "411625", "411626", "411627", "411628", "411681", "411702", "411721",
    "411722", "411723", "411724", "411725", "411726", "411727", "411728", "411729", "340122", "340321", "341221",
    "341222", "341225", "130424", "130434", "130481", "140521", "140522", "140525", "370829", "370830", "370831",
    "420683", "421023", "510722", "511025", "512922", "610528",
];

/// A person as the generators see them.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: String,
    pub name: String,
    /// Latent exam ability (standard normal plus institution effects).
    pub ability: f64,
    /// Working speed factor (log scale; positive = faster).
    pub speed: f64,
}

/// A valid resident ID for someone born between 1966 and 2004.
pub fn resident_id(rng: &mut impl Rng) -> String {
    let county = COUNTIES[rng.gen_range(0..COUNTIES.len())];
    let birth = rng.gen_range(days_from_civil(1966, 1, 1)..days_from_civil(2004, 12, 31));
    let (y, m, d) = civil_from_days(birth);
    // Workers in special operations are mostly men (odd sequence).
    let male = rng.gen_bool(0.85);
    let mut seq: u32 = rng.gen_range(0..500) * 2;
    if male {
        seq += 1;
    }
    let first17 = format!("{county}{y:04}{m:02}{d:02}{seq:03}");
    let c = check_char(&first17).unwrap_or('0');
    format!("{first17}{c}")
}

/// The same ID with a wrong check character (a made-up identity).
pub fn invalidate(id: &str) -> String {
    let first17 = &id[..17.min(id.len())];
    let right = check_char(first17).unwrap_or('0');
    let wrong = CHECK.iter().copied().find(|&c| c != right && c != 'X').unwrap_or('0');
    // Rotate so that different people get different wrong characters.
    let k = first17.bytes().map(u32::from).sum::<u32>() as usize % 10;
    let candidates: Vec<char> = CHECK.iter().copied().filter(|&c| c != right).collect();
    let pick = candidates.get(k).copied().unwrap_or(wrong);
    format!("{first17}{pick}")
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林", "何", "郭", "马",
    "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧", "程", "曹", "袁", "邓", "许", "傅", "沈", "曾",
    "彭", "吕", "苏", "卢", "蒋", "蔡", "贾", "丁", "魏", "薛", "叶", "阎", "余", "潘", "杜", "戴", "夏", "钟", "汪",
    "田", "任", "姜", "范", "方", "石", "姚", "谭", "廖", "邹", "熊", "金", "陆", "郝", "孔", "白", "崔", "康", "毛",
    "邱", "秦", "江", "史", "顾", "侯", "邵", "孟", "龙", "万", "段", "雷", "钱", "汤", "尹", "黎", "易", "常", "武",
    "乔", "贺", "赖", "龚", "文",
];

const GIVEN: &[&str] = &[
    "伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华", "飞", "鑫", "波", "宁",
    "凯", "浩", "亮", "健", "俊", "帅", "建", "国", "新", "志", "海", "东", "林", "峰", "永", "春", "红", "文", "生",
    "庆", "德", "成", "振", "宇", "晨", "阳", "龙", "虎", "彬", "坤", "旭", "金", "利", "荣", "发", "全", "兴", "学",
    "敏", "静", "丽", "娟", "霞", "芳", "燕", "秀", "英", "玲", "艳", "萍", "梅", "雪", "洁", "琳", "慧", "佳", "嘉",
    "子", "一", "博", "鹤", "世", "长", "少", "保", "家", "怀", "玉", "福", "双", "卫", "会", "占", "留", "群", "喜",
];

/// A Chinese name of two or three characters.
pub fn name(rng: &mut impl Rng) -> String {
    let mut s = String::from(SURNAMES[rng.gen_range(0..SURNAMES.len())]);
    let n = if rng.gen_bool(0.7) { 2 } else { 1 };
    for _ in 0..n {
        s.push_str(GIVEN[rng.gen_range(0..GIVEN.len())]);
    }
    s
}

/// A new person with ability `N(mean, 1)`.
pub fn person(rng: &mut impl Rng, ability_mean: f64) -> Person {
    Person { id: resident_id(rng), name: name(rng), ability: ability_mean + normal(rng), speed: 0.25 * normal(rng) }
}

/// A standard normal draw (Box–Muller; enough for synthetic data).
pub fn normal(rng: &mut impl Rng) -> f64 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(id: &str, valid: bool) {
        assert_eq!(id_is_valid(id), valid, "{id}");
    }

    #[test]
    fn check_characters_follow_gb11643() {
        // Examples from DOMAIN.md.
        check("11010519491231002X", true);
        check("340524198001010013", false);
        check("34052419800101001X", true);
        check("short", false);
    }

    #[test]
    fn generated_ids_are_valid_and_invalidated_ones_are_not() {
        let mut rng = unit_rng(7, 1, 0);
        for _ in 0..2000 {
            let id = resident_id(&mut rng);
            assert_eq!(id.len(), 18);
            check(&id, true);
            let bad = invalidate(&id);
            assert_eq!(&bad[..17], &id[..17]);
            check(&bad, false);
        }
    }

    #[test]
    fn names_are_chinese() {
        let mut rng = unit_rng(1, 2, 3);
        let n = name(&mut rng);
        assert!((2..=3).contains(&n.chars().count()));
        assert!(n.chars().all(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c)));
    }

    #[test]
    fn unit_streams_are_reproducible_and_distinct() {
        let a: u64 = unit_rng(5, 1, 0).gen();
        assert_eq!(a, unit_rng(5, 1, 0).gen::<u64>());
        assert_ne!(a, unit_rng(5, 2, 0).gen::<u64>());
        assert_ne!(a, unit_rng(5, 1, 1).gen::<u64>());
        assert_ne!(a, unit_rng(6, 1, 0).gen::<u64>());
    }
}
