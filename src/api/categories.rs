//! `/categories`: the honour categories. The five national ones are fixed; admins manage local ones.

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::auth::{StaffAuth, Viewer};
use super::error::{ApiError, ApiResult};
use super::etag::etag;
use super::validation_text;
use super::write::Change;
use super::{ApiTags, Created};
use crate::domain::policy::Action;
pub use crate::service::workflow::Category;
use crate::state::AppState;
use crate::store::categories;

super::write::audited!(Category => "category");

#[derive(Debug, Object)]
#[oai(example)]
pub struct CategoryInput {
    /// Lower-case letters, digits and `_`.
    pub code: String,
    pub name: String,
}

super::example!(CategoryInput, { "code": "neighbourly", "name": "邻里互助之星" });

#[derive(Debug, Object)]
#[oai(example)]
pub struct CategoryUpdate {
    pub name: String,
    pub active: bool,
}

super::example!(CategoryUpdate, { "name": "邻里互助之星", "active": true });

pub struct CategoriesApi;

#[OpenApi(tag = "ApiTags::Workflow")]
impl CategoriesApi {
    /// List categories
    ///
    /// Active ones; staff may pass `all=true` for inactive local ones too.
    #[oai(path = "/categories", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        viewer: Data<&Viewer>,
        all: Query<Option<bool>>,
    ) -> ApiResult<Json<Vec<Category>>> {
        let include_inactive = all.0 == Some(true) && viewer.staff().is_some();
        let rows = categories::list(&state.db, include_inactive).await?;
        Ok(Json(rows.iter().map(Category::from).collect()))
    }

    /// Add a local category
    ///
    /// Permission: `manage_categories`.
    #[oai(path = "/categories", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<CategoryInput>,
    ) -> ApiResult<Created<Category>> {
        let staff = auth.require(Action::ManageCategories)?;
        let code = body.code.trim().to_string();
        if code.is_empty()
            || code.len() > 40
            || !code
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(ApiError::field(
                "code",
                "代码应为 1–40 位小写字母、数字或下划线",
            ));
        }
        let name = validation_text("name", &body.name, 20)?;
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let m = categories::insert_local(&txn, &code, &name, state.clock.now()).await?;
        let dto = Category::from(&m);
        txn.created(&dto).await?;
        Ok(Created::at(
            "/api/v1/categories",
            etag(m.id, m.version),
            dto,
        ))
    }

    /// Rename or (de)activate a local category
    ///
    /// Permission: `manage_categories`.
    #[oai(path = "/categories/:id", method = "put")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<i64>,
        body: Json<CategoryUpdate>,
    ) -> ApiResult<Json<Category>> {
        let staff = auth.require(Action::ManageCategories)?;
        let name = validation_text("name", &body.name, 20)?;
        let txn = Change::begin(&state.db, state.clock.now(), staff).await?;
        let before = categories::get(&txn, id.0).await?;
        let m = categories::update_local(&txn, id.0, &name, body.active).await?;
        let dto = Category::from(&m);
        txn.updated(&Category::from(&before), &dto).await?;
        Ok(Json(dto))
    }
}
