//! Doorstep codes as QR symbols.
//!
//! Codes are rendered at error-correction level M; their text is Base45 with a QR-alphanumeric
//! prefix, so the encoder picks alphanumeric mode for the whole symbol. Decoding from images
//! (desktop "scan from a file", and tests) goes through one decoder, chosen by measurement:
//! see `docs/benchmarks.md` and the `qr-survey` binary.

use image::{DynamicImage, GrayImage, Luma};
use qrcode::render::{svg, unicode};
use qrcode::types::Mode;
use qrcode::{EcLevel, QrCode, Version};

pub mod degrade;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    #[error("the code is too long for a QR symbol")]
    TooLong,
    #[error("the code contains characters outside the QR alphanumeric set")]
    NotAlphanumeric,
    #[error("no QR code was found in the image")]
    NotFound,
    #[error("the image could not be read: {0}")]
    BadImage(String),
    #[error("the image is too large to read: {0}")]
    TooLarge(String),
}

/// The largest image file "scan from an image" reads, in bytes.
pub const MAX_IMAGE_BYTES: usize = 16 * 1024 * 1024;
/// The largest width or height read, in pixels.
pub const MAX_IMAGE_SIDE: u32 = 8192;
/// The most pixels read: a 12-megapixel phone photo (4032×3024) passes; a small file that
/// claims 16000×16000 (a decompression bomb) is refused before any pixel is decoded.
pub const MAX_IMAGE_PIXELS: u64 = 16 * 1024 * 1024;
/// The most memory the image decoder may allocate.
pub const MAX_IMAGE_ALLOC: u64 = 96 * 1024 * 1024;

/// How big a code's symbol is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SymbolSize {
    pub version: i16,
    /// Modules per side, without the quiet zone.
    pub modules: usize,
    /// Characters of text encoded.
    pub characters: usize,
}

/// A QR symbol for one code.
pub struct Symbol {
    code: QrCode,
    size: SymbolSize,
}

/// The QR alphanumeric character set (ISO/IEC 18004 table 5), which Base45 shares.
fn is_qr_alphanumeric(c: u8) -> bool {
    matches!(c, b'0'..=b'9' | b'A'..=b'Z' | b' ' | b'$' | b'%' | b'*' | b'+' | b'-' | b'.' | b'/' | b':')
}

impl Symbol {
    pub fn new(text: &str) -> Result<Self, QrError> {
        if !text.bytes().all(is_qr_alphanumeric) {
            return Err(QrError::NotAlphanumeric);
        }
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
            .map_err(|_| QrError::TooLong)?;
        let version = match code.version() {
            Version::Normal(v) | Version::Micro(v) => v,
        };
        let size = SymbolSize {
            version,
            modules: code.width(),
            characters: text.len(),
        };
        Ok(Self { code, size })
    }

    pub fn size(&self) -> SymbolSize {
        self.size
    }

    /// SVG with a 4-module quiet zone, scaled by the viewer.
    pub fn to_svg(&self) -> String {
        self.code
            .render::<svg::Color<'_>>()
            .quiet_zone(true)
            .module_dimensions(8, 8)
            .build()
    }

    /// Half-height block characters: two modules per character cell, readable by a phone held
    /// to a terminal.
    pub fn to_terminal(&self) -> String {
        self.code
            .render::<unicode::Dense1x2>()
            .dark_color(unicode::Dense1x2::Light)
            .light_color(unicode::Dense1x2::Dark)
            .quiet_zone(true)
            .build()
    }

    /// The modules, row by row, `true` for dark, without a quiet zone: for drawing the symbol
    /// in another format (a printed letter).
    pub fn modules(&self) -> Vec<Vec<bool>> {
        let width = self.code.width();
        (0..width)
            .map(|y| {
                (0..width)
                    .map(|x| self.code[(x, y)] == qrcode::Color::Dark)
                    .collect()
            })
            .collect()
    }

    /// A grey-scale image with `pixels_per_module` and a 4-module quiet zone.
    pub fn to_image(&self, pixels_per_module: u32) -> GrayImage {
        self.code
            .render::<Luma<u8>>()
            .quiet_zone(true)
            .module_dimensions(pixels_per_module, pixels_per_module)
            .build()
    }
}

/// The largest number of alphanumeric characters a version-`version` symbol holds at level M.
pub fn alphanumeric_capacity(version: i16) -> usize {
    let Ok(bits) = qrcode::bits::Bits::new(Version::Normal(version)).max_len(EcLevel::M) else {
        return 0;
    };
    let header = 4 + Mode::Alphanumeric.length_bits_count(Version::Normal(version));
    let data = bits.saturating_sub(header);
    data / 11 * 2 + usize::from(data % 11 >= 6)
}

/// The QR decoders measured for Doorstep (see the `qr-survey` binary).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoder {
    Rqrr,
    Rxing,
    /// rxing as the product runs it: dark-on-light and light-on-dark, then through its image
    /// filters, then at another scale, stopping at the first that reads.
    Layered,
}

impl Decoder {
    pub const ALL: [Decoder; 3] = [Decoder::Rqrr, Decoder::Rxing, Decoder::Layered];

    /// The decoder the product uses: it read the most degraded renderings in the survey.
    pub const CHOSEN: Decoder = Decoder::Layered;

    pub fn name(self) -> &'static str {
        match self {
            Decoder::Rqrr => "rqrr",
            Decoder::Rxing => "rxing",
            Decoder::Layered => "rxing, layered",
        }
    }

    /// The text of the QR codes found in the image (usually one).
    pub fn decode(self, image: &GrayImage) -> Result<Vec<String>, QrError> {
        let found = match self {
            Decoder::Rqrr => {
                let mut prepared = rqrr::PreparedImage::prepare(image.clone());
                prepared
                    .detect_grids()
                    .into_iter()
                    .filter_map(|grid| grid.decode().ok().map(|(_, text)| text))
                    .collect()
            }
            Decoder::Rxing => rxing::helpers::detect_in_image(
                DynamicImage::ImageLuma8(image.clone()),
                Some(rxing::BarcodeFormat::QR_CODE),
            )
            .map(|r| vec![r.getText().to_string()])
            .unwrap_or_default(),
            Decoder::Layered => layered(image),
        };
        if found.is_empty() {
            Err(QrError::NotFound)
        } else {
            Ok(found)
        }
    }
}

/// Each attempt costs more than the one before and is made only when those before found
/// nothing: a clean code costs one pass.
fn layered(image: &GrayImage) -> Vec<String> {
    let hints = || rxing::DecodeHints {
        AlsoInverted: Some(true),
        ..Default::default()
    };
    let qr = Some(rxing::BarcodeFormat::QR_CODE);
    let plain = |image: &GrayImage| {
        rxing::helpers::detect_in_image_with_hints(
            DynamicImage::ImageLuma8(image.clone()),
            qr,
            &mut hints(),
        )
        .ok()
    };
    let found = plain(image)
        .or_else(|| {
            rxing::helpers::detect_in_image_filtered_with_hints(
                DynamicImage::ImageLuma8(image.clone()),
                qr,
                &mut hints(),
            )
            .ok()
        })
        .or_else(|| {
            // Modules of a pixel or two are read better enlarged, a photo's large modules
            // (and its noise) better reduced.
            let (w, h) = image.dimensions();
            let factor = if w.max(h) <= 1200 { 2.0 } else { 0.5 };
            let resized = image::imageops::resize(
                image,
                ((w as f32) * factor) as u32,
                ((h as f32) * factor) as u32,
                image::imageops::FilterType::Triangle,
            );
            plain(&resized)
        });
    found
        .map(|r| vec![r.getText().to_string()])
        .unwrap_or_default()
}

/// Decodes the QR codes in an image with the chosen decoder.
pub fn decode_image(image: &GrayImage) -> Result<Vec<String>, QrError> {
    Decoder::CHOSEN.decode(image)
}

/// Decodes an encoded image file (PNG) as "scan from an image" does, within bounds: the file's
/// size, its claimed dimensions (checked from the header, before decoding) and the decoder's
/// allocations are all capped, so what the file claims cannot take the app's memory.
pub fn decode_png(bytes: &[u8]) -> Result<Vec<String>, QrError> {
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(QrError::TooLarge(format!(
            "{} bytes; at most {MAX_IMAGE_BYTES}",
            bytes.len()
        )));
    }
    let bad = |e: image::ImageError| match e {
        image::ImageError::Limits(l) => QrError::TooLarge(l.to_string()),
        other => QrError::BadImage(other.to_string()),
    };
    let reader = || -> Result<_, QrError> {
        let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| QrError::BadImage(e.to_string()))?;
        let mut limits = image::Limits::default();
        limits.max_image_width = Some(MAX_IMAGE_SIDE);
        limits.max_image_height = Some(MAX_IMAGE_SIDE);
        limits.max_alloc = Some(MAX_IMAGE_ALLOC);
        reader.limits(limits);
        Ok(reader)
    };
    let (width, height) = reader()?.into_dimensions().map_err(bad)?;
    if u64::from(width) * u64::from(height) > MAX_IMAGE_PIXELS {
        return Err(QrError::TooLarge(format!(
            "{width}×{height} pixels; at most {MAX_IMAGE_PIXELS}"
        )));
    }
    let image = reader()?.decode().map_err(bad)?;
    decode_image(&image.to_luma8())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_matches_the_standard_table() {
        // ISO/IEC 18004 table 7, alphanumeric at level M.
        assert_eq!(alphanumeric_capacity(1), 20);
        assert_eq!(alphanumeric_capacity(5), 122);
        assert_eq!(alphanumeric_capacity(6), 154);
        assert_eq!(alphanumeric_capacity(10), 311);
        assert_eq!(alphanumeric_capacity(40), 3391);
    }

    #[test]
    fn text_at_capacity_fits_its_version() {
        for v in [6i16, 13] {
            let text = "A".repeat(alphanumeric_capacity(v));
            assert_eq!(Symbol::new(&text).unwrap().size().version, v);
            let text = "A".repeat(alphanumeric_capacity(v) + 1);
            assert_eq!(Symbol::new(&text).unwrap().size().version, v + 1);
        }
    }

    #[test]
    fn lower_case_is_refused_because_it_would_leave_alphanumeric_mode() {
        assert_eq!(
            Symbol::new("DS1c:abc").err(),
            Some(QrError::NotAlphanumeric)
        );
    }

    #[test]
    fn rendered_symbols_decode_with_every_decoder() {
        let text = "DS1C:ABC123 $%*+-./:XYZ";
        let image = Symbol::new(text).unwrap().to_image(6);
        for d in Decoder::ALL {
            assert_eq!(
                d.decode(&image).unwrap(),
                vec![text.to_string()],
                "{}",
                d.name()
            );
        }
    }

    #[test]
    fn a_blank_image_has_no_code() {
        let blank = GrayImage::from_pixel(200, 200, Luma([255]));
        assert_eq!(decode_image(&blank), Err(QrError::NotFound));
    }

    #[test]
    fn a_file_that_is_not_an_image_is_a_clear_error() {
        assert!(matches!(
            decode_png(b"not a png"),
            Err(QrError::BadImage(_))
        ));
    }

    #[test]
    fn svg_and_terminal_renderings_are_produced() {
        let s = Symbol::new("DS1R:ABC").unwrap();
        assert!(s.to_svg().starts_with("<?xml"));
        assert!(s.to_terminal().lines().count() > 10);
    }

    /// A PNG whose header claims `width`×`height` while its data is one small image's: what a
    /// decompression bomb looks like to the header check.
    fn png_claiming(width: u32, height: u32) -> Vec<u8> {
        let mut png = Vec::new();
        image::GrayImage::new(8, 8)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        // IHDR follows the 8-byte signature: length, "IHDR", width, height, …, CRC.
        png[16..20].copy_from_slice(&width.to_be_bytes());
        png[20..24].copy_from_slice(&height.to_be_bytes());
        let crc = crc32(&png[12..29]);
        png[29..33].copy_from_slice(&crc.to_be_bytes());
        png
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn a_decompression_bomb_is_refused_from_its_header() {
        for (w, h) in [(16_000, 16_000), (MAX_IMAGE_SIDE + 1, 10), (5000, 5000)] {
            let bomb = png_claiming(w, h);
            assert!(bomb.len() < 200, "the bomb is small: {}", bomb.len());
            assert!(
                matches!(decode_png(&bomb), Err(QrError::TooLarge(_))),
                "{w}×{h}: {:?}",
                decode_png(&bomb)
            );
        }
        // The same file with its true size reads (and holds no code).
        let real = png_claiming(8, 8);
        assert_eq!(decode_png(&real), Err(QrError::NotFound));
    }

    #[test]
    fn an_oversized_file_is_refused_unread() {
        let huge = vec![0u8; MAX_IMAGE_BYTES + 1];
        assert!(matches!(decode_png(&huge), Err(QrError::TooLarge(_))));
        assert!(matches!(
            decode_png(b"not a picture"),
            Err(QrError::BadImage(_))
        ));
    }
}
