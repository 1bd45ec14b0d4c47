# Doorstep. `make run` shows a whole doorstep visit; `make test` runs every check CI runs.
# Both install what they need first (scripts/setup.sh).

CARGO ?= cargo
FUZZ_SECONDS ?= 20

.PHONY: setup run test fmt-check clippy supply-chain unit wasm vectors fuzz bench-smoke bench survey binaries \
	ui-dist ui-check app e2e screens check-mobile lint-mobile measure-app console-dist console-e2e \
	console-screens page-wasm verify-e2e verify-screens

setup:
	scripts/setup.sh

DEMO_DIR ?= .doorstep-demo
DEMO_LISTEN ?= 127.0.0.1:8080

# The demo needs no fuzzing tools. A visit runs against a real back-office, which then serves
# on $(DEMO_LISTEN) while two app windows (agent and customer) enrol and do a visit of their own.
run:
	WITH_FUZZ=0 scripts/setup.sh
	npm --prefix ui run build
	npm --prefix web/console run build
	scripts/page-wasm.sh
	$(CARGO) build -q -p doorstep-cli -p doorstep-server
	$(MAKE) app
	DEMO_DIR=$(DEMO_DIR) DEMO_LISTEN=$(DEMO_LISTEN) scripts/run-demo.sh

test: setup
	scripts/test-stages.sh ui-dist console-dist page-wasm fmt-check clippy supply-chain ui-check unit \
	  wasm vectors fuzz lint-mobile console-e2e verify-e2e e2e

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# Licences, banned crates, duplicate versions and sources of every dependency of every target
# (deny.toml), checked offline once the locked crates are fetched. Advisories need the
# advisory database from the network and are not part of it (docs/security.md).
supply-chain:
	$(CARGO) fetch --locked
	$(CARGO) deny --offline check licenses bans sources

# Every test and every benchmark run once (criterion's test mode), with a private PostgreSQL 15 (the back-office suite covers both backends), a
# private Secret Service (the desktop key store) and a private pcscd with a virtual contactless
# reader (NFC taps) running.
unit:
	scripts/with-pcscd.sh scripts/with-postgres.sh scripts/with-keyring.sh \
	  env DOORSTEP_REQUIRE_POSTGRES=1 DOORSTEP_REQUIRE_KEYRING=1 DOORSTEP_REQUIRE_PCSCD=1 sh -c \
	  '$(CARGO) test --workspace && $(CARGO) test --workspace --benches'

# The app's views, built: the Rust shell embeds them, so its tests and clippy need them too.
ui-dist:
	npm --prefix ui run build

# The back-office console, built: doorstep-server embeds it, so its build needs it first. Built
# again only when its sources changed: new files would make cargo build the server again.
console-dist:
	@if [ ! -f web/console/dist/index.html ] || [ -n "$$(find web/console/src web/console/index.html \
	  web/console/package-lock.json web/console/vite.config.ts web/console/svelte.config.js \
	  -newer web/console/dist/index.html | head -1)" ]; then npm --prefix web/console run build; \
	else echo "console-dist: web/console/dist is up to date"; fi

# The views' type check (svelte-check, strict) and their tests (Vitest with mocked IPC); the
# console's type check.
ui-check:
	npm --prefix ui run check
	NO_COLOR=1 npm --prefix ui test
	npm --prefix web/console run check

# The console in Debian's Chromium (playwright-core) against a real doorstep-server, on SQLite
# and on PostgreSQL.
console-e2e: console-dist binaries
	npm --prefix web/console test
	scripts/with-postgres.sh env CONSOLE_DATABASE=postgres npm --prefix web/console test

# The verification page's WebAssembly and glue, into web/verify/pkg: doorstep-server embeds
# them, so its build needs them first.
page-wasm:
	scripts/page-wasm.sh

# The verification page in Chromium with a phone's viewport, against a real back-office.
verify-e2e: page-wasm binaries
	VERIFY_WEBKIT=1 xvfb-run -a -s "-screen 0 1280x1024x24" npm --prefix web/verify test

# The verification page's screens, into docs/screens/verify.
verify-screens: page-wasm binaries
	SCREENS_DIR=$(CURDIR)/docs/screens/verify VERIFY_WEBKIT=1 xvfb-run -a -s "-screen 0 1280x1024x24" npm --prefix web/verify test

# The console's screens, into docs/screens/console.
console-screens: console-dist binaries
	SCREENS_DIR=$(CURDIR)/docs/screens/console npm --prefix web/console test

# The desktop app as the CLI builds it (views embedded, debug profile).
app:
	ui/node_modules/.bin/tauri build --debug --no-bundle

# Two instances of the real app in WebKit under Xvfb against a real back-office, and a tap
# between them through a private pcscd.
e2e: binaries app
	scripts/with-pcscd.sh scripts/with-keyring.sh xvfb-run -a tests/e2e/run.sh

# Every main screen at 360×640 in English and Dutch, into docs/screens.
screens: binaries app
	SCREENS_DIR=$(CURDIR)/docs/screens scripts/with-pcscd.sh scripts/with-keyring.sh xvfb-run -a tests/e2e/run.sh

# The app as shipped (dist profile): binary size and cold start to the first screen under Xvfb.
measure-app:
	ui/node_modules/.bin/tauri build --no-bundle -- --profile dist
	xvfb-run -a scripts/measure-app.sh

# The app type-checked for Android and iOS (no SDKs here: a check, never a build to ship),
# with the app's own plugin.
check-mobile: lint-mobile
	scripts/check-mobile.sh

# The store lanes parse (ruby -c) and the mobile workflow passes actionlint. The projects' own
# consistency (AID, permissions, entitlements, signing) is in the unit tests.
lint-mobile:
	scripts/lint-mobile.sh

# The protocol core must build for the web page's WebAssembly (without the std-only tables).
wasm:
	$(CARGO) build -p doorstep-core --target wasm32-unknown-unknown --no-default-features

# The binaries the stages below run (doorstep-server, doorstep) as the workspace's test build
# makes them: after `unit` nothing is built again, where `cargo build -p …` would resolve other
# features and build half the dependencies a second time. It also puts the test build's
# doorstep-app in target/debug, so the app's stages make it before `app` replaces that.
binaries:
	$(CARGO) test -q --workspace --no-run

vectors: binaries
	target/debug/doorstep vectors --check tests/vectors/doorstep-v2.json

# The core's benchmark once in the bench profile; `make test` runs every benchmark once in its
# unit stage, `make bench` measures.
bench-smoke:
	$(CARGO) bench -p doorstep-core --bench legs -- --test

fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS)

bench:
	$(CARGO) bench -p doorstep-core --bench legs
	scripts/with-postgres.sh sh -c '$(CARGO) bench -p doorstep-server --bench ingest && $(CARGO) bench -p doorstep-sync --bench sync_day' 
	scripts/with-pcscd.sh $(CARGO) bench -p doorstep-device --bench tap

# The decoders on degraded renderings, with zxing-cpp (in a virtual environment of its own,
# pinned) on the same images as the reference.
SURVEY_DIR := target/qr-survey
survey:
	rm -rf $(SURVEY_DIR) && mkdir -p $(SURVEY_DIR)
	$(CARGO) run --release -p doorstep-qr --features doorstep-core/scenario --example qr_survey -- $(SURVEY_DIR)
	test -x $(SURVEY_DIR)/../qr-survey-venv/bin/python || python3 -m venv $(SURVEY_DIR)/../qr-survey-venv
	$(SURVEY_DIR)/../qr-survey-venv/bin/pip install -q zxing-cpp==3.1.1 pillow==11.3.0
	$(SURVEY_DIR)/../qr-survey-venv/bin/python scripts/qr-survey-reference.py $(SURVEY_DIR)
