//! Certificates as PDF (`/verify/{code}/certificate.pdf`, the `pdf` feature): the same sheet as
//! the printable page — a 荣誉证书 A4 landscape, a 志愿服务记录证明 A4 portrait — with the QR code
//! of the verification address drawn as vector squares and the seal as an image. Written by
//! krilla, which embeds only the glyphs used (a subset of the CJK font).
//!
//! The font is one found on the system (Noto CJK or WenQuanYi, as Debian installs them) or the
//! file `YOUDE_CERT_FONT` names (`path` or `path#face` for a collection); without one, asking
//! for a PDF answers 503 saying so, and the HTML page keeps working.

#[cfg(feature = "pdf")]
use super::certificates::Verified;
#[cfg(feature = "pdf")]
use super::pdf_font::PdfFont;
#[cfg(feature = "pdf")]
use crate::domain::certificate::{chinese_date, format_hours};

#[cfg(any(feature = "pdf", test))]
/// Width of `text` at `size`, estimated: CJK and full-width characters one em, others about half
/// (enough to centre, right-align and wrap lines on a certificate).
fn text_width(text: &str, size: f32) -> f32 {
    text.chars()
        .map(|c| if c.is_ascii() { 0.55 } else { 1.0 })
        .sum::<f32>()
        * size
}

#[cfg(any(feature = "pdf", test))]
/// `text` in lines no wider than `width`, the first indented by `indent` ems (the Chinese
/// paragraph's two characters).
fn wrap(text: &str, size: f32, width: f32, indent: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut used = indent * size;
    for c in text.chars() {
        let w = text_width(c.encode_utf8(&mut [0; 4]), size);
        if used + w > width && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
            used = 0.0;
            if c == ' ' {
                continue;
            }
        }
        line.push(c);
        used += w;
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Render the certificate `v` with `seal_png` (the seal in use, when there is one).
#[cfg(feature = "pdf")]
pub fn render(v: &Verified, seal_png: Option<&[u8]>, font: &PdfFont) -> Result<Vec<u8>, String> {
    use krilla::text::Font;
    let font = Font::new(font.data.clone().into(), font.index)
        .ok_or_else(|| format!("字体 {:?} 无法解析", font))?;
    let seal = match seal_png {
        Some(png) => Some(
            krilla::image::Image::from_png(png.to_vec().into(), true)
                .map_err(|e| format!("印章图片无法读入 PDF：{e}"))?,
        ),
        None => None,
    };
    let qr =
        qrcode::QrCode::with_error_correction_level(v.verify_url.as_bytes(), qrcode::EcLevel::M)
            .map_err(|e| format!("二维码无法生成：{e}"))?;
    let mut document = krilla::Document::new();
    let mut sheet = pdf::Sheet::new(&mut document, font, v.kind != "hours");
    if v.kind == "hours" {
        record(&mut sheet, v);
    } else {
        honour(&mut sheet, v);
    }
    sheet.qr(&qr);
    if let Some(seal) = seal {
        sheet.seal(seal);
    }
    sheet.finish();
    document
        .finish()
        .map_err(|e| format!("PDF 无法生成：{e:?}"))
}

/// The 荣誉证书: A4 landscape, red double frame.
#[cfg(feature = "pdf")]
fn honour(s: &mut pdf::Sheet<'_>, v: &Verified) {
    use pdf::{Align, BLACK, RED};
    s.frame(RED, true);
    let (w, margin) = (s.width, 90.0);
    s.spaced("荣誉证书", w / 2.0, 125.0, 42.0, 0.6, RED);
    s.text(
        &format!("{} 同志：", v.holder_name),
        margin,
        200.0,
        21.0,
        BLACK,
        Align::Left,
    );
    let mut y = 248.0;
    for paragraph in [
        v.citation.clone(),
        format!("特授予“{}”荣誉称号（{}）。", v.title, v.category),
    ] {
        for (i, line) in wrap(&paragraph, 17.0, w - 2.0 * margin, 2.0)
            .iter()
            .enumerate()
        {
            let x = if i == 0 { margin + 34.0 } else { margin };
            s.text(line, x, y, 17.0, BLACK, Align::Left);
            y += 31.0;
        }
    }
    let right = w - margin;
    let mut y = s.height - 165.0;
    for line in [
        v.issuing_body.clone(),
        v.signatory.clone(),
        chinese_date(v.issued_on),
        v.number.clone(),
    ] {
        s.text(&line, right, y, 15.0, BLACK, Align::Right);
        y += 25.0;
    }
    s.issuer_centre = (right - 110.0, s.height - 140.0);
    s.qr_at = (margin, s.height - 75.0 - 88.0, 88.0);
}

/// The 志愿服务记录证明: A4 portrait, the statement, a table of what it certifies.
#[cfg(feature = "pdf")]
fn record(s: &mut pdf::Sheet<'_>, v: &Verified) {
    use pdf::{Align, BLACK, GREY, RED};
    s.frame(BLACK, false);
    let (w, margin) = (s.width, 70.0);
    s.spaced("志愿服务记录证明", w / 2.0, 115.0, 30.0, 0.4, RED);
    s.text(
        &format!("编号：{}", v.number),
        w - margin,
        155.0,
        12.0,
        BLACK,
        Align::Right,
    );
    let masked = v.masked_id_number.clone().unwrap_or_default();
    let period = match (v.period_start, v.period_end) {
        (Some(from), Some(to)) => format!("{}至{}", chinese_date(from), chinese_date(to)),
        _ => String::new(),
    };
    let hours = format_hours(v.hours.unwrap_or_default());
    let statement = format!(
        "兹证明 {}（身份证号码：{masked}）于{period}期间参加志愿服务，累计志愿服务时长 {hours} 小时。",
        v.holder_name
    );
    let mut y = 205.0;
    for (i, line) in wrap(&statement, 15.0, w - 2.0 * margin, 2.0)
        .iter()
        .enumerate()
    {
        let x = if i == 0 { margin + 30.0 } else { margin };
        s.text(line, x, y, 15.0, BLACK, Align::Left);
        y += 28.0;
    }
    s.text(
        "特此证明。",
        margin + 30.0,
        y + 6.0,
        15.0,
        BLACK,
        Align::Left,
    );
    y += 40.0;
    let label_w = 130.0;
    let rows = [
        ("姓名", v.holder_name.clone()),
        ("身份证号码", masked),
        ("服务期间", period),
        ("累计志愿服务时长", format!("{hours} 小时")),
        ("服务内容", v.citation.clone()),
    ];
    for (label, value) in rows {
        let lines = wrap(&value, 13.0, w - 2.0 * margin - label_w - 20.0, 0.0);
        let height = 12.0 + 20.0 * lines.len().max(1) as f32;
        s.cell(margin, y, label_w, height);
        s.cell(margin + label_w, y, w - 2.0 * margin - label_w, height);
        s.text(label, margin + 10.0, y + 21.0, 13.0, BLACK, Align::Left);
        for (i, line) in lines.iter().enumerate() {
            let ly = y + 21.0 + 20.0 * i as f32;
            s.text(line, margin + label_w + 10.0, ly, 13.0, BLACK, Align::Left);
        }
        y += height;
    }
    s.text(
        "本证明所载时长以志愿服务记录为准，可扫描二维码或访问验证地址核验。",
        margin,
        y + 28.0,
        10.0,
        GREY,
        Align::Left,
    );
    let right = w - margin;
    let mut y = s.height - 150.0;
    for line in [
        format!("出具单位：{}", v.issuing_body),
        v.signatory.clone(),
        chinese_date(v.issued_on),
    ] {
        s.text(&line, right, y, 14.0, BLACK, Align::Right);
        y += 24.0;
    }
    s.issuer_centre = (right - 90.0, s.height - 135.0);
    s.qr_at = (margin, s.height - 70.0 - 80.0, 80.0);
}

/// A page of krilla drawing, in points with the origin at the top left.
#[cfg(feature = "pdf")]
mod pdf {
    use krilla::color::rgb;
    use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
    use krilla::num::NormalizedF32;
    use krilla::page::PageSettings;
    use krilla::paint::{Fill, Stroke};
    use krilla::text::{Font, TextDirection};

    pub const A4: (f32, f32) = (595.28, 841.89);
    pub const RED: (u8, u8, u8) = (184, 52, 44);
    pub const BLACK: (u8, u8, u8) = (34, 34, 34);
    pub const GREY: (u8, u8, u8) = (100, 100, 100);

    pub enum Align {
        Left,
        Right,
    }

    pub struct Sheet<'a> {
        page: Option<krilla::page::Page<'a>>,
        font: Font,
        pub width: f32,
        pub height: f32,
        /// Where the QR code goes: left, top, side.
        pub qr_at: (f32, f32, f32),
        /// The centre of the issuer's lines, where the seal is stamped.
        pub issuer_centre: (f32, f32),
        ops: Vec<Op>,
    }

    enum Op {
        Text(String, f32, f32, f32, (u8, u8, u8)),
        Stroke(Rect, f32, (u8, u8, u8)),
        Squares(Vec<Rect>),
        Image(krilla::image::Image, f32, f32, f32, f32),
    }

    impl<'a> Sheet<'a> {
        pub fn new(document: &'a mut krilla::Document, font: Font, landscape: bool) -> Self {
            let (width, height) = if landscape { (A4.1, A4.0) } else { A4 };
            let settings = PageSettings::from_wh(width, height).expect("A4 is a size");
            Sheet {
                page: Some(document.start_page_with(settings)),
                font,
                width,
                height,
                qr_at: (0.0, 0.0, 0.0),
                issuer_centre: (0.0, 0.0),
                ops: Vec::new(),
            }
        }

        /// `text` with its baseline at `y`, starting, centred or ending at `x`.
        pub fn text(
            &mut self,
            text: &str,
            x: f32,
            y: f32,
            size: f32,
            colour: (u8, u8, u8),
            align: Align,
        ) {
            let w = super::text_width(text, size);
            let x = match align {
                Align::Left => x,
                Align::Right => x - w,
            };
            self.ops
                .push(Op::Text(text.to_string(), x, y, size, colour));
        }

        /// A title: each character on its own, `gap` ems apart, the whole centred on `centre`.
        pub fn spaced(
            &mut self,
            text: &str,
            centre: f32,
            y: f32,
            size: f32,
            gap: f32,
            colour: (u8, u8, u8),
        ) {
            let n = text.chars().count() as f32;
            let step = size * (1.0 + gap);
            let mut x = centre - (n * step - gap * size) / 2.0;
            for c in text.chars() {
                self.ops.push(Op::Text(c.to_string(), x, y, size, colour));
                x += step;
            }
        }

        /// The sheet's border: double (an honour) or single.
        pub fn frame(&mut self, colour: (u8, u8, u8), double: bool) {
            let rect = |inset: f32| {
                Rect::from_ltrb(inset, inset, self.width - inset, self.height - inset)
                    .expect("inside the page")
            };
            self.ops.push(Op::Stroke(
                rect(24.0),
                if double { 3.0 } else { 1.5 },
                colour,
            ));
            if double {
                self.ops.push(Op::Stroke(rect(31.0), 1.0, colour));
            }
        }

        /// A table cell's border.
        pub fn cell(&mut self, x: f32, y: f32, w: f32, h: f32) {
            if let Some(rect) = Rect::from_xywh(x, y, w, h) {
                self.ops.push(Op::Stroke(rect, 0.8, (85, 85, 85)));
            }
        }

        /// The QR code at [`Sheet::qr_at`], one square per dark module, with the address's
        /// caption beside it.
        pub fn qr(&mut self, qr: &qrcode::QrCode) {
            let (left, top, side) = self.qr_at;
            let n = qr.width();
            // Four modules of quiet zone on every side, inside the square.
            let m = side / (n + 8) as f32;
            let colours = qr.to_colors();
            let squares = (0..n * n)
                .filter(|i| colours[*i] == qrcode::Color::Dark)
                .filter_map(|i| {
                    let (x, y) = ((i % n + 4) as f32, (i / n + 4) as f32);
                    Rect::from_xywh(left + x * m, top + y * m, m + 0.05, m + 0.05)
                })
                .collect();
            self.ops.push(Op::Squares(squares));
            self.text(
                "扫码核验",
                left + side + 8.0,
                top + side * 0.45,
                10.0,
                super::pdf::BLACK,
                Align::Left,
            );
        }

        /// The seal, about 40 mm across, over the issuer's lines.
        pub fn seal(&mut self, image: krilla::image::Image) {
            let (w, h) = image.size();
            let side = 115.0;
            let scale = side / w.max(h) as f32;
            let (sw, sh) = (w as f32 * scale, h as f32 * scale);
            let (cx, cy) = self.issuer_centre;
            self.ops
                .push(Op::Image(image, cx - sw / 2.0, cy - sh / 2.0, sw, sh));
        }

        pub fn finish(mut self) {
            let mut page = self.page.take().expect("a page");
            let mut surface = page.surface();
            let fill = |c: (u8, u8, u8)| Fill {
                paint: rgb::Color::new(c.0, c.1, c.2).into(),
                opacity: NormalizedF32::ONE,
                rule: Default::default(),
            };
            for op in self.ops.drain(..) {
                match op {
                    Op::Text(text, x, y, size, colour) => {
                        surface.set_fill(Some(fill(colour)));
                        surface.draw_text(
                            Point::from_xy(x, y),
                            self.font.clone(),
                            size,
                            &text,
                            false,
                            TextDirection::Auto,
                        );
                    }
                    Op::Stroke(rect, width, colour) => {
                        let mut path = PathBuilder::new();
                        path.push_rect(rect);
                        if let Some(path) = path.finish() {
                            surface.set_fill(None);
                            surface.set_stroke(Some(Stroke {
                                paint: rgb::Color::new(colour.0, colour.1, colour.2).into(),
                                width,
                                ..Default::default()
                            }));
                            surface.draw_path(&path);
                            surface.set_stroke(None);
                        }
                    }
                    Op::Squares(squares) => {
                        let mut path = PathBuilder::new();
                        for rect in squares {
                            path.push_rect(rect);
                        }
                        if let Some(path) = path.finish() {
                            surface.set_fill(Some(fill((0, 0, 0))));
                            surface.draw_path(&path);
                        }
                    }
                    Op::Image(image, x, y, w, h) => {
                        surface.push_transform(&Transform::from_translate(x, y));
                        surface.push_blend_mode(krilla::blend::BlendMode::Multiply);
                        if let Some(size) = Size::from_wh(w, h) {
                            surface.draw_image(image, size);
                        }
                        surface.pop();
                        surface.pop();
                    }
                }
            }
            surface.finish();
            page.finish();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_wrap_by_width_with_the_first_indented() {
        let lines = wrap("一二三四五六七八九十", 10.0, 50.0, 2.0);
        assert_eq!(lines, ["一二三", "四五六七八", "九十"]);
        assert_eq!(wrap("", 10.0, 50.0, 2.0), Vec::<String>::new());
    }
}
