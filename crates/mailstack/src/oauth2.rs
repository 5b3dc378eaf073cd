//! A fake OAuth 2.0 provider on loopback, for tests: the token endpoint (refresh, authorization
//! code with PKCE, device code), a device authorization endpoint, a browser sign-in page that
//! approves at once, and the token introspection endpoint (RFC 7662) that Dovecot's `oauth2`
//! passdb asks whether a bearer token is valid (see [`crate::Options::oauth2_introspection`]).
//!
//! The test decides everything: which refresh tokens exist, when access tokens stop being
//! accepted, whether refresh tokens rotate. Plain HTTP/1.1 with keep-alive (Dovecot keeps its
//! connection open), one thread per connection.
//!
//! ```no_run
//! # fn demo() -> anyhow::Result<()> {
//! let provider = mailstack::oauth2::FakeProvider::start("smebridge-test", Some("client-secret"))?;
//! let refresh = provider.issue_refresh_token("smebridge@kaist.ac.kr");
//! let options = mailstack::Options { oauth2_introspection: Some(provider.introspection_url()), ..Default::default() };
//! let stack = mailstack::MailStack::start_with(options)?;
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use base64::Engine as _;
use sha2::{Digest, Sha256};

struct Access {
    user: String,
    expires: Instant,
    revoked: bool,
}

struct Device {
    device_code: String,
    approved_for: Option<String>,
}

struct Code {
    user: String,
    challenge: String,
    redirect_uri: String,
}

struct State {
    base_url: String,
    client_id: String,
    client_secret: Option<String>,
    access_lifetime: Duration,
    rotate: bool,
    token_length: usize,
    /// refresh token -> (user, revoked)
    refresh: HashMap<String, (String, bool)>,
    access: HashMap<String, Access>,
    /// user code -> device grant
    devices: HashMap<String, Device>,
    codes: HashMap<String, Code>,
    signing_in_as: Option<String>,
    refreshes: usize,
    introspections: Vec<(String, bool)>,
    /// Device and sign-in codes already exchanged.
    spent: Vec<String>,
}

/// The provider; stops serving when dropped.
pub struct FakeProvider {
    port: u16,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<TcpStream>>>,
}

fn random_token(prefix: &str, length: usize) -> String {
    let mut token = prefix.to_owned();
    while token.len() < length {
        token.push_str(&format!("{:016x}", crate::process::random_u64()));
    }
    token.truncate(length.max(prefix.len() + 8));
    token
}

impl FakeProvider {
    /// Serve on a free port of 127.0.0.1. Clients must send `client_id` (and `client_secret`
    /// when one is given here).
    pub fn start(client_id: &str, client_secret: Option<&str>) -> Result<FakeProvider> {
        let listener = TcpListener::bind("127.0.0.1:0").context("binding the fake OAuth2 provider")?;
        let port = listener.local_addr()?.port();
        let state = Arc::new(Mutex::new(State {
            base_url: format!("http://127.0.0.1:{port}"),
            client_id: client_id.to_owned(),
            client_secret: client_secret.map(str::to_owned),
            access_lifetime: Duration::from_secs(3600),
            rotate: false,
            token_length: 40,
            refresh: HashMap::new(),
            access: HashMap::new(),
            devices: HashMap::new(),
            codes: HashMap::new(),
            signing_in_as: None,
            refreshes: 0,
            introspections: Vec::new(),
            spent: Vec::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let (s, st, c) = (state.clone(), stop.clone(), connections.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                if let Ok(clone) = stream.try_clone() {
                    lock(&c).push(clone);
                }
                let s = s.clone();
                thread::spawn(move || serve(stream, &s));
            }
        });
        Ok(FakeProvider { port, state, stop, connections })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The token endpoint.
    pub fn token_url(&self) -> String {
        format!("{}/token", self.base_url())
    }

    /// The introspection endpoint, for Dovecot.
    pub fn introspection_url(&self) -> String {
        format!("{}/introspect", self.base_url())
    }

    /// The device authorization endpoint.
    pub fn device_url(&self) -> String {
        format!("{}/devicecode", self.base_url())
    }

    /// The browser sign-in page.
    pub fn auth_url(&self) -> String {
        format!("{}/authorize", self.base_url())
    }

    /// A new refresh token for `user`.
    pub fn issue_refresh_token(&self, user: &str) -> String {
        let mut state = self.state();
        let token = random_token("rt-", 40);
        state.refresh.insert(token.clone(), (user.to_lowercase(), false));
        token
    }

    /// A new access token for `user`, valid for the current lifetime.
    pub fn issue_access_token(&self, user: &str) -> String {
        let mut state = self.state();
        issue_access(&mut state, user)
    }

    /// The user a refresh token belongs to, if it is valid.
    pub fn refresh_token_user(&self, token: &str) -> Option<String> {
        self.state().refresh.get(token).filter(|(_, revoked)| !revoked).map(|(user, _)| user.clone())
    }

    /// From now on the token endpoint refuses this refresh token (`invalid_grant`).
    pub fn revoke_refresh_token(&self, token: &str) {
        if let Some(entry) = self.state().refresh.get_mut(token) {
            entry.1 = true;
        }
    }

    /// Every access token issued so far stops being accepted (the server-side expiry a client
    /// cannot see coming).
    pub fn expire_access_tokens(&self) {
        for access in self.state().access.values_mut() {
            access.revoked = true;
        }
    }

    /// `expires_in` of new access tokens; they are refused once it has passed.
    pub fn set_access_lifetime(&self, lifetime: Duration) {
        self.state().access_lifetime = lifetime;
    }

    /// Each refresh hands out a new refresh token and revokes the one used.
    pub fn set_rotation(&self, rotate: bool) {
        self.state().rotate = rotate;
    }

    /// Length of new access tokens (real JWTs are 1–4 KB).
    pub fn set_token_length(&self, length: usize) {
        self.state().token_length = length;
    }

    /// How many refresh grants succeeded.
    pub fn refreshes(&self) -> usize {
        self.state().refreshes
    }

    /// Every token introspected so far, and whether it was found valid.
    pub fn introspections(&self) -> Vec<(String, bool)> {
        self.state().introspections.clone()
    }

    /// Every access token issued so far.
    pub fn access_tokens(&self) -> Vec<String> {
        self.state().access.keys().cloned().collect()
    }

    /// Everything secret this provider knows: every refresh and access token issued, the
    /// client secret, device and sign-in codes. None of it may appear in a client's log.
    pub fn secrets(&self) -> Vec<String> {
        let state = self.state();
        let mut all: Vec<String> = state.refresh.keys().chain(state.access.keys()).cloned().collect();
        all.extend(state.client_secret.clone());
        all.extend(state.devices.values().map(|d| d.device_code.clone()));
        all.extend(state.codes.keys().cloned());
        all.extend(state.spent.iter().cloned());
        all
    }

    /// The person with `user_code` signed in as `user`; false when no such code is pending.
    pub fn approve_device(&self, user_code: &str, user: &str) -> bool {
        match self.state().devices.get_mut(user_code) {
            Some(device) => {
                device.approved_for = Some(user.to_lowercase());
                true
            }
            None => false,
        }
    }

    /// Who signs in at the browser page (it approves at once; without this it shows an error).
    pub fn sign_in_as(&self, user: &str) {
        self.state().signing_in_as = Some(user.to_lowercase());
    }
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        for c in lock(&self.connections).drain(..) {
            let _ = c.shutdown(Shutdown::Both);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn issue_access(state: &mut State, user: &str) -> String {
    let token = random_token("at-", state.token_length);
    let expires = Instant::now() + state.access_lifetime;
    state.access.insert(token.clone(), Access { user: user.to_lowercase(), expires, revoked: false });
    token
}

struct Request {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    form: Vec<(String, String)>,
    close: bool,
}

/// One connection: requests until the client closes or asks to.
fn serve(stream: TcpStream, state: &Mutex<State>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(120)));
    let Ok(mut writer) = stream.try_clone() else { return };
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        let (status, headers, body) = answer(&request, &mut lock(state));
        let mut head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", body.len());
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        if writer.write_all(head.as_bytes()).and_then(|_| writer.write_all(body.as_bytes())).is_err() || request.close {
            break;
        }
    }
    // A copy of the socket is kept for Drop: close it for the client now.
    let _ = writer.shutdown(Shutdown::Both);
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut length = 0;
    let mut close = false;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().ok()?,
                "connection" => close = value.trim().eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), form_decode(q)),
        None => (target, Vec::new()),
    };
    Some(Request { method, path, query, form: form_decode(&String::from_utf8_lossy(&body)), close })
}

/// `a=1&b=x+y%21` -> [("a", "1"), ("b", "x y!")]
pub fn form_decode(text: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    match std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                        Some(b) => {
                            out.push(b);
                            i += 2;
                        }
                        None => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

type Answer = (&'static str, Vec<(&'static str, String)>, String);

fn json(status: &'static str, body: String) -> Answer {
    (status, vec![("Content-Type", "application/json".into())], body)
}

fn oauth_error(error: &str, description: &str) -> Answer {
    json(
        "400 Bad Request",
        format!("{{\"error\":{},\"error_description\":{}}}", json_string(error), json_string(description)),
    )
}

fn answer(request: &Request, state: &mut State) -> Answer {
    let form = |name: &str| request.form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let query = |name: &str| request.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    match (request.method.as_str(), request.path.as_str()) {
        ("POST", "/introspect") => {
            let token = form("token").unwrap_or_default().to_owned();
            let now = Instant::now();
            let user = state.access.get(&token).filter(|a| !a.revoked && now < a.expires).map(|a| a.user.clone());
            state.introspections.push((token, user.is_some()));
            match user {
                Some(user) => json("200 OK", format!("{{\"active\":true,\"email\":{}}}", json_string(&user))),
                // RFC 7662: an invalid token is `active: false`, with 200 (Dovecot takes a 401 as
                // a temporary failure).
                None => json("200 OK", "{\"active\":false}".into()),
            }
        }
        ("POST", "/token") => {
            if form("client_id") != Some(state.client_id.as_str()) {
                return json("401 Unauthorized", "{\"error\":\"invalid_client\"}".into());
            }
            if let Some(secret) = &state.client_secret {
                if form("client_secret") != Some(secret.as_str()) {
                    return json("401 Unauthorized", "{\"error\":\"invalid_client\"}".into());
                }
            }
            let user = match form("grant_type").unwrap_or_default() {
                "refresh_token" => {
                    let token = form("refresh_token").unwrap_or_default();
                    match state.refresh.get(token) {
                        Some((user, false)) => {
                            state.refreshes += 1;
                            user.clone()
                        }
                        _ => return oauth_error("invalid_grant", "The refresh token has been revoked or has expired."),
                    }
                }
                "authorization_code" => {
                    let Some(code) = state.codes.remove(form("code").unwrap_or_default()) else {
                        return oauth_error("invalid_grant", "unknown or used code");
                    };
                    state.spent.push(form("code").unwrap_or_default().to_owned());
                    let verifier = form("code_verifier").unwrap_or_default();
                    let computed =
                        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
                    if computed != code.challenge {
                        return oauth_error("invalid_grant", "PKCE verification failed");
                    }
                    if form("redirect_uri") != Some(code.redirect_uri.as_str()) {
                        return oauth_error("invalid_grant", "redirect_uri differs");
                    }
                    code.user
                }
                "urn:ietf:params:oauth:grant-type:device_code" => {
                    let device_code = form("device_code").unwrap_or_default();
                    let Some((user_code, device)) = state.devices.iter().find(|(_, d)| d.device_code == device_code)
                    else {
                        return oauth_error("expired_token", "unknown device code");
                    };
                    match &device.approved_for {
                        None => return oauth_error("authorization_pending", "waiting for the user"),
                        Some(user) => {
                            let user = user.clone();
                            let user_code = user_code.clone();
                            state.devices.remove(&user_code);
                            state.spent.push(device_code.to_owned());
                            user
                        }
                    }
                }
                other => return oauth_error("unsupported_grant_type", other),
            };
            let access = issue_access(state, &user);
            let new_refresh = match form("grant_type") {
                Some("refresh_token") if !state.rotate => None,
                Some("refresh_token") => {
                    if let Some(old) = state.refresh.get_mut(form("refresh_token").unwrap_or_default()) {
                        old.1 = true;
                    }
                    Some(random_token("rt-", 40))
                }
                _ => Some(random_token("rt-", 40)),
            };
            if let Some(token) = &new_refresh {
                state.refresh.insert(token.clone(), (user.clone(), false));
            }
            let refresh = new_refresh.map(|t| format!(",\"refresh_token\":{}", json_string(&t))).unwrap_or_default();
            json(
                "200 OK",
                format!(
                    "{{\"access_token\":{},\"token_type\":\"Bearer\",\"expires_in\":{}{refresh}}}",
                    json_string(&access),
                    state.access_lifetime.as_secs()
                ),
            )
        }
        ("POST", "/devicecode") => {
            if form("client_id") != Some(state.client_id.as_str()) {
                return json("401 Unauthorized", "{\"error\":\"invalid_client\"}".into());
            }
            let n = crate::process::random_u64();
            let user_code = format!("{:04X}-{:04X}", n & 0xffff, (n >> 16) & 0xffff);
            let device_code = random_token("dc-", 40);
            state.devices.insert(user_code.clone(), Device { device_code: device_code.clone(), approved_for: None });
            json(
                "200 OK",
                format!(
                    "{{\"device_code\":{},\"user_code\":{},\"verification_uri\":{},\"expires_in\":900,\"interval\":1}}",
                    json_string(&device_code),
                    json_string(&user_code),
                    json_string(&format!("{}/device", state.base_url))
                ),
            )
        }
        ("GET", "/authorize") => {
            let redirect_uri = query("redirect_uri").unwrap_or_default().to_owned();
            let state_param = query("state").unwrap_or_default().to_owned();
            let refuse = |why: &str| ("400 Bad Request", Vec::new(), format!("sign-in refused: {why}"));
            if query("client_id") != Some(state.client_id.as_str()) {
                return refuse("unknown client");
            }
            if query("response_type") != Some("code") || query("code_challenge_method") != Some("S256") {
                return refuse("response_type=code with an S256 code_challenge is required");
            }
            if !redirect_uri.starts_with("http://127.0.0.1:") {
                return refuse("the redirect must go to a loopback address");
            }
            let Some(user) = state.signing_in_as.clone() else { return refuse("nobody signs in") };
            let code = random_token("code-", 24);
            let challenge = query("code_challenge").unwrap_or_default().to_owned();
            state.codes.insert(code.clone(), Code { user, challenge, redirect_uri: redirect_uri.clone() });
            let location =
                format!("{redirect_uri}?code={}&state={}", percent_encode(&code), percent_encode(&state_param));
            ("302 Found", vec![("Location", location)], String::new())
        }
        _ => ("404 Not Found", Vec::new(), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_decoded() {
        assert_eq!(
            form_decode("token=a%2Bb&x=y+z&e="),
            vec![("token".into(), "a+b".into()), ("x".into(), "y z".into()), ("e".into(), String::new())]
        );
        assert_eq!(form_decode("a=%zz%4"), vec![("a".into(), "%zz%4".into())]);
    }
}
