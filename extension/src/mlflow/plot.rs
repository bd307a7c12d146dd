//! PNG pictures of results: a confusion-matrix heatmap drawn with `plotters`
//! into an RGB buffer (its bitmap backend, no system libraries) and encoded
//! with `png` (font and encoder shared with other drawings in `crate::png`).

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::png::{encode_rgb, register_font, FONT};

/// A heatmap of `counts[actual][predicted]` with the count in each cell,
/// `labels` along both axes, as PNG bytes.
pub fn confusion_matrix_png(
    title: &str,
    labels: &[String],
    counts: &[Vec<i64>],
) -> Result<Vec<u8>, String> {
    register_font();
    let n = labels.len().max(1) as u32;
    let cell = (560 / n).clamp(36, 120);
    let (left, top, bottom, right) = (170u32, 70u32, 90u32, 30u32);
    let (width, height) = (left + n * cell + right, top + n * cell + bottom);
    let mut rgb = vec![255u8; (width * height * 3) as usize];
    {
        let area = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        area.fill(&WHITE).map_err(|e| e.to_string())?;
        let max = counts.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
        let text = |size: f64, color: &RGBColor, h: HPos, v: VPos| {
            (FONT, size).into_font().color(color).pos(Pos::new(h, v))
        };
        let centre = text(16.0, &BLACK, HPos::Center, VPos::Center);
        area.draw_text(
            title,
            &text(22.0, &BLACK, HPos::Center, VPos::Center),
            ((width / 2) as i32, 30),
        )
        .map_err(|e| e.to_string())?;
        for (a, row) in counts.iter().enumerate() {
            for (p, &count) in row.iter().enumerate() {
                let x = (left + p as u32 * cell) as i32;
                let y = (top + a as u32 * cell) as i32;
                let shade = count as f64 / max;
                let fill = RGBColor(
                    (247.0 - shade * (247.0 - 8.0)) as u8,
                    (251.0 - shade * (251.0 - 48.0)) as u8,
                    (255.0 - shade * (255.0 - 107.0)) as u8,
                );
                let c = cell as i32;
                area.draw(&Rectangle::new([(x, y), (x + c, y + c)], fill.filled()))
                    .map_err(|e| e.to_string())?;
                area.draw(&Rectangle::new(
                    [(x, y), (x + c, y + c)],
                    BLACK.stroke_width(1),
                ))
                .map_err(|e| e.to_string())?;
                let ink = if shade > 0.5 { WHITE } else { BLACK };
                let style = text(16.0, &ink, HPos::Center, VPos::Center);
                area.draw_text(&count.to_string(), &style, (x + c / 2, y + c / 2))
                    .map_err(|e| e.to_string())?;
            }
        }
        let grid_end = (n * cell) as i32;
        for (i, label) in labels.iter().enumerate() {
            let mid = (i as u32 * cell + cell / 2) as i32;
            let short: String = label.chars().take(18).collect();
            let right_aligned = text(14.0, &BLACK, HPos::Right, VPos::Center);
            area.draw_text(&short, &right_aligned, (left as i32 - 8, top as i32 + mid))
                .map_err(|e| e.to_string())?;
            let below = text(14.0, &BLACK, HPos::Center, VPos::Top);
            area.draw_text(
                &short,
                &below,
                (left as i32 + mid, top as i32 + grid_end + 8),
            )
            .map_err(|e| e.to_string())?;
        }
        let axis_y = top as i32 + grid_end + 50;
        area.draw_text("predicted", &centre, (left as i32 + grid_end / 2, axis_y))
            .map_err(|e| e.to_string())?;
        area.draw_text(
            "actual",
            &text(16.0, &BLACK, HPos::Left, VPos::Center),
            (10, top as i32 - 16),
        )
        .map_err(|e| e.to_string())?;
        area.present().map_err(|e| e.to_string())?;
    }
    encode_rgb(&rgb, width, height)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_a_png_with_text() {
        let labels = vec!["negative".to_string(), "positive".to_string()];
        let png =
            confusion_matrix_png("confusion matrix", &labels, &[vec![50, 3], vec![7, 40]]).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        // Decodes, with the size we drew and dark pixels (cells, text).
        let decoder = png::Decoder::new(std::io::Cursor::new(&png));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert!(info.width > 300 && info.height > 300);
        assert!(buf.iter().filter(|&&b| b < 40).count() > 500);
    }
}
