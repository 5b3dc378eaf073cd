//! The smallest HTTP/1.1 client that can talk to a token endpoint: one `POST` of a form, one
//! answer read to its end (`Content-Length`, chunked, or until the server closes), over rustls
//! with the same roots as the mail connections.
//!
//! Why not a crate: the three requests smebridge makes (refresh, device code, code exchange)
//! are form posts with a small JSON answer; ureq or reqwest would bring 10–40 crates (an HTTP
//! stack, a second TLS setup) for that. What this does not do, on purpose: redirects (token
//! endpoints do not redirect), proxies (behind one, use `token_command` with a tool that knows
//! it), compression, keep-alive.

use std::time::Duration;

use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use url::Url;

/// Answers larger than this are not token responses.
const MAX_RESPONSE: usize = 256 * 1024;

#[derive(Debug, Error)]
pub enum HttpError {
    #[error("cannot reach {host}: {source}")]
    Connect { host: String, source: std::io::Error },
    #[error("TLS with {host} failed: {detail}")]
    Tls { host: String, detail: String },
    #[error("no answer from {host} within {seconds} s")]
    Timeout { host: String, seconds: u64 },
    #[error("{host} answered with something that is not HTTP: {detail}")]
    Malformed { host: String, detail: String },
}

/// A whole answer.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// `POST url` with `form` as `application/x-www-form-urlencoded`; the whole exchange within
/// `timeout`.
pub async fn post_form(url: &Url, form: &[(&str, &str)], timeout: Duration) -> Result<Response, HttpError> {
    let host = url.host_str().unwrap_or_default().to_owned();
    let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
    match tokio::time::timeout(timeout, exchange(url, &host, body.as_bytes())).await {
        Ok(result) => result,
        Err(_) => Err(HttpError::Timeout { host, seconds: timeout.as_secs() }),
    }
}

async fn exchange(url: &Url, host: &str, body: &[u8]) -> Result<Response, HttpError> {
    let port = url.port_or_known_default().unwrap_or(443);
    let tcp = TcpStream::connect((host.trim_start_matches('[').trim_end_matches(']'), port))
        .await
        .map_err(|source| HttpError::Connect { host: host.to_owned(), source })?;
    tcp.set_nodelay(true).ok();
    let mut stream: Box<dyn Io> = if url.scheme() == "https" {
        let tls = crate::tls::client_config(None)
            .map_err(|e| HttpError::Tls { host: host.to_owned(), detail: format!("{e:#}") })?;
        let name = rustls::pki_types::ServerName::try_from(host.to_owned())
            .map_err(|e| HttpError::Tls { host: host.to_owned(), detail: e.to_string() })?;
        let stream = tokio_rustls::TlsConnector::from(tls)
            .connect(name, tcp)
            .await
            .map_err(|e| HttpError::Tls { host: host.to_owned(), detail: crate::tls::explain_io(&e, host) })?;
        Box::new(stream)
    } else {
        Box::new(tcp)
    };
    let mut target = url.path().to_owned();
    if let Some(query) = url.query() {
        target.push('?');
        target.push_str(query);
    }
    let authority = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    let head = format!(
        "POST {target} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: smebridge/{}\r\nAccept: application/json\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION"),
        body.len()
    );
    let io_err = |e: std::io::Error| HttpError::Connect { host: host.to_owned(), source: e };
    stream.write_all(head.as_bytes()).await.map_err(io_err)?;
    stream.write_all(body).await.map_err(io_err)?;
    stream.flush().await.map_err(io_err)?;

    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => {
                raw.extend_from_slice(&buf[..n]);
                if raw.len() > MAX_RESPONSE {
                    return Err(HttpError::Malformed { host: host.to_owned(), detail: "answer too large".into() });
                }
                if let Ok(Some(response)) = parse(&raw) {
                    return Ok(response);
                }
            }
            // A TLS peer that closes without close_notify: judge by what arrived.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(io_err(e)),
        }
    }
    match parse(&raw) {
        Ok(Some(response)) => Ok(response),
        Ok(None) => finish_at_close(&raw).ok_or_else(|| HttpError::Malformed {
            host: host.to_owned(),
            detail: "the connection closed before the answer was complete".into(),
        }),
        Err(detail) => Err(HttpError::Malformed { host: host.to_owned(), detail }),
    }
}

/// The head: status, headers, and where the body starts.
struct Head {
    status: u16,
    length: Option<usize>,
    chunked: bool,
    body_at: usize,
}

fn head(raw: &[u8]) -> Result<Option<Head>, String> {
    let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else { return Ok(None) };
    let text = String::from_utf8_lossy(&raw[..end]);
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    if !parts.next().unwrap_or_default().starts_with("HTTP/1.") {
        return Err(format!("status line {:?}", status_line.chars().take(40).collect::<String>()));
    }
    let status = parts.next().and_then(|s| s.parse().ok()).ok_or_else(|| "no status code".to_owned())?;
    let mut head = Head { status, length: None, chunked: false, body_at: end + 4 };
    for line in lines {
        let Some((name, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => head.length = value.parse().ok(),
            "transfer-encoding" => head.chunked = value.to_ascii_lowercase().contains("chunked"),
            _ => {}
        }
    }
    Ok(Some(head))
}

/// A complete response in `raw`, `None` while more is to come.
fn parse(raw: &[u8]) -> Result<Option<Response>, String> {
    let Some(h) = head(raw)? else { return Ok(None) };
    let rest = &raw[h.body_at..];
    let body = if h.chunked {
        match dechunk(rest)? {
            Some(body) => body,
            None => return Ok(None),
        }
    } else if let Some(length) = h.length {
        if rest.len() < length {
            return Ok(None);
        }
        rest[..length].to_vec()
    } else {
        return Ok(None);
    };
    Ok(Some(Response { status: h.status, body }))
}

/// A response without length: its body ends where the connection closed.
fn finish_at_close(raw: &[u8]) -> Option<Response> {
    let h = head(raw).ok()??;
    (!h.chunked && h.length.is_none()).then(|| Response { status: h.status, body: raw[h.body_at..].to_vec() })
}

/// A chunked body, `None` until its last chunk arrived.
fn dechunk(mut rest: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let mut body = Vec::new();
    loop {
        let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else { return Ok(None) };
        let size_text = String::from_utf8_lossy(&rest[..eol]);
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| format!("chunk size {size_text:?}"))?;
        rest = &rest[eol + 2..];
        if size == 0 {
            return Ok(Some(body));
        }
        if rest.len() < size + 2 {
            return Ok(None);
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_chunked_and_close_delimited_answers_are_read_whole() {
        let r = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nDate: Tue, 01 Dec 2026 14:31:10 GMT\r\n\r\n{}")
            .unwrap()
            .unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"{}"[..]));
        assert!(parse(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n{}").unwrap().is_none());

        let chunked =
            b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3;x=y\r\n:1}\r\n0\r\n\r\n";
        let r = parse(chunked).unwrap().unwrap();
        assert_eq!((r.status, r.body.as_slice()), (400, &b"{\"a\":1}"[..]));
        assert!(parse(&chunked[..chunked.len() - 5]).unwrap().is_none());

        let open = b"HTTP/1.0 200 OK\r\n\r\n{\"x\":2}";
        assert!(parse(open).unwrap().is_none());
        assert_eq!(finish_at_close(open).unwrap().body, b"{\"x\":2}");
        assert!(parse(b"SSH-2.0-OpenSSH\r\n\r\n").is_err());
    }
}
