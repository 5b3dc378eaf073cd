//! Sender authentication as the center's own mail server recorded it (RFC 8601
//! `Authentication-Results`). Only the topmost header carrying our server's authserv-id is
//! trusted: anything below it, or with another id, may have been written by the sender.

/// Which check must pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequireAuth {
    Off,
    Spf,
    Dmarc,
}

impl RequireAuth {
    fn method(self) -> Option<&'static str> {
        match self {
            RequireAuth::Off => None,
            RequireAuth::Spf => Some("spf"),
            RequireAuth::Dmarc => Some("dmarc"),
        }
    }
}

/// `None` when the sender passes (or nothing is required); otherwise why not, for staff.
/// `headers` are the raw `Authentication-Results` values, topmost first.
pub fn auth_verdict(headers: &[String], authserv_id: &str, require: RequireAuth) -> Option<String> {
    let method = require.method()?;
    let ours = headers.iter().find(|h| {
        h.split(';')
            .next()
            .and_then(|id| id.split_whitespace().next())
            .is_some_and(|id| id.eq_ignore_ascii_case(authserv_id))
    });
    let Some(ours) = ours else {
        return Some(format!("no Authentication-Results from {authserv_id}"));
    };
    let result = ours.split(';').skip(1).find_map(|clause| {
        let clause = clause.trim();
        let (name, rest) = clause.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case(method)
            .then(|| rest.split_whitespace().next().unwrap_or("").to_ascii_lowercase())
    });
    match result.as_deref() {
        Some("pass") => None,
        Some(other) => Some(format!("{method}={other}")),
        None => Some(format!("{method} not checked by {authserv_id}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(v: &str) -> String {
        v.to_owned()
    }

    #[test]
    fn only_our_topmost_header_counts() {
        let pass = vec![h("mx.kaist.ac.kr; spf=pass smtp.mailfrom=a.example; dmarc=pass header.from=a.example")];
        assert_eq!(auth_verdict(&pass, "mx.kaist.ac.kr", RequireAuth::Dmarc), None);
        let fail = vec![h("mx.kaist.ac.kr; spf=pass smtp.mailfrom=a.example; dmarc=fail header.from=a.example")];
        assert_eq!(auth_verdict(&fail, "mx.kaist.ac.kr", RequireAuth::Dmarc).as_deref(), Some("dmarc=fail"));
        assert_eq!(auth_verdict(&fail, "mx.kaist.ac.kr", RequireAuth::Spf), None);
        // A header the sender wrote, with another id, does not help them.
        let forged = vec![h("evil.example; dmarc=pass"), h("mx.kaist.ac.kr; dmarc=fail")];
        assert_eq!(auth_verdict(&forged, "mx.kaist.ac.kr", RequireAuth::Dmarc).as_deref(), Some("dmarc=fail"));
        assert!(auth_verdict(&[], "mx.kaist.ac.kr", RequireAuth::Dmarc).is_some());
        assert_eq!(auth_verdict(&[], "mx.kaist.ac.kr", RequireAuth::Off), None);
    }
}
