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

/// Also make two certificates no client should accept, from the same CA: `wronghost.pem` (valid,
/// but only for `wrong.example`) and `expired.pem` (for localhost and 127.0.0.1, valid only on
/// 1 January 2020). `openssl x509` cannot back-date (before OpenSSL 3.4), `openssl ca` can.
pub(crate) fn ensure_bad_certificates(dir: &Path) -> Result<()> {
    ensure_certificates(dir)?;
    let d = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let key = |name: &str, cn: &str| -> Result<()> {
        openssl(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            cn,
            "-keyout",
            &d(&format!("{name}.key")),
            "-out",
            &d(&format!("{name}.csr")),
        ])
    };
    if !(dir.join("wronghost.pem").exists() && dir.join("wronghost.key").exists()) {
        key("wronghost", "/CN=wrong.example")?;
        std::fs::write(dir.join("wronghost.ext"), "subjectAltName = DNS:wrong.example\nbasicConstraints = CA:FALSE\nkeyUsage = digitalSignature, keyEncipherment\nextendedKeyUsage = serverAuth\n")
            .context("writing wronghost.ext")?;
        openssl(&[
            "x509",
            "-req",
            "-in",
            &d("wronghost.csr"),
            "-CA",
            &d("ca.pem"),
            "-CAkey",
            &d("ca.key"),
            "-CAcreateserial",
            "-days",
            "3650",
            "-extfile",
            &d("wronghost.ext"),
            "-out",
            &d("wronghost.pem"),
        ])?;
    }
    if !(dir.join("expired.pem").exists() && dir.join("expired.key").exists()) {
        key("expired", "/CN=localhost")?;
        let db = dir.join("ca-db");
        std::fs::create_dir_all(&db).context("creating ca-db")?;
        std::fs::write(db.join("index.txt"), "").context("writing ca-db/index.txt")?;
        std::fs::write(db.join("serial"), "1000\n").context("writing ca-db/serial")?;
        std::fs::write(
            dir.join("ca.cnf"),
            format!(
                "[ ca ]\ndefault_ca = lab\n[ lab ]\ndir = {}\ndatabase = $dir/index.txt\nserial = $dir/serial\n\
                 new_certs_dir = $dir\ndefault_md = sha256\npolicy = anything\ncopy_extensions = none\nunique_subject = no\n\
                 [ anything ]\ncommonName = supplied\n[ srv ]\nsubjectAltName = DNS:localhost, IP:127.0.0.1\n\
                 basicConstraints = CA:FALSE\nkeyUsage = digitalSignature, keyEncipherment\nextendedKeyUsage = serverAuth\n",
                db.display()
            ),
        )
        .context("writing ca.cnf")?;
        openssl(&[
            "ca",
            "-batch",
            "-config",
            &d("ca.cnf"),
            "-cert",
            &d("ca.pem"),
            "-keyfile",
            &d("ca.key"),
            "-in",
            &d("expired.csr"),
            "-out",
            &d("expired.pem"),
            "-startdate",
            "20200101000000Z",
            "-enddate",
            "20200102000000Z",
            "-extensions",
            "srv",
            "-notext",
        ])?;
    }
    Ok(())
}
