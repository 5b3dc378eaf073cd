//! TEMPORARY stand-in; replaced by the real extractor.
use serde::Serialize;
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Fields {
    pub name: Option<String>,
    pub organization: Option<String>,
    pub position: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub attendees: Option<u32>,
}
pub fn extract_fields(text: &str) -> Fields {
    let mut f = Fields::default();
    for line in text.lines() {
        if let Some((k, v)) = line.split_once(':') {
            let v = Some(v.trim().to_string()).filter(|v| !v.is_empty());
            match k.trim() {
                "성명" | "Name" => f.name = f.name.or(v),
                "소속" | "Company" => f.organization = f.organization.or(v),
                "직위" => f.position = f.position.or(v),
                "연락처" => f.phone = f.phone.or(v),
                _ => {}
            }
        }
    }
    f
}
