# 3tofu — everything a fresh Debian machine needs is installed by these targets.
#   make test    install dependencies, build, run the whole test suite
#   make demo    install dependencies, build, run a verified pull end to end on loopback
#   make build   release build of ./.build/release/3tofu

SWIFT ?= swift
ifneq ($(wildcard /opt/swift/usr/bin/swift),)
export PATH := /opt/swift/usr/bin:$(PATH)
endif

# Build and link: libcurl and libssh2 headers. Tests and demo: the real servers and the
# independent checkers (registry, proxies, sshd, mitmproxy; skopeo, umoci, podman); tmux, a real
# terminal for the progress display tests.
APT_PACKAGES := libcurl4-openssl-dev libssh2-1-dev pkg-config ca-certificates openssl python3 \
	docker-registry skopeo umoci podman tinyproxy microsocks openssh-server openssh-client \
	apache2-utils mitmproxy python3-jsonschema chromium time nginx tar gzip procps tmux
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build debug test demo clean help

all: build

help:
	@sed -n '1,5p' Makefile

deps:
	@missing=""; for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

build: deps
	$(SWIFT) build -c release --product 3tofu

debug: deps
	$(SWIFT) build --product 3tofu

# The suites that load the disk and both cores for minutes (multi-GB kills, concurrent pulls on one
# cache) run after the rest, on their own: beside everything else they starved fixtures that must
# answer within seconds.
HEAVY_SUITES := KillTests|SharedCacheTests

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --skip '$(HEAVY_SUITES)'
	$(SWIFT) test --skip-build --filter '$(HEAVY_SUITES)'

demo: build
	bash examples/demo.sh .build/release/3tofu

clean:
	rm -rf .build

# make bench: 3tofu against skopeo, occystrap and the floor on loopback (see bench/run.sh for
# BENCH_SIZE_MB, BENCH_RUNS, BENCH_SCALING=1 …); prints a table, writes bench/out/results.json.
.PHONY: bench
bench: build
	bash bench/run.sh .build/release/3tofu

# make fuzz: libFuzzer harnesses over the parsers (references, digests, manifests, challenges, the
# SSH agent protocol, the TOML-to-config mapping), each for FUZZ_SECONDS (default 60) from the seeds
# in Fuzz/corpus/; FUZZ_TARGETS picks some; fails on a crash (see Fuzz/run.sh).
.PHONY: fuzz
fuzz:
	FUZZ_SECONDS=$(or $(FUZZ_SECONDS),60) bash Fuzz/run.sh
