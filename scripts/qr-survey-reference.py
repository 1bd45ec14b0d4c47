#!/usr/bin/env python3
"""The QR survey's reference column: zxing-cpp on the images the survey wrote.

scripts/qr-survey-reference.py DIR  (after `cargo run --example qr_survey -- DIR`)
Prints the survey's Markdown table with a zxing-cpp column beside the Rust decoders.
"""
import sys
from collections import OrderedDict
from pathlib import Path

import zxingcpp
from PIL import Image

directory = Path(sys.argv[1])
rows: "OrderedDict[str, dict[str, tuple[int, int]]]" = OrderedDict()
decoders: list[str] = []
for line in (directory / "results.tsv").read_text().splitlines():
    degradation, decoder, ok, tried = line.split("\t")
    rows.setdefault(degradation, {})[decoder] = (int(ok), int(tried))
    if decoder not in decoders:
        decoders.append(decoder)

reference = "zxing-cpp"
for line in (directory / "manifest.tsv").read_text().splitlines():
    file, degradation, expected = line.split("\t")
    found = zxingcpp.read_barcodes(Image.open(directory / file), formats=zxingcpp.BarcodeFormat.QRCode)
    ok, tried = rows[degradation].get(reference, (0, 0))
    rows[degradation][reference] = (ok + any(r.text == expected for r in found), tried + 1)
decoders.append(reference)

print("| degradation | " + " | ".join(decoders) + " |")
print("|---|" + "---|" * len(decoders))
totals = {d: [0, 0] for d in decoders}
for degradation, cells in rows.items():
    print(f"| {degradation} | " + " | ".join(f"{cells[d][0]}/{cells[d][1]}" for d in decoders) + " |")
    for d in decoders:
        totals[d][0] += cells[d][0]
        totals[d][1] += cells[d][1]
print("| **total** | " + " | ".join(f"**{totals[d][0]}/{totals[d][1]}**" for d in decoders) + " |")
