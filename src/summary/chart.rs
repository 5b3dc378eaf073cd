//! The chart of applications per day, as a PNG drawn here: bars, a few grid lines, and the
//! counts and dates in a built-in 5×7 bitmap font, so no system font is needed at run time.

use anyhow::{Context, Result};
use jiff::civil::Date;

use super::model::CHART_DAYS;

/// The chart's size in CSS pixels, as the HTML shows it; the PNG has twice as many pixels each
/// way, so it stays sharp on high-density screens.
pub(super) const CHART_WIDTH: u32 = 672;
pub(super) const CHART_HEIGHT: u32 = 160;
const CHART_SCALE: u32 = 2;

const BACKGROUND: [u8; 3] = [0xFF, 0xFF, 0xFF];
const BAR: [u8; 3] = [0x3B, 0x6F, 0xC4];
const LATEST_BAR: [u8; 3] = [0x1F, 0x3A, 0x68];
const AXIS: [u8; 3] = [0xB8, 0xBF, 0xCA];
const GRID: [u8; 3] = [0xEE, 0xF0, 0xF4];
const INK: [u8; 3] = [0x4B, 0x55, 0x63];

/// A bar chart of applications per day as PNG: one bar per day (the latest darker), the count
/// above each bar where it fits (else above the highest and the latest), and `M/D` under every
/// few days, anchored on the latest. Digits come from a built-in bitmap font. At most the last
/// [`CHART_DAYS`] days are drawn.
pub(super) fn chart_png(per_day: &[(Date, u32)]) -> Result<Vec<u8>> {
    let days = &per_day[per_day.len().saturating_sub(CHART_DAYS)..];
    let (width, height) = (CHART_WIDTH * CHART_SCALE, CHART_HEIGHT * CHART_SCALE);
    let mut canvas = Canvas::new(width, height);
    let glyph = 3 * CHART_SCALE / 2; // one bitmap-font pixel
    let text_h = 7 * glyph;
    let margin = 6 * CHART_SCALE;
    let top = margin + text_h + 4 * CHART_SCALE;
    let base = height - margin - text_h - 5 * CHART_SCALE;
    let plot_h = base - top;
    let (left, right) = (margin, width - margin);

    // Faint guide lines at a half and at the full height of the highest bar.
    for y in [top, top + plot_h / 2] {
        canvas.fill(left, y, right - left, CHART_SCALE / 2, GRID);
    }
    canvas.fill(left, base, right - left, CHART_SCALE, AXIS);
    let n = days.len().max(1);
    let slot = f64::from(right - left) / n as f64;
    let bar_w = ((slot * 0.64).round() as u32).clamp(1, 36 * CHART_SCALE);
    let peak = days.iter().map(|&(_, c)| c).max().unwrap_or(0);
    let peak_at = days.iter().position(|&(_, c)| c == peak && c > 0);
    let all_labels_fit =
        days.iter().all(|&(_, c)| f64::from(text_width(&c.to_string(), glyph) + 2 * CHART_SCALE) <= slot);
    let center = |i: usize| f64::from(left) + slot * (i as f64 + 0.5);

    for (i, &(_, count)) in days.iter().enumerate() {
        if count == 0 {
            continue;
        }
        let cx = center(i);
        let h = ((f64::from(count) / f64::from(peak.max(1))) * f64::from(plot_h))
            .round()
            .max(f64::from(2 * CHART_SCALE)) as u32;
        let x = (cx - f64::from(bar_w) / 2.0).round().max(0.0) as u32;
        let color = if i + 1 == days.len() { LATEST_BAR } else { BAR };
        canvas.fill(x, base - h, bar_w, h, color);
        if all_labels_fit || Some(i) == peak_at || i + 1 == days.len() {
            canvas.text_centered(&count.to_string(), cx, base - h - 3 * CHART_SCALE - text_h, glyph, INK);
        }
    }

    // Date labels from the latest day backwards, every `step` days, never overlapping.
    let label_room = f64::from(text_width("12/31", glyph) + 10 * CHART_SCALE);
    let step = ((label_room / slot).ceil() as usize).max(1);
    let mut free_until = f64::from(width);
    for i in (0..days.len()).rev().step_by(step) {
        let label = format!("{}/{}", days[i].0.month(), days[i].0.day());
        let w = f64::from(text_width(&label, glyph));
        let x = (center(i) - w / 2.0).clamp(f64::from(left), f64::from(right) - w);
        if x + w + f64::from(4 * CHART_SCALE) > free_until {
            continue;
        }
        canvas.text(&label, x.round() as u32, base + 5 * CHART_SCALE, glyph, INK);
        free_until = x;
    }
    canvas.encode()
}

/// An RGB image to draw rectangles and bitmap digits on.
struct Canvas {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
}

impl Canvas {
    fn new(width: u32, height: u32) -> Canvas {
        Canvas { width, height, pixels: BACKGROUND.repeat((width * height) as usize) }
    }

    /// Fill a rectangle, clipped to the image.
    fn fill(&mut self, x: u32, y: u32, w: u32, h: u32, color: [u8; 3]) {
        for row in y..(y + h).min(self.height) {
            for col in x..(x + w).min(self.width) {
                let at = ((row * self.width + col) * 3) as usize;
                self.pixels[at..at + 3].copy_from_slice(&color);
            }
        }
    }

    fn text(&mut self, s: &str, x: u32, y: u32, px: u32, color: [u8; 3]) {
        let mut pen = x;
        for c in s.chars() {
            if let Some(rows) = glyph_rows(c) {
                for (r, bits) in rows.iter().enumerate() {
                    for b in 0..5 {
                        if bits & (0b10000 >> b) != 0 {
                            self.fill(pen + b * px, y + r as u32 * px, px, px, color);
                        }
                    }
                }
            }
            pen += 6 * px;
        }
    }

    fn text_centered(&mut self, s: &str, cx: f64, y: u32, px: u32, color: [u8; 3]) {
        let w = f64::from(text_width(s, px));
        let x = (cx - w / 2.0).clamp(0.0, f64::from(self.width) - w).round() as u32;
        self.text(s, x, y, px, color);
    }

    fn encode(self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, self.width, self.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().context("cannot start the chart PNG")?;
        writer.write_image_data(&self.pixels).context("cannot write the chart PNG")?;
        writer.finish().context("cannot finish the chart PNG")?;
        Ok(out)
    }
}

fn text_width(s: &str, px: u32) -> u32 {
    (s.chars().count() as u32 * 6).saturating_sub(1) * px
}

/// A 5×7 bitmap font for what the chart writes: digits and `/`. Bit 4 is the leftmost column.
fn glyph_rows(c: char) -> Option<[u8; 7]> {
    Some(match c {
        '0' => [0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110],
        '1' => [0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110],
        '2' => [0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111],
        '3' => [0b11111, 0b00010, 0b00100, 0b00010, 0b00001, 0b10001, 0b01110],
        '4' => [0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010],
        '5' => [0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110],
        '6' => [0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110],
        '7' => [0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000],
        '8' => [0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110],
        '9' => [0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100],
        '/' => [0b00001, 0b00010, 0b00010, 0b00100, 0b01000, 0b01000, 0b10000],
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use jiff::Span;

    use super::*;
    use crate::summary::fixtures::{sample, seoul};
    use crate::summary::{applications_per_day, render};

    fn png_size(bytes: &[u8]) -> (u32, u32) {
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let reader = png::Decoder::new(Cursor::new(bytes)).read_info().unwrap();
        let info = reader.info();
        (info.width, info.height)
    }

    #[test]
    fn the_chart_is_a_png_of_the_advertised_size() {
        let expected = (CHART_WIDTH * CHART_SCALE, CHART_HEIGHT * CHART_SCALE);
        let input = sample();
        let per_day = applications_per_day(&input.applications, &seoul());
        assert_eq!(png_size(&chart_png(&per_day).unwrap()), expected);
        assert_eq!(png_size(&chart_png(&[]).unwrap()), expected);
        // A long registration period still fits.
        let long: Vec<(Date, u32)> = jiff::civil::date(2022, 1, 1)
            .series(Span::new().days(1))
            .take(400)
            .enumerate()
            .map(|(i, d)| (d, (i % 17) as u32 * 100))
            .collect();
        assert_eq!(png_size(&chart_png(&long).unwrap()), expected);
        assert!(render(&input).unwrap().html.contains(&format!(r#"width="{CHART_WIDTH}" height="{CHART_HEIGHT}""#)));
    }
}
