//! The end-to-end tests: the real `smebridge` binary against a real Dovecot and a real Postfix
//! that each test starts for itself (`crates/mailstack`), and the memory bounds of the binary on
//! hostile input.
//!
//! One test binary with a module per concern and the shared [`helpers`] (the layout of
//! zero-to-production's `tests/api/`): each `tests/*.rs` file would be a binary of its own,
//! compiled and linked against smebridge and its dependencies once more. Test names are
//! `module::test_name`; `cargo test --test desk replies::` runs one module,
//! `cargo test --test desk an_inquiry` one test.
//!
//! Adding tests: put them in a module here (`tests/desk/NAME.rs`, with `mod NAME;` below), not
//! in a new `tests/NAME.rs`. A file written as a binary of its own (`mod common;` at the top,
//! `use common::…`) moves in as it is: drop `mod common;` and write `crate::helpers::` for
//! `common::`. Start every smebridge process through [`helpers::Desk`] (its log is kept and
//! scanned for personal data; `faults::every_smebridge_process_in_the_tests_is_started_through_the_logged_desk`
//! checks the sources).
//!
//! Pure parsing tests, with no servers and no processes, stay apart in `tests/golden.rs`.

mod helpers;

mod bounds;
mod check;
mod corpus_e2e;
mod crash;
mod doubts;
mod e2e;
mod events;
mod faults;
mod flood;
mod hostile;
mod impostor;
mod instances;
mod journey;
mod logs;
mod oauth2;
mod operations;
mod parse_cli;
mod poison;
mod purge;
mod reading;
mod replies;
mod retries;
mod smtp_login;
mod staff;
mod summary;
mod tls;
