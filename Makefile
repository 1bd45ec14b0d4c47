# Doorstep. `make run` shows a whole doorstep visit; `make test` runs every check CI runs.
# Both install what they need first (scripts/setup.sh).

CARGO ?= cargo
FUZZ_SECONDS ?= 20

.PHONY: setup run test fmt-check clippy unit wasm vectors fuzz bench-smoke bench survey

setup:
	scripts/setup.sh

# The demo needs no fuzzing tools.
run:
	WITH_FUZZ=0 scripts/setup.sh
	$(CARGO) run -q -p doorstep-cli -- demo

test: setup fmt-check clippy unit wasm vectors bench-smoke fuzz

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# Every test, with a private PostgreSQL 15 running so the back-office suite covers both backends.
unit:
	scripts/with-postgres.sh env DOORSTEP_REQUIRE_POSTGRES=1 $(CARGO) test --workspace

# The protocol core must build for the web page's WebAssembly (without the std-only tables).
wasm:
	$(CARGO) build -p doorstep-core --target wasm32-unknown-unknown --no-default-features

vectors:
	$(CARGO) run -q -p doorstep-cli -- vectors --check tests/vectors/doorstep-v1.json

# Each benchmark once, to prove they run; `make bench` measures.
bench-smoke:
	$(CARGO) bench -p doorstep-core --bench legs -- --test

fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS)

bench:
	$(CARGO) bench -p doorstep-core --bench legs

survey:
	$(CARGO) run --release -p doorstep-qr --example qr_survey
