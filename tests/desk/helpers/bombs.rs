//! Hostile inputs, built in memory: whole messages (`.eml`, CRLF line endings) that stay under
//! the 40 MiB message limit, and attached files that are small on the wire but expensive to
//! read. Pure functions returning bytes, so that `tests/bounds.rs`, the library's unit tests'
//! equivalents and an end-to-end test on a real mail stack can all use the same bombs.
//!
//! Every sender and recipient is invented (`.example` domains); nothing here looks like a
//! real person's data.

use std::fmt::Write as _;

use base64::Engine as _;
use flate2::{Compress, Compression, FlushCompress};

/// The default `[imap] max_message_size`: every message here is below it.
pub const MESSAGE_LIMIT: usize = 40 << 20;

/// The headers of a hostile message, up to and including `Content-Type` and the blank line.
fn head(id: &str, content_type: &str) -> String {
    format!(
        "From: <{id}@hostile.example>\r\nTo: smebridge@kaist.ac.kr\r\nSubject: hostile {id}\r\n\
         Message-ID: <{id}@hostile.example>\r\nDate: Wed, 16 Nov 2022 10:00:00 +0900\r\nMIME-Version: 1.0\r\n\
         Content-Type: {content_type}\r\n\r\n"
    )
}

/// A multipart/mixed message whose `parts` parts have no header lines at all: a boundary line,
/// the blank line that ends the (empty) header block, one line of body.
pub fn headerless_parts(parts: usize) -> Vec<u8> {
    let mut raw = head("headerless", "multipart/mixed; boundary=\"b\"").into_bytes();
    raw.extend_from_slice("--b\r\n\r\nx\r\n".repeat(parts).as_bytes());
    raw.extend_from_slice(b"--b--\r\n");
    raw
}

/// A multipart/mixed message whose `parts` parts each have a `Content-Disposition` and no
/// `Content-Type`.
pub fn disposition_only_parts(parts: usize) -> Vec<u8> {
    let mut raw = head("disposition", "multipart/mixed; boundary=\"b\"").into_bytes();
    raw.extend_from_slice("--b\r\nContent-Disposition: attachment\r\n\r\nx\r\n".repeat(parts).as_bytes());
    raw.extend_from_slice(b"--b--\r\n");
    raw
}

/// Header-less parts whose boundary delimiters do not start a line (`x--b`): mail-parser
/// splits there all the same.
pub fn midline_boundaries(parts: usize) -> Vec<u8> {
    let mut raw = head("midline", "multipart/mixed; boundary=\"b\"").into_bytes();
    raw.extend_from_slice("x--b\r\n\r\n".repeat(parts).as_bytes());
    raw.extend_from_slice(b"x--b--\r\n");
    raw
}

/// A multipart/digest of header-less parts: each one is an attached message by default.
pub fn digest_parts(parts: usize) -> Vec<u8> {
    let mut raw = head("digest", "multipart/digest; boundary=\"d\"").into_bytes();
    raw.extend_from_slice("--d\r\n\r\nX: y\r\n\r\nx\r\n".repeat(parts).as_bytes());
    raw.extend_from_slice(b"--d--\r\n");
    raw
}

/// An attached message (message/rfc822, base64: which RFC 2046 forbids and mail-parser decodes
/// and parses anyway) whose inside is `headerless_parts(parts)`.
pub fn encoded_attached_message(parts: usize) -> Vec<u8> {
    let inner = headerless_parts(parts);
    let mut raw = head("encoded", "multipart/mixed; boundary=\"o\"").into_bytes();
    raw.extend_from_slice(b"--o\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nsee attached\r\n");
    raw.extend_from_slice(b"--o\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n");
    raw.extend_from_slice(base64_lines(&inner).as_bytes());
    raw.extend_from_slice(b"--o--\r\n");
    raw
}

/// Multiparts nested `depth` deep, each with a boundary of its own.
pub fn deep_mime(depth: usize) -> Vec<u8> {
    let mut raw = head("deep", "multipart/mixed; boundary=\"n0\"");
    for i in 1..depth {
        let _ = write!(raw, "--n{}\r\nContent-Type: multipart/mixed; boundary=\"n{i}\"\r\n\r\n", i - 1);
    }
    let _ = write!(raw, "--n{}\r\nContent-Type: text/plain\r\n\r\n성명: 깊은곳\r\n", depth - 1);
    for i in (0..depth).rev() {
        let _ = write!(raw, "--n{i}--\r\n");
    }
    raw.into_bytes()
}

/// A message whose `To:` header alone is `bytes` long: folded lines of invented addresses.
pub fn huge_header_field(bytes: usize) -> Vec<u8> {
    let mut to = String::from("To: ");
    let mut i = 0;
    while to.len() < bytes {
        let _ = write!(to, "r{i}@hostile.example,\r\n ");
        i += 1;
    }
    to.push_str("last@hostile.example\r\n");
    let mut raw = head("bigfield", "text/plain; charset=utf-8").replacen("To: smebridge@kaist.ac.kr\r\n", &to, 1);
    raw.push_str("성명: 머리\r\n");
    raw.into_bytes()
}

/// An HTML message whose one `<p>` tag carries `attributes` double-quoted attributes on a single
/// line (as LMTP delivers it unfolded), then an application line: the markup that overflowed
/// the tokenizer's stack.
pub fn html_attribute_flood(attributes: usize) -> Vec<u8> {
    let mut html = String::from("<html><body><p");
    for i in 0..attributes {
        let _ = write!(html, " a{i}=\"x\"");
    }
    html.push_str(">성명: 속성</p></body></html>\r\n");
    let mut raw = head("attributes", "text/html; charset=utf-8");
    raw.push_str(&html);
    raw.into_bytes()
}

/// A message whose header block is `bytes` long: tiny header fields, one after another.
pub fn many_header_fields(bytes: usize) -> Vec<u8> {
    let mut fields = String::new();
    let mut i = 0;
    while fields.len() < bytes {
        let _ = write!(fields, "X-F{i}: v\r\n");
        i += 1;
    }
    let mut raw =
        head("manyfields", "text/plain; charset=utf-8").replacen("MIME-Version", &(fields + "MIME-Version"), 1);
    raw.push_str("성명: 머리\r\n");
    raw.into_bytes()
}

/// An application with `count` small attachments (base64, 600 bytes each).
pub fn many_attachments(count: usize) -> Vec<u8> {
    let mut raw = head("attachments", "multipart/mixed; boundary=\"a\"");
    raw.push_str("--a\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n성명: 첨부\r\n소속: 첨부상사\r\n");
    let payload = base64_lines(&[0x5a; 600]);
    for i in 0..count {
        let _ = write!(
            raw,
            "--a\r\nContent-Type: application/octet-stream; name=\"f{i}.bin\"\r\n\
             Content-Disposition: attachment; filename=\"f{i}.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{payload}"
        );
    }
    raw.push_str("--a--\r\n");
    raw.into_bytes()
}

/// An ordinary-looking application (invented applicant) with `bytes` attached as `name`.
pub fn application_with(name: &str, content_type: &str, bytes: &[u8]) -> Vec<u8> {
    let id = name.replace(|c: char| !c.is_ascii_alphanumeric(), "-");
    application_from(&format!("form-{id}"), name, content_type, bytes)
}

/// [`application_with`] from `id@hostile.example` (also its Message-ID), so that several bombs
/// attached under one file name come from senders of their own.
pub fn application_from(id: &str, name: &str, content_type: &str, bytes: &[u8]) -> Vec<u8> {
    let mut raw = head(id, "multipart/mixed; boundary=\"f\"");
    raw.push_str("--f\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n신청서를 첨부합니다.\r\n");
    let _ = write!(
        raw,
        "--f\r\nContent-Type: {content_type}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}--f--\r\n",
        base64_lines(bytes)
    );
    raw.into_bytes()
}

/// Base64 in 76-column CRLF lines.
pub fn base64_lines(bytes: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 38 + 2);
    for line in encoded.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push_str("\r\n");
    }
    out
}

// ---------------------------------------------------------------------------------------------
// PDF
// ---------------------------------------------------------------------------------------------

/// The 237-byte PDF 1.5 whose cross-reference stream says each entry's second field is a
/// terabyte wide (`/W [1 1099511627776 1]`): a reader that sizes a buffer by `/W` asks for 1 TiB.
pub fn pdf_xref_terabyte() -> Vec<u8> {
    let object: &[u8] = b"1 0 obj\n<</Type/XRef/Size 3/W[1 1099511627776 1]/Root 2 0 R/Length 6>>\nstream\n\x01\x00\x00\x01\x00\x00\nendstream\nendobj\n";
    // A comment line pads the file to the size of the one that was reported.
    let build = |pad: usize| {
        let mut pdf = b"%PDF-1.5\n".to_vec();
        if pad >= 2 {
            pdf.push(b'%');
            pdf.extend(std::iter::repeat_n(b'x', pad - 2));
            pdf.push(b'\n');
        }
        let offset = pdf.len();
        pdf.extend_from_slice(object);
        pdf.extend_from_slice(format!("startxref\n{offset}\n%%EOF\n").as_bytes());
        pdf
    };
    let mut pad = 237 - build(0).len();
    while build(pad).len() > 237 {
        pad -= 1;
    }
    build(pad)
}

/// A PDF of `objects` (numbered from 1, the first the catalog) with a correct xref table.
pub fn pdf_of(objects: &[String]) -> Vec<u8> {
    let objects: Vec<Vec<u8>> = objects.iter().map(|o| o.as_bytes().to_vec()).collect();
    pdf_of_bytes("1.4", &objects)
}

/// [`pdf_of`] for objects that hold binary data.
fn pdf_of_bytes(version: &str, objects: &[Vec<u8>]) -> Vec<u8> {
    let mut pdf = format!("%PDF-{version}\n").into_bytes();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        pdf.extend_from_slice(object);
        pdf.extend_from_slice(b"\nendobj\n");
    }
    let xref = pdf.len();
    pdf.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    pdf
}

fn pdf_stream(dict: &str, content: &str) -> String {
    format!("<< /Length {} {dict} >>\nstream\n{content}\nendstream", content.len() + 1)
}

const PDF_FONT: &str = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>";

/// One page (object 3) whose content draws form XObject `/X` = object 6, with the font as
/// object 4 and the content as object 5; `forms` are objects 6 onwards.
fn pdf_page_drawing(forms: Vec<String>) -> Vec<String> {
    let mut objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> /XObject << /X 6 0 R >> >> /Contents 5 0 R >>".to_owned(),
        PDF_FONT.to_owned(),
        pdf_stream("", "BT /F1 12 Tf 72 700 Td (page) Tj ET /X Do"),
    ];
    objects.extend(forms);
    objects
}

/// Form XObjects nested `depth` deep: each draws the next, twice.
pub fn pdf_deep_forms(depth: usize) -> Vec<u8> {
    let forms = (0..depth)
        .map(|i| {
            let next = 6 + i + 1;
            let resources =
                if i + 1 < depth { format!("/Resources << /XObject << /X {next} 0 R >> >>") } else { String::new() };
            pdf_stream(
                &format!("/Type /XObject /Subtype /Form /BBox [0 0 100 100] {resources}"),
                "BT /F1 10 Tf 0 0 Td (f) Tj ET /X Do /X Do",
            )
        })
        .collect();
    pdf_of(&pdf_page_drawing(forms))
}

/// Cycles everywhere: a form XObject that draws itself and its twin (which draws both), a page
/// tree whose intermediate node lists itself among its kids, a resource dictionary that is its
/// own parent's.
pub fn pdf_cyclic() -> Vec<u8> {
    let objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R 8 0 R 2 0 R] /Count 3 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources 9 0 R /Contents 5 0 R >>".to_owned(),
        PDF_FONT.to_owned(),
        pdf_stream("", "BT /F1 12 Tf 72 700 Td (page) Tj ET /X Do /Y Do"),
        pdf_stream("/Type /XObject /Subtype /Form /BBox [0 0 9 9] /Resources 9 0 R", "/X Do /Y Do /X Do /Y Do"),
        pdf_stream("/Type /XObject /Subtype /Form /BBox [0 0 9 9] /Resources 9 0 R", "/Y Do /X Do /Y Do /X Do"),
        "<< /Type /Pages /Parent 2 0 R /Kids [8 0 R 2 0 R 3 0 R] /Count 3 >>".to_owned(),
        "<< /Font << /F1 4 0 R >> /XObject << /X 6 0 R /Y 7 0 R >> /Parent 9 0 R >>".to_owned(),
    ];
    pdf_of(&objects)
}

/// A page whose resources chain through `objects` form XObjects: each one's resources name
/// the next, and each draws the next. Written compactly (a PDF 1.5 cross-reference stream, no
/// bounding boxes), so that 260,000 of them fit in a message under the limit.
pub fn pdf_resource_chain(objects: usize) -> Vec<u8> {
    let mut pdf = b"%PDF-1.5\n".to_vec();
    let mut offsets = Vec::with_capacity(objects + 5);
    let mut add = |pdf: &mut Vec<u8>, text: String| {
        offsets.push(pdf.len());
        pdf.extend_from_slice(text.as_bytes());
    };
    for (i, object) in pdf_page_drawing(Vec::new()).into_iter().enumerate() {
        add(&mut pdf, format!("{} 0 obj\n{object}\nendobj\n", i + 1));
    }
    for i in 0..objects {
        let id = 6 + i;
        let link = if i + 1 < objects { format!("/Resources<</XObject<</X {} 0 R>>>>", id + 1) } else { String::new() };
        add(&mut pdf, format!("{id} 0 obj<</Subtype/Form{link}/Length 5>>stream\n/X Do\nendstream endobj\n"));
    }
    let xref_id = offsets.len() + 1;
    let xref_at = pdf.len();
    let mut entries = vec![0u8, 0, 0, 0, 0];
    for offset in &offsets {
        entries.push(1);
        entries.extend_from_slice(&u32::try_from(*offset).unwrap_or(u32::MAX).to_be_bytes());
    }
    entries.push(1);
    entries.extend_from_slice(&u32::try_from(xref_at).unwrap_or(u32::MAX).to_be_bytes());
    let data = zlib(&entries);
    pdf.extend_from_slice(
        format!(
            "{xref_id} 0 obj\n<< /Type /XRef /Size {} /W [1 4 0] /Root 1 0 R /Filter /FlateDecode /Length {} >>\nstream\n",
            xref_id + 1,
            data.len()
        )
        .as_bytes(),
    );
    pdf.extend_from_slice(&data);
    pdf.extend_from_slice(format!("\nendstream\nendobj\nstartxref\n{xref_at}\n%%EOF\n").as_bytes());
    pdf
}

/// A page tree of `pages` empty pages.
pub fn pdf_many_pages(pages: usize) -> Vec<u8> {
    let kids: String = (0..pages).map(|i| format!("{} 0 R ", 4 + i)).collect();
    let mut objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        format!("<< /Type /Pages /Kids [{kids}] /Count {pages} >>"),
        "<< /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >>".to_owned(),
    ];
    objects.extend((0..pages).map(|_| "<</Type/Page/Parent 2 0 R/Resources 3 0 R/MediaBox[0 0 9 9]>>".to_owned()));
    pdf_of(&objects)
}

/// A page whose content stream is `operands` numbers long before one operator: every operand
/// becomes an object in memory when the content is decoded.
pub fn pdf_operand_flood(operands: usize) -> Vec<u8> {
    let content = format!("{}n", "0 ".repeat(operands));
    let objects = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 9 9] /Contents 4 0 R >>".to_vec(),
        deflated_stream(content.as_bytes()),
    ];
    pdf_of_bytes("1.4", &objects)
}

/// An object (not a stream) that is an array of `elements` zeros: small on disk per element,
/// large once every element is an object in memory.
pub fn pdf_array_flood(elements: usize) -> Vec<u8> {
    let objects = vec![
        "<< /Type /Catalog /Pages 2 0 R /Filler 4 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 9 9] >>".to_owned(),
        format!("[{}]", "0 ".repeat(elements)),
    ];
    pdf_of(&objects)
}

/// A PDF 1.5 object stream holding `pairs` objects, every one of them the same array of
/// `elements` zeros (all index entries point at offset 0).
pub fn pdf_object_stream_flood(pairs: usize, elements: usize) -> Vec<u8> {
    let mut index = String::new();
    for i in 0..pairs {
        let _ = write!(index, "{} 0 ", 10 + i);
    }
    let first = index.len();
    let body = format!("{index}[{}]", "0 ".repeat(elements));
    let mut compressed = zlib(body.as_bytes());
    let dict = format!(
        "<< /Type /ObjStm /N {pairs} /First {first} /Filter /FlateDecode /Length {} >>\nstream\n",
        compressed.len()
    );
    let mut stream = dict.into_bytes();
    stream.append(&mut compressed);
    stream.extend_from_slice(b"\nendstream");
    let objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 9 9] >>".to_vec(),
        stream,
    ];
    pdf_of_bytes("1.5", &objects)
}

fn deflated_stream(content: &[u8]) -> Vec<u8> {
    let data = zlib(content);
    let mut stream = format!("<< /Length {} /Filter /FlateDecode >>\nstream\n", data.len()).into_bytes();
    stream.extend_from_slice(&data);
    stream.extend_from_slice(b"\nendstream");
    stream
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), Compression::fast());
    std::io::Write::write_all(&mut encoder, data).unwrap_or_default();
    encoder.finish().unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Zip containers (DOCX, HWPX, XLSX)
// ---------------------------------------------------------------------------------------------

/// Raw deflate data that inflates to `mib` MiB of spaces after `prefix`, built without ever
/// holding the output: `prefix` and one MiB of spaces are compressed on their own (each block
/// self-contained), the MiB repeated, and an empty final block added.
pub fn deflate_bomb(prefix: &[u8], mib: usize) -> Vec<u8> {
    let mut out = deflate_raw(prefix, FlushCompress::Sync);
    let chunk = deflate_raw(&vec![b' '; 1 << 20], FlushCompress::Sync);
    for _ in 0..mib {
        out.extend_from_slice(&chunk);
    }
    out.extend(deflate_raw(&[], FlushCompress::Finish));
    out
}

/// `data` as raw deflate from a fresh compressor (so that it refers to nothing before it),
/// ended by `mode`: `Sync` leaves the stream open at a byte boundary, `Finish` closes it.
fn deflate_raw(data: &[u8], mode: FlushCompress) -> Vec<u8> {
    let mut compress = Compress::new(Compression::best(), false);
    let mut out = Vec::with_capacity(data.len() / 64 + 4096);
    loop {
        let consumed = compress.total_in() as usize;
        let status = compress.compress_vec(&data[consumed..], &mut out, mode).expect("deflate in memory");
        let all_in = compress.total_in() as usize == data.len();
        let done = match mode {
            FlushCompress::Finish => status == flate2::Status::StreamEnd,
            _ => all_in && out.len() < out.capacity(),
        };
        if done {
            return out;
        }
        out.reserve(64 * 1024);
    }
}

/// A zip archive of `entries` (name, method, data as stored, uncompressed size, CRC-32),
/// written by hand so that a bomb can state any size it likes.
fn zip_raw(entries: &[(&str, u16, &[u8], u32, u32)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, method, data, size, crc) in entries {
        let offset = out.len() as u32;
        let fields = |out: &mut Vec<u8>| {
            out.extend_from_slice(&20u16.to_le_bytes()); // version needed
            out.extend_from_slice(&0u16.to_le_bytes()); // flags
            out.extend_from_slice(&method.to_le_bytes());
            out.extend_from_slice(&[0, 0, 0x21, 0]); // time, date
            out.extend_from_slice(&crc.to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&size.to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes()); // extra
        };
        out.extend_from_slice(b"PK\x03\x04");
        fields(&mut out);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        central.extend_from_slice(b"PK\x01\x02");
        central.extend_from_slice(&20u16.to_le_bytes()); // version made by
        fields(&mut central);
        central.extend_from_slice(&[0; 6]); // comment length, disk, internal attributes
        central.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let start = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&start.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(data);
    crc.sum()
}

/// Stored entries (method 0) for the small parts of a package.
fn zip_stored(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let rows: Vec<(&str, u16, &[u8], u32, u32)> =
        entries.iter().map(|(name, data)| (*name, 0, *data, data.len() as u32, crc32(data))).collect();
    zip_raw(&rows)
}

/// The kinds of zip-based form a bomb can pose as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZipForm {
    Docx,
    Hwpx,
    Xlsx,
}

impl ZipForm {
    pub const ALL: [ZipForm; 3] = [ZipForm::Docx, ZipForm::Hwpx, ZipForm::Xlsx];

    /// The file name an applicant would give it.
    pub fn file_name(self) -> &'static str {
        match self {
            ZipForm::Docx => "form.docx",
            ZipForm::Hwpx => "form.hwpx",
            ZipForm::Xlsx => "form.xlsx",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ZipForm::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ZipForm::Hwpx => "application/hwp+zip",
            ZipForm::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    /// The part that holds the text, and the XML before the text in it.
    fn main_part(self) -> (&'static str, &'static str) {
        match self {
            ZipForm::Docx => (
                "word/document.xml",
                r#"<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>"#,
            ),
            ZipForm::Hwpx => (
                "Contents/section0.xml",
                r#"<?xml version="1.0"?><hs:sec xmlns:hs="http://www.hancom.co.kr/hwpml/2011/section" xmlns:hp="http://www.hancom.co.kr/hwpml/2011/paragraph"><hp:p><hp:run><hp:t>"#,
            ),
            ZipForm::Xlsx => (
                "xl/worksheets/sheet1.xml",
                r#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>"#,
            ),
        }
    }

    /// The other parts a reader needs to recognise the package.
    fn scaffolding(self) -> Vec<(&'static str, &'static [u8])> {
        match self {
            ZipForm::Docx | ZipForm::Hwpx => Vec::new(),
            ZipForm::Xlsx => vec![
                (
                    "xl/workbook.xml",
                    br#"<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
                ),
                (
                    "xl/_rels/workbook.xml.rels",
                    br#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
                ),
            ],
        }
    }

    /// A package like `entries` plus the scaffolding, all stored.
    fn package(self, main: &[u8]) -> Vec<u8> {
        let mut entries = self.scaffolding();
        entries.push((self.main_part().0, main));
        zip_stored(&entries)
    }
}

/// A zip bomb posing as `form`: its main part inflates to `mib` MiB (spaces inside a text
/// element) from a few kB. The entry states its true size; its CRC is never reached.
pub fn zip_bomb(form: ZipForm, mib: usize) -> Vec<u8> {
    let (name, prefix) = form.main_part();
    let data = deflate_bomb(prefix.as_bytes(), mib);
    let size = u32::try_from(prefix.len() + (mib << 20)).unwrap_or(u32::MAX);
    let mut entries: Vec<(&str, u16, &[u8], u32, u32)> =
        form.scaffolding().into_iter().map(|(n, d)| (n, 0, d, d.len() as u32, crc32(d))).collect();
    entries.push((name, 8, &data, size, 0));
    zip_raw(&entries)
}

/// `form` whose main part declares a billion-laughs entity (ten levels of ten) and uses it.
pub fn entity_bomb(form: ZipForm) -> Vec<u8> {
    let (_, prefix) = form.main_part();
    let mut dtd = String::from("<!DOCTYPE lolz [<!ENTITY lol0 \"lol\">");
    for level in 1..10 {
        let _ = write!(dtd, "<!ENTITY lol{level} \"{}\">", format!("&lol{};", level - 1).repeat(10));
    }
    dtd.push(']');
    dtd.push('>');
    let body = prefix.replacen("?>", &format!("?>{dtd}"), 1) + "&lol9;" + closing(form);
    form.package(body.as_bytes())
}

fn closing(form: ZipForm) -> &'static str {
    match form {
        ZipForm::Docx => "</w:t></w:r></w:p></w:body></w:document>",
        ZipForm::Hwpx => "</hp:t></hp:run></hp:p></hs:sec>",
        ZipForm::Xlsx => "</t></is></c></row></sheetData></worksheet>",
    }
}

/// An XLSX sheet with two cells at opposite corners of the largest range (A1 and XFD1048576),
/// and a dimension that says so: a reader that makes a dense grid makes 17 billion cells.
pub fn xlsx_opposite_corners() -> Vec<u8> {
    let sheet = r#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:XFD1048576"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>성명</t></is></c></row><row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>모서리</t></is></c></row></sheetData></worksheet>"#;
    ZipForm::Xlsx.package(sheet.as_bytes())
}

/// An XLSX whose shared strings are `count` empty items (`<si/>`, five bytes each).
pub fn xlsx_shared_strings_flood(count: usize) -> Vec<u8> {
    let strings = format!(
        r#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{}</sst>"#,
        "<si/>".repeat(count)
    );
    let sheet =
        r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>"#;
    let mut entries = ZipForm::Xlsx.scaffolding();
    entries.push(("xl/worksheets/sheet1.xml", sheet.as_bytes()));
    let data = deflate_all(strings.as_bytes());
    let mut rows: Vec<(&str, u16, &[u8], u32, u32)> =
        entries.into_iter().map(|(n, d)| (n, 0, d, d.len() as u32, crc32(d))).collect();
    rows.push(("xl/sharedStrings.xml", 8, &data, strings.len() as u32, crc32(strings.as_bytes())));
    zip_raw(&rows)
}

/// A sheet of `rows` empty rows, each with `cells` empty cells: many small things to keep.
pub fn xlsx_empty_cells(rows: usize, cells: usize) -> Vec<u8> {
    let row = format!("<row>{}</row>", "<c/>".repeat(cells));
    let sheet = format!(
        r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{}</sheetData></worksheet>"#,
        row.repeat(rows)
    );
    let mut rows_: Vec<(&str, u16, &[u8], u32, u32)> =
        ZipForm::Xlsx.scaffolding().into_iter().map(|(n, d)| (n, 0, d, d.len() as u32, crc32(d))).collect();
    let data = deflate_all(sheet.as_bytes());
    rows_.push(("xl/worksheets/sheet1.xml", 8, &data, sheet.len() as u32, crc32(sheet.as_bytes())));
    zip_raw(&rows_)
}

fn deflate_all(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), Compression::fast());
    std::io::Write::write_all(&mut encoder, data).unwrap_or_default();
    encoder.finish().unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// HWP 5
// ---------------------------------------------------------------------------------------------

/// An HWP 5 file (OLE compound file) with the given (raw-deflated) `BodyText/Section0`.
fn hwp_file(section: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut cfb = cfb::CompoundFile::create(std::io::Cursor::new(Vec::new())).expect("an in-memory compound file");
    let mut header = vec![0u8; 256];
    header[..17].copy_from_slice(b"HWP Document File");
    header[32..36].copy_from_slice(&0x0501_0100u32.to_le_bytes());
    header[36..40].copy_from_slice(&1u32.to_le_bytes()); // compressed
    let write = |cfb: &mut cfb::CompoundFile<_>, path: &str, data: &[u8]| {
        cfb.create_stream(path).and_then(|mut s| s.write_all(data)).expect("an in-memory stream");
    };
    write(&mut cfb, "/FileHeader", &header);
    write(&mut cfb, "/DocInfo", &[0; 16]);
    cfb.create_storage("/BodyText").expect("an in-memory storage");
    write(&mut cfb, "/BodyText/Section0", section);
    cfb.flush().expect("an in-memory flush");
    cfb.into_inner().into_inner()
}

/// HWP files that declare sizes they do not have: a section whose records claim 4 GiB each
/// (the extended size field), a section that inflates to `mib` MiB, and a compound file whose
/// directory says the section stream is 4 GiB long.
pub fn hwp_huge_sizes(mib: usize) -> Vec<Vec<u8>> {
    let mut records = Vec::new();
    for _ in 0..1000 {
        records.extend_from_slice(&(67u32 | 0xFFF << 20).to_le_bytes());
        records.extend_from_slice(&u32::MAX.to_le_bytes());
        records.extend_from_slice(&[0x41, 0]);
    }
    let lying_records = hwp_file(&deflate_all(&records));
    let inflating = hwp_file(&deflate_bomb(&[], mib));
    let mut lying_directory = hwp_file(&deflate_all(&records));
    // Every directory entry's stream size (offset 120 of its 128 bytes) set to 4 GiB - 1; the
    // directory is found by its entry names (UTF-16LE), so no layout is assumed.
    let name: Vec<u8> = "Section0".encode_utf16().flat_map(u16::to_le_bytes).collect();
    if let Some(at) = lying_directory.windows(name.len()).position(|w| w == name.as_slice()) {
        if let Some(size) = lying_directory.get_mut(at + 120..at + 124) {
            size.copy_from_slice(&u32::MAX.to_le_bytes());
        }
    }
    vec![lying_records, inflating, lying_directory]
}

/// Not hostile, only large: an application (Korean subject in encoded words) with one
/// attachment of `bytes` random-looking bytes, as big as the message limit allows.
pub fn largest_ordinary_application(bytes: usize) -> Vec<u8> {
    let mut payload = Vec::with_capacity(bytes);
    let mut x: u32 = 0x9e37_79b9;
    while payload.len() < bytes {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        payload.extend_from_slice(&x.to_le_bytes());
    }
    payload.truncate(bytes);
    let mut raw = String::from(
        "From: =?UTF-8?B?6rmA66+87KSA?= <applicant@large.example>\r\nTo: smebridge@kaist.ac.kr\r\n\
         Subject: =?UTF-8?B?7JuM7YGs7IiNIOywuOqwgCDsi6Dssq3tlanri4jri6Q=?=\r\nMessage-ID: <large@large.example>\r\n\
         Date: Wed, 16 Nov 2022 10:00:00 +0900\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"l\"\r\n\r\n\
         --l\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n성명: 김민준\r\n소속: 한빛테크\r\n연락처: 010-1234-5678\r\n\
         --l\r\nContent-Type: application/octet-stream; name=\"scan.bin\"\r\nContent-Disposition: attachment; filename=\"scan.bin\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n",
    );
    raw.push_str(&base64_lines(&payload));
    raw.push_str("--l--\r\n");
    raw.into_bytes()
}
