//! Bar and line charts as PNG bytes, for the pipeline's analyses.
//!
//! Input is long-form `(x, y, series)` points, as a SQL query naturally
//! produces them; x values and series keep the order they first appear in
//! (so `ORDER BY` in SQL decides the axis). Bars of several series stack.

use std::collections::HashMap;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::png::{encode_rgb, register_font, FONT};

/// The chart kinds `medallion_chart` draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Stacked bars, one per x value.
    Bar,
    /// One line per series.
    Line,
}

impl Kind {
    pub fn parse(text: &str) -> Option<Kind> {
        match text.trim().to_ascii_lowercase().as_str() {
            "bar" => Some(Kind::Bar),
            "line" => Some(Kind::Line),
            _ => None,
        }
    }
}

/// Points pivoted to one value per (series, x); missing points are 0.
#[derive(Debug, PartialEq)]
pub struct Table {
    pub x: Vec<String>,
    pub series: Vec<(String, Vec<f64>)>,
}

impl Table {
    /// Pivots long-form points. Linear in the number of points (a chart of
    /// every hour of a year has ~26,000 of them), through hashed positions.
    pub fn from_points(points: &[(String, f64, String)]) -> Table {
        let mut x: Vec<String> = Vec::new();
        let mut x_at: HashMap<&str, usize> = HashMap::new();
        let mut series: Vec<(String, Vec<f64>)> = Vec::new();
        let mut series_at: HashMap<&str, usize> = HashMap::new();
        let mut cells = Vec::with_capacity(points.len());
        for (px, y, s) in points {
            let i = *x_at.entry(px.as_str()).or_insert_with(|| {
                x.push(px.clone());
                x.len() - 1
            });
            let j = *series_at.entry(s.as_str()).or_insert_with(|| {
                series.push((s.clone(), Vec::new()));
                series.len() - 1
            });
            cells.push((i, j, if y.is_finite() { *y } else { 0.0 }));
        }
        for (_, values) in &mut series {
            values.resize(x.len(), 0.0);
        }
        for (i, j, y) in cells {
            series[j].1[i] += y;
        }
        Table { x, series }
    }

    /// The top of the y axis: the tallest stack (bars) or point (lines).
    fn y_max(&self, kind: Kind) -> f64 {
        let per_x = (0..self.x.len()).map(|i| {
            let values = self.series.iter().map(|(_, v)| v[i].max(0.0));
            match kind {
                Kind::Bar => values.sum::<f64>(),
                Kind::Line => values.fold(0.0, f64::max),
            }
        });
        per_x.fold(0.0, f64::max)
    }
}

/// Sentiment series get their conventional colours; others a palette.
fn colour(name: &str, idx: usize) -> RGBColor {
    match name.to_ascii_lowercase().as_str() {
        "negative" | "neg" => RGBColor(214, 39, 40),
        "neutral" => RGBColor(140, 140, 140),
        "positive" | "pos" => RGBColor(44, 160, 44),
        _ => {
            let (r, g, b) = Palette99::pick(idx).to_rgba().rgb();
            RGBColor(r, g, b)
        }
    }
}

fn short(label: &str) -> String {
    let s: String = label.chars().take(16).collect();
    if label.chars().count() > 16 {
        format!("{s}…")
    } else {
        s
    }
}

/// Draws `table` as a `kind` chart titled `title`; returns PNG bytes.
pub fn chart_png(title: &str, kind: Kind, table: &Table) -> Result<Vec<u8>, String> {
    register_font();
    let (width, height) = (1000u32, 560u32);
    let mut rgb = vec![255u8; (width * height * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let n = table.x.len().max(1);
        let top = (table.y_max(kind) * 1.1).max(1.0);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 24))
            .margin(18)
            .x_label_area_size(70)
            .y_label_area_size(70)
            .build_cartesian_2d(0f64..n as f64, 0f64..top)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0) // drawn below, centred under each bar / point
            .light_line_style(WHITE)
            .label_style((FONT, 13))
            .draw()
            .map_err(|e| e.to_string())?;
        // At most ~12 labels: every k-th x value when there are many.
        let step = table.x.len().div_ceil(12).max(1);
        let label_style = (FONT, 13)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Top));
        for (i, label) in table.x.iter().enumerate().step_by(step) {
            let (px, py) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
            root.draw_text(&short(label), &label_style, (px, py + 8))
                .map_err(|e| e.to_string())?;
        }
        let mut base = vec![0.0; n];
        for (idx, (name, values)) in table.series.iter().enumerate() {
            let c = colour(name, idx);
            let drawn = match kind {
                Kind::Bar => {
                    let bars: Vec<_> = values
                        .iter()
                        .enumerate()
                        .map(|(i, v)| {
                            let (x, y0) = (i as f64, base[i]);
                            base[i] += v.max(0.0);
                            Rectangle::new([(x + 0.1, y0), (x + 0.9, base[i])], c.filled())
                        })
                        .collect();
                    chart.draw_series(bars)
                }
                Kind::Line => chart.draw_series(std::iter::once(PathElement::new(
                    values
                        .iter()
                        .enumerate()
                        .map(|(i, v)| (i as f64 + 0.5, *v))
                        .collect::<Vec<_>>(),
                    c.stroke_width(2),
                ))),
            }
            .map_err(|e| e.to_string())?;
            drawn
                .label(name.as_str())
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], c.filled()));
        }
        chart
            .configure_series_labels()
            .label_font((FONT, 14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    encode_rgb(&rgb, width, height)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(x: &str, y: f64, s: &str) -> (String, f64, String) {
        (x.into(), y, s.into())
    }

    #[test]
    fn pivots_points_keeping_first_seen_order_and_summing_duplicates() {
        let t = Table::from_points(&[
            p("b", 1.0, "pos"),
            p("a", 2.0, "neg"),
            p("b", 3.0, "neg"),
            p("b", 1.0, "pos"),
        ]);
        assert_eq!(t.x, vec!["b", "a"]);
        assert_eq!(
            t.series,
            vec![
                ("pos".to_string(), vec![2.0, 0.0]),
                ("neg".to_string(), vec![3.0, 2.0])
            ]
        );
        assert_eq!(t.y_max(Kind::Bar), 5.0);
        assert_eq!(t.y_max(Kind::Line), 3.0);
    }

    #[test]
    fn kinds_parse_case_insensitively_and_reject_others() {
        assert_eq!(Kind::parse(" Bar "), Some(Kind::Bar));
        assert_eq!(Kind::parse("line"), Some(Kind::Line));
        assert_eq!(Kind::parse("pie"), None);
    }

    #[test]
    fn draws_decodable_pngs_with_coloured_marks() {
        let t = Table::from_points(&[p("a", 5.0, "negative"), p("b", 3.0, "positive")]);
        for kind in [Kind::Bar, Kind::Line] {
            let png = chart_png("t", kind, &t).unwrap();
            let mut reader = png::Decoder::new(std::io::Cursor::new(&png))
                .read_info()
                .unwrap();
            let mut buf = vec![0; reader.output_buffer_size().unwrap()];
            let info = reader.next_frame(&mut buf).unwrap();
            assert_eq!((info.width, info.height), (1000, 560));
            // the negative series' red is there
            let red = buf.chunks(3).filter(|px| px == &[214, 39, 40]).count();
            assert!(red > 20, "{kind:?}: {red} red pixels");
        }
    }

    #[test]
    fn an_empty_table_still_draws() {
        let png = chart_png("empty", Kind::Bar, &Table::from_points(&[])).unwrap();
        assert_eq!(&png[..4], b"\x89PNG");
    }
}
