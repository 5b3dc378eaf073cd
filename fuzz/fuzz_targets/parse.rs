//! Any bytes at all through `smebridge::parse::parse`: it must never panic, and what it returns
//! must hold the invariants the rest of smebridge relies on.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let inbound = smebridge::parse::parse(data, &smebridge::parse::sha256_hex(data), &smebridge::parse::InProcess);
    assert!(!inbound.message_id.is_empty());
    for header in [
        inbound.subject.as_deref(),
        inbound.from_name.as_deref(),
        inbound.forwarded_from_name.as_deref(),
    ]
    .into_iter()
    .flatten()
    {
        assert!(
            !header.chars().any(char::is_control),
            "control character in a header: {header:?}"
        );
    }
    assert!(!inbound.text.contains('\0'));
    if let Some(phone) = &inbound.fields.phone {
        assert!(phone.chars().all(|c| c.is_ascii_digit() || c == '-'), "phone {phone:?}");
    }
    assert!(inbound.fields.attendees.is_none_or(|n| (1..=50).contains(&n)));
});
