//! What every PNG we draw shares: the embedded font and the encoder.
//!
//! Text uses DejaVu Sans, embedded from the `dejavu` crate and rendered by
//! `ab_glyph`, so pictures look the same on every machine and nothing
//! depends on system font libraries. Pictures are drawn by `plotters` into an
//! RGB buffer and encoded here with `png`.

use std::sync::Once;

use plotters::style::FontStyle;

/// The family name drawings use for text.
pub const FONT: &str = "medallion-sans";

/// Registers [`FONT`] with plotters (once per process).
pub fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // DejaVu Sans ships inside the `dejavu` crate; it is a valid font.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
    });
}

/// Encodes an 8-bit RGB buffer of `width` × `height` pixels as PNG bytes.
pub fn encode_rgb(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(rgb).map_err(|e| e.to_string())?;
    }
    Ok(out)
}
