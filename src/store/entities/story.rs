//! The `stories` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stories")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub subtitle: Option<String>,
    pub section: Option<String>,
    pub themes: String,
    pub byline: Option<String>,
    pub body: String,
    pub recognition_story: bool,
    pub state: String,
    pub featured: bool,
    pub published_at: Option<DateTimeUtc>,
    /// Why the story was taken back to draft without an editor asking (a named resident was
    /// deleted or erased); cleared when an editor publishes it again.
    pub attention: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
