//! Enrolment letters: one A4 page as PDF with the enrolment QR code, the same code to type,
//! who it is for, until when it works, and the organisation's official number. Written by
//! hand (a page of text and squares needs no PDF library); the text is uncompressed, so a
//! letter can be checked by reading it.

use doorstep_core::Role;
use doorstep_core::when;

/// What one letter says.
#[derive(Debug, Clone)]
pub struct Letter<'a> {
    pub organisation: &'a str,
    pub official_phone: &'a str,
    pub role: Role,
    /// The person's name as printed; for a customer, from their record.
    pub name: &'a str,
    pub subject_ref: &'a str,
    /// For a customer's letter sent by post: the address block.
    pub postal_address: Option<&'a str>,
    /// The code as the app reads it from the QR symbol.
    pub qr_text: &'a str,
    /// The code as a person types it.
    pub typed_code: &'a str,
    pub back_office: &'a str,
    pub expires_at: u64,
    pub issued_at: u64,
}

const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 64.0;

/// The PDF's bytes.
pub fn enrolment_letter(letter: &Letter<'_>) -> Result<Vec<u8>, doorstep_qr::QrError> {
    let symbol = doorstep_qr::Symbol::new(letter.qr_text)?;
    let mut page = Page::default();
    let mut y = PAGE_HEIGHT - MARGIN;
    page.text(Font::Bold, 20.0, MARGIN, y, letter.organisation);
    y -= 18.0;
    page.text(
        Font::Regular,
        10.0,
        MARGIN,
        y,
        &format!("Official number: {}", letter.official_phone),
    );
    if let Some(address) = letter.postal_address {
        y -= 34.0;
        page.text(Font::Regular, 11.0, MARGIN, y, letter.name);
        for line in address
            .split([',', '\n'])
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            y -= 14.0;
            page.text(Font::Regular, 11.0, MARGIN, y, line);
        }
    }
    y -= 40.0;
    let (title, who) = match letter.role {
        Role::Agent => ("Your Doorstep agent enrolment", "Agent"),
        Role::Customer => ("Your Doorstep enrolment", "Customer"),
    };
    page.text(Font::Bold, 16.0, MARGIN, y, title);
    y -= 20.0;
    page.text(
        Font::Regular,
        11.0,
        MARGIN,
        y,
        &format!("{who}: {} ({})", letter.name, letter.subject_ref),
    );

    // The symbol with its quiet zone, 3 points a module at the least.
    let modules = symbol.modules();
    let quiet = 4.0;
    let module = (220.0 / (modules.len() as f32 + 2.0 * quiet)).max(3.0);
    let side = module * (modules.len() as f32 + 2.0 * quiet);
    y -= 20.0 + side;
    page.qr(
        &modules,
        MARGIN + quiet * module,
        y + quiet * module,
        module,
    );

    let x = MARGIN + side + 24.0;
    let mut ty = y + side - 30.0;
    page.text(
        Font::Regular,
        11.0,
        x,
        ty,
        "Scan this code in the Doorstep app,",
    );
    ty -= 14.0;
    page.text(Font::Regular, 11.0, x, ty, "or type it:");
    ty -= 30.0;
    page.text(Font::Code, 20.0, x, ty, letter.typed_code);
    ty -= 28.0;
    page.text(
        Font::Regular,
        10.0,
        x,
        ty,
        &format!("Valid until {}", when::format(letter.expires_at)),
    );
    ty -= 13.0;
    page.text(Font::Regular, 10.0, x, ty, "for one phone only.");
    ty -= 13.0;
    page.text(
        Font::Regular,
        10.0,
        x,
        ty,
        &format!("Back-office: {}", letter.back_office),
    );

    y -= 36.0;
    let steps: [&str; 3] = match letter.role {
        Role::Agent => [
            "1. In the Doorstep app on your work phone, choose Enrol and scan this code.",
            "2. Check that the app names the organisation above before you confirm.",
            "3. Keep this letter to yourself; destroy it once your phone is enrolled.",
        ],
        Role::Customer => [
            "1. Install the Doorstep app, choose Enrol and scan this code, or type it.",
            "2. Check that the app names the organisation above before you confirm.",
            "3. Before you open the door to a visitor, check them with the app.",
        ],
    };
    for step in steps {
        page.text(Font::Regular, 11.0, MARGIN, y, step);
        y -= 16.0;
    }
    y -= 10.0;
    page.text(
        Font::Bold,
        11.0,
        MARGIN,
        y,
        "Nobody from us will ever ask you for this code, by phone or at the door.",
    );
    y -= 16.0;
    page.text(
        Font::Regular,
        11.0,
        MARGIN,
        y,
        &format!(
            "In doubt, call {} on {}: the number above, never one a caller gives you.",
            letter.organisation, letter.official_phone
        ),
    );
    page.text(
        Font::Regular,
        8.0,
        MARGIN,
        MARGIN / 2.0,
        &format!("Issued {}", when::format(letter.issued_at)),
    );
    Ok(page.finish(&format!("{title}: {}", letter.subject_ref)))
}

#[derive(Clone, Copy)]
enum Font {
    Regular,
    Bold,
    Code,
}

impl Font {
    fn resource(self) -> &'static str {
        match self {
            Font::Regular => "F1",
            Font::Bold => "F2",
            Font::Code => "F3",
        }
    }
}

#[derive(Default)]
struct Page {
    content: String,
}

impl Page {
    fn text(&mut self, font: Font, size: f32, x: f32, y: f32, text: &str) {
        self.content.push_str(&format!(
            "BT /{} {size:.1} Tf {x:.2} {y:.2} Td ({}) Tj ET\n",
            font.resource(),
            pdf_string(text)
        ));
    }

    fn qr(&mut self, modules: &[Vec<bool>], x: f32, y: f32, module: f32) {
        self.content.push_str("0 g\n");
        let rows = modules.len() as f32;
        for (row, line) in modules.iter().enumerate() {
            // PDF's y grows upwards; the symbol's first row is its top.
            let top = y + (rows - 1.0 - row as f32) * module;
            for (column, dark) in line.iter().enumerate() {
                if *dark {
                    self.content.push_str(&format!(
                        "{:.2} {:.2} {module:.2} {module:.2} re\n",
                        x + column as f32 * module,
                        top
                    ));
                }
            }
        }
        self.content.push_str("f\n");
    }

    fn finish(self, title: &str) -> Vec<u8> {
        let font = |name: &str| {
            format!(
                "<< /Type /Font /Subtype /Type1 /BaseFont /{name} /Encoding /WinAnsiEncoding >>"
            )
        };
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] \
                 /Resources << /Font << /F1 5 0 R /F2 6 0 R /F3 7 0 R >> >> /Contents 4 0 R >>"
            ),
            format!(
                "<< /Length {} >>\nstream\n{}endstream",
                // One byte a character once encoded.
                self.content.chars().count(),
                self.content
            ),
            font("Helvetica"),
            font("Helvetica-Bold"),
            font("Courier-Bold"),
            format!("<< /Title ({}) /Producer (Doorstep) >>", pdf_string(title)),
        ];
        let mut out: Vec<u8> = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
        let mut offsets = Vec::with_capacity(objects.len());
        for (i, object) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
            out.extend(object.chars().map(win_ansi));
            out.extend_from_slice(b"\nendobj\n");
        }
        let xref = out.len();
        out.extend_from_slice(
            format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
        );
        for offset in offsets {
            out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R /Info 8 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                objects.len() + 1
            )
            .as_bytes(),
        );
        out
    }
}

/// A string for a PDF literal: its delimiters escaped, control characters dropped.
fn pdf_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().filter(|c| !c.is_control()) {
        if matches!(c, '(' | ')' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// One character in the standard fonts' WinAnsi encoding: Latin-1 as it is, the letters of
/// Polish and other Latin scripts without their marks, anything else as `?`.
fn win_ansi(c: char) -> u8 {
    match c {
        '\u{20}'..='\u{7e}' | '\n' => c as u8,
        '\u{a0}'..='\u{ff}' => c as u32 as u8,
        '€' => 0x80,
        '–' => 0x96,
        '—' => 0x97,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        'ą' => b'a',
        'ć' | 'č' => b'c',
        'ę' | 'ě' => b'e',
        'ł' => b'l',
        'ń' | 'ň' => b'n',
        'ś' | 'š' => b's',
        'ź' | 'ż' | 'ž' => b'z',
        'Ą' => b'A',
        'Ć' | 'Č' => b'C',
        'Ę' | 'Ě' => b'E',
        'Ł' => b'L',
        'Ń' | 'Ň' => b'N',
        'Ś' | 'Š' => b'S',
        'Ź' | 'Ż' | 'Ž' => b'Z',
        _ => b'?',
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_other_scripts_print_as_their_nearest_latin_letters() {
        let bytes: Vec<u8> = "Łukasz Wójcik (x)".chars().map(win_ansi).collect();
        assert_eq!(bytes, b"Lukasz W\xf3jcik (x)");
        assert_eq!(pdf_string("a (b) \\ c\u{7}"), "a \\(b\\) \\\\ c");
    }
}
