//! The plots' shared style (the trainer's and the HIL host's PNGs): text in an embedded open
//! font (Ubuntu Light, so a plot looks the same on every machine without system fonts) and one
//! legend box.

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

/// Font family name to use in text styles, e.g. `(FONT, 14)`, after [`register_font`].
pub const FONT: &str = "sans-serif";

/// Registers the embedded font as [`FONT`] (once per process; later calls do nothing).
pub fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // The embedded font always parses; were it not to, drawing text reports the error.
        let _ = plotters::style::register_font(
            FONT,
            FontStyle::Normal,
            epaint_default_fonts::UBUNTU_LIGHT,
        );
    });
}

/// A 2-D chart over `f64 × f64`.
pub type Chart2<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Draws the series legend at `pos` (white box, black border, the plot font at 13 px).
pub fn legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart2<'a, DB>,
    pos: SeriesLabelPosition,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .position(pos)
        .label_font((FONT, 13))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| e.to_string())
}
