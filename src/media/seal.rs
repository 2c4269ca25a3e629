//! The official seal (公章) printed on certificates: a PNG with a transparent background, checked
//! before anything is stored, and re-encoded (which drops any text chunks or trailing bytes the
//! upload carried). It is kept in the media store under `seal-<sha256>.png`, a name
//! [`super::storage::is_valid_key`] refuses: the public `/media/` route never serves it and the
//! sweep never removes it. Certificates show it inline.

use std::io::Cursor;

use super::processing::sha256_hex;
use super::sniff::{header_dimensions, sniff, ImageKind};

/// The largest seal file accepted: 512 KiB (a seal at print resolution is far smaller).
pub const MAX_BYTES: usize = 512 * 1024;
/// Each side in pixels: at least 120 (a seal prints about 40 mm wide), at most 1,200.
pub const MIN_SIDE: u32 = 120;
pub const MAX_SIDE: u32 = 1200;
/// At least this share of the pixels must be transparent (alpha below 128): the paper shows
/// through around and inside the seal.
pub const MIN_TRANSPARENT_SHARE: f64 = 0.10;

/// Why a seal was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SealError {
    #[error("the seal must be a PNG file")]
    NotPng,
    #[error("the seal is {bytes} bytes, more than {MAX_BYTES}")]
    TooLarge { bytes: usize },
    #[error("the seal is {width}×{height} pixels")]
    Dimensions { width: u32, height: u32 },
    #[error("the seal cannot be decoded")]
    Undecodable,
    #[error("the seal has no transparent background")]
    NotTransparent,
}

/// A checked seal, ready to store.
#[derive(Debug, Clone)]
pub struct Seal {
    /// The re-encoded PNG.
    pub png: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub sha256: String,
}

impl Seal {
    /// Its name in the media store.
    pub fn key(&self) -> String {
        format!("seal-{}.png", self.sha256)
    }
}

/// Check an upload: PNG by its bytes, no more than [`MAX_BYTES`], each side within
/// [`MIN_SIDE`]..=[`MAX_SIDE`] (read from the header before decoding), decodable, and with a
/// transparent background.
pub fn check(bytes: &[u8]) -> Result<Seal, SealError> {
    if sniff(bytes) != Some(ImageKind::Png) {
        return Err(SealError::NotPng);
    }
    if bytes.len() > MAX_BYTES {
        return Err(SealError::TooLarge { bytes: bytes.len() });
    }
    let (width, height) = header_dimensions(ImageKind::Png, bytes).ok_or(SealError::Undecodable)?;
    let side = MIN_SIDE..=MAX_SIDE;
    if !side.contains(&width) || !side.contains(&height) {
        return Err(SealError::Dimensions { width, height });
    }
    let image = image::load_from_memory_with_format(bytes, image::ImageFormat::Png)
        .map_err(|_| SealError::Undecodable)?;
    if !image.color().has_alpha() {
        return Err(SealError::NotTransparent);
    }
    let rgba = image.to_rgba8();
    let transparent = rgba.pixels().filter(|p| p.0[3] < 128).count();
    if (transparent as f64) < MIN_TRANSPARENT_SHARE * f64::from(width * height) {
        return Err(SealError::NotTransparent);
    }
    let mut png = Vec::new();
    rgba.write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|_| SealError::Undecodable)?;
    Ok(Seal {
        sha256: sha256_hex(&png),
        png,
        width,
        height,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A red ring on a transparent (or, with `opaque`, white) square.
    pub fn seal_png(side: u32, opaque: bool) -> Vec<u8> {
        let c = side as f32 / 2.0;
        let img = image::RgbaImage::from_fn(side, side, |x, y| {
            let d = ((x as f32 - c).powi(2) + (y as f32 - c).powi(2)).sqrt();
            if d < c * 0.9 && d > c * 0.75 {
                image::Rgba([200, 20, 20, 255])
            } else if opaque {
                image::Rgba([255, 255, 255, 255])
            } else {
                image::Rgba([0, 0, 0, 0])
            }
        });
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn a_transparent_png_of_a_fitting_size_is_a_seal() {
        let seal = check(&seal_png(300, false)).unwrap();
        assert_eq!((seal.width, seal.height), (300, 300));
        assert!(seal.key().starts_with("seal-") && seal.key().ends_with(".png"));
        assert!(!super::super::storage::is_valid_key(&seal.key()));
    }

    #[test]
    fn anything_else_is_refused() {
        assert_eq!(check(b"GIF89a").unwrap_err(), SealError::NotPng);
        assert_eq!(
            check(&seal_png(300, true)).unwrap_err(),
            SealError::NotTransparent
        );
        assert_eq!(
            check(&seal_png(60, false)).unwrap_err(),
            SealError::Dimensions {
                width: 60,
                height: 60
            }
        );
        let mut truncated = seal_png(300, false);
        truncated.truncate(100);
        assert_eq!(check(&truncated).unwrap_err(), SealError::Undecodable);
    }
}
