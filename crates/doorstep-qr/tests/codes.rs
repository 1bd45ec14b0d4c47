//! Every real code survives rendering and decoding, clean and as a camera might see it.

use doorstep_core::scenario::Scenario;
use doorstep_core::{Code, SeededRandomness};
use doorstep_qr::degrade::Degradation;
use doorstep_qr::{Decoder, Symbol, decode_image, decode_png};

fn codes() -> Vec<String> {
    let run = Scenario::new("qr").run(None, &mut SeededRandomness::new("qr"));
    run.codes.into_iter().map(|c| c.text).collect()
}

#[test]
fn every_code_round_trips_through_a_png() {
    for text in codes() {
        let image = Symbol::new(&text).unwrap().to_image(4);
        let mut png = Vec::new();
        image
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let found = decode_png(&png).unwrap();
        assert_eq!(found, vec![text.clone()]);
        assert!(Code::from_text(&found[0]).is_ok());
    }
}

#[test]
fn the_chosen_decoder_reads_moderately_degraded_codes() {
    for text in codes() {
        let clean = Symbol::new(&text).unwrap().to_image(4);
        for d in [
            Degradation::Rotate(30.0),
            Degradation::Blur(1.0),
            Degradation::Noise(20.0),
            Degradation::Scale(0.5),
            Degradation::Perspective(0.1),
            // A code shown in dark mode, and a photograph of a lit screen.
            Degradation::Inverted,
            Degradation::ScreenPhoto(20.0),
        ] {
            let found = decode_image(&d.apply(&clean, 1));
            assert_eq!(
                found,
                Ok(vec![text.clone()]),
                "{} on {}",
                d.label(),
                &text[..5]
            );
        }
    }
}

#[test]
fn the_chosen_decoder_is_the_one_that_read_more_in_the_survey() {
    // A small version of the survey: the choice must keep holding as the decoders change.
    let score = |decoder: Decoder| {
        let mut ok = 0;
        for text in codes() {
            let clean = Symbol::new(&text).unwrap().to_image(4);
            for d in [
                Degradation::Rotate(15.0),
                Degradation::Scale(0.5),
                Degradation::Blur(1.5),
                Degradation::Inverted,
                Degradation::Noise(50.0),
            ] {
                ok += usize::from(
                    decoder
                        .decode(&d.apply(&clean, 2))
                        .is_ok_and(|f| f == [text.clone()]),
                );
            }
        }
        ok
    };
    let chosen = score(Decoder::CHOSEN);
    for d in Decoder::ALL {
        assert!(
            chosen >= score(d),
            "{} read more than the chosen decoder",
            d.name()
        );
    }
}
