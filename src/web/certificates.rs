//! `/verify`: anyone checks a certificate (证书验证) by the code of its QR code or by its number
//! and the holder's name, and sees what it states and whether it stands today; and the
//! certificate itself as a print-ready A4 page for whoever holds its code: an honour landscape,
//! a 志愿服务记录证明 portrait. Nothing private is shown (a 志愿服务记录证明's ID number only
//! masked, as it is printed). Not cached: a look-up is throttled per visitor and the standing can change any time.

use askama::Template;
use poem::http::StatusCode;
use poem::web::{Data, Path, Query};
use poem::{handler, IntoResponse, Response};
use serde::Deserialize;

use super::{html, qr_svg, Meta, Site, WebError};
use crate::domain::certificate::{chinese_date, format_hours, Standing};
use crate::service::certificates::{self as service, kind_label, Desk, Lookup, Verified};
use crate::service::ClientAddress;

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    meta: Meta,
    /// The result, when something was looked up.
    result: Option<Outcome>,
    number: String,
    name: String,
}

enum Outcome {
    Found(Box<Shown>),
    NotFound,
    Throttled,
}

/// A checked certificate as the page shows it.
struct Shown {
    v: Verified,
    kind_label: &'static str,
    standing_code: &'static str,
    standing_label: &'static str,
    valid: bool,
    code: String,
    /// 志愿服务记录证明: `2019年1月1日至2019年12月31日`.
    period: Option<String>,
    /// 志愿服务记录证明: `65.5`.
    hours: Option<String>,
    /// Whether this build makes PDFs (the `pdf` feature).
    pdf: bool,
}

#[derive(Template)]
#[template(path = "certificate.html")]
struct CertificatePage {
    meta: Meta,
    v: Verified,
    kind_label: &'static str,
    qr_svg: String,
    issued_on: String,
    /// The seal as a `data:` address, when one was uploaded.
    seal: Option<String>,
}

/// The 志愿服务记录证明, A4 portrait.
#[derive(Template)]
#[template(path = "hours_certificate.html")]
struct HoursCertificatePage {
    meta: Meta,
    v: Verified,
    qr_svg: String,
    issued_on: String,
    period: String,
    hours: String,
    masked_id_number: String,
    seal: Option<String>,
}

/// `2019年1月1日至2019年12月31日`, when the certificate has a period.
fn period_text(v: &Verified) -> Option<String> {
    Some(format!(
        "{}至{}",
        chinese_date(v.period_start?),
        chinese_date(v.period_end?)
    ))
}

/// A verify page of the deployment's site; `title` may name the site as `{site}`.
async fn meta(desk: &Desk, path: &str, title: &str) -> Result<Meta, WebError> {
    let site = Site::of_deployment(&desk.db).await?;
    Ok(Meta {
        title: title.replace("{site}", &site.name),
        description: format!(
            "{}颁发的荣誉证书和志愿服务记录证明可在此在线核验真伪与是否有效。",
            site.name
        ),
        canonical: format!("{}{path}", desk.public_url),
        image: None,
        site,
    })
}

fn outcome(lookup: Lookup, code: Option<&str>) -> Outcome {
    match lookup {
        Lookup::Found(v) => {
            let standing = v.standing;
            Outcome::Found(Box::new(Shown {
                kind_label: kind_label(&v.kind),
                standing_code: standing.code(),
                standing_label: standing.label(),
                valid: standing == Standing::Valid,
                code: code.unwrap_or_default().to_string(),
                period: period_text(&v),
                hours: v.hours.map(format_hours),
                pdf: cfg!(feature = "pdf"),
                v: *v,
            }))
        }
        Lookup::NotFound => Outcome::NotFound,
        Lookup::Throttled => Outcome::Throttled,
    }
}

/// The page's status follows its answer, so tools see it too.
fn respond(page: VerifyPage) -> Result<Response, WebError> {
    let status = match page.result {
        Some(Outcome::NotFound) => StatusCode::NOT_FOUND,
        Some(Outcome::Throttled) => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::OK,
    };
    Ok(html(&page)?.with_status(status).into_response())
}

#[derive(Debug, Deserialize)]
pub struct ByNumber {
    number: Option<String>,
    name: Option<String>,
}

/// `/verify`: the form for a number typed by hand, and its answer.
#[handler]
pub async fn by_number(
    desk: Data<&Desk>,
    address: Data<&ClientAddress>,
    Query(q): Query<ByNumber>,
) -> Result<Response, WebError> {
    let number = q.number.unwrap_or_default().trim().to_string();
    let name = q.name.unwrap_or_default().trim().to_string();
    let result = if number.is_empty() || name.is_empty() {
        None
    } else {
        let query = service::Query::NumberAndName {
            number: &number,
            name: &name,
        };
        Some(outcome(
            service::look_up(&desk, &address.0 .0, query).await?,
            None,
        ))
    };
    respond(VerifyPage {
        meta: meta(&desk, "/verify", "证书验证 · {site}").await?,
        result,
        number,
        name,
    })
}

/// `/verify/{code}`: where the QR code leads.
#[handler]
pub async fn by_code(
    desk: Data<&Desk>,
    address: Data<&ClientAddress>,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let lookup = service::look_up(&desk, &address.0 .0, service::Query::Code(&code)).await?;
    verdict(&desk, lookup, &code).await
}

/// The verify page answering a look-up by code.
async fn verdict(desk: &Desk, lookup: Lookup, code: &str) -> Result<Response, WebError> {
    respond(VerifyPage {
        meta: meta(desk, "/verify", "证书验证 · {site}").await?,
        result: Some(outcome(lookup, Some(code))),
        number: String::new(),
        name: String::new(),
    })
}

/// `/verify/{code}/certificate`: the certificate as a print-ready A4 page (an honour landscape, a
/// 志愿服务记录证明 portrait), with the QR code of its verification address and the seal over
/// the issuing body (inline, when one was uploaded). Only a standing
/// certificate prints; any other answers as the verify page does.
#[handler]
pub async fn printable(
    desk: Data<&Desk>,
    address: Data<&ClientAddress>,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let lookup = service::look_up(&desk, &address.0 .0, service::Query::Code(&code)).await?;
    let v = match lookup {
        Lookup::Found(v) if v.standing == Standing::Valid => *v,
        other => return verdict(&desk, other, &code).await,
    };
    let qr_svg = qr_svg(&v.verify_url)?;
    let seal = desk.seal_data_uri().await?;
    let title = format!("{} · {}", kind_label(&v.kind), v.holder_name);
    if v.kind == "hours" {
        return html(&HoursCertificatePage {
            meta: meta(&desk, "/verify", &title).await?,
            issued_on: chinese_date(v.issued_on),
            period: period_text(&v).unwrap_or_default(),
            hours: format_hours(v.hours.unwrap_or_default()),
            masked_id_number: v.masked_id_number.clone().unwrap_or_default(),
            seal,
            qr_svg,
            v,
        });
    }
    html(&CertificatePage {
        meta: meta(&desk, "/verify", &title).await?,
        kind_label: kind_label(&v.kind),
        issued_on: chinese_date(v.issued_on),
        qr_svg,
        seal,
        v,
    })
}

/// `/verify/{code}/certificate.pdf`: the certificate as a PDF (the `pdf` feature), as the
/// printable page shows it. Only a standing certificate; any other answers as the verify page
/// does. 503 with the reason when no CJK font is found; 501 in a build without the feature.
#[handler]
pub async fn pdf(
    desk: Data<&Desk>,
    address: Data<&ClientAddress>,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let lookup = service::look_up(&desk, &address.0 .0, service::Query::Code(&code)).await?;
    let v = match lookup {
        Lookup::Found(v) if v.standing == Standing::Valid => *v,
        other => return verdict(&desk, other, &code).await,
    };
    render_pdf(&desk, v).await
}

fn plain(status: StatusCode, message: &str) -> Response {
    Response::builder()
        .status(status)
        .content_type("text/plain; charset=utf-8")
        .header("Cache-Control", "no-store")
        .body(message.to_string())
}

#[cfg(not(feature = "pdf"))]
async fn render_pdf(_desk: &Desk, _v: Verified) -> Result<Response, WebError> {
    Ok(plain(
        StatusCode::NOT_IMPLEMENTED,
        "本服务未启用 PDF 证书（编译时未开启 pdf 功能）；请使用可打印的网页证书。",
    ))
}

#[cfg(feature = "pdf")]
async fn render_pdf(desk: &Desk, v: Verified) -> Result<Response, WebError> {
    let font = match desk.pdf_font() {
        Ok(font) => font,
        Err(message) => return Ok(plain(StatusCode::SERVICE_UNAVAILABLE, &message)),
    };
    let seal = desk.seal_png().await?;
    let rendered = tokio::task::spawn_blocking(move || {
        crate::service::certificate_pdf::render(&v, seal.as_deref(), &font)
    })
    .await
    .map_err(|e| WebError::Internal(e.to_string()))?;
    match rendered {
        Ok(bytes) => Ok(Response::builder()
            .content_type("application/pdf")
            .header(
                "Content-Disposition",
                "inline; filename=\"certificate.pdf\"",
            )
            .header("Cache-Control", "no-store")
            .body(bytes)),
        Err(message) => {
            tracing::error!(%message, "cannot render a certificate as PDF");
            Ok(plain(StatusCode::INTERNAL_SERVER_ERROR, &message))
        }
    }
}
