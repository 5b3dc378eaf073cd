//! TNEF (`winmail.dat`, MS-OXTNEF): a small reader of the attributes and of the attachments'
//! MAPI properties, giving each attached file with its long name ([`unwrap_tnef`]).

use super::ExtractError::{Broken, TooLarge};
use super::{u16_le, u32_le, ExtractError, Limits};

pub(super) const TNEF_SIGNATURE: u32 = 0x223E_9F78;

pub(super) const LVL_MESSAGE: u8 = 1;
pub(super) const LVL_ATTACHMENT: u8 = 2;
// Attribute ids (low 16 bits of the attribute tag).
const ATT_BODY: u32 = 0x800C;
const ATT_ATTACH_DATA: u32 = 0x800F;
const ATT_ATTACH_TITLE: u32 = 0x8010;
const ATT_MSG_PROPS: u32 = 0x9003;
const ATT_ATTACH_REND_DATA: u32 = 0x9002;
const ATT_ATTACHMENT: u32 = 0x9005;
const ATT_OEM_CODEPAGE: u32 = 0x9007;
// MAPI property ids and types.
const PR_BODY: u16 = 0x1000;
const PR_ATTACH_DATA_BIN: u16 = 0x3701;
const PR_ATTACH_FILENAME: u16 = 0x3704;
pub(super) const PR_ATTACH_LONG_FILENAME: u16 = 0x3707;
const PR_DISPLAY_NAME: u16 = 0x3001;
const PT_STRING8: u16 = 0x001E;
pub(super) const PT_UNICODE: u16 = 0x001F;
const PT_BINARY: u16 = 0x0102;
const MV_FLAG: u16 = 0x1000;

#[derive(Default)]
struct TnefAttachment {
    title: Option<String>,
    long_name: Option<String>,
    data: Option<Vec<u8>>,
}

#[derive(Default)]
struct Tnef {
    attachments: Vec<TnefAttachment>,
    body: Option<String>,
}

/// The files inside an Outlook TNEF attachment (`winmail.dat`, `application/ms-tnef`), as
/// (file name, bytes). The name is the attachment's long file name when the TNEF carries one,
/// else its title; any path is removed. Attachments without data (embedded messages, OLE
/// objects) are left out.
pub fn unwrap_tnef(bytes: &[u8], limits: &Limits) -> Result<Vec<(String, Vec<u8>)>, ExtractError> {
    let tnef = read_tnef(bytes, limits)?;
    Ok(tnef
        .attachments
        .into_iter()
        .enumerate()
        .filter_map(|(i, a)| {
            let data = a.data?;
            let name = a.long_name.or(a.title).map(|n| base_name(&n)).filter(|n| !n.is_empty());
            Some((name.unwrap_or_else(|| format!("attachment-{}", i + 1)), data))
        })
        .collect())
}

/// The plain-text body of a TNEF message, when it carries one (`attBody` or `PR_BODY`). Outlook
/// usually sends only an RTF body, which is not read here. (Nothing reads TNEF bodies yet: the
/// mail's own text body comes first; the unit tests keep the reader honest.)
#[cfg(test)]
#[must_use]
pub fn tnef_body(bytes: &[u8], limits: &Limits) -> Option<String> {
    read_tnef(bytes, limits).ok()?.body.filter(|b| !b.trim().is_empty())
}

fn base_name(name: &str) -> String {
    let name = name.trim_end_matches('\0');
    name.rsplit(['/', '\\']).next().unwrap_or(name).trim().to_owned()
}

fn read_tnef(bytes: &[u8], limits: &Limits) -> Result<Tnef, ExtractError> {
    if bytes.len() > limits.max_input_bytes {
        return Err(TooLarge);
    }
    if u32_le(bytes, 0) != Some(TNEF_SIGNATURE) {
        return Err(Broken("not a TNEF file".into()));
    }
    let mut tnef = Tnef::default();
    let mut codepage: &'static encoding_rs::Encoding = encoding_rs::WINDOWS_1252;
    let mut pos = 6; // signature, legacy key
    while pos < bytes.len() {
        let (Some(&level), Some(tag), Some(len)) = (bytes.get(pos), u32_le(bytes, pos + 1), u32_le(bytes, pos + 5))
        else {
            return Err(Broken("truncated TNEF attribute".into()));
        };
        let start = pos + 9;
        let data = start
            .checked_add(len as usize)
            .and_then(|end| bytes.get(start..end))
            .ok_or_else(|| Broken("truncated TNEF attribute".into()))?;
        pos = start + data.len() + 2; // checksum
        let id = tag & 0xFFFF;
        match (level, id) {
            (LVL_MESSAGE, ATT_OEM_CODEPAGE) => codepage = windows_codepage(u32_le(data, 0).unwrap_or(0)),
            (LVL_MESSAGE, ATT_BODY) => tnef.body = Some(decode_string8(data, codepage)),
            (LVL_MESSAGE, ATT_MSG_PROPS) => {
                for prop in mapi_properties(data, codepage) {
                    if let (PR_BODY, MapiValue::Text(text)) = (prop.id, prop.value) {
                        tnef.body.get_or_insert(text);
                    }
                }
            }
            (LVL_ATTACHMENT, ATT_ATTACH_REND_DATA) => {
                if tnef.attachments.len() >= limits.max_zip_entries {
                    return Err(TooLarge);
                }
                tnef.attachments.push(TnefAttachment::default());
            }
            (LVL_ATTACHMENT, _) => {
                if tnef.attachments.is_empty() {
                    tnef.attachments.push(TnefAttachment::default());
                }
                let Some(current) = tnef.attachments.last_mut() else {
                    continue;
                };
                match id {
                    ATT_ATTACH_TITLE => current.title = Some(decode_string8(data, codepage)),
                    ATT_ATTACH_DATA => current.data = Some(data.to_vec()),
                    ATT_ATTACHMENT => {
                        for prop in mapi_properties(data, codepage) {
                            match (prop.id, prop.value) {
                                (PR_ATTACH_LONG_FILENAME, MapiValue::Text(name)) => current.long_name = Some(name),
                                (PR_ATTACH_FILENAME | PR_DISPLAY_NAME, MapiValue::Text(name))
                                    if current.title.is_none() =>
                                {
                                    current.title = Some(name);
                                }
                                (PR_ATTACH_DATA_BIN, MapiValue::Binary(data)) if current.data.is_none() => {
                                    current.data = Some(data)
                                }
                                _ => {}
                            }
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    Ok(tnef)
}

fn windows_codepage(codepage: u32) -> &'static encoding_rs::Encoding {
    match codepage {
        949 | 51949 => encoding_rs::EUC_KR,
        932 => encoding_rs::SHIFT_JIS,
        936 => encoding_rs::GBK,
        950 => encoding_rs::BIG5,
        65001 => encoding_rs::UTF_8,
        1250..=1258 => encoding_rs::Encoding::for_label(format!("windows-{codepage}").as_bytes())
            .unwrap_or(encoding_rs::WINDOWS_1252),
        _ => encoding_rs::WINDOWS_1252,
    }
}

fn decode_string8(data: &[u8], codepage: &'static encoding_rs::Encoding) -> String {
    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    codepage.decode_without_bom_handling(&data[..end]).0.into_owned()
}

enum MapiValue {
    Text(String),
    Binary(Vec<u8>),
    Other,
}

struct MapiProperty {
    id: u16,
    value: MapiValue,
}

/// The properties of an `attMsgProps`/`attAttachment` block (MS-OXTNEF 2.1.3.4); reading stops
/// at the first property it cannot size.
fn mapi_properties(data: &[u8], codepage: &'static encoding_rs::Encoding) -> Vec<MapiProperty> {
    let mut out = Vec::new();
    let Some(count) = u32_le(data, 0) else {
        return out;
    };
    let mut pos = 4;
    let padded = |n: usize| n.div_ceil(4) * 4;
    for _ in 0..count.min(10_000) {
        let (Some(kind), Some(id)) = (u16_le(data, pos), u16_le(data, pos + 2)) else {
            break;
        };
        pos += 4;
        if id >= 0x8000 {
            // Named property: GUID, kind, then a number or a name.
            let Some(name_kind) = u32_le(data, pos + 16) else {
                break;
            };
            pos += 20;
            if name_kind == 0 {
                pos += 4;
            } else {
                let Some(len) = u32_le(data, pos) else { break };
                pos = pos.saturating_add(4).saturating_add(padded(len as usize));
            }
        }
        let multi = kind & MV_FLAG != 0;
        let base = kind & !MV_FLAG;
        let values = if multi || matches!(base, PT_STRING8 | PT_UNICODE | PT_BINARY | 0x000D) {
            let Some(n) = u32_le(data, pos) else { break };
            pos += 4;
            n
        } else {
            1
        };
        let fixed = match base {
            0x0002 | 0x0003 | 0x0004 | 0x000A | 0x000B => Some(4),
            0x0005 | 0x0006 | 0x0007 | 0x0014 | 0x0040 => Some(8),
            0x0048 => Some(16),
            PT_STRING8 | PT_UNICODE | PT_BINARY | 0x000D => None,
            _ => break,
        };
        let mut value = MapiValue::Other;
        for _ in 0..values.min(10_000) {
            match fixed {
                Some(size) => pos = pos.saturating_add(size),
                None => {
                    let Some(len) = u32_le(data, pos) else {
                        return out;
                    };
                    let start = pos + 4;
                    let Some(bytes) = start.checked_add(len as usize).and_then(|end| data.get(start..end)) else {
                        return out;
                    };
                    if matches!(value, MapiValue::Other) {
                        value = match base {
                            PT_STRING8 => MapiValue::Text(decode_string8(bytes, codepage)),
                            PT_UNICODE => MapiValue::Text(
                                encoding_rs::UTF_16LE
                                    .decode_without_bom_handling(bytes)
                                    .0
                                    .trim_end_matches('\0')
                                    .to_owned(),
                            ),
                            _ => MapiValue::Binary(bytes.to_vec()),
                        };
                    }
                    pos = start.saturating_add(padded(len as usize));
                }
            }
        }
        out.push(MapiProperty { id, value });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::attachments::testdocs::{assert_korean_form, docx_form, tnef_file};
    use crate::parse::attachments::{extract_text, kind_of, ExtractError, Limits};

    #[test]
    fn tnef_attachments_come_out_with_their_long_names() {
        let form = docx_form();
        let files = unwrap_tnef(&tnef_file(&form), &Limits::default()).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].0, "참가신청서_김민준.docx");
        assert_eq!(files[0].1, form);
        assert_eq!(files[1], ("memo.txt".to_owned(), "메모".as_bytes().to_vec()));
        // And the attachment reads like any other.
        let kind = kind_of(Some(&files[0].0), None, &files[0].1).unwrap();
        assert_korean_form(&extract_text(&kind, &files[0].1, &Limits::default()).unwrap());
        assert_eq!(
            tnef_body(&tnef_file(&form), &Limits::default()).as_deref(),
            Some("성명: 김민준\r\n첨부 파일을 확인해 주세요.")
        );
    }

    #[test]
    fn tnef_garbage_is_an_error() {
        assert!(matches!(unwrap_tnef(b"not tnef", &Limits::default()), Err(ExtractError::Broken(_))));
        let mut file = tnef_file(b"data");
        file.truncate(file.len() - 5);
        assert!(matches!(unwrap_tnef(&file, &Limits::default()), Err(ExtractError::Broken(_))));
    }
}
