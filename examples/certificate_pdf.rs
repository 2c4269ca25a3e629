//! Render certificate PDFs and print the times: one, then a batch of N (default 100) in a row,
//! for a 荣誉证书 and a 志愿服务记录证明, with a seal, as `/verify/{code}/certificate.pdf` renders
//! them (font read once, as the server keeps it). Driven by `bench/certificates.sh`.
//!
//! Usage: `certificate_pdf [N] [OUT_DIR]` (needs the `pdf` feature and a CJK font, see
//! `YOUDE_CERT_FONT`); writes the last PDF of each kind to OUT_DIR when given.

use std::time::Instant;

use youde::domain::certificate::Standing;
use youde::service::certificate_pdf::render;
use youde::service::certificates::Verified;
use youde::service::pdf_font::find_font;

fn certificate(kind: &str) -> Verified {
    let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let hours = kind == "hours";
    Verified {
        number: "长寿〔2026〕第001号".into(),
        kind: kind.into(),
        holder_name: "孙建伟".into(),
        title: if hours {
            "志愿服务记录证明"
        } else {
            "2019年度长寿路街道有德之士"
        }
        .into(),
        category: if hours { "" } else { "敬业奉献" }.into(),
        citation: if hours {
            "敬老院助老服务、垃圾分类宣传、社区义诊".into()
        } else {
            "孙建伟同志 2007 年起担任音乐广场业委会委员，12 年无偿服务业主；在大堂装潢中逐个门栋实地\
             测量，节约工程金额 30 万元；推动音乐广场智慧社区改造，方案获业主 89.2% 高票通过。"
                .into()
        },
        issuing_body: "上海市普陀区人民政府长寿路街道办事处".into(),
        signatory: "长寿路街道办事处".into(),
        issued_on: day("2026-11-30"),
        standing: Standing::Valid,
        revoked_on: None,
        superseded_by_number: None,
        checked_on: day("2026-11-30"),
        verify_url: "https://youde.example.org/verify/kbnawsul2jbe4bapiwyuq76dfa".into(),
        period_start: hours.then(|| day("2019-01-01")),
        period_end: hours.then(|| day("2019-12-31")),
        hours: hours.then_some(102.5),
        masked_id_number: hours.then(|| "3101**********4411".into()),
    }
}

/// A red ring on a transparent square, 300 px, as an uploaded seal would be.
fn seal() -> Vec<u8> {
    let img = image::RgbaImage::from_fn(300, 300, |x, y| {
        let d = ((x as f32 - 150.0).powi(2) + (y as f32 - 150.0).powi(2)).sqrt();
        if d < 135.0 && d > 112.0 {
            image::Rgba([200, 20, 20, 255])
        } else {
            image::Rgba([0, 0, 0, 0])
        }
    });
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .map_or(100, |a| a.parse().expect("N is a number"));
    let out = args.next();
    let start = Instant::now();
    let font = find_font(std::env::var("YOUDE_CERT_FONT").ok().as_deref()).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    println!(
        "font {font:?}: {} bytes, read in {:.1} ms",
        font.data.len(),
        start.elapsed().as_secs_f64() * 1000.0
    );
    let seal = seal();
    for kind in ["recognition", "hours"] {
        let v = certificate(kind);
        let start = Instant::now();
        let one = render(&v, Some(&seal), &font).expect("renders");
        let single = start.elapsed().as_secs_f64() * 1000.0;
        let start = Instant::now();
        let mut last = Vec::new();
        for _ in 0..n {
            last = render(&v, Some(&seal), &font).expect("renders");
        }
        let batch = start.elapsed().as_secs_f64() * 1000.0;
        println!(
            "{kind:>11}: 1 PDF {single:.1} ms ({} bytes); {n} PDFs {batch:.0} ms ({:.1} ms each)",
            one.len(),
            batch / n.max(1) as f64
        );
        if let Some(dir) = &out {
            std::fs::write(format!("{dir}/{kind}.pdf"), &last).expect("writable OUT_DIR");
        }
    }
}
