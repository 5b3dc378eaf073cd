//! A private certificate authority and one server certificate (for `localhost` and 127.0.0.1),
//! made with the `openssl` command, so that clients can be tested over real TLS with a
//! `ca_file`, and a client without it sees a genuine "unknown issuer" failure.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

/// Create `ca.pem`, `server.pem` and `server.key` in `dir` unless they exist.
pub(crate) fn ensure_certificates(dir: &Path) -> Result<()> {
    if dir.join("server.pem").exists() && dir.join("server.key").exists() && dir.join("ca.pem").exists() {
        return Ok(());
    }
    let ext = dir.join("server.ext");
    std::fs::write(&ext, "subjectAltName = DNS:localhost, IP:127.0.0.1\nbasicConstraints = CA:FALSE\nkeyUsage = digitalSignature, keyEncipherment\nextendedKeyUsage = serverAuth\n")
        .context("writing server.ext")?;
    let d = |name: &str| dir.join(name).to_string_lossy().into_owned();
    // EC keys: made in milliseconds, unlike RSA.
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "3650",
        "-subj",
        "/CN=mailstack test CA",
        "-keyout",
        &d("ca.key"),
        "-out",
        &d("ca.pem"),
    ])?;
    openssl(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        &d("server.key"),
        "-out",
        &d("server.csr"),
    ])?;
    openssl(&[
        "x509",
        "-req",
        "-in",
        &d("server.csr"),
        "-CA",
        &d("ca.pem"),
        "-CAkey",
        &d("ca.key"),
        "-CAcreateserial",
        "-days",
        "3650",
        "-extfile",
        &d("server.ext"),
        "-out",
        &d("server.pem"),
    ])?;
    Ok(())
}

fn openssl(args: &[&str]) -> Result<()> {
    let out = Command::new("openssl").args(args).output().context("running openssl (Debian package openssl)")?;
    if !out.status.success() {
        bail!("openssl {} failed: {}", args.first().unwrap_or(&""), String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}
