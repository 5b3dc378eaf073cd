use super::*;

pub(crate) const EXAMPLE: &str = include_str!("../../config/smebridge.toml");

fn load(text: &str) -> Result<Config> {
    Config::from_toml(text, Path::new("test.toml"), Path::new("/etc/smebridge"))
}

#[test]
fn the_shipped_example_is_valid_and_says_what_the_announcement_says() {
    let config = load(EXAMPLE).expect("config/smebridge.toml must load");
    let seoul = &config.events[0].timezone;
    let deadline = config.events[0].deadline.to_zoned(seoul.clone());
    assert_eq!(deadline.strftime("%Y-%m-%d %H:%M:%S").to_string(), "2022-11-17 23:59:59");
    let starts = config.events[0].starts_at.to_zoned(seoul.clone());
    assert_eq!(starts.strftime("%A %Y-%m-%d %H:%M").to_string(), "Friday 2022-11-18 13:30");
    assert_eq!(config.events[0].venue, "Banyan Tree Club & Spa Seoul, Festa Hall");
    assert_eq!(
        config.events[0].name,
        "중소기업 기술혁신을 위한 산학협력 전략 및 사례 공유 워크숍 (Industry-University Cooperation Strategies and Cases for SME Technology Innovation)"
    );
    assert_eq!(config.center.name, "중소기업 R&D 공유센터");
    assert_eq!(config.center.name_en, "SME R&D Sharing Center");
    assert_eq!(config.smtp.from.name.as_deref(), Some("중소기업 R&D 공유센터"));
    assert_eq!(config.own_address().as_str(), "smebridge@kaist.ac.kr");
    assert_eq!(config.imap.mailbox, "INBOX");
    assert!(config.database.path.is_absolute());
}

#[test]
fn the_center_defaults_to_the_from_name_and_its_english_name_to_the_korean_one() {
    let without = |text: &str| {
        text.lines()
            .filter(|l| !l.starts_with("name = \"중소기업 R&D 공유센터\"") && !l.starts_with("name_en ="))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let config = load(&without(EXAMPLE)).unwrap();
    assert_eq!(config.center.name, "중소기업 R&D 공유센터", "the display name of [smtp] from");
    assert_eq!(config.center.name_en, "중소기업 R&D 공유센터");
    let bare = without(EXAMPLE)
        .replace("from = \"중소기업 R&D 공유센터 <smebridge@kaist.ac.kr>\"", "from = \"smebridge@kaist.ac.kr\"");
    assert_eq!(load(&bare).unwrap().center.name, "smebridge@kaist.ac.kr");
    let text = EXAMPLE.replace("name_en = \"SME R&D Sharing Center\"", "name_en = \" \"");
    assert!(format!("{:#}", load(&text).unwrap_err()).contains("center.name_en must not be empty"));
    let text = EXAMPLE.replace("[center]", "[center]\nmotto = \"x\"");
    assert!(format!("{:#}", load(&text).unwrap_err()).contains("motto"));
}

#[test]
fn the_several_events_example_commented_in_the_shipped_configuration_is_valid() {
    // The [event] table replaced by the commented [[event]] tables below it, uncommented.
    let start = EXAMPLE.find("\n[event]\n").unwrap();
    let end = start + 1 + EXAMPLE[start + 1..].find("\n[staff]\n").unwrap();
    let example: Vec<&str> = EXAMPLE[start..end]
        .lines()
        .skip_while(|l| *l != "# [[event]]")
        .map(|l| if l == "#" { "" } else { l.strip_prefix("# ").unwrap() })
        .collect();
    let text = format!("{}\n{}\n{}", &EXAMPLE[..start], example.join("\n"), &EXAMPLE[end..]);
    let config = load(&text).unwrap();
    let ids: Vec<&str> = config.events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["main", "sem-2212"]);
    let (workshop, seminar) = (&config.events[0], &config.events[1]);
    assert_eq!(workshop.announcement_message_ids, ["announce-ws-2211@kaist.ac.kr"]);
    assert_eq!(workshop.keywords, ["산학협력", "워크숍", "workshop"]);
    assert_eq!(workshop.opens, None);
    assert_eq!(seminar.opens, Some("2022-11-01T00:00:00Z".parse().unwrap()));
    assert_eq!(seminar.timezone_name, "Asia/Seoul", "the first event's time zone");
    assert_eq!(seminar.capacity, Some(40));
    assert!(config.several_events());
}

#[test]
fn unknown_keys_are_refused_and_named() {
    let text = EXAMPLE.replace("[database]", "[database]\npaht = \"x\"");
    let err = format!("{:#}", load(&text).unwrap_err());
    assert!(err.contains("paht"), "{err}");
}

#[test]
fn plain_is_refused_towards_a_remote_host() {
    let text = EXAMPLE.replacen("security = \"tls\"", "security = \"plain\"", 1);
    let err = format!("{:#}", load(&text).unwrap_err());
    assert!(err.contains("unencrypted"), "{err}");
}

#[test]
fn plain_is_accepted_on_loopback() {
    assert!(is_loopback("127.0.0.1"));
    assert!(is_loopback("::1"));
    assert!(is_loopback("[::1]"));
    assert!(is_loopback("localhost"));
    assert!(!is_loopback("imap.kaist.ac.kr"));
    assert!(!is_loopback("10.0.0.1"));
}

#[test]
fn a_bad_deadline_is_explained() {
    let text = EXAMPLE.replace("2022-11-17T23:59:59+09:00", "17 Nov 2022");
    let err = format!("{:#}", load(&text).unwrap_err());
    assert!(err.contains("event.deadline"), "{err}");
}

#[test]
fn a_workshop_that_starts_before_the_deadline_is_refused() {
    let text = EXAMPLE.replace("2022-11-18T13:30:00+09:00", "2022-11-17T13:30:00+09:00");
    let err = format!("{:#}", load(&text).unwrap_err());
    assert!(err.contains("event.starts_at") && err.contains("before event.deadline"), "{err}");
    // Starting right at the deadline is fine.
    let text = EXAMPLE.replace("2022-11-18T13:30:00+09:00", "2022-11-17T23:59:59+09:00");
    assert!(load(&text).is_ok());
}

#[test]
fn summaries_that_would_end_before_they_begin_are_refused() {
    let text = EXAMPLE
        .replace("# summary_from = \"2022-11-07\"", "summary_from = \"2022-11-10\"")
        .replace("# summary_until = \"2022-11-19\"", "summary_until = \"2022-11-09\"");
    let err = format!("{:#}", load(&text).unwrap_err());
    assert!(err.contains("staff.summary_until (2022-11-09) is before staff.summary_from (2022-11-10)"), "{err}");
    // The default end (the day after the event) counts too.
    let text = EXAMPLE.replace("# summary_from = \"2022-11-07\"", "summary_from = \"2022-12-01\"");
    let err = format!("{:#}", load(&text).unwrap_err());
    assert!(err.contains("default staff.summary_until"), "{err}");
    // One day is a window.
    let text = EXAMPLE
        .replace("# summary_from = \"2022-11-07\"", "summary_from = \"2022-11-10\"")
        .replace("# summary_until = \"2022-11-19\"", "summary_until = \"2022-11-10\"");
    assert!(load(&text).is_ok());
}

#[test]
fn staff_recipients_must_not_be_empty() {
    let line = EXAMPLE.lines().find(|l| l.trim_start().starts_with("recipients")).unwrap();
    let text = EXAMPLE.replace(line, "recipients = []");
    let err = format!("{:#}", load(&text).unwrap_err());
    assert!(err.contains("staff.recipients is empty"), "{err}");
}

#[test]
fn durations_accept_seconds_and_text() {
    let day = MAX_POLL_INTERVAL;
    assert_eq!(duration("k", Some(RawDuration::Seconds(5)), 1, day).unwrap(), Duration::from_secs(5));
    assert_eq!(duration("k", Some(RawDuration::Text("5m".into())), 1, day).unwrap(), Duration::from_secs(300));
    assert!(duration("k", Some(RawDuration::Text("soon".into())), 1, day).is_err());
    assert!(duration("k", Some(RawDuration::Seconds(0)), 1, day).is_err());
    assert_eq!(duration("k", Some(RawDuration::Text("24h".into())), 1, day).unwrap(), Duration::from_secs(86_400));
    assert!(duration("k", Some(RawDuration::Seconds(86_401)), 1, day).is_err());
    assert!(duration("k", Some(RawDuration::Seconds(u64::MAX)), 1, day).is_err());
}

/// `(section, line)` added at the top of `[section]` in the shipped example (whose keys there
/// are commented out, so nothing is set twice).
fn example_with(section: &str, line: &str) -> String {
    let header = format!("\n[{section}]\n");
    assert!(EXAMPLE.contains(&header), "{section}");
    EXAMPLE.replacen(&header, &format!("{header}{line}\n"), 1)
}

fn load_error(section: &str, line: &str) -> String {
    format!("{:#}", load(&example_with(section, line)).expect_err(line))
}

#[test]
fn every_duration_key_has_an_upper_bound_named_in_the_error() {
    // The red team's: it passed `check`, then `once` failed on the clock arithmetic.
    let err = load_error("smtp", "sending_grace = \"999999999h\"");
    assert!(err.contains("smtp.sending_grace \"999999999h\" is too long: it must be at most 1 day"), "{err}");
    for (section, key, bound, over, within) in [
        ("imap", "timeout", "at most 1 hour", "\"61m\"", "\"1h\""),
        ("smtp", "timeout", "at most 1 hour", "3601", "3600"),
        ("imap", "idle_keepalive", "at most 1 hour", "\"2h\"", "\"5m\""),
        ("imap", "poll_interval", "at most 1 day", "\"25h\"", "\"24h\""),
        ("imap", "idle_timeout", "below 29 minutes", "\"29m\"", "\"28m\""),
        ("smtp", "sending_grace", "at most 1 day", "86401", "\"1h\""),
    ] {
        // The example sets poll_interval itself: replace that line rather than add one.
        let set = |value: &str| {
            let line = format!("{key} = {value}");
            match EXAMPLE.lines().find(|l| l.starts_with(&format!("{key} ="))) {
                Some(old) => EXAMPLE.replacen(old, &line, 1),
                None => example_with(section, &line),
            }
        };
        let err = format!("{:#}", load(&set(over)).expect_err(key));
        assert!(err.contains(&format!("{section}.{key} {over} is too long: it must be {bound}")), "{err}");
        load(&set(within)).unwrap_or_else(|e| panic!("{section}.{key} = {within}: {e:#}"));
    }
}

#[test]
fn an_events_reminder_and_thank_you_are_at_most_a_year_away() {
    let starts = "starts_at = \"2022-11-18T13:30:00+09:00\"";
    let with = |extra: &str| EXAMPLE.replacen(starts, &format!("{starts}\n{extra}"), 1);
    let err = format!("{:#}", load(&with("remind_before = \"999999h\"")).unwrap_err());
    assert!(err.contains("event.remind_before \"999999h\" is too long: it must be at most 366 days"), "{err}");
    let err = format!("{:#}", load(&with("thank_you_after = \"367d\"")).unwrap_err());
    assert!(err.contains("event.thank_you_after \"367d\" is too long"), "{err}");
    let config = load(&with("remind_before = \"366d\"\nthank_you_after = \"30d\"")).unwrap();
    assert_eq!(config.events[0].remind_before, Some(jiff::SignedDuration::from_hours(366 * 24)));
}

#[test]
fn a_capacity_of_zero_and_an_absurd_message_size_are_refused_naming_the_key() {
    let err = load_error("event", "capacity = 0");
    assert!(err.contains("event.capacity = 0 would put every applicant on the waiting list"), "{err}");
    assert_eq!(load(&example_with("event", "capacity = 1")).unwrap().events[0].capacity, Some(1));
    for size in ["0", "65535", "1073741825"] {
        let err = load_error("imap", &format!("max_message_size = {size}"));
        assert!(err.contains(&format!("imap.max_message_size = {size} is out of range")), "{err}");
    }
    for size in [65536u64, 1 << 30] {
        let config = load(&example_with("imap", &format!("max_message_size = {size}"))).unwrap();
        assert_eq!(config.imap.max_message_size, size);
    }
    assert_eq!(load(EXAMPLE).unwrap().imap.max_message_size, 40 * 1024 * 1024, "the default");
}

#[test]
fn an_event_ends_three_hours_after_it_starts_unless_it_says_and_never_before() {
    let event = |text: &str| load(text).map(|c| c.events[0].clone());
    let workshop = event(EXAMPLE).unwrap();
    assert_eq!(workshop.ends_at, "2022-11-18T16:30:00+09:00".parse().unwrap());
    assert_eq!((workshop.remind_before, workshop.thank_you_after, workshop.directions), (None, None, None));
    let starts = "starts_at = \"2022-11-18T13:30:00+09:00\"";
    let with = |extra: &str| EXAMPLE.replacen(starts, &format!("{starts}\n{extra}"), 1);
    let set = event(&with(
        "ends_at = \"2022-11-18T18:00:00+09:00\"\nremind_before = \"1d\"\nthank_you_after = \"36h\"\ndirections = \" 3호선 동대입구역 \"",
    ))
    .unwrap();
    assert_eq!(set.ends_at, "2022-11-18T18:00:00+09:00".parse().unwrap());
    assert_eq!(set.remind_before, Some(SignedDuration::from_hours(24)));
    assert_eq!(set.thank_you_after, Some(SignedDuration::from_hours(36)));
    assert_eq!(set.directions.as_deref(), Some("3호선 동대입구역"));
    let err = format!("{:#}", load(&with("ends_at = \"2022-11-18T13:30:00+09:00\"")).unwrap_err());
    assert!(err.contains("event.ends_at") && err.contains("not after event.starts_at"), "{err}");
    for bad in ["\"soon\"", "\"0d\"", "\"-1d\""] {
        let err = format!("{:#}", load(&with(&format!("remind_before = {bad}"))).unwrap_err());
        assert!(err.contains("event.remind_before"), "{bad}: {err}");
    }
}

#[test]
fn an_announcement_file_is_read_at_load_and_a_missing_one_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let text = EXAMPLE.replacen("\n[event]\n", "\n[event]\nannouncement_file = \"announcement.txt\"\n", 1);
    let load_in = |dir: &Path| Config::from_toml(&text, &dir.join("smebridge.toml"), dir);
    let err = format!("{:#}", load_in(dir.path()).unwrap_err());
    assert!(err.contains("event.announcement_file") && err.contains("announcement.txt"), "{err}");
    std::fs::write(dir.path().join("announcement.txt"), "[참가 신청서]\n■ 성 명 :\n■ 소 속 :\n").unwrap();
    let config = load_in(dir.path()).unwrap();
    let announcement = config.events[0].announcement.as_ref().expect("read at load");
    assert_eq!(announcement.len(), 3);
    assert!(load(EXAMPLE).unwrap().events[0].announcement.is_none(), "optional");

    // Each of several events has its own.
    let second = "[[event]]\nid = \"sem-2212\"\nname = \"AI 세미나\"\ndeadline = \"2022-12-08T23:59:59+09:00\"\n\
                  starts_at = \"2022-12-09T10:00:00+09:00\"\nvenue = \"KAIST\"\nannouncement_file = \"seminar.txt\"\n\n[staff]\n";
    let text = EXAMPLE
        .replacen("\n[event]\n", "\n[[event]]\nid = \"ws-2211\"\nannouncement_file = \"announcement.txt\"\n", 1)
        .replacen("\n[staff]\n", &format!("\n{second}"), 1);
    let load_in = |dir: &Path| Config::from_toml(&text, &dir.join("smebridge.toml"), dir);
    let err = format!("{:#}", load_in(dir.path()).unwrap_err());
    assert!(err.contains("event[2].announcement_file") && err.contains("seminar.txt"), "{err}");
    std::fs::write(dir.path().join("seminar.txt"), "[세미나 신청]\n■ 성 명 :\n").unwrap();
    let config = load_in(dir.path()).unwrap();
    let lines: Vec<usize> = config.events.iter().filter_map(|e| e.announcement.as_ref()).map(|a| a.len()).collect();
    assert_eq!(lines, [3, 2]);
}

#[test]
fn secrets_never_show_in_debug_output() {
    let secret = Secret("hunter2".into());
    assert!(!format!("{secret:?}").contains("hunter2"));
}

/// The example's login lines (the passwords as systemd credentials).
const IMAP_LOGIN: &str = "password_file = \"credential:imap-password\"   # /etc/credstore/smebridge.imap-password";
const SMTP_LOGIN: &str = "password_file = \"credential:smtp-password\"   # /etc/credstore/smebridge.smtp-password";

fn with_imap_login(login: &str) -> String {
    assert!(EXAMPLE.contains(IMAP_LOGIN) && EXAMPLE.contains(SMTP_LOGIN), "the example's login lines changed");
    EXAMPLE.replacen(IMAP_LOGIN, login, 1)
}

#[test]
fn imap_may_log_in_with_oauth2_and_smtp_may_share_it() {
    let text = with_imap_login(
        r#"oauth2 = { provider = "microsoft", client_id = "app-1", refresh_token_file = "/var/lib/smebridge/refresh" }"#,
    )
    .replace(&format!("username = \"smebridge@kaist.ac.kr\"\n{SMTP_LOGIN}"), "auth = \"same-as-imap\"");
    let config = load(&text).unwrap();
    let Auth::OAuth2(imap) = &config.imap.auth else { panic!("{:?}", config.imap.auth) };
    let Some((user, Auth::OAuth2(smtp))) = &config.smtp.credentials else { panic!("{:?}", config.smtp.credentials) };
    assert_eq!(user, "smebridge@kaist.ac.kr");
    assert!(Arc::ptr_eq(imap, smtp), "one token source for both");
    let shown = format!("{:?}", config.imap.auth);
    assert!(shown.contains("microsoft") && shown.contains("/var/lib/smebridge/refresh"), "{shown}");
}

#[test]
fn one_login_per_section_and_same_as_imap_takes_no_other_login() {
    let text = with_imap_login("password_file = \"pw\"\ntoken_command = [\"oama\", \"access\", \"x\"]");
    let err = format!("{:#}", load(&text).unwrap_err());
    assert!(err.contains("[imap] has password_file and token_command; keep one"), "{err}");

    let text = EXAMPLE.replacen(SMTP_LOGIN, "auth = \"same-as-imap\"", 1);
    let err = format!("{:#}", load(&text).unwrap_err());
    assert!(err.contains("same-as-imap") && err.contains("remove the other login keys"), "{err}");

    let text = with_imap_login("token_command = []");
    let err = format!("{:#}", load(&text).unwrap_err());
    assert!(err.contains("imap.token_command must name a program"), "{err}");
}

#[test]
fn the_same_refresh_token_file_in_two_sections_is_refused() {
    let table =
        r#"oauth2 = { provider = "google", client_id = "c", client_secret_file = "s", refresh_token_file = "rt" }"#;
    let text = with_imap_login(table).replacen(SMTP_LOGIN, table, 1);
    let err = format!("{:#}", load(&text).unwrap_err());
    assert!(err.contains("same refresh_token_file") && err.contains("same-as-imap"), "{err}");
}

#[test]
fn credential_files_are_resolved_in_the_systemd_credentials_directory_when_read() {
    let file = SecretFile::parse("k", PathBuf::from("credential:imap-password"), Path::new("/etc")).unwrap();
    assert_eq!(file.to_string(), "credential:imap-password");
    let err = format!("{:#}", file.path_in(None).unwrap_err());
    assert!(err.contains("$CREDENTIALS_DIRECTORY") && err.contains("LoadCredential=imap-password"), "{err}");
    let path = file.path_in(Some("/run/credentials/smebridge.service".into())).unwrap();
    assert_eq!(path, Path::new("/run/credentials/smebridge.service/imap-password"));
    // Read as a password: the first line, whatever follows.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), "from-systemd\r\nignored\n").unwrap();
    let plain = SecretFile::Path(dir.path().join("pw"));
    assert_eq!(plain.first_line("the IMAP password").unwrap().expose(), "from-systemd");
    std::fs::write(dir.path().join("pw"), "\n").unwrap();
    assert!(format!("{:#}", plain.first_line("the IMAP password").unwrap_err()).contains("is empty"));

    for bad in ["credential:", "credential:../x", "credential:a/b"] {
        assert!(SecretFile::parse("k", PathBuf::from(bad), Path::new("/etc")).is_err(), "{bad}");
    }
    assert_eq!(
        SecretFile::parse("k", PathBuf::from("pw"), Path::new("/etc")).unwrap(),
        SecretFile::Path(PathBuf::from("/etc/pw"))
    );
    let text = with_imap_login("password_file = \"credential:imap-password\"");
    let config = load(&text).unwrap();
    assert!(matches!(config.imap.auth, Auth::Password(SecretSource::File(SecretFile::Credential(_)))));
}
