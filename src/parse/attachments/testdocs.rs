//! Small real documents for the unit tests, built in code (DOCX, HWPX, XLSX, HWP 5, PDF, TNEF),
//! the committed fixtures written by other tools (`tests/fixtures/attachments/`), and the
//! assertions the format tests share.

use std::io::{Cursor, Write};

use super::hwp::{
    CTRL_TABLE, HWPTAG_CTRL_HEADER, HWPTAG_LIST_HEADER, HWPTAG_PARA_TEXT, HWPTAG_TABLE, HWP_COMPRESSED, HWP_SIGNATURE,
};
use super::tnef::{LVL_ATTACHMENT, LVL_MESSAGE, PR_ATTACH_LONG_FILENAME, PT_UNICODE, TNEF_SIGNATURE};
use super::{extract_text, FormKind, Limits};
use crate::parse::applicant::extract_fields;

pub(super) const FIXTURE_DOCX: &[u8] = include_bytes!("../../../tests/fixtures/attachments/application-form.docx");
/// LibreOffice 7.4 (HTML → DOCX → PDF): TrueType subsets, "WinAnsiEncoding" + ToUnicode.
pub(super) const FIXTURE_PDF: &[u8] = include_bytes!("../../../tests/fixtures/attachments/application-form.pdf");
/// fpdf2 with NanumGothic: a CID font, Identity-H + ToUnicode, table with borders.
pub(super) const FIXTURE_PDF_CID: &[u8] =
    include_bytes!("../../../tests/fixtures/attachments/application-form-cid.pdf");
pub(super) const FIXTURE_XLSX: &[u8] = include_bytes!("../../../tests/fixtures/attachments/application-form.xlsx");
/// Written by hwp-converter-ai 0.2.0 (MIT) from Markdown, on its bundled Hancom template;
/// reduced to FileHeader, DocInfo and BodyText/Section0.
pub(super) const FIXTURE_HWP: &[u8] = include_bytes!("../../../tests/fixtures/attachments/application-form.hwp");
/// Written by the same tool; author and dates removed from Contents/content.hpf.
pub(super) const FIXTURE_HWPX: &[u8] = include_bytes!("../../../tests/fixtures/attachments/application-form.hwpx");

pub(super) fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        writer.start_file(*name, options).unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

pub(super) const W: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main""#;

pub(super) fn docx_cell(text: &str) -> String {
    format!(r#"<w:tc><w:tcPr><w:tcW w:w="2000" w:type="dxa"/></w:tcPr><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:tc>"#)
}

pub(super) fn docx_row(cells: &[&str]) -> String {
    format!("<w:tr>{}</w:tr>", cells.iter().map(|c| docx_cell(c)).collect::<String>())
}

pub(super) fn docx_form() -> Vec<u8> {
    let body = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document {W}><w:body>
<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:t xml:space="preserve">워크숍 참가 신청서 </w:t></w:r><w:r><w:t>(R&amp;D 센터)</w:t></w:r></w:p>
<w:tbl><w:tblPr/><w:tblGrid><w:gridCol w:w="2000"/></w:tblGrid>
{}
{}
{}
<w:tr><w:tc><w:p><w:r><w:t>참석인원</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>2</w:t></w:r><w:r><w:br/><w:t>명</w:t></w:r></w:p></w:tc></w:tr>
</w:tbl>
<w:p><w:r><w:t>비고</w:t><w:tab/><w:t>주차 필요</w:t></w:r></w:p>
<w:p><w:r><w:delText>지운 글</w:delText><w:t>&#xAC10;사합니다.</w:t></w:r></w:p>
<w:sectPr/></w:body></w:document>"#,
        docx_row(&["성명", "김민준", "직위", "책임연구원"]),
        docx_row(&["소속", "(주)한빛테크"]),
        docx_row(&["연락처", "010-1234-5678", "이메일", "minjun.kim@hanbit-tech.example"]),
    );
    zip_of(&[
        (
            "[Content_Types].xml",
            br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#,
        ),
        ("word/document.xml", body.as_bytes()),
    ])
}

pub(super) fn hwpx_cell(text: &str) -> String {
    format!(
        r#"<hp:tc><hp:subList><hp:p><hp:run><hp:t>{text}</hp:t></hp:run><hp:linesegarray><hp:lineseg textpos="0"/></hp:linesegarray></hp:p></hp:subList><hp:cellAddr colAddr="0" rowAddr="0"/></hp:tc>"#
    )
}

pub(super) fn hwpx_form() -> Vec<u8> {
    let row = |cells: &[&str]| format!("<hp:tr>{}</hp:tr>", cells.iter().map(|c| hwpx_cell(c)).collect::<String>());
    let section = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<hs:sec xmlns:hs="http://www.hancom.co.kr/hwpml/2011/section" xmlns:hp="http://www.hancom.co.kr/hwpml/2011/paragraph">
<hp:p><hp:run><hp:secPr><hp:grid/></hp:secPr><hp:t>참가 신청서</hp:t></hp:run></hp:p>
<hp:p><hp:run><hp:tbl rowCnt="4" colCnt="4">{}{}{}{}</hp:tbl><hp:t/></hp:run></hp:p>
<hp:p><hp:run><hp:t>위와 같이 신청합니다.<hp:lineBreak/>2025년 5월 1일</hp:t></hp:run></hp:p>
</hs:sec>"#,
        row(&["성 명", "김민준", "직 위", "책임연구원"]),
        row(&["소 속", "(주)한빛테크", "", ""]),
        row(&["연락처", "010-1234-5678", "참석인원", "2명"]),
        row(&["이메일", "minjun.kim@hanbit-tech.example"]),
    );
    let section1 = r#"<hs:sec xmlns:hs="x" xmlns:hp="y"><hp:p><hp:run><hp:t>둘째 구역</hp:t></hp:run></hp:p></hs:sec>"#;
    zip_of(&[
        ("mimetype", b"application/hwp+zip"),
        ("Contents/content.hpf", b"<opf:package/>"),
        ("Contents/section1.xml", section1.as_bytes()),
        ("Contents/section0.xml", section.as_bytes()),
    ])
}

pub(super) fn xlsx_form() -> Vec<u8> {
    let workbook = r#"<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="신청서" sheetId="1" r:id="rId1"/><sheet name="메모" sheetId="2" r:id="rId2"/></sheets></workbook>"#;
    let rels = br#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet2.xml"/><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/sheet1.xml"/></Relationships>"#;
    let shared = r#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>성명</t></si><si><t>김민준</t><rPh sb="0" eb="1"><t>キム</t></rPh></si><si><r><t>소</t></r><r><t>속</t></r></si><si><t>(주)한빛테크</t></si><si><t>연락처</t></si><si><t>참석인원</t></si></sst>"#;
    let sheet1 = r#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>워크숍 참가 신청서</t></is></c></row>
<row r="3"><c r="A3" t="s"><v>0</v></c><c r="C3" t="s"><v>1</v></c></row>
<row r="4"><c r="A4" t="s"><v>2</v></c><c r="B4" t="s"><v>3</v></c></row>
<row r="5"><c r="A5" t="s"><v>4</v></c><c r="B5" t="str"><v>010-1234-5678</v></c></row>
<row r="6"><c r="A6" t="s"><v>5</v></c><c r="B6"><v>2</v></c><c r="C6" t="b"><v>1</v></c></row>
</sheetData></worksheet>"#;
    let sheet2 = r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>메모 시트</t></is></c></row></sheetData></worksheet>"#;
    zip_of(&[
        ("xl/workbook.xml", workbook.as_bytes()),
        ("xl/_rels/workbook.xml.rels", rels),
        ("xl/sharedStrings.xml", shared.as_bytes()),
        ("xl/worksheets/sheet2.xml", sheet2.as_bytes()),
        ("xl/worksheets/sheet1.xml", sheet1.as_bytes()),
    ])
}

/// One HWP record: header (tag, level, size) and data.
pub(super) fn record(tag: u16, level: u16, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    if data.len() < 0xFFF {
        out.extend_from_slice(&(u32::from(tag) | u32::from(level) << 10 | (data.len() as u32) << 20).to_le_bytes());
    } else {
        out.extend_from_slice(&(u32::from(tag) | u32::from(level) << 10 | 0xFFF << 20).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(data);
    out
}

pub(super) fn utf16(text: &str) -> Vec<u16> {
    text.encode_utf16().collect()
}

pub(super) fn le(units: &[u16]) -> Vec<u8> {
    units.iter().flat_map(|u| u.to_le_bytes()).collect()
}

/// A paragraph at `level`: PARA_HEADER, then PARA_TEXT ending with the paragraph mark.
pub(super) fn hwp_para(level: u16, units: &[u16]) -> Vec<u8> {
    let mut text = units.to_vec();
    text.push(13);
    let mut out = record(66, level, &(text.len() as u32).to_le_bytes());
    out.extend(record(HWPTAG_PARA_TEXT, level + 1, &le(&text)));
    out
}

/// An extended control character (8 code units) with a control id.
pub(super) fn hwp_control(code: u16, id: &[u8; 4]) -> Vec<u16> {
    let id = u32::from_be_bytes(*id);
    vec![code, (id & 0xFFFF) as u16, (id >> 16) as u16, 0, 0, 0, 0, code]
}

/// A table paragraph at level 0: the control in the text, CTRL_HEADER, TABLE, and per cell a
/// LIST_HEADER and one paragraph.
pub(super) fn hwp_table(rows: &[&[&str]]) -> Vec<u8> {
    let mut out = record(66, 0, &[0; 4]);
    out.extend(record(HWPTAG_PARA_TEXT, 1, &le(&[hwp_control(11, b"tbl "), vec![13]].concat())));
    out.extend(record(HWPTAG_CTRL_HEADER, 1, &CTRL_TABLE.to_le_bytes()));
    let mut table = vec![0u8; 4];
    table.extend_from_slice(&(rows.len() as u16).to_le_bytes());
    table.extend_from_slice(&4u16.to_le_bytes());
    out.extend(record(HWPTAG_TABLE, 2, &table));
    for (r, row) in rows.iter().enumerate() {
        for (c, text) in row.iter().enumerate() {
            let mut list = Vec::new();
            list.extend_from_slice(&1u16.to_le_bytes()); // paragraphs
            list.extend_from_slice(&[0; 2]);
            list.extend_from_slice(&0u32.to_le_bytes()); // properties
            list.extend_from_slice(&(c as u16).to_le_bytes());
            list.extend_from_slice(&(r as u16).to_le_bytes());
            list.extend_from_slice(&[1, 0, 1, 0]); // spans
            list.extend_from_slice(&[0; 22]);
            out.extend(record(HWPTAG_LIST_HEADER, 2, &list));
            out.extend(hwp_para(2, &utf16(text)));
        }
    }
    out
}

pub(super) fn hwp_section() -> Vec<u8> {
    let mut title = utf16("참가");
    title.extend([9, 0, 0, 0, 0, 0, 0, 9]); // a tab
    title.extend(utf16("신청서 "));
    title.extend(hwp_control(2, b"secd")); // section definition control
    title.extend(utf16("𝐀")); // outside the BMP: a surrogate pair
    let mut section = hwp_para(0, &title);
    section.extend(hwp_table(&[
        &["성명", "김민준", "직위", "책임연구원"],
        &["소속", "(주)한빛테크", "", ""],
        &["연락처", "010-1234-5678", "참석인원", "2명"],
    ]));
    let mut closing = utf16("위와 같이 신청합니다.");
    closing.push(10);
    closing.extend(utf16("2025년 5월 1일"));
    section.extend(hwp_para(0, &closing));
    section
}

pub(super) fn hwp_file(properties: u32, section: &[u8]) -> Vec<u8> {
    let mut cfb = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
    let mut header = vec![0u8; 256];
    header[..HWP_SIGNATURE.len()].copy_from_slice(HWP_SIGNATURE);
    header[32..36].copy_from_slice(&0x0501_0100u32.to_le_bytes());
    header[36..40].copy_from_slice(&properties.to_le_bytes());
    cfb.create_stream("/FileHeader").unwrap().write_all(&header).unwrap();
    cfb.create_stream("/DocInfo").unwrap().write_all(&[0; 16]).unwrap();
    cfb.create_storage("/BodyText").unwrap();
    let body = if properties & HWP_COMPRESSED != 0 {
        let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(section).unwrap();
        encoder.finish().unwrap()
    } else {
        section.to_vec()
    };
    cfb.create_stream("/BodyText/Section0").unwrap().write_all(&body).unwrap();
    cfb.flush().unwrap();
    cfb.into_inner().into_inner()
}

/// A one-page PDF with Helvetica text shown at `(x, y, text)`, with a correct xref.
pub(super) fn pdf_with(lines: &[(f64, f64, &str)], graphics: &str, extra_trailer: &str) -> Vec<u8> {
    let mut content = format!("{graphics}\nBT /F1 12 Tf\n");
    for (x, y, text) in lines {
        content.push_str(&format!("1 0 0 1 {x} {y} Tm ({text}) Tj\n"));
    }
    content.push_str("ET\n");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>".to_owned(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_owned(),
        pdf_stream("", &content),
    ];
    pdf_of(&objects, extra_trailer)
}

pub(super) fn pdf_stream(dict: &str, content: &str) -> String {
    format!("<< /Length {} {dict} >>\nstream\n{content}endstream", content.len())
}

/// A PDF of the given objects (numbered from 1; the first is the catalog).
pub(super) fn pdf_of(objects: &[String], extra_trailer: &str) -> Vec<u8> {
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R {extra_trailer}>>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1)
            .as_bytes(),
    );
    pdf
}

pub(super) fn pdf_form() -> Vec<u8> {
    pdf_with(
        &[
            (72.0, 760.0, "Workshop registration form"),
            (72.0, 720.0, "Name"),
            (200.0, 720.0, "Jane Doe"),
            (72.0, 700.0, "Company"),
            (200.0, 700.0, "Acme Robotics"),
            (72.0, 680.0, "Phone"),
            (200.0, 680.0, "010-1234-5678"),
        ],
        "",
        "",
    )
}

pub(super) fn tnef_attr(out: &mut Vec<u8>, level: u8, tag: u32, data: &[u8]) {
    out.push(level);
    out.extend_from_slice(&tag.to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    let checksum = data.iter().fold(0u16, |acc, &b| acc.wrapping_add(u16::from(b)));
    out.extend_from_slice(&checksum.to_le_bytes());
}

pub(super) fn mapi_unicode(id: u16, text: &str) -> Vec<u8> {
    let mut value: Vec<u8> = text.encode_utf16().chain([0]).flat_map(u16::to_le_bytes).collect();
    let len = value.len() as u32;
    value.resize(value.len().div_ceil(4) * 4, 0);
    let mut out = Vec::new();
    out.extend_from_slice(&PT_UNICODE.to_le_bytes());
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend(value);
    out
}

pub(super) fn tnef_file(form: &[u8]) -> Vec<u8> {
    let mut out = TNEF_SIGNATURE.to_le_bytes().to_vec();
    out.extend_from_slice(&0x1234u16.to_le_bytes());
    tnef_attr(&mut out, LVL_MESSAGE, 0x0008_9006, &0x0001_0000u32.to_le_bytes()); // attTnefVersion
    let mut codepage = 949u32.to_le_bytes().to_vec();
    codepage.extend_from_slice(&0u32.to_le_bytes());
    tnef_attr(&mut out, LVL_MESSAGE, 0x0006_9007, &codepage);
    let (body, _, _) = encoding_rs::EUC_KR.encode("성명: 김민준\r\n첨부 파일을 확인해 주세요.\0");
    tnef_attr(&mut out, LVL_MESSAGE, 0x0002_800C, &body);
    // First attachment: title in CP949, long name among the MAPI properties.
    tnef_attr(&mut out, LVL_ATTACHMENT, 0x0006_9002, &[1, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0]);
    let (title, _, _) = encoding_rs::EUC_KR.encode("신청서~1.DOC\0");
    tnef_attr(&mut out, LVL_ATTACHMENT, 0x0001_8010, &title);
    tnef_attr(&mut out, LVL_ATTACHMENT, 0x0006_800F, form);
    let mut props = 3u32.to_le_bytes().to_vec();
    props.extend_from_slice(&0x0003u16.to_le_bytes()); // PT_LONG PR_ATTACH_METHOD
    props.extend_from_slice(&0x3705u16.to_le_bytes());
    props.extend_from_slice(&1u32.to_le_bytes());
    props.extend(mapi_unicode(PR_ATTACH_LONG_FILENAME, "참가신청서_김민준.docx"));
    props.extend(mapi_unicode(0x370E, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"));
    tnef_attr(&mut out, LVL_ATTACHMENT, 0x0006_9005, &props);
    // Second attachment: a title only.
    tnef_attr(&mut out, LVL_ATTACHMENT, 0x0006_9002, &[1, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0]);
    tnef_attr(&mut out, LVL_ATTACHMENT, 0x0001_8010, b"C:\\temp\\memo.txt\0");
    tnef_attr(&mut out, LVL_ATTACHMENT, 0x0006_800F, "메모".as_bytes());
    out
}

pub(super) fn text_of(kind: FormKind, bytes: &[u8]) -> String {
    extract_text(&kind, bytes, &Limits::default()).unwrap_or_else(|e| panic!("{kind:?}: {e}"))
}

pub(super) fn assert_korean_form(text: &str) {
    let fields = extract_fields(text);
    assert_eq!(fields.name.as_deref(), Some("김민준"), "{text}");
    assert_eq!(fields.organization.as_deref(), Some("(주)한빛테크"), "{text}");
    assert_eq!(fields.position.as_deref(), Some("책임연구원"), "{text}");
    assert_eq!(fields.phone.as_deref(), Some("010-1234-5678"), "{text}");
}

pub(super) fn small_limits() -> Limits {
    Limits { max_decompressed_bytes: 1024 * 1024, ..Limits::default() }
}

pub(super) fn pdf_with_fields() -> Vec<u8> {
    let font = "/Font << /F1 4 0 R >>";
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [7 0 R 8 0 R] >> >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 /Resources << /Font << /F1 4 0 R >> /XObject << /Fm1 6 0 R >> >> >>"
            .to_owned(),
        // Resources inherited from the page tree; annotations by reference.
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 5 0 R /Annots [7 0 R 8 0 R 10 0 R] >>".to_owned(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
        pdf_stream("", "BT /F1 12 Tf 72 720 Td (Name) Tj ET q 1 0 0 1 72 700 cm /Fm1 Do Q"),
        // A form XObject with its own resources, drawn where the page puts it.
        pdf_stream(&format!("/Type /XObject /Subtype /Form /BBox [0 0 100 20] /Resources << {font} >>"), "BT /F1 12 Tf 0 0 Td (Company) Tj ET"),
        // A filled-in text field: its appearance stream, placed in its rectangle.
        "<< /Type /Annot /Subtype /Widget /FT /Tx /T (name) /V (Jane Doe) /Rect [200 715 350 735] /AP << /N 9 0 R >> >>".to_owned(),
        // A field filled in without an appearance (NeedAppearances): its value.
        "<< /Type /Annot /Subtype /Widget /FT /Tx /T (company) /V (Acme Robotics) /DA (/Helv 12 Tf 0 g) /Rect [200 695 350 715] >>".to_owned(),
        pdf_stream(&format!("/Type /XObject /Subtype /Form /BBox [0 0 150 20] /Resources << {font} >>"), "/Tx BMC BT /F1 12 Tf 2 5 Td (Jane Doe) Tj ET EMC"),
        // A hidden annotation is not read.
        "<< /Type /Annot /Subtype /FreeText /F 2 /Contents (hidden) /Rect [72 600 200 620] >>".to_owned(),
    ];
    pdf_of(&objects, "")
}
