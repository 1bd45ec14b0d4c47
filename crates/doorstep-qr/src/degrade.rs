//! Degraded renderings of a symbol, as a camera or a screenshot would give them: rotated,
//! blurred, noisy, small and seen at an angle. Used to choose the decoder and in tests.

use image::{GrayImage, Luma, imageops};

/// One kind of damage with its strength.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Degradation {
    /// Degrees, about the centre.
    Rotate(f32),
    /// Gaussian blur sigma, in pixels.
    Blur(f32),
    /// Additive sensor-like noise: standard deviation in grey levels (0–255).
    Noise(f32),
    /// Final size relative to the clean rendering.
    Scale(f32),
    /// How much narrower the far edge is than the near one (0 = square on).
    Perspective(f32),
    /// Light modules on a dark ground, as an app in dark mode shows a code.
    Inverted,
    /// A photographed screen: light on dark, slightly out of focus, with sensor noise of this
    /// standard deviation.
    ScreenPhoto(f32),
}

impl Degradation {
    pub fn label(&self) -> String {
        match self {
            Degradation::Rotate(d) => format!("rotated {d}°"),
            Degradation::Blur(s) => format!("blur σ={s}"),
            Degradation::Noise(n) => format!("noise σ={n}"),
            Degradation::Scale(s) => format!("scaled ×{s}"),
            Degradation::Perspective(p) => format!("perspective {:.0}%", p * 100.0),
            Degradation::Inverted => "inverted".to_string(),
            Degradation::ScreenPhoto(n) => format!("screen photo, noise σ={n}"),
        }
    }

    pub fn apply(&self, image: &GrayImage, seed: u64) -> GrayImage {
        let padded = pad(image, image.width() / 4);
        match *self {
            Degradation::Rotate(degrees) => rotate(&padded, degrees.to_radians()),
            Degradation::Blur(sigma) => imageops::blur(&padded, sigma),
            Degradation::Noise(sigma) => noise(&padded, sigma, seed),
            Degradation::Scale(factor) => {
                let w = ((padded.width() as f32) * factor).round().max(1.0) as u32;
                let h = ((padded.height() as f32) * factor).round().max(1.0) as u32;
                imageops::resize(&padded, w, h, imageops::FilterType::Triangle)
            }
            Degradation::Perspective(amount) => perspective(&padded, amount),
            Degradation::Inverted => invert(&padded),
            Degradation::ScreenPhoto(sigma) => {
                // Not pure black and white: a lit screen's light grey on its dark background.
                let mut dim = invert(&padded);
                for p in dim.pixels_mut() {
                    p[0] = 30 + (u16::from(p[0]) * 190 / 255) as u8;
                }
                noise(&imageops::blur(&dim, 1.2), sigma, seed)
            }
        }
    }
}

fn invert(image: &GrayImage) -> GrayImage {
    let mut out = image.clone();
    imageops::invert(&mut out);
    out
}

fn pad(image: &GrayImage, margin: u32) -> GrayImage {
    let mut out = GrayImage::from_pixel(
        image.width() + 2 * margin,
        image.height() + 2 * margin,
        Luma([255]),
    );
    imageops::overlay(&mut out, image, margin.into(), margin.into());
    out
}

fn sample(image: &GrayImage, x: f32, y: f32) -> u8 {
    if x < 0.0 || y < 0.0 || x > (image.width() - 1) as f32 || y > (image.height() - 1) as f32 {
        return 255;
    }
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (x1, y1) = (
        (x0 + 1).min(image.width() - 1),
        (y0 + 1).min(image.height() - 1),
    );
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let p = |x, y| image.get_pixel(x, y)[0] as f32;
    let top = p(x0, y0) * (1.0 - fx) + p(x1, y0) * fx;
    let bottom = p(x0, y1) * (1.0 - fx) + p(x1, y1) * fx;
    (top * (1.0 - fy) + bottom * fy).round() as u8
}

/// Builds each output pixel by sampling the source at `source_of(x, y)`.
fn warp(image: &GrayImage, source_of: impl Fn(f32, f32) -> (f32, f32)) -> GrayImage {
    GrayImage::from_fn(image.width(), image.height(), |x, y| {
        let (sx, sy) = source_of(x as f32, y as f32);
        Luma([sample(image, sx, sy)])
    })
}

fn rotate(image: &GrayImage, radians: f32) -> GrayImage {
    let (cx, cy) = (image.width() as f32 / 2.0, image.height() as f32 / 2.0);
    let (sin, cos) = radians.sin_cos();
    warp(image, |x, y| {
        let (dx, dy) = (x - cx, y - cy);
        (cx + dx * cos + dy * sin, cy - dx * sin + dy * cos)
    })
}

/// A trapezoid: the top edge is narrower by `amount`, as when the phone is tilted back.
fn perspective(image: &GrayImage, amount: f32) -> GrayImage {
    let (w, h) = (image.width() as f32, image.height() as f32);
    warp(image, |x, y| {
        let t = y / h;
        // Rows shrink towards the top; rows near the top are also compressed vertically.
        let row_scale = 1.0 - amount * (1.0 - t);
        let sx = (x - w / 2.0) / row_scale + w / 2.0;
        let sy = h * (t + amount * 0.5 * t * (1.0 - t));
        (sx, sy)
    })
}

/// Adds approximately Gaussian noise (the sum of four uniform draws) from a seeded xorshift, so
/// runs repeat.
fn noise(image: &GrayImage, sigma: f32, seed: u64) -> GrayImage {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f32 / (1u64 << 53) as f32 - 0.5
    };
    // Four uniforms on [-0.5, 0.5) sum to variance 1/3; scale to the asked sigma.
    let scale = sigma * 3f32.sqrt();
    let mut out = image.clone();
    for p in out.pixels_mut() {
        let n = (uniform() + uniform() + uniform() + uniform()) * scale;
        p[0] = (p[0] as f32 + n).clamp(0.0, 255.0) as u8;
    }
    out
}
