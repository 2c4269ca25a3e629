//! Turning an upload into the stored renditions (CPU work: call it from `spawn_blocking`).
//!
//! The order is the hardening order: sniff the type from the bytes (JPEG, PNG, WebP only), read
//! the dimensions from the header and refuse more than [`IngestLimits::max_pixels`] before any
//! decoder runs, then decode under `image::Limits`. An animated image gives its first frame. The
//! picture is turned upright by its EXIF orientation and re-encoded as JPEG, which carries no
//! metadata at all: EXIF (GPS included), XMP, IPTC and comments are gone. Each rendition is named
//! by the SHA-256 of its own bytes.

use std::io::Cursor;

use fast_image_resize::images::Image as FirImage;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageReader, RgbImage};
use sha2::{Digest, Sha256};

use super::sniff::{self, ImageKind};

/// Default largest picture accepted: 40 megapixels (a 7300×5500 camera frame).
pub const DEFAULT_MAX_PIXELS: u64 = 40_000_000;

/// JPEG quality of every rendition (with 4:2:0 chroma, as libvips and most cameras do).
pub const JPEG_QUALITY: u8 = 85;

#[derive(Debug, Clone, Copy)]
pub struct IngestLimits {
    /// Largest `width × height` decoded; larger images are refused from their header.
    pub max_pixels: u64,
}

impl Default for IngestLimits {
    fn default() -> Self {
        IngestLimits {
            max_pixels: DEFAULT_MAX_PIXELS,
        }
    }
}

impl IngestLimits {
    /// What the decoders may allocate: the decoded picture at 4 bytes a pixel with room for the
    /// decoder's own buffers. A 16-bit RGBA image at the pixel limit goes over and is refused.
    fn image_limits(&self) -> image::Limits {
        let mut limits = image::Limits::default();
        limits.max_alloc = Some(self.max_pixels.saturating_mul(4).saturating_add(64 << 20));
        limits
    }
}

/// The stored sizes of every photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    /// ~320 px long edge: lists and search results.
    Thumbnail,
    /// ~1280 px: the web page.
    Page,
    /// 2480 px: an A4 page at 300 dpi, for the printable profile.
    Print,
}

impl Variant {
    /// Largest first: each smaller one is made from the one before.
    pub const ALL: [Variant; 3] = [Variant::Print, Variant::Page, Variant::Thumbnail];

    pub fn code(self) -> &'static str {
        match self {
            Variant::Thumbnail => "thumbnail",
            Variant::Page => "page",
            Variant::Print => "print",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Variant::ALL.into_iter().find(|v| v.code() == code)
    }

    /// The long edge, in pixels; smaller pictures are never upscaled.
    pub fn long_edge(self) -> u32 {
        match self {
            Variant::Thumbnail => 320,
            Variant::Page => 1280,
            Variant::Print => 2480,
        }
    }
}

/// One encoded rendition.
#[derive(Debug, Clone)]
pub struct Rendition {
    pub variant: Variant,
    pub width: u32,
    pub height: u32,
    pub bytes: bytes::Bytes,
    /// Hex SHA-256 of `bytes`: the content address.
    pub sha256: String,
}

impl Rendition {
    /// The object name in the media store.
    pub fn key(&self) -> String {
        format!("{}.jpg", self.sha256)
    }

    pub const CONTENT_TYPE: &'static str = "image/jpeg";
}

/// An upload that decoded, upright, with its renditions, as [`process`] makes it: pictures that
/// decoded and carry no metadata.
#[derive(Debug, Clone)]
pub struct ProcessedPhoto {
    /// The format the upload really was.
    pub source_kind: ImageKind,
    /// Hex SHA-256 of the uploaded bytes: how a repeated upload is recognised. The bytes
    /// themselves are never stored.
    pub source_sha256: String,
    /// Upright size of the uploaded picture.
    pub width: u32,
    pub height: u32,
    /// Print, page, thumbnail.
    pub renditions: Vec<Rendition>,
}

/// Why an upload is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcessingError {
    #[error("the file is empty")]
    Empty,
    #[error("not a JPEG, PNG or WebP image")]
    UnsupportedType,
    #[error("{width}×{height} is more than {max_pixels} pixels")]
    TooManyPixels {
        width: u32,
        height: u32,
        max_pixels: u64,
    },
    #[error("the image is cut short")]
    Truncated,
    #[error("the image cannot be decoded: {0}")]
    Undecodable(String),
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for b in digest {
        hex.push_str(&format!("{b:02x}"));
    }
    hex
}

/// Check, decode, turn upright and render an upload.
pub fn process(bytes: &[u8], limits: &IngestLimits) -> Result<ProcessedPhoto, ProcessingError> {
    let (source_kind, picture, orientation) = decode(bytes, limits)?;
    let (w, h) = (picture.width(), picture.height());
    let (width, height) = if swaps_sides(orientation) {
        (h, w)
    } else {
        (w, h)
    };
    let renditions = render(picture, orientation)?;
    Ok(ProcessedPhoto {
        source_kind,
        source_sha256: sha256_hex(bytes),
        width,
        height,
        renditions,
    })
}

fn swaps_sides(orientation: Orientation) -> bool {
    matches!(
        orientation,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    )
}

/// Sniff, check the header, decode the first frame and read the EXIF orientation.
fn decode(
    bytes: &[u8],
    limits: &IngestLimits,
) -> Result<(ImageKind, DynamicImage, Orientation), ProcessingError> {
    if bytes.is_empty() {
        return Err(ProcessingError::Empty);
    }
    let kind = sniff::sniff(bytes).ok_or(ProcessingError::UnsupportedType)?;
    let (width, height) = sniff::header_dimensions(kind, bytes)
        .ok_or_else(|| ProcessingError::Undecodable("the image header is malformed".into()))?;
    check_pixels(width, height, limits)?;
    if kind == ImageKind::Jpeg && !sniff::jpeg_is_complete(bytes) {
        return Err(ProcessingError::Truncated);
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), kind.format());
    reader.limits(limits.image_limits());
    let mut decoder = reader.into_decoder().map_err(undecodable)?;
    // The decoder's own reading of the header must agree with the limit too.
    let (width, height) = decoder.dimensions();
    check_pixels(width, height, limits)?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let picture = DynamicImage::from_decoder(decoder).map_err(undecodable)?;
    Ok((kind, picture, orientation))
}

fn check_pixels(width: u32, height: u32, limits: &IngestLimits) -> Result<(), ProcessingError> {
    if width == 0 || height == 0 {
        return Err(ProcessingError::Undecodable(
            "the image has no pixels".into(),
        ));
    }
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(ProcessingError::TooManyPixels {
            width,
            height,
            max_pixels: limits.max_pixels,
        });
    }
    Ok(())
}

fn undecodable(err: image::ImageError) -> ProcessingError {
    match err {
        image::ImageError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            ProcessingError::Truncated
        }
        other => ProcessingError::Undecodable(other.to_string()),
    }
}

/// 8-bit RGB, transparency laid over white (JPEG has no alpha).
fn into_rgb8(picture: DynamicImage) -> RgbImage {
    if !picture.color().has_alpha() {
        return match picture {
            DynamicImage::ImageRgb8(rgb) => rgb,
            other => other.to_rgb8(),
        };
    }
    let rgba = picture.into_rgba8();
    let (w, h) = rgba.dimensions();
    let mut rgb = Vec::with_capacity(w as usize * h as usize * 3);
    for px in rgba.pixels() {
        let [r, g, b, a] = px.0;
        let a = u16::from(a);
        for c in [r, g, b] {
            rgb.push(((u16::from(c) * a + 255 * (255 - a) + 127) / 255) as u8);
        }
    }
    RgbImage::from_raw(w, h, rgb).expect("buffer of the right size")
}

/// The size that fits `long_edge`, never larger than the source.
fn fit(width: u32, height: u32, long_edge: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= long_edge {
        return (width, height);
    }
    let scale = f64::from(long_edge) / f64::from(long);
    let w = ((f64::from(width) * scale).round() as u32).clamp(1, long_edge);
    let h = ((f64::from(height) * scale).round() as u32).clamp(1, long_edge);
    (w, h)
}

fn resize(
    resizer: &mut Resizer,
    src: RgbImage,
    long_edge: u32,
) -> Result<RgbImage, ProcessingError> {
    let (w, h) = src.dimensions();
    let (dw, dh) = fit(w, h, long_edge);
    if (dw, dh) == (w, h) {
        return Ok(src);
    }
    let src = FirImage::from_vec_u8(w, h, src.into_raw(), PixelType::U8x3).map_err(internal)?;
    let mut dst = FirImage::new(dw, dh, PixelType::U8x3);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    resizer.resize(&src, &mut dst, &options).map_err(internal)?;
    Ok(RgbImage::from_raw(dw, dh, dst.into_vec()).expect("buffer of the right size"))
}

fn internal(err: impl std::fmt::Display) -> ProcessingError {
    ProcessingError::Undecodable(err.to_string())
}

/// Print from the source, then page from print and thumbnail from page: each step shrinks by 2×
/// or more, which costs a fraction of resizing the full picture three times. The orientation is
/// applied to the print rendition, so the full-size picture is never copied for it.
fn render(
    picture: DynamicImage,
    orientation: Orientation,
) -> Result<Vec<Rendition>, ProcessingError> {
    let mut resizer = Resizer::new();
    let mut current = into_rgb8(picture);
    let mut renditions = Vec::with_capacity(Variant::ALL.len());
    for variant in Variant::ALL {
        current = resize(&mut resizer, current, variant.long_edge())?;
        if variant == Variant::Print && orientation != Orientation::NoTransforms {
            let mut upright = DynamicImage::ImageRgb8(current);
            upright.apply_orientation(orientation);
            current = upright.into_rgb8();
        }
        let bytes = encode_jpeg(&current)?;
        renditions.push(Rendition {
            variant,
            width: current.width(),
            height: current.height(),
            sha256: sha256_hex(&bytes),
            bytes: bytes.into(),
        });
    }
    Ok(renditions)
}

fn encode_jpeg(picture: &RgbImage) -> Result<Vec<u8>, ProcessingError> {
    let (w, h) = picture.dimensions();
    let (w, h) = (
        u16::try_from(w).map_err(internal)?,
        u16::try_from(h).map_err(internal)?,
    );
    let mut out = Vec::with_capacity(picture.len() / 8);
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, JPEG_QUALITY);
    // Standard Huffman tables: optimised ones would save ~7%, but with 4:2:0 chroma they come
    // out in a form the `image` crate's decoder (zune-jpeg 0.5) misreads, so some readers
    // would see wrong colours.
    encoder.set_optimized_huffman_tables(false);
    encoder
        .encode(picture.as_raw(), w, h, jpeg_encoder::ColorType::Rgb)
        .map_err(internal)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageFormat, Rgba, RgbaImage};

    fn encode(picture: &DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        picture.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    fn sizes(p: &ProcessedPhoto) -> Vec<(Variant, u32, u32)> {
        p.renditions
            .iter()
            .map(|r| (r.variant, r.width, r.height))
            .collect()
    }

    #[test]
    fn renditions_fit_their_long_edge_and_are_never_upscaled() {
        let big = DynamicImage::ImageRgb8(RgbImage::new(2560, 640));
        let p = process(&encode(&big, ImageFormat::Jpeg), &IngestLimits::default()).unwrap();
        assert_eq!(
            sizes(&p),
            [
                (Variant::Print, 2480, 620),
                (Variant::Page, 1280, 320),
                (Variant::Thumbnail, 320, 80)
            ]
        );
        assert_eq!((p.width, p.height), (2560, 640));

        let small = DynamicImage::ImageRgb8(RgbImage::new(200, 100));
        let p = process(&encode(&small, ImageFormat::Png), &IngestLimits::default()).unwrap();
        assert!(sizes(&p).iter().all(|&(_, w, h)| (w, h) == (200, 100)));
        assert_eq!(p.source_kind, ImageKind::Png);
    }

    #[test]
    fn every_rendition_is_named_by_its_own_hash() {
        let picture = DynamicImage::ImageRgb8(RgbImage::from_fn(1300, 400, |x, y| {
            image::Rgb([x as u8, y as u8, 7])
        }));
        let p = process(
            &encode(&picture, ImageFormat::Png),
            &IngestLimits::default(),
        )
        .unwrap();
        for r in &p.renditions {
            assert_eq!(r.key(), format!("{}.jpg", sha256_hex(&r.bytes)));
            assert!(crate::media::storage::is_valid_key(&r.key()));
        }
    }

    #[test]
    fn transparency_is_laid_over_white() {
        let clear = DynamicImage::ImageRgba8(RgbaImage::from_pixel(40, 30, Rgba([0, 0, 0, 0])));
        let p = process(&encode(&clear, ImageFormat::Png), &IngestLimits::default()).unwrap();
        let back = image::load_from_memory(&p.renditions[0].bytes)
            .unwrap()
            .to_rgb8();
        assert!(
            back.pixels().all(|px| px.0.iter().all(|&c| c > 245)),
            "white, not black"
        );
    }

    #[test]
    fn the_pixel_limit_is_checked_before_decoding() {
        let picture = DynamicImage::ImageRgb8(RgbImage::new(300, 200));
        let limits = IngestLimits { max_pixels: 50_000 };
        let err = process(&encode(&picture, ImageFormat::WebP), &limits).unwrap_err();
        assert_eq!(
            err,
            ProcessingError::TooManyPixels {
                width: 300,
                height: 200,
                max_pixels: 50_000
            }
        );
        assert_eq!(process(b"", &limits).unwrap_err(), ProcessingError::Empty);
        assert_eq!(
            process(b"GIF89a....", &limits).unwrap_err(),
            ProcessingError::UnsupportedType
        );
    }
}
