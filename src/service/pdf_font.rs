//! The CJK font certificate PDFs are written in: one found on the system (Noto CJK or WenQuanYi,
//! as Debian installs them) or the file `YOUDE_CERT_FONT` names (`path` or `path#face` for a
//! collection). The certificate desk reads it once (`certificates::Desk::pdf_font`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A CJK font for PDFs: the file, the face in it, and its bytes.
#[derive(Clone)]
pub struct PdfFont {
    pub path: PathBuf,
    pub index: u32,
    pub data: Arc<Vec<u8>>,
}

impl std::fmt::Debug for PdfFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}#{}", self.path.display(), self.index)
    }
}

/// Where Debian's CJK font packages put their fonts, most fitting first: Noto Serif CJK and Noto
/// Sans CJK (`fonts-noto-cjk`; face 2 of the collection is Simplified Chinese), WenQuanYi Micro
/// Hei and Zen Hei (`fonts-wqy-microhei`, `fonts-wqy-zenhei`), AR PL UMing.
pub const SYSTEM_FONTS: &[(&str, u32)] = &[
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
];

/// Why no PDF can be made.
pub const NO_FONT: &str =
    "找不到中文字体，无法生成 PDF：请安装 fonts-noto-cjk 或 fonts-wqy-microhei，\
     或用 YOUDE_CERT_FONT 指定一个 TTF/OTF/TTC 字体文件";

/// The font named by `configured` (`path` or `path#face`), or the first of [`SYSTEM_FONTS`]
/// present. The error says what is missing, in the words an operator needs.
pub fn find_font(configured: Option<&str>) -> Result<PdfFont, String> {
    if let Some(spec) = configured.map(str::trim).filter(|s| !s.is_empty()) {
        let (path, index) = match spec.rsplit_once('#') {
            Some((path, face)) => (
                path,
                face.parse()
                    .map_err(|_| format!("YOUDE_CERT_FONT“{spec}”：# 后应为字体序号，如 #0"))?,
            ),
            None => (spec, 0),
        };
        return read_font(Path::new(path), index)
            .map_err(|err| format!("YOUDE_CERT_FONT 指定的字体 {path} 无法读取：{err}"));
    }
    SYSTEM_FONTS
        .iter()
        .find(|(path, _)| Path::new(path).is_file())
        .map(|(path, index)| read_font(Path::new(path), *index).map_err(|e| e.to_string()))
        .unwrap_or_else(|| Err(NO_FONT.to_string()))
}

fn read_font(path: &Path, index: u32) -> std::io::Result<PdfFont> {
    Ok(PdfFont {
        path: path.to_path_buf(),
        index,
        data: Arc::new(std::fs::read(path)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_font_that_is_not_there_is_named() {
        let err = find_font(Some("/nonexistent/font.ttc")).unwrap_err();
        assert!(
            err.contains("YOUDE_CERT_FONT") && err.contains("/nonexistent/font.ttc"),
            "{err}"
        );
        let err = find_font(Some("/nonexistent/font.ttc#x")).unwrap_err();
        assert!(err.contains("字体序号"), "{err}");
    }
}
