//! Sender authentication as the center's own mail server recorded it (RFC 8601
//! `Authentication-Results`). Only the topmost header carrying our server's authserv-id is
//! trusted: anything below it, or with another id, may have been written by the sender.
//!
//! The header is read with a real tokenizer, not split on `;`: comments (nested, with `\`
//! escapes) and quoted strings are what the sender can fill — an envelope sender
//! `"x; dmarc=pass y"@evil.example`, quoted in a comment by our server, must never read as a
//! DMARC pass. Anything the tokenizer cannot read (an unterminated comment or quoted string, a
//! result without a method, a version we do not know) makes our header unreadable, which is not
//! a pass.
//!
//! ```text
//! authres-payload = [CFWS] authserv-id [ CFWS authres-version ] ( no-result / 1*resinfo ) [CFWS]
//! no-result       = [CFWS] ";" [CFWS] "none"
//! resinfo         = [CFWS] ";" methodspec [ CFWS reasonspec ] [ CFWS 1*propspec ]
//! methodspec      = [CFWS] method [CFWS] "=" [CFWS] result      ; method = Keyword [ "/" version ]
//! reasonspec      = "reason" [CFWS] "=" [CFWS] value
//! propspec        = ptype [CFWS] "." [CFWS] property [CFWS] "=" pvalue
//! ```

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
    let ours = headers.iter().find(|h| authserv_id_of(h).is_some_and(|id| id.eq_ignore_ascii_case(authserv_id)));
    let Some(ours) = ours else {
        return Some(format!("no Authentication-Results from {authserv_id}"));
    };
    let results = match parse(ours) {
        Ok(parsed) => parsed.results,
        Err(e) => return Some(format!("the Authentication-Results from {authserv_id} cannot be read ({e})")),
    };
    let of_method: Vec<&str> =
        results.iter().filter(|r| r.method.eq_ignore_ascii_case(method)).map(|r| r.result.as_str()).collect();
    // Several results for one method (several SPF or DMARC checks): every one must pass.
    match of_method.iter().find(|r| !r.eq_ignore_ascii_case("pass")) {
        _ if of_method.is_empty() => Some(format!("{method} not checked by {authserv_id}")),
        Some(other) => Some(format!("{method}={}", other.to_ascii_lowercase())),
        None => None,
    }
}

/// One `method=result` of a header.
#[derive(Debug, Clone, PartialEq, Eq)]
struct MethodResult {
    method: String,
    /// `dmarc/1=pass` → `Some(1)`.
    version: Option<u32>,
    result: String,
    reason: Option<String>,
    /// `(ptype.property, value)`, e.g. `("smtp.mailfrom", "a.example")`.
    properties: Vec<(String, String)>,
}

/// A header read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AuthResults {
    authserv_id: String,
    results: Vec<MethodResult>,
}

/// The authserv-id alone: the first token, which the sender cannot shape (it is written by the
/// server that added the header). `None` when even that cannot be read.
fn authserv_id_of(header: &str) -> Option<String> {
    match Lexer::new(header).next()? {
        Ok((Token::Atom(id) | Token::Quoted(id), _)) => Some(id),
        _ => None,
    }
}

/// Read a whole header value (without the `Authentication-Results:` name).
fn parse(header: &str) -> Result<AuthResults, String> {
    let tokens = Lexer::new(header).collect::<Result<Vec<(Token, bool)>, String>>()?;
    let mut p = Parser { tokens, at: 0 };
    let authserv_id = match p.next() {
        Some(Token::Atom(id) | Token::Quoted(id)) => id,
        _ => return Err("no authserv-id".into()),
    };
    if let Some(Token::Atom(version)) = p.peek() {
        // authres-version: only version 1 exists (RFC 8601 section 2.2); another is not ours to
        // read.
        if version.bytes().all(|b| b.is_ascii_digit()) {
            if version.trim_start_matches('0') != "1" {
                return Err(format!("unknown version {version}"));
            }
            p.at += 1;
        }
    }
    let mut results = Vec::new();
    loop {
        match p.next() {
            None => break,
            Some(Token::Special(';')) => {}
            Some(other) => return Err(format!("expected ';', found {}", other.describe())),
        }
        if results.is_empty() && p.peek().is_some_and(|t| t.is_atom("none")) && p.tokens.len() == p.at + 1 {
            p.at += 1;
            break;
        }
        results.push(p.resinfo()?);
    }
    Ok(AuthResults { authserv_id, results })
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A run of characters that are not space, controls or specials (RFC 2045 `token`; it
    /// includes `.`, so `header.from` and `a.example` are one atom each).
    Atom(String),
    /// The content of a quoted string, escapes resolved.
    Quoted(String),
    /// One of `( ) < > @ , ; : \ " / [ ] ? =` outside comments and quoted strings.
    Special(char),
}

impl Token {
    fn is_atom(&self, word: &str) -> bool {
        matches!(self, Token::Atom(a) if a.eq_ignore_ascii_case(word))
    }

    fn describe(&self) -> String {
        match self {
            Token::Atom(a) => format!("'{a}'"),
            Token::Quoted(_) => "a quoted string".into(),
            Token::Special(c) => format!("'{c}'"),
        }
    }
}

const SPECIALS: &str = "()<>@,;:\\\"/[]?=";

/// Tokens of a header value, comments and folding white space skipped; each token says whether
/// white space or a comment stood before it.
struct Lexer<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    failed: bool,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str) -> Lexer<'a> {
        Lexer { chars: text.chars().peekable(), failed: false }
    }

    /// Skip a comment whose `(` was read; comments nest, `\` escapes the next character.
    fn comment(&mut self) -> Result<(), String> {
        let mut depth = 1usize;
        while let Some(c) = self.chars.next() {
            match c {
                '\\' => {
                    self.chars.next().ok_or("unterminated comment")?;
                }
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                _ => {}
            }
        }
        Err("unterminated comment".into())
    }

    /// A quoted string whose `"` was read.
    fn quoted(&mut self) -> Result<String, String> {
        let mut out = String::new();
        while let Some(c) = self.chars.next() {
            match c {
                '\\' => out.push(self.chars.next().ok_or("unterminated quoted string")?),
                '"' => return Ok(out),
                c => out.push(c),
            }
        }
        Err("unterminated quoted string".into())
    }

    fn token(&mut self) -> Option<Result<(Token, bool), String>> {
        let mut spaced = false;
        loop {
            let c = *self.chars.peek()?;
            if c.is_whitespace() || c.is_control() {
                self.chars.next();
                spaced = true;
                continue;
            }
            self.chars.next();
            let token = match c {
                '(' => match self.comment() {
                    Ok(()) => {
                        spaced = true;
                        continue;
                    }
                    Err(e) => Err(e),
                },
                ')' => Err("')' outside a comment".into()),
                '"' => self.quoted().map(Token::Quoted),
                c if SPECIALS.contains(c) => Ok(Token::Special(c)),
                c => {
                    let mut atom = String::from(c);
                    while let Some(&next) = self.chars.peek() {
                        if next.is_whitespace() || next.is_control() || SPECIALS.contains(next) {
                            break;
                        }
                        atom.push(next);
                        self.chars.next();
                    }
                    Ok(Token::Atom(atom))
                }
            };
            return Some(token.map(|t| (t, spaced)));
        }
    }
}

impl Iterator for Lexer<'_> {
    type Item = Result<(Token, bool), String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let token = self.token();
        self.failed = matches!(token, Some(Err(_)));
        token
    }
}

struct Parser {
    /// Each token, and whether white space or a comment stood before it.
    tokens: Vec<(Token, bool)>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|(t, _)| t)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).map(|(t, _)| t.clone());
        self.at += usize::from(token.is_some());
        token
    }

    fn keyword(&mut self, what: &str) -> Result<String, String> {
        match self.next() {
            Some(Token::Atom(a)) if is_keyword(&a) => Ok(a),
            Some(other) => Err(format!("expected {what}, found {}", other.describe())),
            None => Err(format!("expected {what}, found the end")),
        }
    }

    fn expect(&mut self, special: char) -> Result<(), String> {
        match self.next() {
            Some(Token::Special(c)) if c == special => Ok(()),
            Some(other) => Err(format!("expected '{special}', found {}", other.describe())),
            None => Err(format!("expected '{special}', found the end")),
        }
    }

    /// `method[/version]=result [reason=value] [ptype.property=pvalue ...]`, up to the next `;`.
    fn resinfo(&mut self) -> Result<MethodResult, String> {
        let method = self.keyword("a method")?;
        let mut version = None;
        if self.peek() == Some(&Token::Special('/')) {
            self.at += 1;
            let digits = self.keyword("a method version")?;
            version = Some(digits.parse::<u32>().map_err(|_| format!("bad method version {digits}"))?);
        }
        self.expect('=')?;
        let result = self.keyword("a result")?;
        let mut reason = None;
        let mut properties = Vec::new();
        while let Some(token) = self.peek() {
            if *token == Token::Special(';') {
                break;
            }
            let name = self.keyword("a property")?;
            self.expect('=')?;
            let value = self.value()?;
            if name.eq_ignore_ascii_case("reason") && reason.is_none() && properties.is_empty() {
                reason = Some(value);
            } else if name.contains('.') {
                properties.push((name, value));
            } else {
                return Err(format!("'{name}' is neither reason nor ptype.property"));
            }
        }
        Ok(MethodResult { method, version, result, reason, properties })
    }

    /// `[CFWS] ( value / [ [ local-part ] "@" ] domain-name )`: the tokens that follow one
    /// another without space, e.g. `"x; y"@evil.example`. Servers also write values that are not
    /// strictly tokens (a DKIM `header.b=` with `/`, `+` or `=` in it); they are taken as written.
    fn value(&mut self) -> Result<String, String> {
        let mut out = String::new();
        while let Some((token, spaced)) = self.tokens.get(self.at) {
            if !out.is_empty() && *spaced {
                break;
            }
            match token {
                Token::Special(';') => break,
                Token::Atom(a) | Token::Quoted(a) => out.push_str(a),
                Token::Special(c @ ('@' | '/' | '=')) => out.push(*c),
                other => return Err(format!("unexpected {} in a value", other.describe())),
            }
            self.at += 1;
        }
        if out.is_empty() {
            return Err("a property without a value".into());
        }
        Ok(out)
    }
}

/// RFC 5321 `Keyword`-ish: letters, digits, `-`, `_` and the `.` of `ptype.property`.
fn is_keyword(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(v: &str) -> String {
        v.to_owned()
    }

    const OURS: &str = "mx.kaist.ac.kr";

    fn dmarc(header: &str) -> Option<String> {
        auth_verdict(&[h(header)], OURS, RequireAuth::Dmarc)
    }

    #[test]
    fn only_our_topmost_header_counts() {
        let pass = vec![h("mx.kaist.ac.kr; spf=pass smtp.mailfrom=a.example; dmarc=pass header.from=a.example")];
        assert_eq!(auth_verdict(&pass, OURS, RequireAuth::Dmarc), None);
        let fail = vec![h("mx.kaist.ac.kr; spf=pass smtp.mailfrom=a.example; dmarc=fail header.from=a.example")];
        assert_eq!(auth_verdict(&fail, OURS, RequireAuth::Dmarc).as_deref(), Some("dmarc=fail"));
        assert_eq!(auth_verdict(&fail, OURS, RequireAuth::Spf), None);
        // A header the sender wrote, with another id, does not help them.
        let forged = vec![h("evil.example; dmarc=pass"), h("mx.kaist.ac.kr; dmarc=fail")];
        assert_eq!(auth_verdict(&forged, OURS, RequireAuth::Dmarc).as_deref(), Some("dmarc=fail"));
        // Nor one with our id below ours.
        let below = vec![h("mx.kaist.ac.kr; dmarc=fail"), h("mx.kaist.ac.kr; dmarc=pass")];
        assert_eq!(auth_verdict(&below, OURS, RequireAuth::Dmarc).as_deref(), Some("dmarc=fail"));
        assert!(auth_verdict(&[], OURS, RequireAuth::Dmarc).is_some());
        assert_eq!(auth_verdict(&[], OURS, RequireAuth::Off), None);
    }

    #[test]
    fn a_pass_inside_a_comment_in_a_quoted_local_part_is_a_dmarc_failure() {
        // The spoof from the issue: the sender chose the envelope sender, our server quoted it in
        // a comment. Split on ';' this read as dmarc=pass.
        let spoof = r#"mx.kaist.ac.kr; spf=softfail (mx: domain of "x; dmarc=pass y"@evil.example does not designate 192.0.2.1 as permitted sender) smtp.mailfrom="x; dmarc=pass y"@evil.example; dmarc=fail header.from=kaist.ac.kr"#;
        assert_eq!(dmarc(spoof).as_deref(), Some("dmarc=fail"));
        assert_eq!(auth_verdict(&[h(spoof)], OURS, RequireAuth::Spf).as_deref(), Some("spf=softfail"));
        // The same without any dmarc result of the server's own: not checked, not a pass.
        let only_spf = r#"mx.kaist.ac.kr; spf=softfail (mx: domain of "x; dmarc=pass y"@evil.example …) smtp.mailfrom="x; dmarc=pass y"@evil.example"#;
        assert_eq!(dmarc(only_spf).as_deref(), Some("dmarc not checked by mx.kaist.ac.kr"));
    }

    #[test]
    fn pass_in_quoted_strings_and_nested_or_escaped_comments_never_counts() {
        for header in [
            r#"mx.kaist.ac.kr; spf=fail smtp.mailfrom="a; dmarc=pass"@evil.example"#,
            r#"mx.kaist.ac.kr; spf=fail (dmarc=pass) smtp.mailfrom=evil.example"#,
            r#"mx.kaist.ac.kr; spf=fail (outer (inner; dmarc=pass) still; dmarc=pass) smtp.mailfrom=evil.example"#,
            r#"mx.kaist.ac.kr; spf=fail (escaped \) paren; dmarc=pass) smtp.mailfrom=evil.example"#,
            r#"mx.kaist.ac.kr; spf=fail reason="bad; dmarc=pass""#,
            r#"mx.kaist.ac.kr; spf=fail smtp.mailfrom="esc\"aped; dmarc=pass"@evil.example"#,
        ] {
            assert!(dmarc(header).is_some(), "{header}");
        }
        // Unterminated comments and quoted strings make the header unreadable: not a pass.
        for header in [
            r#"mx.kaist.ac.kr; dmarc=pass (never closed"#,
            r#"mx.kaist.ac.kr; spf=fail smtp.mailfrom="open; dmarc=pass"#,
            r#"mx.kaist.ac.kr; dmarc=pass header.from=a.example)"#,
        ] {
            let verdict = dmarc(header).unwrap_or_default();
            assert!(verdict.contains("cannot be read"), "{header}: {verdict}");
        }
    }

    #[test]
    fn the_grammar_of_rfc_8601() {
        let parsed = parse(
            "mx.kaist.ac.kr 1; (comment) dkim/1=pass (good signature) header.d=a.example header.b=AbC/d+e=; \
             spf = pass reason=\"aligned\" smtp.mailfrom=user@a.example; \
             dmarc=PASS policy.dmarc=none header.from=a.example header.b=AbC= header.s=sel",
        )
        .unwrap();
        assert_eq!(parsed.authserv_id, "mx.kaist.ac.kr");
        let names: Vec<(&str, Option<u32>, &str)> =
            parsed.results.iter().map(|r| (r.method.as_str(), r.version, r.result.as_str())).collect();
        assert_eq!(names, [("dkim", Some(1), "pass"), ("spf", None, "pass"), ("dmarc", None, "PASS")]);
        assert_eq!(
            parsed.results[0].properties,
            [("header.d".to_owned(), "a.example".to_owned()), ("header.b".to_owned(), "AbC/d+e=".to_owned())]
        );
        assert_eq!(parsed.results[1].reason.as_deref(), Some("aligned"));
        assert_eq!(parsed.results[1].properties, [("smtp.mailfrom".to_owned(), "user@a.example".to_owned())]);
        assert_eq!(parsed.results[2].properties[2], ("header.b".to_owned(), "AbC=".to_owned()));
        assert_eq!(parsed.results[2].properties[3], ("header.s".to_owned(), "sel".to_owned()));
        assert_eq!(dmarc("mx.kaist.ac.kr 1; dmarc=PASS header.from=a.example"), None);

        // A quoted authserv-id, comments before it, folding white space.
        assert_eq!(
            dmarc("(our server) \"mx.kaist.ac.kr\"\r\n\t; dmarc=pass (p=reject dis=none) header.from=a.example"),
            None
        );
        // `none`: nothing was checked.
        assert_eq!(dmarc("mx.kaist.ac.kr; none").as_deref(), Some("dmarc not checked by mx.kaist.ac.kr"));
        // A version we do not know is not ours to read.
        assert!(dmarc("mx.kaist.ac.kr 2; dmarc=pass").unwrap().contains("cannot be read"));
        // Two dmarc results: both must pass.
        assert_eq!(dmarc("mx.kaist.ac.kr; dmarc=pass; dmarc=fail").as_deref(), Some("dmarc=fail"));
        // Garbage where a method should be.
        assert!(dmarc("mx.kaist.ac.kr; =pass").unwrap().contains("cannot be read"));
        assert!(dmarc("mx.kaist.ac.kr; dmarc").unwrap().contains("cannot be read"));
        // Another id, even one that merely starts like ours, is not ours.
        assert!(dmarc("mx.kaist.ac.kr.evil.example; dmarc=pass").unwrap().starts_with("no Authentication-Results"));
    }
}
