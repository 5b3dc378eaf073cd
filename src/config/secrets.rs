//! Secrets and logins: where a password or an OAuth 2.0 client secret is read from (an
//! environment variable, a file, a systemd credential), revealed only when a connection needs it.

use super::*;

/// Where a secret comes from. The secret itself is read only when needed.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    Env(String),
    File(SecretFile),
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Env(name) => write!(f, "env:{name}"),
            SecretSource::File(file) => write!(f, "file:{file}"),
        }
    }
}

/// A file holding a secret: a path, or `credential:NAME` — the file `NAME` in the directory
/// systemd names in `$CREDENTIALS_DIRECTORY` for a unit with `LoadCredential=NAME:…`. The
/// directory is looked up when the secret is read, not when the configuration is loaded.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretFile {
    Path(PathBuf),
    Credential(String),
}

impl fmt::Display for SecretFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretFile::Path(path) => write!(f, "{}", path.display()),
            SecretFile::Credential(name) => write!(f, "credential:{name}"),
        }
    }
}

impl fmt::Debug for SecretFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl SecretFile {
    /// `credential:NAME` or a path (relative paths from `base`).
    pub(super) fn parse(key: &str, value: PathBuf, base: &Path) -> Result<SecretFile> {
        match value.to_str().and_then(|v| v.strip_prefix("credential:")) {
            Some(name) => {
                if name.is_empty() || name == "." || name == ".." || name.contains('/') {
                    bail!("{key} = \"credential:{name}\": the name after credential: must be a plain file name, as in LoadCredential=imap-password:/path");
                }
                Ok(SecretFile::Credential(name.to_owned()))
            }
            None if value.as_os_str().is_empty() => bail!("{key} must not be empty"),
            None if value.is_absolute() => Ok(SecretFile::Path(value)),
            None => Ok(SecretFile::Path(base.join(value))),
        }
    }

    /// Where the file is now: the path, or the credential in `$CREDENTIALS_DIRECTORY`.
    pub fn path(&self) -> Result<PathBuf> {
        self.path_in(std::env::var_os("CREDENTIALS_DIRECTORY"))
    }

    /// [`SecretFile::path`] with the credentials directory given.
    pub(super) fn path_in(&self, credentials: Option<std::ffi::OsString>) -> Result<PathBuf> {
        match self {
            SecretFile::Path(path) => Ok(path.clone()),
            SecretFile::Credential(name) => match credentials {
                Some(dir) if !dir.is_empty() => Ok(Path::new(&dir).join(name)),
                _ => bail!(
                    "credential:{name} is read from $CREDENTIALS_DIRECTORY, which systemd sets for a service with \
                     LoadCredential={name}:/path/to/the/file; it is not set here (outside systemd, give the file's path instead)"
                ),
            },
        }
    }

    /// The file's first line (without its line ending); an empty one is an error. `what` names
    /// the secret in messages (`"the IMAP password"`).
    pub fn first_line(&self, what: &str) -> Result<Secret> {
        let path = self.path().with_context(|| format!("cannot read {what}"))?;
        let text =
            std::fs::read_to_string(&path).with_context(|| format!("cannot read {what} from {}", path.display()))?;
        let line = text.lines().next().unwrap_or("").trim_end_matches('\r');
        if line.trim().is_empty() {
            bail!("{what} file {} is empty", path.display());
        }
        Ok(Secret(line.to_owned()))
    }
}

/// A password or token in memory. Its `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub(super) String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl SecretSource {
    /// Read the secret: the environment variable's value, or the file's first line.
    pub fn reveal(&self) -> Result<Secret> {
        match self {
            SecretSource::Env(name) => match std::env::var(name) {
                Ok(value) if !value.is_empty() => Ok(Secret(value)),
                Ok(_) => bail!("the environment variable {name} is empty"),
                Err(_) => bail!("the environment variable {name} is not set"),
            },
            SecretSource::File(file) => file.first_line("the password"),
        }
    }
}

/// How smebridge proves who it is to a mail server.
#[derive(Debug, Clone)]
pub enum Auth {
    /// `LOGIN` / `AUTH PLAIN` with a password (an app password at most providers).
    Password(SecretSource),
    /// SASL `XOAUTH2` / `OAUTHBEARER` with an OAuth 2.0 access token from this source (shared by
    /// IMAP and SMTP with `[smtp] auth = "same-as-imap"`, so one token serves both).
    OAuth2(Arc<TokenSource>),
}

/// The login keys a `[imap]` or `[smtp]` section may hold; at most one kind is used.
pub(super) struct RawLogin {
    pub(super) password_env: Option<String>,
    pub(super) password_file: Option<PathBuf>,
    pub(super) oauth2: Option<RawOAuth2>,
    pub(super) token_command: Option<Vec<String>>,
}

/// The section's login, if it has one. `timeout` bounds a token refresh or token command.
pub(super) fn auth(section: &str, login: RawLogin, base: &Path, timeout: Duration) -> Result<Option<Auth>> {
    let given: Vec<&str> = [
        ("password_env", login.password_env.is_some()),
        ("password_file", login.password_file.is_some()),
        ("oauth2", login.oauth2.is_some()),
        ("token_command", login.token_command.is_some()),
    ]
    .into_iter()
    .filter_map(|(key, set)| set.then_some(key))
    .collect();
    if given.len() > 1 {
        bail!("[{section}] has {}; keep one way to log in", given.join(" and "));
    }
    if let Some(name) = login.password_env {
        return Ok(Some(Auth::Password(SecretSource::Env(non_empty(&format!("{section}.password_env"), &name)?))));
    }
    if let Some(path) = login.password_file {
        let file = SecretFile::parse(&format!("{section}.password_file"), path, base)?;
        return Ok(Some(Auth::Password(SecretSource::File(file))));
    }
    if let Some(argv) = login.token_command {
        if argv.first().is_none_or(|program| program.trim().is_empty()) {
            bail!("{section}.token_command must name a program, as in [\"oama\", \"access\", \"user@example.org\"]");
        }
        return Ok(Some(Auth::OAuth2(Arc::new(TokenSource::command(argv, timeout)))));
    }
    if let Some(raw) = login.oauth2 {
        let key = |name: &str| format!("{section}.oauth2.{name}");
        let settings = oauth2::Settings::new(oauth2::RawSettings {
            provider: raw.provider,
            client_id: non_empty(&key("client_id"), &raw.client_id)?,
            client_secret: raw
                .client_secret_file
                .map(|p| SecretFile::parse(&key("client_secret_file"), p, base))
                .transpose()?,
            refresh_token: SecretFile::parse(&key("refresh_token_file"), raw.refresh_token_file, base)?,
            tenant: raw.tenant,
            token_url: raw.token_url,
            auth_url: raw.auth_url,
            device_url: raw.device_url,
            scopes: raw.scopes,
        })
        .with_context(|| format!("[{section}] oauth2"))?;
        return Ok(Some(Auth::OAuth2(Arc::new(TokenSource::refreshing(settings, timeout)))));
    }
    Ok(None)
}
