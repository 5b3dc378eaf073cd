//! OAuth 2.0 end to end: a real Dovecot whose only login is its `oauth2` passdb (tokens checked
//! at an introspection endpoint this test serves on loopback, `mailstack::oauth2::FakeProvider`)
//! and a real Postfix whose submission port takes mail only after SASL through that Dovecot.
//! smebridge refreshes tokens at the fake provider's token endpoint, or gets them from a
//! command, and logs in with `AUTHENTICATE XOAUTH2` / `AUTH XOAUTH2` on the wire.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::helpers::{application, Desk, CENTER};
use base64::Engine as _;
use mailstack::oauth2::FakeProvider;
use mailstack::{MailStack, Options};

const CLIENT_ID: &str = "smebridge-test-client";
const CLIENT_SECRET: &str = "client-secret-7f3a9c";
const FAR: &str = "2099-12-31T23:59:59+09:00";

/// A desk on an OAuth2-only stack, logging in with the provider's refresh token.
struct OAuth {
    provider: FakeProvider,
    desk: Desk,
    /// The refresh token file.
    refresh_file: PathBuf,
}

/// Set (`Some`) or remove (`None`) `key` in `[section]` of the desk's configuration.
fn set(desk: &Desk, section: &str, key: &str, value: Option<&str>) {
    let text = std::fs::read_to_string(&desk.config).unwrap();
    let mut out = String::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.starts_with('[') {
            current = line.trim_matches(|c| c == '[' || c == ']').to_owned();
        }
        let is_key = line.split('=').next().is_some_and(|k| k.trim() == key);
        if current == section && is_key {
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if line == format!("[{section}]") {
            if let Some(value) = value {
                out.push_str(&format!("{key} = {value}\n"));
            }
        }
    }
    std::fs::write(&desk.config, out).unwrap();
}

fn private_file(path: &Path, contents: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, format!("{contents}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn start(options: Options) -> (FakeProvider, Desk) {
    let provider = FakeProvider::start(CLIENT_ID, Some(CLIENT_SECRET)).expect("the fake provider must start");
    let options = Options { oauth2_introspection: Some(provider.introspection_url()), ..options };
    let stack = MailStack::start_with(options).expect("the OAuth2-only mail stack must start");
    (provider, Desk::start_on(stack, FAR, &[]))
}

/// IMAPS and SMTP submission with STARTTLS (the stack's CA), both logging in with OAuth2 from
/// one refresh token.
fn oauth_desk() -> OAuth {
    oauth_desk_with(Options::default())
}

fn oauth_desk_with(options: Options) -> OAuth {
    let (provider, desk) = start(options);
    let refresh_file = desk.dir.path().join("oauth/refresh-token");
    private_file(&refresh_file, &provider.issue_refresh_token(CENTER));
    private_file(&desk.dir.path().join("client-secret"), CLIENT_SECRET);
    let ca = format!("\"{}\"", desk.stack.ca_file().display());
    set(&desk, "imap", "password_file", None);
    set(&desk, "imap", "security", Some("\"tls\""));
    set(&desk, "imap", "port", Some(&desk.stack.imaps_port().to_string()));
    set(&desk, "imap", "ca_file", Some(&ca));
    set(
        &desk,
        "imap",
        "oauth2",
        Some(&format!(
            "{{ provider = \"custom\", client_id = \"{CLIENT_ID}\", client_secret_file = \"client-secret\", \
             refresh_token_file = \"oauth/refresh-token\", token_url = \"{}\", device_url = \"{}\", auth_url = \"{}\", \
             scopes = [\"imap\", \"smtp\", \"offline_access\"] }}",
            provider.token_url(),
            provider.device_url(),
            provider.auth_url()
        )),
    );
    set(&desk, "smtp", "security", Some("\"starttls\""));
    set(&desk, "smtp", "port", Some(&desk.stack.submission_port().to_string()));
    set(&desk, "smtp", "ca_file", Some(&ca));
    set(&desk, "smtp", "auth", Some("\"same-as-imap\""));
    OAuth { provider, desk, refresh_file }
}

fn check(desk: &Desk) -> (bool, String) {
    let out = desk.smebridge(&["check"]);
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

/// No token, refresh token or client secret in any log of the desk — neither plain nor as it
/// travels in SASL (base64).
fn assert_no_secrets(desk: &Desk, provider: &FakeProvider, extra: &[&str]) {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let mut needles: Vec<String> = provider.secrets();
    needles.extend(extra.iter().map(|s| (*s).to_owned()));
    for token in provider.access_tokens() {
        needles.push(b64(&format!("user={CENTER}\x01auth=Bearer {token}\x01\x01")));
    }
    let mut logs = Vec::new();
    for entry in std::fs::read_dir(desk.log_dir()).unwrap().flatten() {
        logs.push((entry.file_name().to_string_lossy().into_owned(), std::fs::read_to_string(entry.path()).unwrap()));
    }
    assert!(!logs.is_empty());
    let found = crate::helpers::leaks(&logs, &needles);
    assert!(found.is_empty(), "secrets in smebridge's logs:\n{}", found.join("\n"));
}

/// The `n`th application (from 1) reaches the center's mailbox, from a different person each time.
async fn apply(desk: &Desk, n: usize, who: &str) {
    let name = ["김토큰", "이갱신", "박회전"][n - 1];
    let raw = application(
        name,
        who,
        "워크숍 신청",
        &format!("성명: {name}\n소속: 토큰상사 {n}\n연락처: 010-5555-010{n}\n"),
        &format!("oauth-{n}@token.example"),
    );
    desk.submit(who, &[CENTER], &raw).await;
    desk.stack.wait_for_delivery(CENTER, n, Duration::from_secs(30)).expect("the application must arrive");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_is_answered_over_oauth2_only_imap_and_sasl_only_smtp() {
    let OAuth { provider, desk, .. } = oauth_desk();
    // The stack takes no password at all.
    let password = mailstack::client::fetch_all(desk.stack.host(), desk.stack.imap_port(), CENTER, "INBOX").await;
    assert!(password.is_err(), "an OAuth2-only Dovecot must refuse a password login");

    apply(&desk, 1, "kim.token@token.example").await;
    // The server's clock one hour ahead of ours, as far as this message shows: Dovecot's
    // INTERNALDATE of a Maildir message is the file's mtime.
    let new = desk.stack.maildir(CENTER).join("new");
    for file in std::fs::read_dir(&new).unwrap().flatten() {
        let future = std::time::SystemTime::now() + Duration::from_secs(3600);
        std::fs::File::options().write(true).open(file.path()).unwrap().set_modified(future).unwrap();
    }

    let (ok, text) = check(&desk);
    assert!(ok, "{text}");
    assert!(text.contains("ok      IMAP login and mailbox: OAuth2 (custom, refresh token in"), "{text}");
    assert!(text.contains("ok      SMTP connection: OAuth2 (custom"), "{text}");
    assert!(
        text.contains("ok      IMAP server: IDLE MOVE UIDPLUS CONDSTORE")
            && text.contains("logged in with XOAUTH2 (offered: XOAUTH2 OAUTHBEARER)"),
        "{text}"
    );
    let warning = text.lines().find(|l| l.starts_with("WARNING server clock:")).unwrap_or_else(|| panic!("{text}"));
    let minutes: u64 = warning.split(" min in the future").next().unwrap().rsplit(' ').next().unwrap().parse().unwrap();
    assert!((55..=61).contains(&minutes), "about an hour ahead: {warning}");
    assert!(text.contains("ok      disk space: ") && text.contains("GiB free of"), "{text}");
    assert_eq!(provider.refreshes(), 1, "IMAP and SMTP share one token: one refresh per process");

    let out = desk.once();
    assert!(out.contains("recorded 1 new message") && out.contains("sent 1"), "{out}");
    desk.stack.wait_for_delivery("kim.token@token.example", 1, Duration::from_secs(30)).expect("the reply must arrive");
    assert_eq!(provider.refreshes(), 2);

    // On the wire: SASL XOAUTH2 at both servers, the reply submitted after it.
    let dovecot = desk.stack.dovecot_log();
    assert!(dovecot.contains("method=XOAUTH2") && dovecot.contains(&format!("user=<{CENTER}>")), "{dovecot}");
    let postfix = desk.stack.postfix_log();
    assert!(postfix.contains(&format!("sasl_method=XOAUTH2, sasl_username={CENTER}")), "{postfix}");
    // The database now exists: check runs PRAGMA integrity_check on it (read-only).
    let (ok, text) = check(&desk);
    assert!(ok && text.contains("ok      database integrity: PRAGMA integrity_check: ok"), "{text}");

    // Not even at trace level does a token reach the log.
    let (mut command, log) = desk.command(&["check"]);
    let rust_log = "trace,async_imap=trace,imap_proto=trace,lettre=trace,rustls=trace,tokio_rustls=trace";
    let out = command.env("RUST_LOG", rust_log).stdout(Stdio::piped()).stderr(Stdio::piped()).output().unwrap();
    std::fs::write(&log, &out.stderr).unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stderr).contains("OAuth2 access token refreshed"));
    assert_no_secrets(&desk, &provider, &[]);
}

/// A token the server stops accepting before the client expected (revoked, or expired by the
/// server's clock) is refused with an error challenge; smebridge answers it, refreshes once and
/// logs in with the new token, for IMAP and for SMTP. Run in-process so that the token cache
/// lives across logins as it does in the daemon.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_the_server_stops_accepting_is_refreshed_once_and_the_login_retried() {
    let OAuth { provider, desk, .. } = oauth_desk();
    let config = smebridge::config::Config::load(&desk.config).unwrap();
    let (conn, _) = smebridge::imap::Connection::open(&config.imap).await.expect("first login");
    conn.logout().await;
    assert_eq!(provider.refreshes(), 1);
    let (conn, _) = smebridge::imap::Connection::open(&config.imap).await.expect("cached token");
    conn.logout().await;
    assert_eq!(provider.refreshes(), 1, "a fresh token is reused");

    provider.expire_access_tokens();
    let (conn, _) = smebridge::imap::Connection::open(&config.imap).await.expect("login after a refresh");
    conn.logout().await;
    assert_eq!(provider.refreshes(), 2);
    let seen = provider.introspections();
    let refused: Vec<_> = seen.iter().filter(|(_, ok)| !ok).collect();
    assert_eq!(refused.len(), 1, "the old token was tried once and refused: {seen:?}");
    assert!(seen.last().unwrap().1, "then the new one was accepted");

    provider.expire_access_tokens();
    let smtp = smebridge::smtp::Smtp::new(&config.smtp).unwrap();
    smtp.test_connection().await.expect("SMTP login after a refresh");
    assert_eq!(provider.refreshes(), 3);
    assert_eq!(provider.introspections().iter().filter(|(_, ok)| !ok).count(), 2);

    // Long tokens (a real JWT is 1–4 KB): over Postfix's 2048-byte command line, the SMTP
    // response goes on a line of its own.
    provider.set_token_length(3000);
    provider.expire_access_tokens();
    smtp.test_connection().await.expect("SMTP login with a 3 KB token");
    let (conn, _) = smebridge::imap::Connection::open(&config.imap).await.expect("IMAP login with a 3 KB token");
    conn.logout().await;
    assert_eq!(provider.refreshes(), 4);
    assert!(provider.introspections().last().is_some_and(|(t, ok)| *ok && t.len() == 3000));

    // Short-lived tokens are refreshed before they expire: after four fifths of a 4 s life the
    // next login brings a new token, which the server accepts; nothing is refused on the way.
    provider.set_token_length(40);
    provider.set_access_lifetime(Duration::from_secs(4));
    provider.expire_access_tokens();
    let (conn, _) = smebridge::imap::Connection::open(&config.imap).await.expect("login with a short-lived token");
    conn.logout().await;
    let (refreshes, seen) = (provider.refreshes(), provider.introspections().len());
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let (conn, _) = smebridge::imap::Connection::open(&config.imap).await.expect("login after the proactive refresh");
    conn.logout().await;
    assert_eq!(provider.refreshes(), refreshes + 1);
    let after = &provider.introspections()[seen..];
    assert!(!after.is_empty() && after.iter().all(|(_, ok)| *ok), "no token was refused: {after:?}");
}

/// A server that offers only OAUTHBEARER (RFC 7628) gets it, over IMAP and SMTP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauthbearer_is_used_where_xoauth2_is_not_offered() {
    let OAuth { provider, desk, .. } = oauth_desk_with(Options { oauthbearer_only: true, ..Options::default() });
    let (ok, text) = check(&desk);
    assert!(ok, "{text}");
    assert!(text.contains("logged in with OAUTHBEARER (offered: OAUTHBEARER)"), "{text}");
    assert!(desk.stack.dovecot_log().contains("method=OAUTHBEARER"));
    apply(&desk, 1, "bearer@token.example").await;
    let out = desk.once();
    assert!(out.contains("sent 1"), "{out}");
    assert!(desk.stack.postfix_log().contains("sasl_method=OAUTHBEARER"));
    // A refused token: the error challenge is answered (%x01) and the retry works.
    provider.expire_access_tokens();
    let config = smebridge::config::Config::load(&desk.config).unwrap();
    let (conn, _) = smebridge::imap::Connection::open(&config.imap).await.expect("OAUTHBEARER login after a refresh");
    conn.logout().await;
    smebridge::smtp::Smtp::new(&config.smtp).unwrap().test_connection().await.expect("SMTP OAUTHBEARER");
    assert_no_secrets(&desk, &provider, &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_refresh_token_is_written_back_with_mode_0600_and_used_next_time() {
    let OAuth { provider, desk, refresh_file } = oauth_desk();
    provider.set_rotation(true);
    let first = std::fs::read_to_string(&refresh_file).unwrap().trim().to_owned();
    apply(&desk, 1, "rotate@token.example").await;
    let out = desk.once();
    assert!(out.contains("sent 1"), "{out}");

    let second = std::fs::read_to_string(&refresh_file).unwrap().trim().to_owned();
    assert_ne!(second, first, "the rotated token is saved");
    assert_eq!(provider.refresh_token_user(&second).as_deref(), Some(CENTER));
    assert_eq!(provider.refresh_token_user(&first), None, "the provider revoked the old one");
    assert_eq!(std::fs::metadata(&refresh_file).unwrap().permissions().mode() & 0o777, 0o600);
    let names: Vec<_> =
        std::fs::read_dir(refresh_file.parent().unwrap()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(names, ["refresh-token"], "no temporary file is left behind");

    // The next process refreshes with the saved token (the old one would be refused).
    apply(&desk, 2, "rotate2@token.example").await;
    let out = desk.once();
    assert!(out.contains("sent 1"), "{out}");
    assert_ne!(std::fs::read_to_string(&refresh_file).unwrap().trim(), second);
    assert_no_secrets(&desk, &provider, &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_refresh_token_makes_check_fail_and_say_what_to_do() {
    let OAuth { provider, desk, refresh_file } = oauth_desk();
    let token = std::fs::read_to_string(&refresh_file).unwrap().trim().to_owned();
    provider.revoke_refresh_token(&token);
    let (ok, text) = check(&desk);
    assert!(!ok, "{text}");
    for line in ["FAILED  IMAP login and mailbox:", "FAILED  SMTP connection:"] {
        let line = text.lines().find(|l| l.starts_with(line)).unwrap_or_else(|| panic!("{line} in {text}"));
        assert!(
            line.contains("refused the refresh token")
                && line.contains("revoked or has expired")
                && line.contains("run `smebridge oauth2 authorize`")
                && line.contains("oauth/refresh-token"),
            "{line}"
        );
    }
    // `once` treats it as a refused login: nothing is read, nothing sent.
    let out = desk.smebridge(&["once"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("refused the refresh token"));
    assert_no_secrets(&desk, &provider, &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_command_is_used_and_one_that_hangs_or_prints_garbage_is_explained() {
    let (provider, desk) = start(Options::default());
    let dir = desk.dir.path();
    let script = dir.join("token.sh");
    let token_file = dir.join("token.txt");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho 'stderr-noise-4711 account=tool-secret' >&2\ncat {}\n", token_file.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
    private_file(&token_file, &provider.issue_access_token(CENTER));
    set(&desk, "imap", "password_file", None);
    set(&desk, "imap", "token_command", Some(&format!("[\"{}\"]", script.display())));
    set(&desk, "smtp", "port", Some(&desk.stack.submission_port().to_string()));
    set(&desk, "smtp", "security", Some("\"starttls\""));
    set(&desk, "smtp", "ca_file", Some(&format!("\"{}\"", desk.stack.ca_file().display())));
    set(&desk, "smtp", "auth", Some("\"same-as-imap\""));

    let (ok, text) = check(&desk);
    assert!(ok, "{text}");
    assert!(text.contains("OAuth2 (token from the command"), "{text}");
    apply(&desk, 1, "command@token.example").await;
    let out = desk.once();
    assert!(out.contains("sent 1"), "{out}");
    assert!(desk.stack.postfix_log().contains("sasl_method=XOAUTH2"));

    // Garbage: an error message on standard output is not sent as a token, nor quoted.
    std::fs::write(&token_file, "Error: no account named tool-secret-name\n").unwrap();
    let (ok, text) = check(&desk);
    assert!(!ok);
    assert!(text.contains("is not an access token") && !text.contains("tool-secret-name"), "{text}");

    // A command that hangs is stopped after the timeout.
    std::fs::write(&script, "#!/bin/sh\nsleep 30\n").unwrap();
    set(&desk, "imap", "timeout", Some("\"2s\""));
    let (ok, text) = check(&desk);
    assert!(!ok);
    assert!(text.contains("did not finish within 2 s and was stopped"), "{text}");
    assert_no_secrets(&desk, &provider, &["stderr-noise-4711", "tool-secret"]);
}

/// Read the child's standard output until a line satisfies `want`; every line read is returned.
fn read_until(out: &mut impl BufRead, want: impl Fn(&str) -> bool) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "smebridge ended before printing it:\n{}", lines.join(""));
        let found = want(&line);
        lines.push(line);
        if found {
            return lines;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth2_authorize_with_a_device_code_saves_a_refresh_token_that_logs_in() {
    let OAuth { provider, desk, refresh_file } = oauth_desk();
    std::fs::remove_file(&refresh_file).unwrap();
    let (mut command, _log) = desk.command(&["oauth2", "authorize", "--flow", "device"]);
    let mut child = command.stdin(Stdio::null()).stdout(Stdio::piped()).spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let lines = read_until(&mut out, |l| l.trim_start().starts_with("enter"));
    let code = lines.last().unwrap().split_whitespace().last().unwrap().to_owned();
    assert!(lines.iter().any(|l| l.contains("open") && l.contains(&provider.base_url())), "{lines:?}");
    // The person signs in at the provider's page with the code.
    assert!(provider.approve_device(&code, CENTER));
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert!(child.wait().unwrap().success(), "{rest}");
    assert!(rest.contains("Signed in. The refresh token is saved in") && rest.contains("(mode 0600)"), "{rest}");
    let saved = std::fs::read_to_string(&refresh_file).unwrap().trim().to_owned();
    assert_eq!(provider.refresh_token_user(&saved).as_deref(), Some(CENTER));
    assert_eq!(std::fs::metadata(&refresh_file).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(!lines.concat().contains(&saved) && !rest.contains(&saved), "the token is never printed");

    let (ok, text) = check(&desk);
    assert!(ok, "{text}");
    assert_no_secrets(&desk, &provider, &[]);
}

/// One HTTP GET, as a browser makes it; returns the status line and the `Location` header.
fn browse(url: &str) -> (String, Option<String>) {
    let rest = url.strip_prefix("http://").unwrap();
    let (authority, path) = rest.split_at(rest.find('/').unwrap());
    let mut socket = std::net::TcpStream::connect(authority).unwrap();
    write!(socket, "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    socket.read_to_string(&mut answer).unwrap();
    let status = answer.lines().next().unwrap_or_default().to_owned();
    let location = answer.lines().find_map(|l| l.strip_prefix("Location: ")).map(str::to_owned);
    (status, location)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth2_authorize_in_the_browser_with_pkce_saves_a_refresh_token_that_logs_in() {
    let OAuth { provider, desk, refresh_file } = oauth_desk();
    std::fs::remove_file(&refresh_file).unwrap();
    let (mut command, _log) = desk.command(&["oauth2", "authorize", "--flow", "browser"]);
    let mut child = command.stdin(Stdio::null()).stdout(Stdio::piped()).spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let lines = read_until(&mut out, |l| l.trim_start().starts_with(&provider.auth_url()));
    let url = lines.last().unwrap().trim().to_owned();
    assert!(
        url.contains("code_challenge_method=S256") && url.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A"),
        "{url}"
    );

    // The browser: the provider's page signs the person in and redirects to smebridge.
    provider.sign_in_as(CENTER);
    let (status, location) = browse(&url);
    assert!(status.contains("302"), "{status}");
    let location = location.unwrap();
    assert!(location.starts_with("http://127.0.0.1:") && location.contains("code="), "{location}");
    let (status, _) = browse(&location);
    assert!(status.contains("200"), "{status}");

    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert!(child.wait().unwrap().success(), "{rest}");
    let saved = std::fs::read_to_string(&refresh_file).unwrap().trim().to_owned();
    assert_eq!(provider.refresh_token_user(&saved).as_deref(), Some(CENTER));
    assert_eq!(std::fs::metadata(&refresh_file).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(!rest.contains(&saved));

    let (ok, text) = check(&desk);
    assert!(ok, "{text}");
    assert_no_secrets(&desk, &provider, &[]);
}

/// Secrets from systemd's credentials directory (`LoadCredential=`): `credential:NAME` is read
/// from `$CREDENTIALS_DIRECTORY/NAME`; without that variable, check says what is missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_files_may_come_from_the_systemd_credentials_directory() {
    let OAuth { provider, desk, .. } = oauth_desk();
    let credentials = desk.dir.path().join("credentials");
    private_file(&credentials.join("client-secret"), CLIENT_SECRET);
    std::fs::remove_file(desk.dir.path().join("client-secret")).unwrap();
    let text = std::fs::read_to_string(&desk.config).unwrap();
    let text =
        text.replace("client_secret_file = \"client-secret\"", "client_secret_file = \"credential:client-secret\"");
    std::fs::write(&desk.config, text).unwrap();

    let (mut command, log) = desk.command(&["check"]);
    let out = command
        .env("CREDENTIALS_DIRECTORY", &credentials)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    std::fs::write(&log, &out.stderr).unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert_eq!(provider.refreshes(), 1);

    let (mut command, log) = desk.command(&["check"]);
    let out =
        command.env_remove("CREDENTIALS_DIRECTORY").stdout(Stdio::piped()).stderr(Stdio::piped()).output().unwrap();
    std::fs::write(&log, &out.stderr).unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    let line =
        text.lines().find(|l| l.starts_with("FAILED  IMAP login and mailbox:")).unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains("credential:client-secret is read from $CREDENTIALS_DIRECTORY")
            && line.contains("LoadCredential=client-secret"),
        "{line}"
    );
    assert_no_secrets(&desk, &provider, &[]);
}
