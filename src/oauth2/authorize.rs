//! `smebridge oauth2 authorize`: the first refresh token, got by a person signing in once as the
//! mailbox's user. Two ways, both of which print what to open and never print a token:
//!
//! - **device code** (RFC 8628; Microsoft's usual way on a server without a browser): a short
//!   code to enter at the provider's page from any computer or phone, while smebridge polls.
//! - **browser with a loopback redirect** (RFC 8252, with PKCE S256; Google's way for installed
//!   apps): an address to open; after sign-in the provider sends the browser to
//!   `http://127.0.0.1:PORT/`, where smebridge listens. When the browser runs on another
//!   computer that address cannot load there: paste it into smebridge's terminal instead.
//!
//! The refresh token is written to `refresh_token_file` (or `--output`) atomically, mode 0600.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use base64::Engine as _;
use rand::RngExt;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

use super::settings::{Provider, Settings};
use super::token::{self, Failure, Grant, Granted};
use super::{files, http};
use crate::config::Secret;

/// How the operator signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Flow {
    /// Enter a short code at the provider's page (any device).
    Device,
    /// Open an address in a browser; the provider redirects back to smebridge on 127.0.0.1.
    Browser,
}

/// How long a person gets to sign in with the browser.
const BROWSER_WAIT: Duration = Duration::from_secs(10 * 60);

/// Walk the operator through signing in and save the refresh token; returns where it went.
pub async fn authorize(
    settings: &Settings,
    flow: Option<Flow>,
    output: Option<&Path>,
    timeout: Duration,
) -> Result<PathBuf> {
    let path = match output {
        Some(path) => path.to_owned(),
        None => settings.refresh_token.path().context(
            "refresh_token_file is a systemd credential, which cannot be written; give --output FILE and load that file as the credential",
        )?,
    };
    let secret = settings.client_secret.as_ref().map(|f| f.first_line("the OAuth2 client secret")).transpose()?;
    let flow = match flow {
        Some(flow) => flow,
        None if settings.provider == Provider::Google => Flow::Browser,
        None if settings.device_url.is_some() => Flow::Device,
        None => Flow::Browser,
    };
    let granted = match flow {
        Flow::Device => device(settings, secret.as_ref(), timeout).await?,
        Flow::Browser => browser(settings, secret.as_ref(), timeout).await?,
    };
    let refresh = granted.refresh_token.ok_or_else(|| {
        anyhow!(
            "the provider signed you in but gave no refresh token; the scopes must allow offline use \
             (Microsoft: offline_access; Google: smebridge asks with access_type=offline)"
        )
    })?;
    files::write_private(&path, refresh.expose())?;
    println!("Signed in. The refresh token is saved in {} (mode 0600).", path.display());
    println!("`smebridge check` now logs in with it.");
    Ok(path)
}

#[derive(Deserialize)]
struct DeviceAnswer {
    device_code: String,
    user_code: String,
    /// Google says `verification_url`.
    #[serde(alias = "verification_url")]
    verification_uri: String,
    expires_in: u64,
    interval: Option<u64>,
}

async fn device(settings: &Settings, secret: Option<&Secret>, timeout: Duration) -> Result<Granted> {
    let url = settings.device_url.as_ref().context(
        "this provider has no device sign-in (device_url); use --flow browser, or set device_url for a custom provider",
    )?;
    let scope = settings.scopes.join(" ");
    let mut form = vec![("client_id", settings.client_id.as_str()), ("scope", scope.as_str())];
    if let Some(secret) = secret {
        form.push(("client_secret", secret.expose()));
    }
    let answer = http::post_form(url, &form, timeout).await?;
    let started: DeviceAnswer = serde_json::from_slice(&answer.body).map_err(|_| {
        anyhow!(
            "the device endpoint answered HTTP {}: {}",
            answer.status,
            String::from_utf8_lossy(&answer.body).chars().take(300).collect::<String>()
        )
    })?;
    println!("Sign in as the mailbox's user (from any computer or phone):");
    println!("  open   {}", started.verification_uri);
    println!("  enter  {}", started.user_code);
    println!("The code is valid for {} minutes. Waiting for the sign-in…", started.expires_in.div_ceil(60));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(started.expires_in);
    let mut interval = Duration::from_secs(started.interval.unwrap_or(5).max(1));
    loop {
        tokio::time::sleep(interval).await;
        if tokio::time::Instant::now() >= deadline {
            bail!("the code expired before anyone signed in; run `smebridge oauth2 authorize` again");
        }
        match token::request(settings, secret, Grant::Device(&started.device_code), timeout).await {
            Ok(granted) => return Ok(granted),
            Err(Failure::Refused(r)) if r.error == "authorization_pending" => {}
            Err(Failure::Refused(r)) if r.error == "slow_down" => interval += Duration::from_secs(5),
            Err(Failure::Refused(r)) if r.error == "expired_token" => {
                bail!("the code expired before anyone signed in; run `smebridge oauth2 authorize` again")
            }
            Err(Failure::Refused(r)) if r.error == "access_denied" || r.error == "authorization_declined" => {
                bail!("the sign-in was declined ({r})")
            }
            Err(Failure::Refused(r)) => bail!("the provider refused: {r}"),
            // The provider is briefly unreachable: keep polling until the code expires.
            Err(Failure::Unavailable(detail)) => {
                tracing::warn!(%detail, "polling the token endpoint failed; trying again")
            }
        }
    }
}

/// PKCE (RFC 7636): a random verifier and its S256 challenge.
fn pkce() -> (String, String) {
    const UNRESERVED: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
    let mut rng = rand::rng();
    let verifier: String = (0..64).map(|_| UNRESERVED[rng.random_range(0..UNRESERVED.len())] as char).collect();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

async fn browser(settings: &Settings, secret: Option<&Secret>, timeout: Duration) -> Result<Granted> {
    let auth_url = settings.auth_url.as_ref().context(
        "this provider has no browser sign-in address (auth_url); use --flow device, or set auth_url for a custom provider",
    )?;
    let listener = TcpListener::bind("127.0.0.1:0").await.context("cannot listen on 127.0.0.1 for the redirect")?;
    let port = listener.local_addr()?.port();
    let redirect_uri = format!("http://127.0.0.1:{port}/");
    let (verifier, challenge) = pkce();
    let state = hex::encode(rand::rng().random::<[u8; 16]>());
    let mut url = auth_url.clone();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &settings.client_id)
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("scope", &settings.scopes.join(" "))
        .append_pair("state", &state)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    if settings.provider == Provider::Google {
        // A refresh token, every time (Google gives one only at the first consent otherwise).
        url.query_pairs_mut().append_pair("access_type", "offline").append_pair("prompt", "consent");
    }
    println!("Open this address in a browser and sign in as the mailbox's user:");
    println!();
    println!("  {url}");
    println!();
    println!("smebridge waits for the browser on {redirect_uri} .");
    println!(
        "If the browser runs on another computer, the page it lands on after sign-in (an address starting with \
         {redirect_uri}) will not load there: copy that whole address, paste it here and press Enter."
    );

    let pasted = pasted_lines();
    let query = tokio::time::timeout(BROWSER_WAIT, redirected(&listener, pasted))
        .await
        .map_err(|_| anyhow!("nobody signed in within {} minutes", BROWSER_WAIT.as_secs() / 60))??;
    let value = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    if let Some(error) = value("error") {
        bail!("the sign-in was refused: {error} {}", value("error_description").unwrap_or_default());
    }
    if value("state").as_deref() != Some(state.as_str()) {
        bail!("the answer does not belong to this sign-in (its state differs); run `smebridge oauth2 authorize` again");
    }
    let code = value("code").context("the answer carries no code")?;
    token::request(
        settings,
        secret,
        Grant::Code { code: &code, verifier: &verifier, redirect_uri: &redirect_uri },
        timeout,
    )
    .await
    .map_err(|f| match f {
        Failure::Refused(r) => anyhow!("the provider refused the sign-in code: {r}"),
        Failure::Unavailable(d) => anyhow!("cannot exchange the sign-in code: {d}"),
    })
}

/// Lines typed on standard input, read by a thread of their own (a read that never ends must
/// not keep the process from exiting).
fn pasted_lines() -> tokio::sync::mpsc::UnboundedReceiver<String> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The query of the redirect: from the browser's request to the listener, or pasted.
async fn redirected(
    listener: &TcpListener,
    mut pasted: tokio::sync::mpsc::UnboundedReceiver<String>,
) -> Result<Vec<(String, String)>> {
    let mut stdin_open = true;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (mut socket, _) = accepted.context("accepting the browser's connection")?;
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 * 1024 {
                    match tokio::time::timeout(Duration::from_secs(10), socket.read(&mut buf)).await {
                        Ok(Ok(n)) if n > 0 => request.extend_from_slice(&buf[..n]),
                        _ => break,
                    }
                }
                let line = String::from_utf8_lossy(&request).lines().next().unwrap_or_default().to_owned();
                let target = line.split(' ').nth(1).unwrap_or_default().to_owned();
                let query = Url::parse(&format!("http://127.0.0.1{target}"))
                    .map(|u| u.query_pairs().into_owned().collect::<Vec<_>>())
                    .unwrap_or_default();
                let answered = query.iter().any(|(k, _)| k == "code" || k == "error");
                let (status, page) = if answered {
                    ("200 OK", "<!doctype html><meta charset=utf-8><title>smebridge</title><p>smebridge got the answer. You can close this page and return to the terminal.</p>")
                } else {
                    ("404 Not Found", "<!doctype html><title>smebridge</title><p>Not here.</p>")
                };
                let reply = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                    page.len()
                );
                let _ = socket.write_all(reply.as_bytes()).await;
                let _ = socket.shutdown().await;
                if answered {
                    return Ok(query);
                }
            }
            line = pasted.recv(), if stdin_open => match line {
                None => stdin_open = false,
                Some(line) if line.trim().is_empty() => {}
                Some(line) => match Url::parse(line.trim()) {
                    Ok(url) if url.query_pairs().any(|(k, _)| k == "code" || k == "error") => {
                        return Ok(url.query_pairs().into_owned().collect());
                    }
                    _ => println!("That is not the address the browser landed on (it has ?code=… in it); try again."),
                },
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pkce_challenge_is_the_s256_of_the_verifier() {
        let (verifier, challenge) = pkce();
        assert_eq!(verifier.len(), 64);
        assert_eq!(
            challenge,
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
        );
        assert_ne!(pkce().0, verifier);
        // RFC 7636 appendix B.
        let rfc = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(b"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
        assert_eq!(rfc, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }
}
