//! `token_command = ["oama", "access", "…"]`: a program that prints an access token (the
//! mbsync `PassCmd` habit). It runs in its own process group with no input, under a timeout
//! (the whole group is killed when it runs out); the first line of its standard output is the
//! token. Its standard error is not read at all, so nothing it says can reach smebridge's log,
//! and no error message quotes what it printed (it might be a secret).

use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncReadExt;

use super::TokenError;
use crate::config::Secret;

/// More than this on standard output is not a token.
const MAX_OUTPUT: u64 = 64 * 1024;

/// Run the command and return its token.
pub(super) async fn run(argv: &[String], timeout: Duration) -> Result<Secret, TokenError> {
    let program = argv.first().map(String::as_str).unwrap_or_default();
    let mut command = tokio::process::Command::new(program);
    command
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .process_group(0);
    let mut child =
        command.spawn().map_err(|e| TokenError::Refused(format!("cannot run the token command {program:?}: {e}")))?;
    let group = child.id().and_then(|pid| i32::try_from(pid).ok());
    let mut stdout = child.stdout.take();
    let work = async {
        let mut out = Vec::new();
        if let Some(stdout) = stdout.as_mut() {
            stdout.take(MAX_OUTPUT + 1).read_to_end(&mut out).await?;
        }
        let status = child.wait().await?;
        std::io::Result::Ok((out, status))
    };
    let outcome = tokio::time::timeout(timeout, work).await;
    let (out, status) = match outcome {
        Err(_) => {
            if let Some(group) = group {
                // SAFETY: kill(2) on the process group our child leads (its id is still reserved:
                // the child has not been reaped).
                unsafe {
                    libc::kill(-group, libc::SIGKILL);
                }
            }
            let _ = child.kill().await;
            return Err(TokenError::Unavailable(format!(
                "the token command {program:?} did not finish within {} and was stopped",
                super::shown(timeout)
            )));
        }
        Ok(Err(e)) => return Err(TokenError::Unavailable(format!("the token command {program:?} failed: {e}"))),
        Ok(Ok(done)) => done,
    };
    if !status.success() {
        return Err(TokenError::Unavailable(format!(
            "the token command {program:?} failed ({status}); run it by hand to see why"
        )));
    }
    if out.len() as u64 > MAX_OUTPUT {
        return Err(TokenError::Refused(format!(
            "the token command {program:?} printed more than {MAX_OUTPUT} bytes: that is not an access token"
        )));
    }
    token_from(&out).map_err(|why| {
        TokenError::Refused(format!(
            "the first line the token command {program:?} printed is not an access token ({why})"
        ))
    })
}

/// The first line, if it looks like a bearer token (RFC 6750 `b64token`). The reason given
/// when it does not never quotes it.
fn token_from(out: &[u8]) -> Result<Secret, String> {
    let text = std::str::from_utf8(out).map_err(|_| "it is not text".to_owned())?;
    let line = text.lines().next().unwrap_or_default().trim_end_matches('\r');
    if line.is_empty() {
        return Err("it is empty".into());
    }
    let body = line.trim_end_matches('=');
    let bad = body.chars().filter(|c| !(c.is_ascii_alphanumeric() || "-._~+/".contains(*c))).count();
    if bad > 0 || body.is_empty() {
        let spaces = line.contains(char::is_whitespace);
        return Err(format!(
            "{} characters, {bad} of which cannot be in a token{}",
            line.chars().count(),
            if spaces { ", among them spaces" } else { "" }
        ));
    }
    Ok(Secret::new(line.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Vec<String> {
        vec!["sh".into(), "-c".into(), script.into()]
    }

    #[tokio::test]
    async fn the_first_line_is_the_token_and_stderr_is_never_read() {
        let token =
            run(&sh("echo 'ya29.a0-Ab_c~d+e/f=='; echo second; echo oops-on-stderr >&2"), Duration::from_secs(10))
                .await
                .unwrap();
        assert_eq!(token.expose(), "ya29.a0-Ab_c~d+e/f==");
    }

    #[tokio::test]
    async fn garbage_failure_and_silence_are_errors_that_do_not_quote_the_output() {
        let err = run(&sh("echo 'Error: no account named secret-name'"), Duration::from_secs(10)).await.unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, TokenError::Refused(_)) && text.contains("is not an access token"), "{text}");
        assert!(!text.contains("secret-name") && text.contains("among them spaces"), "{text}");
        let err = run(&sh("true"), Duration::from_secs(10)).await.unwrap_err();
        assert!(err.to_string().contains("it is empty"), "{err}");
        let err = run(&sh("echo tok; exit 3"), Duration::from_secs(10)).await.unwrap_err();
        assert!(matches!(err, TokenError::Unavailable(_)) && err.to_string().contains("exit status: 3"), "{err}");
        let err = run(&["/nonexistent/oama".to_owned()], Duration::from_secs(10)).await.unwrap_err();
        assert!(err.to_string().contains("cannot run the token command"), "{err}");
    }

    #[tokio::test]
    async fn a_command_that_hangs_is_stopped_with_everything_it_started() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("still-running");
        // The child it leaves behind would touch the marker after 3 s if it survived.
        let script = format!("(sleep 3; touch {}) & sleep 30", marker.display());
        let err = run(&sh(&script), Duration::from_millis(500)).await.unwrap_err();
        assert!(err.to_string().contains("did not finish within 500 ms"), "{err}");
        std::thread::sleep(Duration::from_secs(4));
        assert!(!marker.exists(), "the command's whole process group is killed");
    }
}
