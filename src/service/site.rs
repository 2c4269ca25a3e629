//! Whose public site a page belongs to: its name in the header, footer, titles, Open Graph and
//! feeds comes from the community tree, never from the templates. A deployment serves the site
//! of its own tree at `/` (its one 街道, else its one district), and the site of any 街道 or
//! district at `/s/{slug}` (its honour roll), `/s/{slug}/notices` (its 公示 board) and
//! `/s/{slug}/search`, showing only the people of that subtree.

use crate::domain::community::CommunityKind;
use crate::domain::site::HostSite;
use crate::store::communities;
use crate::store::entities::community;
use crate::store::StoreResult;

/// A public site: a 街道's or a district's, or the deployment's when its tree has no single root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// 长寿路街道
    pub name: String,
    /// Who runs it, for the footer: 长寿路街道办事处 (empty for the generic site).
    pub office: String,
    /// The root of the subtree it shows; none: every community of the deployment.
    pub community_id: Option<i64>,
    /// Where its pages live: empty for the deployment's own site at `/` and for a site served
    /// at a host name of its own, `/s/{slug}` otherwise.
    pub prefix: String,
    /// `https://host` for a site served at a host name of its own (`YOUDE_SITES`): its canonical
    /// addresses use it instead of `YOUDE_PUBLIC_URL`.
    pub origin: Option<String>,
}

impl Site {
    /// The site of a deployment whose tree has no single 街道 or district to name it after.
    pub fn generic() -> Self {
        Site {
            name: "有德之士".into(),
            office: String::new(),
            community_id: None,
            prefix: String::new(),
            origin: None,
        }
    }

    fn of(c: &community::Model, prefix: String) -> Self {
        let office = match c.kind.parse::<CommunityKind>() {
            Ok(CommunityKind::Subdistrict) => format!("{}办事处", c.name),
            _ => c.name.clone(),
        };
        Site {
            name: c.name.clone(),
            office,
            community_id: Some(c.id),
            prefix,
            origin: None,
        }
    }

    /// The deployment's own site at `/`: named after its one 街道, or else its one district.
    /// Its pages show every community (a deployment with one 街道 has nothing else).
    pub async fn of_deployment(db: &impl sea_orm::ConnectionTrait) -> StoreResult<Self> {
        for kind in [CommunityKind::Subdistrict, CommunityKind::District] {
            let found = communities::first_of_kind(db, kind, 2).await?;
            if let [only] = found.as_slice() {
                let mut site = Site::of(only, String::new());
                site.community_id = None;
                return Ok(site);
            }
        }
        Ok(Site::generic())
    }

    /// The site of the 街道 or district with this slug (none for other kinds or no such slug).
    pub async fn of_slug(
        db: &impl sea_orm::ConnectionTrait,
        slug: &str,
    ) -> StoreResult<Option<Self>> {
        let Some(c) = communities::find_by_slug(db, slug).await? else {
            return Ok(None);
        };
        let site_kind = matches!(
            c.kind.parse::<CommunityKind>(),
            Ok(CommunityKind::Subdistrict | CommunityKind::District)
        );
        Ok(site_kind.then(|| Site::of(&c, format!("/s/{}", c.slug))))
    }

    /// What the site calls its people: 长寿路街道有德之士 (有德之士 for the generic site).
    pub fn honours(&self) -> String {
        if *self == Site::generic() {
            "有德之士".into()
        } else {
            format!("{}有德之士", self.name)
        }
    }

    /// For Open Graph's site name and print headers: 长寿路街道 · 有德之士.
    pub fn label(&self) -> String {
        if self.office.is_empty() {
            "有德之士".into()
        } else {
            format!("{} · 有德之士", self.name)
        }
    }

    /// The site's home page: `/`, or `/s/{slug}`.
    pub fn home(&self) -> String {
        if self.prefix.is_empty() {
            "/".into()
        } else {
            self.prefix.clone()
        }
    }

    /// `path` on this site: `/notices` stays, or becomes `/s/{slug}/notices` (`/` is the home).
    pub fn url(&self, path: &str) -> String {
        if path == "/" {
            return self.home();
        }
        format!("{}{path}", self.prefix)
    }

    /// The same site served at a host name of its own: its pages live at the host's root.
    pub fn at_host(self, host: &HostSite) -> Self {
        Site {
            prefix: String::new(),
            origin: Some(host.origin.clone()),
            ..self
        }
    }

    /// The canonical address of `path` on this site, `public_url` unless it has a host of its own.
    pub fn absolute(&self, public_url: &str, path: &str) -> String {
        let base = self.origin.as_deref().unwrap_or(public_url);
        format!("{}{}", base.trim_end_matches('/'), self.url(path))
    }
}
