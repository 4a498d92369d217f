//! Perceptual hashes and picture statistics of one small grayscale frame:
//! 64-bit dHash (9×8 gradients), 64-bit DCT pHash (32×32 → 8×8 low
//! frequencies), mean luma and contrast, motion against the previous sampled
//! frame and the 8×8 maps (motion hash, foreground hash) that tell two
//! different minutes of one fixed camera apart.
//!
//! Everything here works on the sampler's analysis image ([`W`]×[`H`] gray,
//! from swscale's area filter), so a re-encoded or rescaled copy of a clip
//! gives the same hashes up to a few bits.

/// Analysis image size (4:3; any source aspect is squeezed to it, which
/// leaves hashes comparable between rescaled copies).
pub const W: usize = 128;
pub const H: usize = 96;
/// Appearance grid size (`FrameSample::grid`, and the image the
/// background and foreground maps are computed on).
pub const GRID_W: usize = 32;
pub const GRID_H: usize = 24;
/// JPEG quality of the probe re-encode behind `Noise::requant` (a
/// middling quality, as CCTV recorders and re-encoders use).
pub const REQUANT_QUALITY: u8 = 50;
/// Thumbnail size kept as PNG for evidence.
pub const THUMB_W: usize = 96;
pub const THUMB_H: usize = 72;

/// Box (area) resampling of a gray image to `dw`×`dh`, in f32.
pub fn resample(src: &[u8], sw: usize, sh: usize, dw: usize, dh: usize) -> Vec<f32> {
    let mut out = vec![0f32; dw * dh];
    let fx = sw as f64 / dw as f64;
    let fy = sh as f64 / dh as f64;
    for oy in 0..dh {
        let y0 = oy as f64 * fy;
        let y1 = y0 + fy;
        for ox in 0..dw {
            let x0 = ox as f64 * fx;
            let x1 = x0 + fx;
            let mut sum = 0f64;
            let mut wsum = 0f64;
            let mut y = y0.floor() as usize;
            while (y as f64) < y1 && y < sh {
                let wy = (y1.min(y as f64 + 1.0) - y0.max(y as f64)).max(0.0);
                let mut x = x0.floor() as usize;
                while (x as f64) < x1 && x < sw {
                    let wx = (x1.min(x as f64 + 1.0) - x0.max(x as f64)).max(0.0);
                    sum += f64::from(src[y * sw + x]) * wx * wy;
                    wsum += wx * wy;
                    x += 1;
                }
                y += 1;
            }
            out[oy * dw + ox] = if wsum > 0.0 { (sum / wsum) as f32 } else { 0.0 };
        }
    }
    out
}

/// dHash: 1 where a pixel of the 9×8 image is brighter than its right neighbour.
pub fn dhash(img: &[u8], w: usize, h: usize) -> u64 {
    let s = resample(img, w, h, 9, 8);
    let mut bits = 0u64;
    for y in 0..8 {
        for x in 0..8 {
            bits <<= 1;
            if s[y * 9 + x] > s[y * 9 + x + 1] {
                bits |= 1;
            }
        }
    }
    bits
}

/// pHash: 2-D DCT-II of the 32×32 image, 8×8 lowest frequencies, 1 where a
/// coefficient is above their median (the DC term is left out of the median
/// and its bit is always 0).
pub fn phash(img: &[u8], w: usize, h: usize) -> u64 {
    const N: usize = 32;
    let s = resample(img, w, h, N, N);
    // cos table: c[k][n] = cos(pi (2n+1) k / 2N), only k < 8 is needed.
    let mut c = [[0f32; N]; 8];
    for (k, row) in c.iter_mut().enumerate() {
        for (n, v) in row.iter_mut().enumerate() {
            *v = (std::f64::consts::PI * (2 * n + 1) as f64 * k as f64 / (2 * N) as f64).cos() as f32;
        }
    }
    // rows first: tmp[y][k] = sum_x s[y][x] c[k][x]
    let mut tmp = [[0f32; 8]; N];
    for y in 0..N {
        for k in 0..8 {
            tmp[y][k] = (0..N).map(|x| s[y * N + x] * c[k][x]).sum();
        }
    }
    let mut coef = [0f32; 64];
    for u in 0..8 {
        for k in 0..8 {
            coef[u * 8 + k] = (0..N).map(|y| tmp[y][k] * c[u][y]).sum();
        }
    }
    let mut ac: Vec<f32> = coef[1..].to_vec();
    ac.sort_by(f32::total_cmp);
    let median = (ac[31] + ac[32]) / 2.0;
    let mut bits = 0u64;
    for (i, v) in coef.iter().enumerate() {
        bits <<= 1;
        if i > 0 && *v > median {
            bits |= 1;
        }
    }
    bits
}

/// Mean and standard deviation of the pixels.
pub fn mean_std(img: &[u8]) -> (f32, f32) {
    if img.is_empty() {
        return (0.0, 0.0);
    }
    let n = img.len() as f64;
    let sum: f64 = img.iter().map(|&v| f64::from(v)).sum();
    let mean = sum / n;
    let var: f64 = img.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / n;
    (mean as f32, var.sqrt() as f32)
}

/// Mean absolute difference of two images of equal size.
pub fn mean_abs_diff(a: &[u8], b: &[u8]) -> f32 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    let s: u64 = a.iter().zip(b).map(|(&x, &y)| u64::from(x.abs_diff(y))).sum();
    (s as f64 / a.len() as f64) as f32
}

/// 8×8 map of where two images differ: bit set where the block's mean
/// absolute difference exceeds `cell_min` luma levels. Sensor noise and
/// re-encoding stay below `cell_min`; a person moving does not.
pub fn diff_map(a: &[u8], b: &[u8], w: usize, h: usize, cell_min: f32) -> u64 {
    if a.len() != w * h || b.len() != w * h {
        return 0;
    }
    let diff: Vec<u8> = a.iter().zip(b).map(|(&x, &y)| x.abs_diff(y)).collect();
    threshold_map(&diff, w, h, cell_min)
}

/// 8×8 map of the blocks of `img` whose mean exceeds `cell_min`.
pub fn threshold_map(img: &[u8], w: usize, h: usize, cell_min: f32) -> u64 {
    let cells = resample(img, w, h, 8, 8);
    let mut bits = 0u64;
    for v in cells {
        bits <<= 1;
        if v > cell_min {
            bits |= 1;
        }
    }
    bits
}

/// Hamming distance of two 64-bit hashes.
pub fn hamming(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// Per-pixel median of several equally sized images (the fixed camera's
/// background, since people move and the room does not).
pub fn median_image(images: &[&[u8]]) -> Vec<u8> {
    let Some(first) = images.first() else { return Vec::new() };
    let n = first.len();
    let mut out = vec![0u8; n];
    let mut col: Vec<u8> = Vec::with_capacity(images.len());
    for (i, o) in out.iter_mut().enumerate() {
        col.clear();
        col.extend(images.iter().filter(|im| im.len() == n).map(|im| im[i]));
        col.sort_unstable();
        *o = col.get(col.len() / 2).copied().unwrap_or(0);
    }
    out
}

/// Mean absolute difference over the cells between `grid` (the unrounded
/// appearance grid of `img`) and the grid of `img` after a JPEG round trip
/// at [`REQUANT_QUALITY`]: the codec noise one re-encode puts on a cell.
pub fn requant_error(img: &[u8], w: usize, h: usize, grid: &[f32]) -> Option<f32> {
    let mut jpeg = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, REQUANT_QUALITY);
    image::ImageEncoder::write_image(enc, img, w as u32, h as u32, image::ExtendedColorType::L8).ok()?;
    let back = image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg).ok()?.to_luma8();
    if back.width() as usize != w || back.height() as usize != h {
        return None;
    }
    let g = resample(back.as_raw(), w, h, GRID_W, GRID_H);
    if g.len() != grid.len() || g.is_empty() {
        return None;
    }
    Some(g.iter().zip(grid).map(|(a, b)| (a - b).abs()).sum::<f32>() / g.len() as f32)
}

/// Encodes a gray image as PNG (for evidence thumbnails).
pub fn png_gray(img: &[u8], w: usize, h: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let enc = image::codecs::png::PngEncoder::new(&mut out);
    image::ImageEncoder::write_image(enc, img, w as u32, h as u32, image::ExtendedColorType::L8).ok()?;
    Some(out)
}

/// Nearest-to-area downscale to u8 (for thumbnails and small maps).
pub fn shrink(img: &[u8], w: usize, h: usize, dw: usize, dh: usize) -> Vec<u8> {
    resample(img, w, h, dw, dh).into_iter().map(|v| v.round().clamp(0.0, 255.0) as u8).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: usize, h: usize, shift: usize) -> Vec<u8> {
        (0..w * h).map(|i| (((i % w) + (i / w) * 2 + shift) % 256) as u8).collect()
    }

    #[test]
    fn resample_keeps_mean() {
        let img = gradient(W, H, 0);
        let s = resample(&img, W, H, 8, 8);
        let a: f32 = s.iter().sum::<f32>() / 64.0;
        let (m, _) = mean_std(&img);
        assert!((a - m).abs() < 0.5, "{a} vs {m}");
    }

    #[test]
    fn hashes_survive_rescaling_but_not_other_pictures() {
        // A picture and its 2× downscale hash alike; a mirrored one does not.
        let img: Vec<u8> = (0..W * H).map(|i| if (i % W) < W / 3 || (i / W) > H / 2 { 200 } else { 30 }).collect();
        let small = shrink(&img, W, H, W / 2, H / 2);
        let back = shrink(&small, W / 2, H / 2, W, H);
        assert!(hamming(dhash(&img, W, H), dhash(&back, W, H)) <= 4);
        assert!(hamming(phash(&img, W, H), phash(&back, W, H)) <= 4);
        let mirrored: Vec<u8> = (0..W * H).map(|i| img[(i / W) * W + (W - 1 - i % W)]).collect();
        assert!(hamming(phash(&img, W, H), phash(&mirrored, W, H)) >= 8);
    }

    #[test]
    fn mean_std_known_values() {
        // mean of {0, 255} = 127.5, population std = 127.5
        let (m, s) = mean_std(&[0, 255, 0, 255]);
        assert_eq!((m, s), (127.5, 127.5));
    }

    #[test]
    fn diff_map_ignores_noise_below_cell_min() {
        let a = vec![100u8; W * H];
        let mut b: Vec<u8> = a.iter().enumerate().map(|(i, v)| if i % 3 == 0 { v + 2 } else { *v }).collect();
        assert_eq!(diff_map(&a, &b, W, H, 3.0), 0);
        // a bright block in the top-left 16×12 cell sets exactly the first bit
        for y in 0..12 {
            for x in 0..16 {
                b[y * W + x] = 220;
            }
        }
        assert_eq!(diff_map(&a, &b, W, H, 3.0), 1 << 63);
    }

    #[test]
    fn median_image_drops_the_passer_by() {
        let bg = vec![50u8; 4];
        let walker = vec![50u8, 250, 50, 50];
        assert_eq!(median_image(&[&bg, &walker, &bg]), bg);
    }
}
