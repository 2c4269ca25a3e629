//! Sites served at host names of their own (`YOUDE_SITES`): which host shows which 街道's or
//! district's site, and which of its addresses belong to that site rather than the deployment.

/// The addresses a site serves at the root of a host name of its own: `/` (its honour roll),
/// `/notices`, `/search`, its feeds and its sitemap. Everything else (profiles, stories, the API)
/// is the deployment's and answers the same on every host.
pub const SITE_PATHS: [&str; 4] = ["/notices", "/search", "/sitemap.xml", "/feeds/"];

/// `YOUDE_SITES`: host names that serve one 街道's or district's site at their root, each mapped
/// to the community's slug (`changshou.example.cn=changshoulujiedao,…`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostSites(std::collections::BTreeMap<String, String>);

/// A request that arrived at a host of [`HostSites`]: the site's slug and the host's origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSite {
    pub slug: String,
    /// `https://changshou.example.cn`: the scheme of `YOUDE_PUBLIC_URL` and the host name.
    pub origin: String,
}

impl HostSites {
    /// Parse `host=slug` pairs separated by commas; hosts compare without case and without a
    /// port. Empty means no host has a site of its own.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut sites = std::collections::BTreeMap::new();
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (host, slug) = pair
                .split_once('=')
                .map(|(h, s)| (h.trim().to_ascii_lowercase(), s.trim().to_string()))
                .ok_or_else(|| format!("YOUDE_SITES: “{pair}” should read host=slug"))?;
            let host_ok = !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
            if !host_ok {
                return Err(format!("YOUDE_SITES: “{host}” is not a host name"));
            }
            let slug_ok =
                !slug.is_empty() && slug.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            if !slug_ok {
                return Err(format!("YOUDE_SITES: “{slug}” is not a community slug"));
            }
            if sites.insert(host.clone(), slug).is_some() {
                return Err(format!("YOUDE_SITES: “{host}” is named twice"));
            }
        }
        Ok(HostSites(sites))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The slugs mapped, for checking at start that each names a 街道 or a district.
    pub fn slugs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(h, s)| (h.as_str(), s.as_str()))
    }

    /// The site of a request's `Host` header (port ignored), with `scheme` for its origin.
    pub fn lookup(&self, host_header: &str, scheme: &str) -> Option<HostSite> {
        let host = host_header
            .rsplit_once(':')
            .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
            .map_or(host_header, |(host, _)| host)
            .to_ascii_lowercase();
        self.0.get(&host).map(|slug| HostSite {
            slug: slug.clone(),
            origin: format!("{scheme}://{host}"),
        })
    }

    /// Where a request for `path` at a site's host is served: `/` → `/s/{slug}`, its other site
    /// paths below `/s/{slug}`; `None` for the deployment's addresses.
    pub fn rewrite(slug: &str, path: &str) -> Option<String> {
        if path == "/" {
            return Some(format!("/s/{slug}"));
        }
        let ours = SITE_PATHS
            .iter()
            .any(|p| path == *p || (p.ends_with('/') && path.starts_with(p)))
            || path.starts_with("/sitemaps/");
        ours.then(|| format!("/s/{slug}{path}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_sites_parse_and_refuse_what_is_not_a_mapping() {
        let sites =
            HostSites::parse(" Changshou.Example.cn=changshoulujiedao, putuo.example.cn=putuoqu ")
                .unwrap();
        let found = sites.lookup("changshou.example.cn:8443", "https").unwrap();
        assert_eq!(found.slug, "changshoulujiedao");
        assert_eq!(found.origin, "https://changshou.example.cn");
        assert_eq!(
            sites.lookup("PUTUO.example.cn", "http").unwrap().slug,
            "putuoqu"
        );
        assert_eq!(sites.lookup("youde.example.org", "https"), None);
        assert!(HostSites::parse("").unwrap().is_empty());
        for bad in ["changshou.example.cn", "=x", "a b=x", "a=b c", "a=x,A=y"] {
            assert!(HostSites::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_host_site_serves_its_own_paths_and_leaves_the_deployments_alone() {
        let at = |p| HostSites::rewrite("cs", p);
        assert_eq!(at("/").as_deref(), Some("/s/cs"));
        assert_eq!(at("/notices").as_deref(), Some("/s/cs/notices"));
        assert_eq!(at("/search").as_deref(), Some("/s/cs/search"));
        assert_eq!(
            at("/feeds/stories.atom").as_deref(),
            Some("/s/cs/feeds/stories.atom")
        );
        assert_eq!(at("/sitemap.xml").as_deref(), Some("/s/cs/sitemap.xml"));
        assert_eq!(
            at("/sitemaps/people-0.xml").as_deref(),
            Some("/s/cs/sitemaps/people-0.xml")
        );
        for theirs in [
            "/people/x",
            "/notices/3",
            "/api/v1/residents",
            "/admin",
            "/searching",
        ] {
            assert_eq!(at(theirs), None, "{theirs}");
        }
    }
}
