//! A count of attendees a mail states relative to the one recorded (`한 명 더 가도 될까요`, `한
//! 명은 불참합니다`): the new count.

/// Most attendees one application counts (as for a stated count).
const MAX: i64 = 50;

/// The count after `more` more (negative: fewer) than `recorded` (`None`: the applicant alone),
/// at least the applicant and at most `MAX` (50).
pub fn more_attendees(recorded: Option<u32>, more: i32) -> u32 {
    let total = (i64::from(recorded.unwrap_or(1)) + i64::from(more)).clamp(1, MAX);
    u32::try_from(total).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_or_fewer_than_recorded() {
        assert_eq!(more_attendees(Some(2), 1), 3);
        assert_eq!(more_attendees(None, 1), 2, "nothing recorded: the applicant alone");
        assert_eq!(more_attendees(Some(3), -1), 2);
        assert_eq!(more_attendees(Some(1), -1), 1, "never fewer than the applicant");
        assert_eq!(more_attendees(Some(49), 5), 50);
    }
}
