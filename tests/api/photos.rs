//! Photos: uploads of real files made here with the `image` crate, refusals that store nothing,
//! EXIF stripping, deduplication, and consent-gated serving under `/media`.

use std::io::Cursor;

use image::{ImageDecoder, ImageFormat, RgbImage};
use serde_json::{json, Value};

use crate::helpers::TestApp;

// --- files made for the tests ---

/// A picture whose left half is red and right half blue, with some texture.
fn two_halves(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let grain = ((x * 31 + y * 17) % 23) as u8;
        if x < w / 2 {
            image::Rgb([220, 20 + grain, 20])
        } else {
            image::Rgb([20, 20 + grain, 220])
        }
    })
}

fn encode(img: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

pub fn jpeg(w: u32, h: u32) -> Vec<u8> {
    encode(&two_halves(w, h), ImageFormat::Jpeg)
}

/// A noisy JPEG: large scan data, like a real photo.
pub fn noisy_jpeg(w: u32, h: u32, seed: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(w, h, |x, y| {
        let v =
            (x.wrapping_mul(2654435761) ^ y.wrapping_mul(40503) ^ seed).wrapping_mul(2246822519);
        image::Rgb([(v >> 8) as u8, (v >> 16) as u8, (v >> 24) as u8])
    });
    encode(&img, ImageFormat::Jpeg)
}

/// An EXIF APP1 segment written by hand: IFD0 with Orientation and a pointer to a GPS IFD that
/// puts the photo at 31°14′N 121°25′E (Shanghai).
fn exif_segment(orientation: u16) -> Vec<u8> {
    fn entry(t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: u32) {
        t.extend(tag.to_le_bytes());
        t.extend(kind.to_le_bytes());
        t.extend(count.to_le_bytes());
        t.extend(value.to_le_bytes());
    }
    const SHORT: u16 = 3;
    const LONG: u16 = 4;
    const ASCII: u16 = 2;
    const RATIONAL: u16 = 5;
    let mut t = Vec::new();
    t.extend(b"II*\0");
    t.extend(8u32.to_le_bytes());
    // IFD0 at 8: two entries, then the next-IFD offset.
    let gps_ifd = 8 + 2 + 2 * 12 + 4;
    t.extend(2u16.to_le_bytes());
    entry(&mut t, 0x0112, SHORT, 1, u32::from(orientation));
    entry(&mut t, 0x8825, LONG, 1, gps_ifd);
    t.extend(0u32.to_le_bytes());
    // GPS IFD: four entries; the rationals follow it.
    let latitude = gps_ifd + 2 + 4 * 12 + 4;
    let longitude = latitude + 24;
    t.extend(4u16.to_le_bytes());
    entry(&mut t, 0x0001, ASCII, 2, u32::from_le_bytes(*b"N\0\0\0"));
    entry(&mut t, 0x0002, RATIONAL, 3, latitude);
    entry(&mut t, 0x0003, ASCII, 2, u32::from_le_bytes(*b"E\0\0\0"));
    entry(&mut t, 0x0004, RATIONAL, 3, longitude);
    t.extend(0u32.to_le_bytes());
    for (num, den) in [(31u32, 1u32), (14, 1), (0, 1), (121, 1), (25, 1), (0, 1)] {
        t.extend(num.to_le_bytes());
        t.extend(den.to_le_bytes());
    }
    let mut segment = vec![0xFF, 0xE1];
    segment.extend(((2 + 6 + t.len()) as u16).to_be_bytes());
    segment.extend(b"Exif\0\0");
    segment.extend(t);
    segment
}

/// `jpeg` with the EXIF segment right after SOI.
fn with_exif(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    out.extend(exif_segment(orientation));
    out.extend(&jpeg[2..]);
    out
}

/// The markers of a JPEG's header segments, up to the first scan.
fn header_markers(jpeg: &[u8]) -> Vec<u8> {
    let mut markers = Vec::new();
    let mut at = 2;
    while at + 4 <= jpeg.len() && jpeg[at] == 0xFF {
        let marker = jpeg[at + 1];
        markers.push(marker);
        if marker == 0xDA {
            break;
        }
        at += 2 + usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
    }
    markers
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A valid 1×1 PNG whose header then claims `w`×`h` (with a correct checksum).
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut png = encode(&RgbImage::new(1, 1), ImageFormat::Png);
    png[16..20].copy_from_slice(&w.to_be_bytes());
    png[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

// --- helpers ---

async fn activity(app: &TestApp, title: &str) -> i64 {
    let reply = app
        .post(
            "/api/v1/activities",
            &json!({ "title": title, "date": "2019-08-30" }),
        )
        .await;
    reply.assert_status(201);
    reply.body["id"].as_i64().unwrap()
}

fn owner(kind: &str, id: i64) -> [(&'static str, String); 2] {
    [
        ("owner_kind", kind.to_string()),
        ("owner_id", id.to_string()),
    ]
}

async fn upload_to(
    app: &TestApp,
    kind: &str,
    id: i64,
    bytes: &[u8],
    extra: &[(&str, &str)],
) -> crate::helpers::Reply {
    let owner = owner(kind, id);
    let mut fields: Vec<(&str, &str)> = owner.iter().map(|(k, v)| (*k, v.as_str())).collect();
    fields.extend_from_slice(extra);
    app.upload(bytes, "IMG_0001.jpg", &fields).await
}

fn urls(photo: &Value) -> Vec<String> {
    ["thumbnail", "page", "print"]
        .iter()
        .map(|v| photo["derivatives"][v]["url"].as_str().unwrap().to_string())
        .collect()
}

async fn nothing_stored(app: &TestApp) {
    for table in ["photos", "photo_files", "photo_residents"] {
        assert_eq!(app.count(table).await, 0, "rows in {table}");
    }
    assert_eq!(
        app.media_files().await,
        Vec::<String>::new(),
        "files in the media folder"
    );
}

// --- tests ---

#[tokio::test]
async fn an_exif_rotated_jpeg_with_gps_comes_back_upright_without_any_metadata() {
    let app = TestApp::spawn().await;
    let activity = activity(&app, "竣工仪式").await;
    // Stored 800×600 sideways; orientation 6 says "turn 90° clockwise to view": the left (red)
    // half ends up on top.
    let upload = with_exif(&jpeg(800, 600), 6);
    let mut decoder = image::codecs::jpeg::JpegDecoder::new(Cursor::new(&upload)).unwrap();
    assert_eq!(
        decoder.orientation().unwrap(),
        image::metadata::Orientation::Rotate90,
        "the test file carries EXIF"
    );

    let reply = upload_to(
        &app,
        "activity",
        activity,
        &upload,
        &[("caption", "竣工仪式")],
    )
    .await;
    reply.assert_status(201);
    assert_eq!(
        (reply.body["width"].as_i64(), reply.body["height"].as_i64()),
        (Some(600), Some(800))
    );
    assert!(
        !reply.text.contains("IMG_0001"),
        "the upload's file name is not kept: {}",
        reply.text
    );
    let expected = [(240, 320), (600, 800), (600, 800)];
    for (url, (w, h)) in urls(&reply.body).iter().zip(expected) {
        let (status, headers, bytes) = app.fetch(url, false).await;
        assert_eq!(status, 200, "{url}");
        assert_eq!(headers["content-type"], "image/jpeg");
        let markers = header_markers(&bytes);
        assert!(
            markers
                .iter()
                .all(|m| !(0xE1..=0xEF).contains(m) && *m != 0xFE),
            "no APP1–APP15 or comment: {markers:x?}"
        );
        assert!(
            !bytes.windows(4).any(|w| w == b"Exif"),
            "no EXIF anywhere in {url}"
        );
        let mut decoder = image::codecs::jpeg::JpegDecoder::new(Cursor::new(&bytes)).unwrap();
        assert_eq!(decoder.exif_metadata().unwrap(), None);
        let picture = image::load_from_memory(&bytes).unwrap().to_rgb8();
        assert_eq!(picture.dimensions(), (w, h), "{url}");
        let top = picture.get_pixel(w / 2, h / 4).0;
        let bottom = picture.get_pixel(w / 2, h * 3 / 4).0;
        assert!(top[0] > 150 && top[2] < 100, "red on top, got {top:?}");
        assert!(
            bottom[2] > 150 && bottom[0] < 100,
            "blue below, got {bottom:?}"
        );
    }
}

#[tokio::test]
async fn a_png_claiming_100000_by_100000_pixels_is_refused_from_its_header() {
    let app = TestApp::spawn().await;
    let activity = activity(&app, "活动").await;
    let reply = upload_to(
        &app,
        "activity",
        activity,
        &png_claiming(100_000, 100_000),
        &[],
    )
    .await;
    reply.assert_status(422);
    assert_eq!(reply.error_code(), "image_too_large");
    assert_eq!(reply.body["error"]["details"]["width"], 100_000);
    nothing_stored(&app).await;
}

#[tokio::test]
async fn a_truncated_jpeg_is_refused() {
    let app = TestApp::spawn().await;
    let activity = activity(&app, "活动").await;
    let whole = noisy_jpeg(400, 300, 1);
    let reply = upload_to(
        &app,
        "activity",
        activity,
        &whole[..whole.len() * 6 / 10],
        &[],
    )
    .await;
    reply.assert_status(422);
    assert_eq!(reply.error_code(), "image_truncated");
    nothing_stored(&app).await;
}

#[tokio::test]
async fn html_named_jpg_and_svg_are_not_images() {
    let app = TestApp::spawn().await;
    let activity = activity(&app, "活动").await;
    let html = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>";
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>"#;
    for bytes in [&html[..], &svg[..]] {
        let reply = upload_to(&app, "activity", activity, bytes, &[]).await;
        reply.assert_status(415);
        assert_eq!(reply.error_code(), "unsupported_media_type");
    }
    nothing_stored(&app).await;
}

#[tokio::test]
async fn an_empty_file_is_refused() {
    let app = TestApp::spawn().await;
    let activity = activity(&app, "活动").await;
    let reply = upload_to(&app, "activity", activity, b"", &[]).await;
    reply.assert_status(422);
    assert_eq!(reply.invalid_fields(), ["file"]);
    nothing_stored(&app).await;
}

#[tokio::test]
async fn an_upload_over_the_limit_is_refused_with_413() {
    let app = TestApp::spawn_configured(|s| s.media.max_upload_bytes = 100_000).await;
    let activity = activity(&app, "活动").await;
    let big = noisy_jpeg(400, 400, 2);
    assert!(big.len() > 100_000);
    let reply = upload_to(&app, "activity", activity, &big, &[]).await;
    reply.assert_status(413);
    assert_eq!(reply.error_code(), "payload_too_large");
    nothing_stored(&app).await;
}

#[tokio::test]
async fn uploads_have_their_own_limit_above_the_json_one() {
    let app = TestApp::spawn_with_body_limit(64 * 1024).await;
    let activity = activity(&app, "活动").await;
    let photo = noisy_jpeg(400, 400, 3);
    assert!(photo.len() > 64 * 1024);
    upload_to(&app, "activity", activity, &photo, &[])
        .await
        .assert_status(201);
}

#[tokio::test]
async fn a_duplicate_upload_makes_no_second_file() {
    let app = TestApp::spawn().await;
    let first = activity(&app, "参访").await;
    let second = activity(&app, "培训").await;
    let bytes = noisy_jpeg(900, 600, 4);
    let a = upload_to(&app, "activity", first, &bytes, &[]).await;
    a.assert_status(201);
    let files = app.media_files().await;
    // Below 1280 px the page and print renditions are the same picture: one file.
    assert_eq!(
        a.body["derivatives"]["page"],
        a.body["derivatives"]["print"]
    );
    assert_eq!(files.len(), 2, "thumbnail, and page = print");

    let again = upload_to(&app, "activity", first, &bytes, &[]).await;
    again.assert_status(409);
    assert_eq!(app.count("photos").await, 1);

    // The same picture for another activity is another photo over the same files.
    let b = upload_to(&app, "activity", second, &bytes, &[]).await;
    b.assert_status(201);
    assert_eq!(urls(&a.body), urls(&b.body));
    assert_eq!(app.media_files().await, files);

    // Deleting one keeps the files the other still uses; deleting both removes them.
    app.delete(&format!("/api/v1/photos/{}", a.body["id"]))
        .await
        .assert_status(204);
    assert_eq!(app.media_files().await, files);
    app.delete(&format!("/api/v1/photos/{}", b.body["id"]))
        .await
        .assert_status(204);
    assert_eq!(app.media_files().await, Vec::<String>::new());
}

#[tokio::test]
async fn a_residents_photo_needs_their_portrait_consent_to_be_public() {
    let app = TestApp::spawn().await;
    let resident = app.resident("孙建伟").await;
    app.consent(resident, "profile").await.assert_status(201);
    let reply = app.upload_for_resident(resident, &jpeg(640, 480)).await;
    reply.assert_status(201);
    assert_eq!(reply.body["public"], false);
    let id = reply.body["id"].as_i64().unwrap();
    let page = &urls(&reply.body)[1];
    let list = format!("/api/v1/photos?owner_kind=resident&owner_id={resident}");

    // Without a photo consent: hidden from the public, there for staff.
    assert_eq!(app.fetch(page, false).await.0, 404);
    app.get(&format!("/api/v1/photos/{id}"))
        .await
        .assert_status(404);
    assert_eq!(app.get(&list).await.body["items"], json!([]));
    let (status, headers, bytes) = app.fetch(page, true).await;
    assert_eq!(status, 200);
    assert!(headers["cache-control"]
        .to_str()
        .unwrap()
        .starts_with("private"));
    assert!(image::load_from_memory(&bytes).is_ok());
    assert_eq!(
        app.staff_get(&list).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // With it: public, cached for ever, never sniffed.
    let consent = app.consent(resident, "photo").await;
    consent.assert_status(201);
    let (status, headers, _) = app.fetch(page, false).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "image/jpeg");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    let etag = headers["etag"].to_str().unwrap().to_string();
    let cached = app
        .send(app.client.get(page).header("If-None-Match", &etag))
        .await;
    assert_eq!(cached.status, 304);
    let public = app.get(&format!("/api/v1/photos/{id}")).await;
    public.assert_status(200);
    assert!(public.body.get("uploaded_by").is_none() && public.body.get("public").is_none());

    // A withdrawal unpublishes at once.
    let consent_id = consent.body["id"].as_i64().unwrap();
    app.post(
        &format!("/api/v1/residents/{resident}/consents/{consent_id}/withdraw"),
        &json!({}),
    )
    .await
    .assert_status(200);
    assert_eq!(app.fetch(page, false).await.0, 404);
    assert_eq!(app.fetch(page, true).await.0, 200);
}

#[tokio::test]
async fn everyone_shown_must_consent_before_an_activity_photo_is_public() {
    let app = TestApp::spawn().await;
    let activity = activity(&app, "居民区书记交流").await;
    let (a, b) = (app.resident("甲").await, app.resident("乙").await);
    app.consent(a, "photo").await.assert_status(201);
    let shown = format!("{a},{b}");
    let reply = upload_to(
        &app,
        "activity",
        activity,
        &jpeg(320, 200),
        &[("residents", &shown)],
    )
    .await;
    reply.assert_status(201);
    assert_eq!(reply.body["resident_ids"], json!([a, b]));
    let thumb = &urls(&reply.body)[0];
    assert_eq!(app.fetch(thumb, false).await.0, 404, "乙 has not consented");
    app.consent(b, "photo").await.assert_status(201);
    assert_eq!(app.fetch(thumb, false).await.0, 200);
}

#[tokio::test]
async fn captions_are_edited_with_if_match() {
    let app = TestApp::spawn().await;
    let activity = activity(&app, "培训").await;
    let reply = upload_to(
        &app,
        "activity",
        activity,
        &jpeg(320, 200),
        &[("caption", "旧说明"), ("credit", "记者 周晶")],
    )
    .await;
    reply.assert_status(201);
    let path = format!("/api/v1/photos/{}", reply.body["id"]);
    let edit = json!({ "caption": "“社会组织参与社会治理”培训", "credit": "记者 周晶", "alt": "讲师与居民区干部交流", "taken_on": "2019-08-29" });
    app.put(&path, None, &edit).await.assert_status(428);
    app.put(&path, Some("\"1-9\""), &edit)
        .await
        .assert_status(412);
    let updated = app.put(&path, Some(&reply.etag()), &edit).await;
    updated.assert_status(200);
    assert_eq!(updated.body["caption"], "“社会组织参与社会治理”培训");
    assert_eq!(updated.body["taken_on"], "2019-08-29");
    assert_eq!(
        updated.body["derivatives"], reply.body["derivatives"],
        "the files do not change"
    );
    let bad = app
        .put(
            &path,
            Some(&updated.etag()),
            &json!({ "taken_on": "8月29日" }),
        )
        .await;
    assert_eq!(bad.invalid_fields(), ["taken_on"]);
}

#[tokio::test]
async fn bad_owners_and_fields_are_named_and_store_nothing() {
    let app = TestApp::spawn().await;
    let bytes = jpeg(64, 64);
    let story = upload_to(&app, "story", 1, &bytes, &[]).await;
    story.assert_status(422);
    assert_eq!(story.invalid_fields(), ["owner_id"]);
    assert!(story.text.contains("报道 1 不存在"), "{}", story.text);
    let missing = upload_to(&app, "resident", 999, &bytes, &[("residents", "998")]).await;
    assert_eq!(missing.invalid_fields(), ["owner_id", "residents"]);
    let anonymous = app.send(app.client.post("/api/v1/photos").body("x")).await;
    anonymous.assert_status(401);
    nothing_stored(&app).await;
}

#[tokio::test]
async fn png_and_webp_are_accepted_and_stored_as_jpeg() {
    let app = TestApp::spawn().await;
    let activity = activity(&app, "活动").await;
    for (i, format) in [ImageFormat::Png, ImageFormat::WebP]
        .into_iter()
        .enumerate()
    {
        let reply = upload_to(
            &app,
            "activity",
            activity,
            &encode(&two_halves(300 + i as u32, 200), format),
            &[],
        )
        .await;
        reply.assert_status(201);
        let (_, headers, bytes) = app.fetch(&urls(&reply.body)[2], true).await;
        assert_eq!(headers["content-type"], "image/jpeg");
        assert_eq!(image::guess_format(&bytes).unwrap(), ImageFormat::Jpeg);
    }
}

#[tokio::test]
async fn media_names_that_are_not_content_addresses_are_not_found() {
    let app = TestApp::spawn().await;
    for path in [
        "/media/..%2F..%2Fetc%2Fpasswd",
        "/media/photo.jpg",
        &format!("/media/{}.jpg", "a".repeat(64)),
    ] {
        assert_eq!(app.fetch(path, true).await.0, 404, "{path}");
    }
}

#[tokio::test]
async fn the_sweep_removes_unused_files_only() {
    let app = TestApp::spawn().await;
    let activity = activity(&app, "活动").await;
    upload_to(&app, "activity", activity, &jpeg(320, 200), &[])
        .await
        .assert_status(201);
    let used = app.media_files().await;
    let orphan = format!("{}.jpg", "0".repeat(64));
    // Put beside the photos' files, in the folder or the bucket.
    for (key, bytes) in [(orphan.as_str(), "left by a crash"), ("README", "not ours")] {
        let put = app.media.store.put_if_absent(key, bytes.into()).await;
        assert!(put.unwrap(), "{key} is new");
    }

    let young = app
        .media
        .sweep(&app.db, std::time::Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(
        (young.removed, young.too_young),
        (0, 1),
        "a fresh file may belong to an upload in progress"
    );
    let report = app
        .media
        .sweep(&app.db, std::time::Duration::ZERO)
        .await
        .unwrap();
    assert_eq!((report.removed, report.kept), (1, used.len()));
    let mut expected = used.clone();
    expected.push("README".into());
    expected.sort();
    assert_eq!(app.media_files().await, expected);
}

#[tokio::test]
async fn the_demo_has_the_newsletters_photos_as_placeholders() {
    let app = TestApp::with_demo().await;
    let sun = app.get("/api/v1/residents").await.body["items"][0]["id"]
        .as_i64()
        .unwrap();
    let photos = app
        .get(&format!(
            "/api/v1/photos?owner_kind=resident&owner_id={sun}"
        ))
        .await;
    let items = photos.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "孙建伟's photo is public: {}", photos.text);
    let caption = items[0]["caption"].as_str().unwrap();
    assert!(
        caption.starts_with("孙建伟与小区居民一同出席音乐广场“智慧社区”竣工仪式"),
        "{caption}"
    );
    assert!(caption.contains("占位图"));
    assert_eq!(items[0]["credit"], "记者 周晶");
    assert_eq!(app.fetch(&urls(&items[0])[1], false).await.0, 200);

    let all = app.get("/api/v1/photos").await;
    let captions: Vec<&str> = all.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["caption"].as_str().unwrap())
        .collect();
    for expected in [
        "心理减压游戏",
        "赴徐汇区枫林路街道谨斜居委会参访",
        "“社会组织参与社会治理”培训",
        "长寿路街道居民区书记 2019 年半年度工作交流活动",
    ] {
        assert!(
            captions.iter().any(|c| c.starts_with(expected)),
            "{expected} in {captions:?}"
        );
    }

    let (rows, files) = (app.count("photos").await, app.media_files().await);
    let report = youde::demo::load(&app.db).await.unwrap();
    let photos = youde::demo::load_photos(&app.db, &app.media).await.unwrap();
    assert_eq!((report.created, photos.created), (0, 0));
    assert_eq!(app.count("photos").await, rows);
    assert_eq!(app.media_files().await, files);
}

#[tokio::test]
async fn only_registry_staff_may_upload_and_every_change_is_audited() {
    let app = TestApp::spawn().await;
    let activity = activity(&app, "活动").await;
    let editor = app.user_token("bianji", &["editor"]).await;
    let form = poem::test::TestForm::new()
        .field(
            poem::test::TestFormField::bytes(jpeg(64, 64))
                .name("file")
                .filename("a.jpg"),
        )
        .text("owner_kind", "activity")
        .text("owner_id", activity.to_string());
    let refused = app
        .send(
            app.client
                .post("/api/v1/photos")
                .header("Authorization", format!("Bearer {editor}"))
                .multipart(form),
        )
        .await;
    refused.assert_status(403);
    nothing_stored(&app).await;

    let reply = upload_to(
        &app,
        "activity",
        activity,
        &jpeg(64, 64),
        &[("caption", "说明")],
    )
    .await;
    reply.assert_status(201);
    let path = format!("/api/v1/photos/{}", reply.body["id"]);
    app.put(&path, Some(&reply.etag()), &json!({ "caption": "新说明" }))
        .await
        .assert_status(200);
    app.delete(&path).await.assert_status(204);
    let actions: Vec<String> = ["photo.create", "photo.update", "photo.delete"]
        .iter()
        .map(|a| a.to_string())
        .collect();
    for action in &actions {
        let n = app
            .count(&format!(
                "audit_events WHERE action = '{action}' AND entity_kind = 'photo'"
            ))
            .await;
        assert_eq!(n, 1, "{action}");
    }
}

// --- photos owned by a story ---

/// The demo's featured story: it names 孙建伟 and is the second of the demo issue.
const SMART: &str = "“智慧社区”建成的背后 有着这位专业“老法师”的强势助攻";

/// Whether the story and the photo are public, by the story rule (Rust) and the photo rule (SQL):
/// the two must agree for a story photo showing nobody without consent.
async fn story_and_photo_public(app: &TestApp, story: i64, photo: i64) -> (bool, bool) {
    let m = youde::store::stories::get(&app.db, story).await.unwrap();
    (
        youde::store::stories::is_public(&app.db, &m).await.unwrap(),
        youde::store::photos::is_public(&app.db, photo)
            .await
            .unwrap(),
    )
}

#[tokio::test]
async fn a_storys_own_photos_lead_its_page_feeds_and_pack() {
    let app = TestApp::with_demo().await;
    let editor = app.user_token("zhou-jing", &["editor"]).await;
    let smart = youde::store::stories::find_by_title(&app.db, SMART)
        .await
        .unwrap()
        .unwrap();
    let story = app
        .get(&format!("/api/v1/stories/{}?include=photos", smart.id))
        .await
        .body;
    let (id, slug) = (
        story["id"].as_i64().unwrap(),
        story["slug"].as_str().unwrap(),
    );
    let sun = story["resident_ids"][0].as_i64().unwrap();
    // Without photos of its own, the story shows its resident's.
    let fallback = &story["photos"][0];
    assert_eq!(fallback["owner_kind"], "resident", "{}", story);

    // Editors upload a story's photos; the registry's staff may not, and editors may not upload
    // a resident's.
    let upload_as =
        |token: String, kind: &'static str, owner: i64, bytes: Vec<u8>, caption: &'static str| {
            let app = &app;
            async move {
                let file = poem::test::TestFormField::bytes(bytes)
                    .name("file")
                    .filename("lead.jpg")
                    .content_type("image/jpeg");
                let form = poem::test::TestForm::new()
                    .field(file)
                    .text("owner_kind", kind)
                    .text("owner_id", owner.to_string())
                    .text("caption", caption)
                    .text("credit", "记者 周晶")
                    .text("residents", sun.to_string());
                app.send(
                    app.client
                        .post("/api/v1/photos")
                        .header("Authorization", format!("Bearer {token}"))
                        .multipart(form),
                )
                .await
            }
        };
    let nominator = app.user_token("wang-li", &["nominator"]).await;
    upload_as(nominator, "story", id, jpeg(64, 64), "x")
        .await
        .assert_status(403);
    upload_as(editor.clone(), "resident", sun, jpeg(64, 64), "x")
        .await
        .assert_status(403);
    let lead = upload_as(
        editor.clone(),
        "story",
        id,
        with_exif(&noisy_jpeg(900, 600, 7), 1),
        "音乐广场“智慧社区”竣工仪式现场",
    )
    .await;
    lead.assert_status(201);
    assert_eq!(lead.body["owner_kind"], "story");
    assert_eq!(lead.body["owner_id"], id);
    assert_eq!(
        lead.body["public"], true,
        "the story is published and 孙建伟 consented"
    );
    let second = upload_as(
        editor.clone(),
        "story",
        id,
        noisy_jpeg(600, 900, 8),
        "第二张",
    )
    .await;
    second.assert_status(201);
    let (lead_id, lead_urls) = (lead.body["id"].as_i64().unwrap(), urls(&lead.body));

    // The API: its own photos in upload order, and no longer the resident's.
    let read = app
        .get(&format!("/api/v1/stories/{id}?include=photos"))
        .await;
    let ids: Vec<i64> = read.body["photos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![lead_id, second.body["id"].as_i64().unwrap()]);
    let listed = app
        .get(&format!("/api/v1/photos?owner_kind=story&owner_id={id}"))
        .await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 2);

    // The page's lead photo, the feeds' enclosure and image.
    let page = app.get(&format!("/stories/{slug}")).await;
    page.assert_status(200);
    assert!(
        page.text.contains(&lead_urls[1]),
        "page rendition on the story page"
    );
    assert!(page.text.contains("竣工仪式现场"));
    let atom: atom_syndication::Feed = app
        .get("/feeds/stories.atom?featured=true")
        .await
        .text
        .parse()
        .expect("Atom");
    let enclosure = atom.entries()[0]
        .links()
        .iter()
        .find(|l| l.rel() == "enclosure")
        .expect("enclosure")
        .href()
        .to_string();
    assert_eq!(
        enclosure,
        format!("https://youde.example.org{}", lead_urls[1])
    );
    let json = app.get("/feeds/stories.json?featured=true").await;
    let item = &json.body["items"][0];
    assert_eq!(item["image"], enclosure.as_str());
    assert_eq!(
        item["attachments"][0]["title"],
        "音乐广场“智慧社区”竣工仪式现场"
    );

    // The pack: the story is the issue's second, its photos are 02-1 and 02-2, EXIF-free.
    let issue = app.get("/api/v1/issues").await.body["items"][0]["id"]
        .as_i64()
        .unwrap();
    let (status, _, zip) = app
        .fetch(&format!("/api/v1/issues/{issue}/pack"), false)
        .await;
    assert_eq!(status, 200);
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("a zip");
    let mut print = Vec::new();
    std::io::Read::read_to_end(&mut zip.by_name("photos/02-1.jpg").unwrap(), &mut print).unwrap();
    let (_, _, served) = app.fetch(&lead_urls[2], false).await;
    assert_eq!(print, served, "the print rendition of the lead photo");
    assert!(
        !print.windows(4).any(|w| w == b"Exif"),
        "no EXIF in the pack"
    );
    assert!(!header_markers(&print).contains(&0xE1), "no APP1 segment");
    assert!(zip.by_name("photos/02-2.jpg").is_ok());
    let mut captions = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("captions.csv").unwrap(), &mut captions)
        .unwrap();
    assert!(
        captions.contains("photos/02-1.jpg,音乐广场“智慧社区”竣工仪式现场,记者 周晶,孙建伟"),
        "{captions}"
    );

    // Unpublished: the story's photos are not public, anywhere.
    let publication = format!("/api/v1/stories/{id}/publication");
    let unpublish = json!({ "published": false });
    app.send_as(&editor, "PUT", &publication, Some(&unpublish))
        .await
        .assert_status(200);
    assert_eq!(
        story_and_photo_public(&app, id, lead_id).await,
        (false, false)
    );
    app.get(&format!("/api/v1/photos/{lead_id}"))
        .await
        .assert_status(404);
    assert_eq!(
        app.get(&format!("/api/v1/photos?owner_kind=story&owner_id={id}"))
            .await
            .body["items"],
        json!([])
    );
    for url in &lead_urls {
        assert_eq!(
            app.fetch(url, false).await.0,
            404,
            "{url} while unpublished"
        );
        assert_eq!(app.fetch(url, true).await.0, 200, "staff still see {url}");
        // So does the editor who illustrates the draft.
        let as_editor = app
            .send(
                app.client
                    .get(url)
                    .header("Authorization", format!("Bearer {editor}")),
            )
            .await;
        assert_eq!(as_editor.status, 200, "the editor sees {url}");
    }
    let seen = app
        .send_as(&editor, "GET", &format!("/api/v1/photos/{lead_id}"), None)
        .await;
    seen.assert_status(200);
    assert_eq!(seen.body["public"], false);
    let listed = app
        .send_as(
            &editor,
            "GET",
            &format!("/api/v1/photos?owner_kind=story&owner_id={id}"),
            None,
        )
        .await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 2);
    // Editors read nothing else that is not public: a resident's unconsented photo stays hidden.
    let hidden_resident = app.resident("未同意").await;
    let unconsented = app
        .upload_for_resident(hidden_resident, &jpeg(40, 30))
        .await;
    unconsented.assert_status(201);
    app.send_as(
        &editor,
        "GET",
        &format!("/api/v1/photos/{}", unconsented.body["id"]),
        None,
    )
    .await
    .assert_status(404);
    // Published again: public again.
    let publish = json!({ "published": true });
    app.send_as(&editor, "PUT", &publication, Some(&publish))
        .await
        .assert_status(200);
    assert_eq!(
        story_and_photo_public(&app, id, lead_id).await,
        (true, true)
    );
    assert_eq!(app.fetch(&lead_urls[1], false).await.0, 200);
}

#[tokio::test]
async fn a_story_photo_needs_a_public_story_and_everyone_shown_to_consent() {
    let app = TestApp::spawn().await;
    let named = app.resident("严秀兰").await;
    let shown = app.resident("陶立新").await;
    app.consent(named, "story").await.assert_status(201);
    let created = app
        .post(
            "/api/v1/stories",
            &json!({ "title": "楼道花园", "body": "月季长廊。", "resident_ids": [named] }),
        )
        .await;
    created.assert_status(201);
    let story = created.body["id"].as_i64().unwrap();
    let photo = upload_to(
        &app,
        "story",
        story,
        &jpeg(320, 240),
        &[("residents", &shown.to_string())],
    )
    .await;
    photo.assert_status(201);
    let photo_id = photo.body["id"].as_i64().unwrap();
    let page_url = urls(&photo.body)[1].clone();
    let public = |expected: (bool, bool), why: &'static str| {
        let app = &app;
        let page_url = page_url.clone();
        async move {
            assert_eq!(
                story_and_photo_public(app, story, photo_id).await,
                expected,
                "{why}"
            );
            let status = app.fetch(&page_url, false).await.0;
            assert_eq!(status == 200, expected.1, "{why}: /media answered {status}");
        }
    };
    public((false, false), "a draft story's photo").await;
    app.put(
        &format!("/api/v1/stories/{story}/publication"),
        None,
        &json!({ "published": true }),
    )
    .await
    .assert_status(200);
    public(
        (true, false),
        "published, but 陶立新 shown without photo consent",
    )
    .await;
    app.consent(shown, "photo").await.assert_status(201);
    public((true, true), "published and everyone shown consented").await;

    app.withdraw_consent(named, "story").await;
    public(
        (false, false),
        "the named resident withdrew their story consent",
    )
    .await;

    // Deleting the story deletes its photos.
    app.delete(&format!("/api/v1/stories/{story}"))
        .await
        .assert_status(204);
    assert_eq!(app.count("photos").await, 0);
    assert_eq!(app.count("photo_residents").await, 0);
}

#[tokio::test]
async fn a_recognition_storys_photo_follows_the_honour_behind_it() {
    // The SQL rule and the Rust rule agree on the honour a recognition story needs.
    let app = TestApp::with_demo().await;
    let smart = youde::store::stories::find_by_title(&app.db, SMART)
        .await
        .unwrap()
        .unwrap();
    assert!(smart.recognition_story);
    let photo = upload_to(&app, "story", smart.id, &jpeg(200, 100), &[]).await;
    photo.assert_status(201);
    let photo_id = photo.body["id"].as_i64().unwrap();
    assert_eq!(
        story_and_photo_public(&app, smart.id, photo_id).await,
        (true, true)
    );
    let recognitions = app.get("/api/v1/recognitions").await;
    let recognition = recognitions.body["items"][0]["id"].as_i64().unwrap();
    app.post(
        &format!("/api/v1/recognitions/{recognition}/revoke"),
        &json!({ "reason": "核实材料有误" }),
    )
    .await
    .assert_status(200);
    assert_eq!(
        story_and_photo_public(&app, smart.id, photo_id).await,
        (false, false),
        "no honour behind a recognition story: neither is public"
    );
}

#[tokio::test]
async fn staff_read_whether_each_photo_is_public_without_a_query_per_photo() {
    let app = TestApp::spawn().await;
    let activity = activity(&app, "楼道清洁").await;
    let list = format!("/api/v1/photos?owner_kind=activity&owner_id={activity}");
    let mut asked = Vec::new();
    for seed in 1..=6 {
        // Different bytes each time: the same picture twice for one owner is refused.
        upload_to(&app, "activity", activity, &noisy_jpeg(32, 24, seed), &[])
            .await
            .assert_status(201);
        let before = app.queries();
        let reply = app.staff_get(&list).await;
        asked.push(app.queries() - before);
        let items = reply.body["items"].as_array().unwrap();
        assert_eq!(items.len(), seed as usize);
        // An activity's photo is public: staff are told so, for every one.
        assert!(
            items.iter().all(|p| p["public"] == json!(true)),
            "{}",
            reply.text
        );
    }
    assert!(
        asked.windows(2).all(|w| w[0] == w[1]),
        "statements for a staff list of 1 to 6 photos: {asked:?}"
    );
}
