//! Which provider, which endpoints, which scopes: the `oauth2 = { … }` table once checked.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use url::Url;

use crate::config::{is_loopback, SecretFile};

/// The providers smebridge knows the endpoints and scopes of; `custom` names its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Google Workspace / Gmail.
    Google,
    /// Microsoft 365 / Exchange Online (Entra ID).
    Microsoft,
    /// Any other RFC 6749 provider: `token_url` is required.
    Custom,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Google => "google",
            Provider::Microsoft => "microsoft",
            Provider::Custom => "custom",
        }
    }

    /// Token, browser sign-in and device authorization endpoints.
    fn endpoints(self, tenant: &str) -> [Option<String>; 3] {
        match self {
            Provider::Google => [
                Some("https://oauth2.googleapis.com/token".into()),
                Some("https://accounts.google.com/o/oauth2/v2/auth".into()),
                // Google's device flow does not grant the Gmail scope.
                None,
            ],
            Provider::Microsoft => {
                let base = format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0");
                [Some(format!("{base}/token")), Some(format!("{base}/authorize")), Some(format!("{base}/devicecode"))]
            }
            Provider::Custom => [None, None, None],
        }
    }

    /// What IMAP and SMTP need, with a refresh token (`offline_access` at Microsoft; Google
    /// hands one out for `access_type=offline`).
    fn default_scopes(self) -> Vec<String> {
        match self {
            Provider::Google => vec!["https://mail.google.com/".into()],
            Provider::Microsoft => vec![
                "https://outlook.office.com/IMAP.AccessAsUser.All".into(),
                "https://outlook.office.com/SMTP.Send".into(),
                "offline_access".into(),
            ],
            Provider::Custom => Vec::new(),
        }
    }
}

/// The table as written (see `src/config.rs`), paths already placed.
pub struct RawSettings {
    pub provider: Provider,
    pub client_id: String,
    pub client_secret: Option<SecretFile>,
    pub refresh_token: SecretFile,
    pub tenant: Option<String>,
    pub token_url: Option<String>,
    pub auth_url: Option<String>,
    pub device_url: Option<String>,
    pub scopes: Option<Vec<String>>,
}

/// Everything needed to refresh a token and to get the first refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub provider: Provider,
    pub client_id: String,
    pub client_secret: Option<SecretFile>,
    pub refresh_token: SecretFile,
    pub token_url: Url,
    pub auth_url: Option<Url>,
    pub device_url: Option<Url>,
    pub scopes: Vec<String>,
}

impl Settings {
    pub fn new(raw: RawSettings) -> Result<Settings> {
        if raw.tenant.is_some() && raw.provider != Provider::Microsoft {
            bail!("tenant is a Microsoft setting; provider is {:?}", raw.provider.as_str());
        }
        let tenant = raw.tenant.as_deref().unwrap_or("common");
        if tenant.is_empty() || !tenant.chars().all(|c| c.is_ascii_alphanumeric() || "-.".contains(c)) {
            bail!("tenant {tenant:?} is not a directory id, a domain, \"organizations\" or \"common\"");
        }
        let [token, auth, device] = raw.provider.endpoints(tenant);
        let url = |key: &str, given: Option<String>, default: Option<String>| -> Result<Option<Url>> {
            given.or(default).map(|u| endpoint(key, &u)).transpose()
        };
        let token_url = url("token_url", raw.token_url, token)?
            .context("provider = \"custom\" needs token_url (the provider's token endpoint)")?;
        Ok(Settings {
            provider: raw.provider,
            client_id: raw.client_id,
            client_secret: raw.client_secret,
            refresh_token: raw.refresh_token,
            token_url,
            auth_url: url("auth_url", raw.auth_url, auth)?,
            device_url: url("device_url", raw.device_url, device)?,
            scopes: raw.scopes.unwrap_or_else(|| raw.provider.default_scopes()),
        })
    }
}

/// An endpoint URL: `https://`, or `http://` towards this machine only (a token in clear text
/// must not cross a network).
fn endpoint(key: &str, value: &str) -> Result<Url> {
    let url = Url::parse(value).with_context(|| format!("{key} {value:?} is not a URL"))?;
    let host = url.host_str().unwrap_or("");
    match url.scheme() {
        "https" if !host.is_empty() => Ok(url),
        "http" if is_loopback(host) => Ok(url),
        "http" => bail!("{key} {value:?} is plain http: tokens would cross the network unencrypted; use https"),
        _ => bail!("{key} {value:?} must be an https:// URL"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn raw(provider: Provider) -> RawSettings {
        RawSettings {
            provider,
            client_id: "app".into(),
            client_secret: None,
            refresh_token: SecretFile::Path(PathBuf::from("/var/lib/smebridge/rt")),
            tenant: None,
            token_url: None,
            auth_url: None,
            device_url: None,
            scopes: None,
        }
    }

    #[test]
    fn known_providers_bring_their_endpoints_and_scopes() {
        let google = Settings::new(raw(Provider::Google)).unwrap();
        assert_eq!(google.token_url.as_str(), "https://oauth2.googleapis.com/token");
        assert_eq!(google.scopes, ["https://mail.google.com/"]);
        assert!(google.device_url.is_none());

        let mut ms = raw(Provider::Microsoft);
        ms.tenant = Some("organizations".into());
        let ms = Settings::new(ms).unwrap();
        assert_eq!(ms.token_url.as_str(), "https://login.microsoftonline.com/organizations/oauth2/v2.0/token");
        assert!(ms.device_url.unwrap().as_str().ends_with("/devicecode"));
        assert!(ms.scopes.contains(&"offline_access".to_owned()));
    }

    #[test]
    fn custom_needs_a_token_url_and_plain_http_only_on_loopback() {
        let err = format!("{:#}", Settings::new(raw(Provider::Custom)).unwrap_err());
        assert!(err.contains("needs token_url"), "{err}");
        let mut r = raw(Provider::Custom);
        r.token_url = Some("http://127.0.0.1:8080/token".into());
        assert!(Settings::new(r).is_ok());
        let mut r = raw(Provider::Custom);
        r.token_url = Some("http://idp.example.org/token".into());
        let err = format!("{:#}", Settings::new(r).unwrap_err());
        assert!(err.contains("unencrypted"), "{err}");
        let mut r = raw(Provider::Google);
        r.tenant = Some("x".into());
        assert!(Settings::new(r).is_err());
    }
}
