//! What an unlabelled piece of text looks like: a person's name, a job title, an organization.
//!
//! Used where the applicant wrote no labels: signatures (`오세린 드림`, `하늘소프트 | 마케팅팀
//! 과장`), display names (`김서준/책임연구원/한빛테크`), lists of attendees. The word lists are
//! deliberately plain data; each test is conservative, so an unknown word is "unknown" rather
//! than a wrong guess.

use crate::parse::message::is_hangul;

/// Korean surnames, two-syllable ones first (so `남궁민` is 남궁 + 민).
const SURNAMES: &[&str] = &[
    "남궁", "황보", "제갈", "선우", "독고", "사공", "서문", "동방", "김", "이", "박", "최", "정", "강", "조", "윤",
    "장", "임", "한", "오", "서", "신", "권", "황", "안", "송", "류", "유", "전", "홍", "고", "문", "양", "손", "배",
    "백", "허", "남", "심", "노", "하", "곽", "성", "차", "주", "우", "구", "민", "나", "진", "지", "엄", "채", "원",
    "천", "방", "공", "현", "함", "변", "염", "여", "추", "도", "소", "석", "선", "설", "마", "길", "연", "위", "표",
    "명", "기", "반", "라", "왕", "금", "옥", "육", "인", "맹", "제", "모", "탁", "국", "어", "은", "편", "용", "예",
    "경", "봉", "태", "피", "감", "범",
];

/// Hangul words of two to four syllables that are not names although they start like one.
const NOT_NAMES: &[&str] = &[
    "안녕",
    "안녕하세요",
    "감사",
    "감사합니다",
    "신청",
    "신청서",
    "신청자",
    "이상",
    "이름",
    "성명",
    "소속",
    "직위",
    "연락처",
    "전화",
    "문의",
    "참석",
    "참가",
    "참석자",
    "참가자",
    "회사",
    "회사명",
    "주소",
    "부재",
    "사무실",
    "본사",
    "공장",
    "정보",
    "전달",
    "전송",
    "제목",
    "내용",
    "일시",
    "장소",
    "시간",
    "주차",
    "명단",
    "이메일",
    "메일",
    "휴대폰",
    "고객",
    "기타",
    "비고",
    "구분",
    "원본",
    "전체",
    "참고",
    "확인",
    "부탁",
    "문서",
    "첨부",
    "송부",
    "제출",
    "회신",
    "유선",
    "우편",
    "정도",
    "이번",
    "다음",
    "오늘",
    "내일",
    "주말",
    "오전",
    "오후",
    "감사드림",
    "드림",
    "올림",
    "배상",
    "고맙습니다",
    "수고",
    "안내",
    "하늘",
    "팩스",
    "직통",
    "대표번호",
    "전화번호",
    "기술",
    "연구",
    "개발",
    "영업",
    "마케팅",
    "총무",
    "인사",
    "경영",
    "기획",
    "생산",
    "품질",
    "구매",
    "재무",
    "회계",
    "홍보",
    "사업",
    "전략",
    "지원",
    "관리",
    "운영",
    "본부",
    "부서",
    "사무국",
    "담당",
    "담당자",
    // Places.
    "서울",
    "부산",
    "대구",
    "인천",
    "광주",
    "대전",
    "울산",
    "세종",
    "경기",
    "강원",
    "충북",
    "충남",
    "전북",
    "전남",
    "경북",
    "경남",
    "제주",
    "수원",
    "성남",
    "판교",
    "강남",
    "서초",
    "송도",
    "구로",
    "마포",
    "여의도",
    "용인",
    "안산",
    "창원",
    "포항",
    "천안",
    "청주",
    "전주",
    "유성",
    "대덕",
    "오송",
    "오창",
];

/// Job titles, Korean. A title is a whole word, possibly after a department (`마케팅팀 과장`).
const TITLES_KO: &[&str] = &[
    "대표이사",
    "대표",
    "사장",
    "부사장",
    "회장",
    "부회장",
    "전무",
    "전무이사",
    "상무",
    "상무이사",
    "이사",
    "기술이사",
    "감사",
    "본부장",
    "센터장",
    "소장",
    "연구소장",
    "원장",
    "실장",
    "부장",
    "차장",
    "과장",
    "대리",
    "주임",
    "사원",
    "인턴",
    "팀장",
    "파트장",
    "그룹장",
    "수석",
    "책임",
    "선임",
    "전임",
    "연구원",
    "주임연구원",
    "선임연구원",
    "책임연구원",
    "수석연구원",
    "전임연구원",
    "연구위원",
    "연구교수",
    "교수",
    "부교수",
    "조교수",
    "박사",
    "매니저",
    "프로",
    "공장장",
    "고문",
    "기술고문",
    "위원",
    "위원장",
    "총장",
    "처장",
    "국장",
    "계장",
    "주무관",
    "사무관",
    "학생",
    "대학원생",
    "석사과정",
    "박사과정",
    "엔지니어",
    "디자이너",
    "개발자",
    "컨설턴트",
    "책임매니저",
    "선임매니저",
    "팀원",
    "변리사",
    "회계사",
    "세무사",
    "교사",
    "책임엔지니어",
    "선임엔지니어",
    "수석엔지니어",
    "공동대표",
    "창업자",
    "파트너",
    "부대표",
    "대표원장",
];

/// Words that make an English phrase a job title.
const TITLES_EN: &[&str] = &[
    "ceo",
    "cto",
    "cfo",
    "coo",
    "cio",
    "cmo",
    "vp",
    "svp",
    "evp",
    "president",
    "director",
    "manager",
    "engineer",
    "scientist",
    "researcher",
    "professor",
    "founder",
    "co-founder",
    "cofounder",
    "head",
    "lead",
    "officer",
    "analyst",
    "consultant",
    "specialist",
    "partner",
    "principal",
    "associate",
    "intern",
    "developer",
    "designer",
    "architect",
    "administrator",
    "coordinator",
    "executive",
    "chairman",
    "owner",
    "student",
    "fellow",
    "postdoc",
    "chief",
    "representative",
];

/// Marks that make a text an organization whatever else it is.
const ORG_MARKERS: &[&str] = &[
    "(주)",
    "㈜",
    "（주）",
    "주식회사",
    "(유)",
    "유한회사",
    "(재)",
    "재단법인",
    "(사)",
    "사단법인",
    "(합)",
    "합자회사",
    "대학교",
    "연구소",
    "진흥원",
    "협회",
    "재단",
    "공사",
    "공단",
];

/// Latin words that make a text an organization (compared without a trailing `.` or `,`).
const ORG_WORDS_EN: &[&str] = &[
    "inc",
    "co",
    "ltd",
    "corp",
    "corporation",
    "llc",
    "gmbh",
    "ag",
    "plc",
    "limited",
    "company",
    "university",
    "institute",
    "college",
    "foundation",
    "association",
    "laboratory",
    "laboratories",
    "labs",
    "lab",
    "technologies",
    "technology",
    "systems",
    "solutions",
    "robotics",
    "sensors",
    "devices",
    "software",
    "electronics",
    "analytics",
    "industries",
    "group",
    "holdings",
    "partners",
    "bio",
    "tech",
];

/// Endings of Korean company names (`한빛테크`, `다온소재`): weaker evidence, used only for
/// words that are not names or titles.
const ORG_SUFFIXES_KO: &[&str] = &[
    "테크",
    "텍",
    "소재",
    "바이오",
    "로봇",
    "로보틱스",
    "소프트",
    "시스템",
    "시스템즈",
    "솔루션",
    "솔루션즈",
    "정밀",
    "전자",
    "산업",
    "기계",
    "공업",
    "화학",
    "제약",
    "건설",
    "엔지니어링",
    "랩",
    "웨이브",
    "네트웍스",
    "네트워크",
    "에너지",
    "모빌리티",
    "메디칼",
    "메디컬",
    "헬스케어",
    "푸드",
    "코리아",
    "인더스트리",
    "컴퍼니",
    "그룹",
    "홀딩스",
    "파트너스",
    "디자인",
    "미디어",
    "물산",
    "상사",
    "통신",
    "반도체",
    "디스플레이",
    "케미칼",
    "스틸",
    "모터스",
    "연구원",
    "대학",
    "병원",
    "센터",
];

/// Department endings: `마케팅팀 과장` is one position, not an organization and a title.
const DEPARTMENT_ENDINGS: &[&str] =
    &["팀", "부", "실", "본부", "센터", "연구소", "사업부", "그룹", "파트", "과", "랩", "Team", "Dept."];

/// Closings that follow a Korean name in a sign-off (`김민준 드림`).
pub const NAME_CLOSINGS: &[&str] = &["드림", "올림", "배상", "拜上", "드립니다", "올립니다"];

/// A Korean personal name: two to four Hangul syllables starting with a surname.
pub fn is_korean_name(text: &str) -> bool {
    let count = text.chars().count();
    (2..=4).contains(&count)
        && text.chars().all(is_hangul)
        && SURNAMES.iter().any(|s| text.starts_with(s) && text.chars().count() > s.chars().count())
        && !NOT_NAMES.contains(&text)
        && !is_title(text)
        && !is_department(text)
        && !ORG_SUFFIXES_KO.iter().any(|s| text.len() > s.len() && text.ends_with(s))
}

/// A Latin-script personal name: two or three capitalised words (`Jane Doe`, `Gil-dong Hong`,
/// `Jonas Müller`) that are not a title, an organization or a closing.
pub fn is_latin_name(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    (2..=3).contains(&words.len())
        && text.chars().count() <= 40
        && words.iter().all(|w| is_capitalised_word(w))
        && !is_title(text)
        && !has_org_marker(text)
        && !is_closing(text)
}

fn is_capitalised_word(word: &str) -> bool {
    let mut chars = word.chars();
    chars.next().is_some_and(|c| c.is_uppercase() && c.is_alphabetic())
        && chars.all(|c| c.is_alphabetic() || matches!(c, '-' | '\'' | '.'))
        && word.chars().any(char::is_lowercase)
}

/// A personal name in either script.
pub fn is_person_name(text: &str) -> bool {
    is_korean_name(text) || is_latin_name(text)
}

/// A job title: a Korean title word (possibly after a department), or an English phrase of at
/// most five words with a title word in it.
pub fn is_title(text: &str) -> bool {
    let text = text.trim();
    if text.is_empty() || text.chars().any(|c| c.is_ascii_digit()) {
        return false;
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let Some(last) = words.last() else { return false };
    if TITLES_KO.contains(last) {
        return words[..words.len() - 1].iter().all(|w| is_department(w));
    }
    words.len() <= 5
        && words.iter().all(|w| w.chars().all(|c| c.is_ascii_alphabetic() || matches!(c, '-' | '&' | '.' | ',' | '/')))
        && words.iter().any(|w| {
            TITLES_EN.contains(
                &w.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-').to_ascii_lowercase().as_str(),
            )
        })
}

/// A department name (`마케팅팀`, `기술연구소`, `R&D센터`).
pub fn is_department(word: &str) -> bool {
    DEPARTMENT_ENDINGS.iter().any(|end| word.ends_with(end)) || word.eq_ignore_ascii_case("R&D")
}

/// Explicit evidence of an organization: `(주)`, `㈜`, `주식회사`, `Inc.`, `Co., Ltd.`, …
pub fn has_org_marker(text: &str) -> bool {
    ORG_MARKERS.iter().any(|m| text.contains(m))
        || text
            .split(|c: char| c.is_whitespace() || c == ',')
            .map(|w| w.trim_matches(|c: char| matches!(c, '.' | '(' | ')')).to_ascii_lowercase())
            .any(|w| ORG_WORDS_EN.contains(&w.as_str()))
}

/// Weaker evidence: a Korean word ending like a company name.
pub fn has_org_suffix(text: &str) -> bool {
    text.split_whitespace().any(|w| ORG_SUFFIXES_KO.iter().any(|s| w.len() > s.len() && w.ends_with(s)))
}

/// Sign-off phrases: `감사합니다`, `Best regards,` …
pub fn is_closing(line: &str) -> bool {
    const CLOSINGS: &[&str] = &[
        "감사합니다",
        "감사드립니다",
        "고맙습니다",
        "수고하세요",
        "수고하십시오",
        "잘 부탁드립니다",
        "부탁드립니다",
        "best regards",
        "kind regards",
        "warm regards",
        "regards",
        "best wishes",
        "best",
        "thanks",
        "thank you",
        "many thanks",
        "sincerely",
        "yours sincerely",
        "yours truly",
        "cheers",
        "with thanks",
        "respectfully",
    ];
    let core = line.trim().trim_end_matches(['.', ',', '!', '~', ' ']).to_lowercase();
    CLOSINGS.contains(&core.as_str())
}

/// `김민준 드림` → `김민준`: a Korean name followed by a closing word.
pub fn name_before_closing(text: &str) -> Option<&str> {
    let text = text.trim();
    NAME_CLOSINGS.iter().find_map(|closing| {
        let name = text.strip_suffix(closing)?.trim_end();
        is_korean_name(name).then_some(name)
    })
}

/// `김민준 팀장`, `팀장 김민준` → (`김민준`, `팀장`).
pub fn name_and_title(text: &str) -> Option<(&str, &str)> {
    let text = text.trim();
    let (first, rest) = text.split_once(char::is_whitespace)?;
    let rest = rest.trim();
    if is_korean_name(first) && is_title(rest) {
        return Some((first, rest));
    }
    let (head, last) = text.rsplit_once(char::is_whitespace)?;
    let head = head.trim();
    (is_title(head) && is_korean_name(last)).then_some((last, head))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn korean_names() {
        for name in ["김민준", "남궁현", "황보라", "이준", "강똠이", "오세린"] {
            assert!(is_korean_name(name), "{name}");
        }
        for not in [
            "김",
            "안녕",
            "감사합니다",
            "한빛테크",
            "김민준입니다",
            "Kim",
            "팀장",
            "대표",
            "김 민준",
            "다온소재",
            "이상",
        ] {
            assert!(!is_korean_name(not), "{not}");
        }
    }

    #[test]
    fn latin_names() {
        for name in ["Jane Doe", "Gil-dong Hong", "Jonas Müller", "Daniel Kim", "Mary O'Neil Smith"] {
            assert!(is_latin_name(name), "{name}");
        }
        for not in [
            "Senior Engineer",
            "Best Regards",
            "Example Bio Inc.",
            "jane doe",
            "Jane",
            "A B C D",
            "CTO",
            "Example Robotics",
        ] {
            assert!(!is_latin_name(not), "{not}");
        }
    }

    #[test]
    fn titles() {
        for title in [
            "팀장",
            "마케팅팀 과장",
            "책임연구원",
            "기술연구소 선임연구원",
            "CTO",
            "Senior Engineer",
            "VP Research",
            "Head of Sales",
        ] {
            assert!(is_title(title), "{title}");
        }
        for not in
            ["한빛테크", "한국기계연구원", "세움엔지니어링 대표", "Example Bio Inc.", "010-1234-5678", "Jane Doe"]
        {
            assert!(!is_title(not), "{not}");
        }
    }

    #[test]
    fn organizations() {
        for org in
            ["(주)한빛테크", "㈜다온소재", "주식회사 세움", "Example Bio Inc.", "Example Co., Ltd.", "KAIST 연구소"]
        {
            assert!(has_org_marker(org), "{org}");
        }
        assert!(!has_org_marker("김민준"));
        assert!(has_org_suffix("한빛테크"));
        assert!(!has_org_suffix("테크"));
    }

    #[test]
    fn sign_offs() {
        assert_eq!(name_before_closing("오세린 드림"), Some("오세린"));
        assert_eq!(name_before_closing("김민준올림"), Some("김민준"));
        assert_eq!(name_before_closing("감사합니다 드림"), None);
        assert_eq!(name_and_title("김민준 팀장"), Some(("김민준", "팀장")));
        assert_eq!(name_and_title("팀장 김민준"), Some(("김민준", "팀장")));
        assert_eq!(name_and_title("한빛테크 팀장"), None);
        assert!(is_closing("Best regards,"));
        assert!(is_closing("감사합니다."));
        assert!(!is_closing("감사합니다. 신청합니다."));
    }
}
