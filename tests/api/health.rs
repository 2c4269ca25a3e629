use crate::helpers::TestApp;

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = TestApp::spawn().await;
    app.get("/healthz").await.assert_status(200);
    let ready = app.get("/readyz").await;
    ready.assert_status(200);
    assert_eq!(ready.body["database"], "ok");
}

#[tokio::test]
async fn the_openapi_document_describes_every_resource() {
    let app = TestApp::spawn().await;
    let spec = app.get("/api/openapi.json").await;
    spec.assert_status(200);
    let paths = spec.body["paths"].as_object().expect("paths");
    for path in [
        "/communities",
        "/residents",
        "/residents/{id}",
        "/residents/{id}/summary",
        "/residents/{id}/service-records",
        "/residents/{id}/consents",
        "/activities",
    ] {
        assert!(paths.contains_key(path), "spec lacks {path}");
    }
    // Writes are documented as needing the bearer token, and updates document 412 and 428.
    let update = &spec.body["paths"]["/residents/{id}"]["put"];
    assert!(update["security"].is_array(), "PUT /residents/{{id}} must declare its security");
    for status in ["412", "428", "422", "404"] {
        assert!(update["responses"][status].is_object(), "PUT /residents/{{id}} lacks {status}");
    }
    let docs = app.get("/api/docs").await;
    docs.assert_status(200);
    assert!(docs.text.contains("swagger"), "interactive docs page");
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_in_the_json_error_shape() {
    let app = TestApp::spawn().await;
    let missing = app.get("/api/v1/nothing-here").await;
    missing.assert_status(404);
    assert_eq!(missing.error_code(), "not_found");
    let wrong_method = app.send(app.client.patch("/api/v1/residents")).await;
    assert_eq!(wrong_method.status.as_u16(), 405, "{}", wrong_method.text);
    assert_eq!(wrong_method.error_code(), "method_not_allowed");
}
