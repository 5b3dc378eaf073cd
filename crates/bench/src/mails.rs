//! The backlog's mails: the sample mails and fixtures made into distinct applicants' own, and
//! generated Gmail- and Outlook-style applications, some with large attachments.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use base64::Engine as _;
use mailstack::client::crlf;
use rand::{RngExt, SeedableRng};

use crate::CENTER;

/// The shapes the seeded mails are made from.
pub struct Corpus {
    /// Sample mails as files: (name, LF text bytes).
    files: Vec<(String, Vec<u8>)>,
}

/// One generated mail.
pub struct Mail {
    pub raw: Vec<u8>,
    pub shape: &'static str,
}

impl Corpus {
    pub fn load() -> Result<Corpus> {
        let root = crate::repo_root();
        let mut paths: Vec<PathBuf> = ["examples/demo-mail", "tests/fixtures"]
            .iter()
            .filter_map(|dir| std::fs::read_dir(root.join(dir)).ok())
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        paths.sort();
        let files = paths
            .iter()
            .map(|p| {
                let name = p.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
                Ok((name, std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?))
            })
            .collect::<Result<Vec<_>>>()?;
        if files.is_empty() {
            bail!("no sample mails in examples/demo-mail or tests/fixtures");
        }
        Ok(Corpus { files })
    }

    /// Mail number `i` of a backlog of `n`, from applicant address variant `tag`: 10 % the
    /// sample mails (every shape of the parsing corpus; they repeat their applicants' names and
    /// organizations, so beyond the first round smebridge takes them as the same applicants
    /// writing again), 10 % Gmail-style multipart/alternative, 5 % with a photo attached
    /// (60–300 kB), max(3, n / 1000) with a 2–5 MB PDF, spread evenly, and the rest Outlook-style
    /// plain text in `ks_c_5601-1987` — every synthetic mail a distinct applicant.
    pub fn mail(&self, i: usize, n: usize, tag: &str) -> Mail {
        let big = (n / 1000).max(3).min(n);
        let slot = big_slot(i, n, big);
        let mut rng = rand::rngs::StdRng::seed_from_u64(i as u64 ^ 0x5eed);
        let (shape, raw): (&'static str, Vec<u8>) = if let Some(k) = slot {
            let mb = [2usize, 3, 5][k % 3];
            (
                "pdf-attachment",
                synthetic(i, tag, Some(("application/pdf", "business-registration.pdf", mb << 20)), &mut rng),
            )
        } else if i % 20 == 7 {
            let size = rng.random_range(60_000..300_000);
            ("photo-attachment", synthetic(i, tag, Some(("image/jpeg", "namecard.jpg", size)), &mut rng))
        } else if i % 10 == 3 {
            ("gmail-alternative", synthetic(i, tag, None, &mut rng))
        } else if !i.is_multiple_of(10) {
            ("outlook-ks_c_5601", outlook(i, tag))
        } else {
            let (name, text) = &self.files[(i / 10) % self.files.len()];
            (leak(name), personalize(text, i, tag))
        };
        Mail { raw: crlf(&raw), shape }
    }

    /// A mail for the latency run: an on-time application from a fresh applicant (no automatic
    /// mail, no large attachment). Synthetic (a Gmail-style multipart mail) because samples made
    /// from the fixtures keep their names and organizations, and after the backlog (which holds
    /// the same samples) smebridge rightly takes them as repeats and does not acknowledge again.
    pub fn application(&self, i: usize, tag: &str) -> Vec<u8> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(i as u64);
        crlf(&synthetic(i, tag, None, &mut rng))
    }
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

/// Which of the `big` evenly spread slots `i` is, if any.
fn big_slot(i: usize, n: usize, big: usize) -> Option<usize> {
    (0..big).find(|&k| (2 * k + 1) * n / (2 * big) == i)
}

/// A sample mail made into applicant `i`'s own: every address in From, Reply-To, Sender and
/// Return-Path gets `.{tag}{i}` before its `@`, and the Message-ID is made unique.
fn personalize(raw: &[u8], i: usize, tag: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(raw).replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut out = String::with_capacity(raw.len() + 64);
    // Distinct bytes for every applicant, even for a sample with no Message-ID or From address
    // to rewrite (smebridge rightly records identical bytes only once).
    let _ = writeln!(out, "X-Bench-Seq: {tag}{i}");
    let mut current = String::new();
    for line in head.lines() {
        if !line.starts_with([' ', '\t']) {
            current = line.split(':').next().unwrap_or_default().trim().to_ascii_lowercase();
        }
        match current.as_str() {
            "message-id" if !line.starts_with([' ', '\t']) => {
                let _ = writeln!(out, "Message-ID: <bench-{tag}{i}@bench.example>");
            }
            "message-id" => {}
            "from" | "reply-to" | "sender" | "return-path" => {
                out.push_str(&tag_addresses(line, &format!(".{tag}{i}")));
                out.push('\n');
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out.push('\n');
    out.push_str(body);
    out.into_bytes()
}

/// Insert `suffix` before the `@` of every address in a header line.
fn tag_addresses(line: &str, suffix: &str) -> String {
    let bytes = line.as_bytes();
    let local = |c: u8| c.is_ascii_alphanumeric() || b"._%+-".contains(&c);
    let mut out = String::with_capacity(line.len() + suffix.len());
    let mut last = 0;
    for (at, _) in line.match_indices('@') {
        let mut start = at;
        while start > 0 && local(bytes[start - 1]) {
            start -= 1;
        }
        if start < at && bytes.get(at + 1).is_some_and(|c| c.is_ascii_alphanumeric()) {
            out.push_str(&line[last..at]);
            out.push_str(suffix);
            last = at;
        }
    }
    out.push_str(&line[last..]);
    out
}

const NAMES: [(&str, &str, &str, &str); 8] = [
    ("김서준", "(주)한울정밀", "책임연구원", "kim.seojun"),
    ("이하은", "다온바이오", "대표이사", "lee.haeun"),
    ("박도윤", "새솔소프트", "선임연구원", "park.doyun"),
    ("최지우", "누리로보틱스", "과장", "choi.jiwoo"),
    ("정민서", "가람화학", "연구소장", "jung.minseo"),
    ("강예준", "미리내전자", "팀장", "kang.yejun"),
    ("조수아", "한빛소재", "부장", "cho.sua"),
    ("윤시우", "온누리테크", "주임연구원", "yoon.siwoo"),
];

/// A Gmail-style application: multipart/alternative (text and HTML, base64) with a signature;
/// with `attachment` = (type, file name, size) wrapped in multipart/mixed with random bytes.
fn synthetic(i: usize, tag: &str, attachment: Option<(&str, &str, usize)>, rng: &mut impl RngExt) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let (name, org, title, local) = NAMES[i % NAMES.len()];
    // A distinct organization for every applicant: smebridge matches applicants by name and
    // organization too, and 5,000 people from 8 companies would rightly be merged.
    let org = &format!("{org} 제{}공장 {}", i + 1, tag.to_uppercase());
    let from =
        format!("{local}.{tag}{i}@{}", ["gmail.example", "naver.example", "daum.example", "company.example"][i % 4]);
    let phone = format!("010-{:04}-{:04}", 1000 + i % 9000, (i * 7919) % 10000);
    let attendees = 1 + i % 3;
    let text = format!(
        "안녕하세요.\n중소기업 R&D 역량강화 워크숍에 참가 신청합니다.\n\n성명: {name}\n소속: {org}\n직위: {title}\n연락처: {phone}\n\
         참석인원: {attendees}명\n\n감사합니다.\n{name} 드림\n\n--\n{name} | {title}\n{org}\n{phone}\n"
    );
    let mut html = String::from(
        "<div dir=\"ltr\"><div>안녕하세요.</div><div>중소기업 R&amp;D 역량강화 워크숍에 참가 신청합니다.</div><br>",
    );
    for (label, value) in [("성명", name), ("소속", org), ("직위", title), ("연락처", phone.as_str())] {
        let _ = write!(html, "<div style=\"font-family:arial,sans-serif\">{label}: {value}</div>");
    }
    let _ = write!(html, "<div>참석인원: {attendees}명</div><br><div>감사합니다.</div><div>{name} 드림</div>");
    // A signature block of the kind mail clients add: a table with inline styles.
    html.push_str("<br><div class=\"gmail_signature\"><table cellpadding=\"0\" cellspacing=\"0\" style=\"font-family:Arial,sans-serif;font-size:12px;color:#333\">");
    for _ in 0..6 {
        let _ = write!(html, "<tr><td style=\"padding:2px 8px;border-left:3px solid #1a73e8\">{name} · {title} · {org} · {phone}</td></tr>");
    }
    html.push_str("</table></div></div>");
    let wrap = |s: &str| -> String {
        b64.encode(s.as_bytes()).as_bytes().chunks(76).map(|c| String::from_utf8_lossy(c).into_owned() + "\n").collect()
    };
    let subject = format!("=?UTF-8?B?{}?=", b64.encode(format!("[참가신청] 워크숍 참가 신청 - {org} {name}")));
    let display = format!("=?UTF-8?B?{}?=", b64.encode(name));
    let mut mail = format!(
        "Return-Path: <{from}>\nFrom: {display} <{from}>\nTo: {CENTER}\nSubject: {subject}\nDate: Wed, 16 Nov 2022 10:{:02}:00 +0900\n\
         Message-ID: <CAbench{tag}{i}x{:08x}@mail.gmail.example>\nMIME-Version: 1.0\n",
        i % 60,
        rng.random::<u32>(),
    );
    let alternative = format!(
        "--alt{i}\nContent-Type: text/plain; charset=\"UTF-8\"\nContent-Transfer-Encoding: base64\n\n{}\n\
         --alt{i}\nContent-Type: text/html; charset=\"UTF-8\"\nContent-Transfer-Encoding: base64\n\n{}\n--alt{i}--\n",
        wrap(&text),
        wrap(&html),
    );
    match attachment {
        None => {
            let _ = write!(mail, "Content-Type: multipart/alternative; boundary=\"alt{i}\"\n\n{alternative}");
        }
        Some((mime, file, size)) => {
            let mut payload = vec![0u8; size];
            rng.fill(payload.as_mut_slice());
            let _ = write!(
                mail,
                "Content-Type: multipart/mixed; boundary=\"mix{i}\"\n\n--mix{i}\nContent-Type: multipart/alternative; boundary=\"alt{i}\"\n\n\
                 {alternative}\n--mix{i}\nContent-Type: {mime}; name=\"{file}\"\nContent-Disposition: attachment; filename=\"{file}\"\n\
                 Content-Transfer-Encoding: base64\n\n"
            );
            let encoded = b64.encode(&payload);
            mail.reserve(encoded.len() + encoded.len() / 38);
            for chunk in encoded.as_bytes().chunks(76) {
                mail.push_str(std::str::from_utf8(chunk).unwrap_or_default());
                mail.push('\n');
            }
            let _ = writeln!(mail, "--mix{i}--");
        }
    }
    mail.into_bytes()
}

/// An Outlook-style application: text/plain labelled `ks_c_5601-1987` (EUC-KR bytes, base64),
/// Korean headers as encoded words in the same charset.
fn outlook(i: usize, tag: &str) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let euckr = |s: &str| encoding_rs::EUC_KR.encode(s).0.into_owned();
    let (name, org, title, local) = NAMES[(i / 3) % NAMES.len()];
    let org = format!("{org} {}연구소 {}", i + 1, tag.to_uppercase());
    let from = format!("{local}.{tag}{i}@{}", ["company.example", "corp.example"][i % 2]);
    let phone = format!("02-{:03}-{:04}", 200 + i % 700, (i * 104_729) % 10000);
    let body = format!(
        "안녕하십니까.\n\n공고하신 워크숍에 아래와 같이 참가를 신청합니다.\n\n1. 성 명 : {name}\n2. 소 속 : {org}\n3. 직 위 : {title}\n\
         4. 연락처 : {phone}\n5. 참석인원 : {}명\n\n감사합니다.\n\n{name} 올림\n",
        1 + i % 2
    );
    let subject = format!("워크숍 참가 신청 ({org})");
    let mut mail = format!(
        "From: =?ks_c_5601-1987?B?{}?= <{from}>\nTo: {CENTER}\nSubject: =?ks_c_5601-1987?B?{}?=\n\
         Date: Wed, 16 Nov 2022 11:{:02}:00 +0900\nMessage-ID: <bench{tag}{i}@outlook.example>\nMIME-Version: 1.0\n\
         X-Mailer: Microsoft Outlook 16.0\nContent-Type: text/plain; charset=\"ks_c_5601-1987\"\nContent-Transfer-Encoding: base64\n\n",
        b64.encode(euckr(name)),
        b64.encode(euckr(&subject)),
        i % 60,
    );
    for chunk in b64.encode(euckr(&body)).as_bytes().chunks(76) {
        mail.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        mail.push('\n');
    }
    mail.into_bytes()
}

/// The address in a mail's `From:`.
pub fn sender(raw: &[u8]) -> Option<String> {
    let message = mail_parser::MessageParser::default().parse_headers(raw)?;
    message.from()?.first()?.address().map(str::to_owned)
}

/// A mail's `Message-ID`.
pub fn message_id(raw: &[u8]) -> Option<String> {
    let message = mail_parser::MessageParser::default().parse_headers(raw)?;
    message.message_id().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_becomes_the_applicants_own() {
        let sample = b"From: =?UTF-8?B?6rmA?= <kim@a.example>\nReply-To: kim@a.example,\n lee@b.example\nTo: smebridge@kaist.ac.kr\nMessage-ID:\n <x@a.example>\nSubject: hi\n\n\xec\x84\xb1\xeb\xaa\x85: kim@a.example\n";
        let own = String::from_utf8(personalize(sample, 7, "b")).unwrap();
        assert_eq!(
            own,
            "X-Bench-Seq: b7\nFrom: =?UTF-8?B?6rmA?= <kim.b7@a.example>\nReply-To: kim.b7@a.example,\n lee.b7@b.example\n\
             To: smebridge@kaist.ac.kr\nMessage-ID: <bench-b7@bench.example>\nSubject: hi\n\n성명: kim@a.example\n"
        );
    }

    #[test]
    fn a_suffix_goes_before_the_at_of_addresses_only() {
        assert_eq!(tag_addresses("From: \"a@b\" <x.y@z.example>", ".t1"), "From: \"a.t1@b\" <x.y.t1@z.example>");
        assert_eq!(tag_addresses("Subject: meet @ noon", ".t1"), "Subject: meet @ noon");
    }

    #[test]
    fn the_large_attachments_are_spread_evenly() {
        let slots: Vec<usize> = (0..1000).filter(|&i| big_slot(i, 1000, 3).is_some()).collect();
        assert_eq!(slots, [166, 500, 833]);
        assert_eq!((0..2).filter(|&i| big_slot(i, 2, 2).is_some()).count(), 2);
    }
}
