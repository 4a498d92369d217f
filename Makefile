# kaopei — the two commands of the README are `make demo` and `make test`.
# Both install the Debian packages they need when missing (as root, or with
# sudo), then build once in release mode and reuse that build.

SHELL := /bin/bash
CARGO ?= cargo
# ffmpeg-next needs the FFmpeg dev libraries and libclang (bindgen);
# ffmpeg makes test clips; fonts render Chinese text; chromium prints PDFs
# and runs the browser test; opencv-doc ships the real CCTV test footage.
DEB_PKGS := pkg-config libclang-dev clang libavcodec-dev libavformat-dev libavutil-dev \
            libswscale-dev libswresample-dev libavfilter-dev libavdevice-dev \
            ffmpeg fonts-wqy-microhei chromium opencv-doc python3

.PHONY: deps build demo test bench fuzz calibrate ci clean

deps:
	@missing=$$(for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "make: installing Debian packages:" $$missing; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

build: deps
	$(CARGO) build --release --locked

# Scores the committed demo dataset; exit code 1 only means red-tier
# institutions were found, which the demo has on purpose.
demo: build
	@rm -rf out/demo
	@./target/release/kaopei score sample_data/demo --out out/demo; rc=$$?; [ $$rc -le 1 ] || exit $$rc
	@echo "scores:  out/demo/scores.csv"
	@echo "index:   $$(pwd)/out/demo/index.html"

# Exactly what CI runs: the tests, then clippy (the [lints.clippy] deny
# table of Cargo.toml, warnings as errors) and rustfmt.
test: deps
	$(CARGO) test --release --locked
	$(CARGO) clippy --release --all-targets --locked -- -D warnings
	$(CARGO) fmt --check

ci: test

bench: build
	bash bench/province.sh
	bash bench/video.sh

calibrate: build
	bash scripts/calibrate.sh

fuzz:
	bash fuzz/run.sh

clean:
	rm -rf out
