//! Visitor passes as QR codes: the gateway's signed token drawn as an SVG image that the
//! visitor's phone shows at the reader (no image files, no external service).

use qrcode::QrCode;
use qrcode::render::svg;

/// The token as an SVG QR code, black on white with a quiet zone, sized for a phone screen.
pub fn svg(token: &str) -> String {
    match QrCode::new(token.as_bytes()) {
        Ok(code) => code
            .render::<svg::Color<'_>>()
            .min_dimensions(240, 240)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .quiet_zone(true)
            .build(),
        // A token is a few hundred bytes; a QR code holds far more, so this cannot happen with
        // tokens the core makes. Say so rather than draw nothing.
        Err(e) => format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><text y=\"20\">QR error: {e}</text></svg>"
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn draws_an_svg_that_grows_with_the_token() {
        let short = super::svg("V-1");
        let long = super::svg(&"x".repeat(300));
        assert!(
            short.starts_with("<?xml") || short.starts_with("<svg"),
            "{}",
            &short[..40]
        );
        assert!(short.contains("<path") || short.contains("<rect"));
        assert!(long.len() > short.len());
    }
}
