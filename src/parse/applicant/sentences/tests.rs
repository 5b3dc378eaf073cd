use super::*;
use crate::parse::applicant::labels::parse_line;

fn read(text: &str) -> Statements {
    let lines: Vec<&str> = text.lines().collect();
    let labelled: Vec<bool> = lines.iter().map(|l| !parse_line(l).is_empty()).collect();
    statements(&lines, &labelled)
}

fn value(found: Option<(String, usize)>) -> Option<String> {
    found.map(|(v, _)| v)
}

#[test]
fn a_phone_stated_in_a_sentence() {
    for (text, phone) in [
        ("휴대폰 번호가 010-5555-6666으로 바뀌었습니다.", "010-5555-6666"),
        ("휴대폰 번호가 바뀌어 알려드립니다: 010-5555-6666", "010-5555-6666"),
        ("제 연락처는 010.2222.3333입니다.", "010-2222-3333"),
        ("연락처를 010-1111-2222에서 010-3333-4444로 변경 부탁드립니다.", "010-3333-4444"),
        ("번호가 바뀌었어요 010 7777 8888", "010-7777-8888"),
        ("사무실 번호는 02-555-1234이고 제 휴대폰은 010-4444-5555입니다.", "010-4444-5555"),
        ("My new mobile number is +82 10 2345 6789.", "010-2345-6789"),
        ("Please change my phone number to 010-9876-5432.", "010-9876-5432"),
        ("핸드폰 번호 변경: 010-1111-2222 → 010-3333-4444", "010-3333-4444"),
        ("제 번호가 010-1111-2222 -> 010-3333-4444 로 바뀌었습니다.", "010-3333-4444"),
    ] {
        assert_eq!(value(read(text).phone), Some(phone.to_owned()), "{text}");
    }
}

#[test]
fn a_phone_after_the_sentence_that_announces_it() {
    let found = read("안녕하세요.\n휴대폰 번호가 바뀌어 알려드립니다.\n010-5555-6666\n감사합니다.");
    assert_eq!(found.phone, Some(("010-5555-6666".to_owned(), 2)));
    let found = read("My mobile number has changed. Please use +82 10 4321 8765 from now on.");
    assert_eq!(found.phone, Some(("010-4321-8765".to_owned(), 0)));
    let far = read("휴대폰 번호가 바뀌었습니다.\n\n\n\n주차는 02-555-1234로 문의하겠습니다.");
    assert_eq!(far.phone, None, "too far below, and a number for something else");
}

#[test]
fn numbers_that_are_not_the_applicants_phone() {
    for text in [
        "문의: 042-350-0000",
        "급한 용무는 02-555-0199로 연락 주시기 바랍니다.",
        "팩스 번호는 02-555-9999입니다.",
        "2022년 11월 18일 13:30에 뵙겠습니다.",
        "접수 번호 SME-0001 확인했습니다.",
        "회의실은 302호입니다.",
    ] {
        assert_eq!(read(text).phone, None, "{text}");
    }
}

#[test]
fn position_organization_and_name() {
    let found = read("직위가 과장에서 차장으로 변경되었습니다.");
    assert_eq!(value(found.position), Some("차장".to_owned()));
    assert_eq!(value(read("이번에 부장으로 승진했습니다.").position), Some("부장".to_owned()));
    assert_eq!(value(read("직급은 책임연구원입니다.").position), Some("책임연구원".to_owned()));
    assert_eq!(
        value(read("My title is now Chief Technology Officer.").position),
        Some("Chief Technology Officer".to_owned())
    );

    let found = read("소속이 한빛테크에서 (주)다온소재로 바뀌었습니다.");
    assert_eq!(value(found.organization), Some("(주)다온소재".to_owned()));
    let found = read("회사 합병으로 소속이 다온소재에서 (주)다온첨단소재로 바뀌었습니다.");
    assert_eq!(value(found.organization), Some("(주)다온첨단소재".to_owned()));
    assert_eq!(
        value(read("회사명이 주식회사 새벽정밀로 바뀌었습니다.").organization),
        Some("주식회사 새벽정밀".to_owned())
    );
    assert_eq!(value(read("지난달 미래로봇으로 이직했습니다.").organization), Some("미래로봇".to_owned()));
    assert_eq!(value(read("I have moved to Example Bio Inc.").organization), Some("Example Bio Inc.".to_owned()));
    assert_eq!(
        value(read("부서 이동으로 소속이 바뀌었습니다: 한빛테크 연구소").organization),
        Some("한빛테크 연구소".to_owned()),
        "a cause with 으로 is no value; the value after the colon is"
    );
    assert_eq!(value(read("인사 발령으로 직위가 팀장으로 바뀌었습니다.").position), Some("팀장".to_owned()));

    assert_eq!(value(read("이름을 김민중으로 정정 부탁드립니다.").name), Some("김민중".to_owned()));
    assert_eq!(value(read("제 이름은 김민중입니다.").name), Some("김민중".to_owned()));
    assert_eq!(value(read("성함이 잘못 적혀 있습니다. 김민준이 아니라 김민중입니다.").name), Some("김민중".to_owned()));
    assert_eq!(value(read("이름 표기 정정: 김민준 → 김민중").name), Some("김민중".to_owned()));
    assert_eq!(value(read("Please correct my name to Jane Roe.").name), Some("Jane Roe".to_owned()));
}

#[test]
fn what_is_no_value() {
    for text in [
        "직위는 추후 알려드리겠습니다.",
        "회사를 옮겼습니다.",
        "이름이 잘못된 것 같습니다.",
        "잘 받았습니다. 감사합니다.",
        "소속 변경 관련 문의드립니다.",
    ] {
        let found = read(text);
        assert_eq!((found.position, found.organization, found.name), (None, None, None), "{text}");
    }
}

#[test]
fn counts_exact_and_relative() {
    for (text, count) in [
        ("저 포함 세 명으로 해 주세요.", Count::Exactly(3)),
        ("참석 인원을 두 명으로 변경 부탁드립니다.", Count::Exactly(2)),
        ("한 명 더 가도 될까요?", Count::More(1)),
        ("두 명 추가 신청합니다.", Count::More(2)),
        ("동료 한 명은 불참하게 되었습니다.", Count::More(-1)),
        ("인원을 한 명 줄여 주세요.", Count::More(-1)),
        ("두 명이 참석하지 못하게 되었습니다.", Count::More(-2)),
        ("괜찮으시면 한 명 더 가도 될까요?", Count::More(1)),
        ("팀원과 같이 가겠습니다.", Count::Exactly(2)),
        ("동료 두 명과 함께 참석하겠습니다.", Count::Exactly(3)),
        ("저 혼자 참석합니다.", Count::Exactly(1)),
        ("둘이서 가겠습니다.", Count::Exactly(2)),
        ("저 외 이 명 참석합니다.", Count::Exactly(3)),
        ("One more person will join us.", Count::More(1)),
        ("Please make it 3 people.", Count::Exactly(3)),
        ("I will attend with a colleague.", Count::Exactly(2)),
        ("I'll bring a colleague.", Count::Exactly(2)),
        ("We will be 3 people.", Count::Exactly(3)),
        ("3명 -> 2명", Count::Exactly(2)),
        ("참석 인원이 2명에서 3명으로 늘었습니다.", Count::Exactly(3)),
    ] {
        assert_eq!(read(text).attendees.map(|(c, _)| c), Some(count), "{text}");
    }
    assert_eq!(
        read("저 포함 두 명입니다.\n그리고 한 명 더 가도 될까요?").attendees.map(|(c, _)| c),
        Some(Count::Exactly(3)),
        "a change after an exact count adds to it"
    );
    assert_eq!(
        read("팀원 한 명이 더 가고 싶어 합니다. 한 명 더 가도 될까요?").attendees.map(|(c, _)| c),
        Some(Count::More(1)),
        "the same change said twice is one change"
    );
}

#[test]
fn sentences_to_someone_else_state_nothing() {
    for text in ["팀원과 같이 가시죠.", "관심 있으시면 두 명 신청해 보세요.", "다음에는 세 명이 같이 가보세요."]
    {
        assert_eq!(read(text), Statements::default(), "{text}");
    }
}

#[test]
fn counts_that_are_not_attendees() {
    for text in [
        "2명의 연구원이 있습니다.",
        "명단을 보내드립니다.",
        "이 명단에 있는 분들이 참석합니다.",
        "이 분이 참석합니다.",
        "팀원들과 같이 가겠습니다.",
        "아래와 같이 신청합니다.",
    ] {
        assert_eq!(read(text).attendees, None, "{text}");
    }
}

#[test]
fn label_lines_are_left_to_the_labels() {
    assert_eq!(read("연락처: 010-1234-5678").phone, None);
}

/// Whether a sentence, read word by word without the prefilter, states anything.
fn states_something(text: &str) -> bool {
    let sentence = Sentence::new(text);
    sentence.phone(true).is_some()
        || sentence.announces_phone()
        || sentence.position().is_some()
        || sentence.organization().is_some()
        || sentence.name().is_some()
        || sentence.count().is_some()
}

#[test]
fn the_prefilter_skips_only_sentences_that_state_nothing() {
    let stating = [
        "휴대폰 번호가 010-5555-6666으로 바뀌었습니다.",
        "휴대폰 번호가 바뀌어 알려드립니다.",
        "My new mobile number is +82 10 2345 6789.",
        "직위가 과장에서 차장으로 변경되었습니다.",
        "이번에 부장으로 승진했습니다.",
        "I was promoted to Chief Technology Officer.",
        "소속이 한빛테크에서 (주)다온소재로 바뀌었습니다.",
        "지난달 미래로봇으로 이직했습니다.",
        "지난달 미래로봇으로 전직했습니다.",
        "I have moved to Example Bio Inc.",
        "김민준이 아니라 김민중입니다.",
        "김민준 ⇒ 김민중",
        "Please correct my name to Jane Roe.",
        "저 포함 세 명으로 해 주세요.",
        "한 명 더 가도 될까요?",
        "둘이서 가겠습니다.",
        "저 외 이 명 참석합니다.",
        "팀원과 같이 가겠습니다.",
        "저 혼자 참석합니다.",
        "Just me attending.",
        "One more person will join us.",
        "Six people will attend.",
        "Twelve people will attend.",
        "I will attend with a colleague.",
        "I'll bring a colleague.",
        "We will be 3 people.",
        "Please make it 3 people.",
        "３명 참석합니다.",
    ];
    for text in stating {
        assert!(states_something(text), "the grammar reads something in {text:?}");
        assert!(may_state(text), "the prefilter lets {text:?} through");
    }
    for text in ["감사합니다.", "잘 받았습니다.", "Thank you very much!", "좋은 하루 되세요.", "수고하세요."]
    {
        assert!(!states_something(text), "{text:?}");
        assert!(!may_state(text), "{text:?} is skipped");
    }
}

#[test]
fn sentences_split_at_their_ends_not_inside_names() {
    assert_eq!(split_sentences("Example Co., Ltd. is mine. Thanks!"), ["Example Co., Ltd. is mine.", "Thanks!"]);
    assert_eq!(
        split_sentences("번호는 010.1234.5678입니다. 감사합니다."),
        ["번호는 010.1234.5678입니다.", "감사합니다."]
    );
}
