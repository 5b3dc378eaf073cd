//! PDF: `lopdf` (0.47, which bounds the streams it decodes while loading) for objects, fonts
//! and content streams.
//!
//! - `document.rs`: the file checked (header, encryption) and measured before lopdf loads it
//!   (`census.rs`: what loading will keep in memory), then read page by page within budgets;
//! - `page.rs`: the text of a page, of the form XObjects it draws and of its annotations'
//!   appearances (where filled-in form fields are), placed by its position and read line by
//!   line, a vertical rule or a wide gap making a tab between the cells of a table row;
//! - `fonts.rs`: how shown strings become text and how far they advance.

mod census;
mod document;
mod fonts;
mod page;

pub(super) use document::pdf;
