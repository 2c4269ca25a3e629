//! What an upload really is, read from its bytes: never from the file name or the declared type.
//! Only JPEG, PNG and WebP get past [`sniff`]; [`header_dimensions`] reads the size from the
//! header alone, so an image claiming 100000×100000 pixels is refused before any decoder
//! allocates for it.

/// The accepted formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Jpeg,
    Png,
    Webp,
}

impl ImageKind {
    pub fn format(self) -> image::ImageFormat {
        match self {
            ImageKind::Jpeg => image::ImageFormat::Jpeg,
            ImageKind::Png => image::ImageFormat::Png,
            ImageKind::Webp => image::ImageFormat::WebP,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "jpeg",
            ImageKind::Png => "png",
            ImageKind::Webp => "webp",
        }
    }
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// The format by magic number, or `None` for anything else (HTML, SVG, GIF, PDF, an empty file…).
pub fn sniff(bytes: &[u8]) -> Option<ImageKind> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageKind::Jpeg)
    } else if bytes.starts_with(PNG_SIGNATURE) {
        Some(ImageKind::Png)
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(ImageKind::Webp)
    } else {
        None
    }
}

/// Width and height as the header states them, without decoding; `None` when the header is
/// malformed or cut short.
pub fn header_dimensions(kind: ImageKind, bytes: &[u8]) -> Option<(u32, u32)> {
    match kind {
        ImageKind::Jpeg => jpeg_dimensions(bytes),
        ImageKind::Png => png_dimensions(bytes),
        ImageKind::Webp => webp_dimensions(bytes),
    }
}

fn be16(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from(u16::from_be_bytes(
        b.get(at..at + 2)?.try_into().ok()?,
    )))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn le16(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from(u16::from_le_bytes(
        b.get(at..at + 2)?.try_into().ok()?,
    )))
}

fn le24(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 3)?;
    Some(u32::from(s[0]) | u32::from(s[1]) << 8 | u32::from(s[2]) << 16)
}

fn png_dimensions(b: &[u8]) -> Option<(u32, u32)> {
    // Signature, then the IHDR chunk: length (4), "IHDR", width (4), height (4).
    (b.get(12..16)? == b"IHDR").then_some(())?;
    Some((be32(b, 16)?, be32(b, 20)?))
}

fn webp_dimensions(b: &[u8]) -> Option<(u32, u32)> {
    match b.get(12..16)? {
        b"VP8X" => Some((le24(b, 24)? + 1, le24(b, 27)? + 1)),
        b"VP8L" => {
            (*b.get(20)? == 0x2F).then_some(())?;
            let bits = u32::from_le_bytes(b.get(21..25)?.try_into().ok()?);
            Some(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
        }
        b"VP8 " => {
            // Frame tag (3 bytes), start code 9D 01 2A, then 14-bit width and height.
            (b.get(23..26)? == [0x9D, 0x01, 0x2A]).then_some(())?;
            Some((le16(b, 26)? & 0x3FFF, le16(b, 28)? & 0x3FFF))
        }
        _ => None,
    }
}

/// The segments of a JPEG up to its first scan: `(marker, offset of the segment's payload)`.
fn jpeg_segments(b: &[u8]) -> impl Iterator<Item = (u8, usize, usize)> + '_ {
    let mut at = 2; // after SOI
    std::iter::from_fn(move || loop {
        if *b.get(at)? != 0xFF {
            return None;
        }
        let marker = *b.get(at + 1)?;
        match marker {
            // Fill bytes before a marker.
            0xFF => at += 1,
            // Markers without a length.
            0x01 | 0xD0..=0xD7 => at += 2,
            0xD9 => return None,
            _ => {
                let len = be16(b, at + 2)? as usize;
                if len < 2 {
                    return None;
                }
                let payload = at + 4;
                at += 2 + len;
                return Some((marker, payload, len - 2));
            }
        }
    })
}

fn jpeg_dimensions(b: &[u8]) -> Option<(u32, u32)> {
    jpeg_segments(b).find_map(|(marker, payload, _)| {
        // SOF0–SOF15, except DHT (C4), JPG (C8) and DAC (CC).
        let is_frame = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_frame {
            Some((be16(b, payload + 3)?, be16(b, payload + 1)?))
        } else {
            None
        }
    })
}

/// Whether a JPEG's scan data reaches an end-of-image marker. The decoder is lenient and paints a
/// cut-off file grey where the data stops; a truncated upload should be refused instead. In scan
/// data a literal `FF` is always followed by `00` or a restart marker, so `FF D9` there can only
/// be the real end (bytes after it, such as a camera's trailer, are allowed).
pub fn jpeg_is_complete(b: &[u8]) -> bool {
    let Some(scan) = jpeg_segments(b)
        .find(|(marker, _, _)| *marker == 0xDA)
        .map(|(_, p, len)| p + len)
    else {
        return false;
    };
    b.get(scan..)
        .is_some_and(|rest| rest.windows(2).any(|w| w == [0xFF, 0xD9]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageFormat, RgbImage};
    use std::io::Cursor;

    fn encode(format: ImageFormat, w: u32, h: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 7) as u8, (y * 5) as u8, 90]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    #[test]
    fn formats_are_known_by_their_bytes_and_their_headers_give_the_size() {
        for (format, kind) in [
            (ImageFormat::Jpeg, ImageKind::Jpeg),
            (ImageFormat::Png, ImageKind::Png),
            (ImageFormat::WebP, ImageKind::Webp),
        ] {
            let bytes = encode(format, 33, 21);
            assert_eq!(sniff(&bytes), Some(kind));
            assert_eq!(header_dimensions(kind, &bytes), Some((33, 21)), "{kind:?}");
        }
    }

    #[test]
    fn text_formats_and_empty_files_are_not_images() {
        for bytes in [
            &b""[..],
            b"<!DOCTYPE html><html></html>",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            b"GIF89a",
            b"%PDF-1.7",
        ] {
            assert_eq!(sniff(bytes), None);
        }
    }

    #[test]
    fn a_cut_off_jpeg_is_incomplete() {
        let bytes = encode(ImageFormat::Jpeg, 64, 64);
        assert!(jpeg_is_complete(&bytes));
        assert!(!jpeg_is_complete(&bytes[..bytes.len() / 2]));
        assert!(!jpeg_is_complete(&bytes[..4]));
    }
}
