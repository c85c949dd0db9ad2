# PiCloud. `make run` builds and starts the daemon with its embedded defaults;
# `make test` runs every test. Both install Debian's PostgreSQL server package
# first when it is missing.

GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X github.com/picloud/picloud/appliance.Version=$(VERSION)
BIN      := bin/picloud
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all build run test test-all check unit wpt bench deps clean deb package-test qemu-smoke apt-repo system-test system-test-vm \
	dashboard dashboard-check browser-test dashboard-docs

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/picloud

# deps installs the PostgreSQL server binaries (any major version 13+) unless
# dpkg has a postgresql-N server package fully installed (a half-configured
# one is installed again); without dpkg, unless a
# /usr/lib/postgresql/N/bin/postgres is present.
PG_INSTALLED = $(if $(shell command -v dpkg-query),\
	dpkg-query -W -f='$${Status}\n' 'postgresql-[0-9]*' 2>/dev/null | grep -q '^install ok installed$$',\
	ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1)

deps:
	@if $(PG_INSTALLED); then :; else \
		echo "installing Debian's postgresql package"; \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends postgresql; \
	fi

run: deps build
	./$(BIN) serve

# test: formatting, vet and every Go test, against real PostgreSQL clusters
# that the tests start themselves, then the web-platform-tests table.
test: deps check unit wpt

# test-all adds the slow suites to test: the dashboard's build check and browser
# test, the packages (lintian, qemu), the arm64 daemon serving scripts under
# qemu-user and an install into a booted Debian (as root). It is what CI runs.
test-all: test dashboard-check browser-test package-test qemu-smoke system-test

check:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags browser ./cmd/picloud/
	$(GO) vet -tags qemu ./cmd/picloud/

unit:
	$(GO) test -count=1 -timeout 20m ./...

# wpt runs the conformance vectors of engine/testdata/wpt (WPT's URL
# vectors, the Encoding standard's labels and decoders) through the
# engine's URL and TextDecoder, the cases of webapis.js through the other
# Web APIs and the Workers examples of engine/testdata/workers, and, in the
# same run, through Node.js, and prints both pass tables (docs/scripts.md
# records them). Without node on PATH it prints PiCloud's alone.
NODE := $(shell command -v node 2>/dev/null)

wpt:
	@[ -n '$(NODE)' ] || echo "node is not installed: the table has no Node.js column"
	$(GO) test -count=1 -run '^(TestWPT|TestWorkersExamples|TestNodeModules)$$' -v ./engine/ $(if $(NODE),-args -wpt.node)

# bench serves a hello-world and a 1 KiB JSON echo handler from raw gin, a
# Node.js http server and PiCloud script routes (through the executor
# workers), and kv reads and writes from PiCloud scripts and from raw gin +
# pgx, interleaved, and prints medians, ratios, CPU time per request and
# memory after the load; and queue throughput through a no-op consumer, with
# the hello route's p50/p99 while the queue drains against idle; and the
# footprint with wrk (Debian's wrk package; skipped without it): latency,
# PSS of the daemon, workers and PostgreSQL, start to READY, save to live
# (docs/performance.md).
bench: deps
	$(GO) test -run '^$$' -bench . -benchtime 2s -count 1 -timeout 40m ./appliance/ -args -rounds 5

# dashboard rebuilds the browser dashboard (api/dashboard/web, SvelteKit)
# into api/dashboard/build, which is committed and embedded in the binary:
# building the daemon needs no Node.js. npm's cache stays in .cache/npm.
DASHBOARD_WEB := api/dashboard/web
NPM           := npm_config_cache=$(CURDIR)/.cache/npm npm --prefix $(DASHBOARD_WEB)

dashboard:
	$(NPM) ci --no-audit --no-fund
	$(NPM) run build

# dashboard-check rebuilds the dashboard from the lock file, runs its type
# check and component tests, and fails when the committed build is not
# what the sources give.
dashboard-check: dashboard
	$(NPM) run check
	$(NPM) test
	@changed=$$(git status --porcelain -- api/dashboard/build); if [ -n "$$changed" ]; then \
		echo "api/dashboard/build differs from a fresh build (make dashboard, then commit it):"; \
		echo "$$changed"; exit 1; fi

# browser-test drives the dashboard in Debian's Chromium against the real
# daemon (cmd/picloud/dashboard_test.go, build tag browser).
browser-test: deps
	$(GO) test -tags browser -count=1 -timeout 15m -run 'TestDashboard' ./cmd/picloud/

# dashboard-docs runs the browser test as well, saving its screenshots into
# docs/images (docs/dashboard.md) and the dashboard's sizes and load times
# (medians of several loads) into docs/performance.md.
dashboard-docs: deps
	DASHBOARD_DOCS_DIR=$(CURDIR)/docs $(GO) test -tags browser -count=1 -timeout 15m -run 'TestDashboard' ./cmd/picloud/

# deb builds dist/picloud_VERSION_{amd64,arm64,armhf}.deb with nfpm
# (packaging/cmd/mkdeb); armhf is ARMv6 (GOARM=6) for a Pi Zero / Pi 1.
# Every timestamp is the last commit's, so two builds give the same bytes.
DIST              ?= dist
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
export SOURCE_DATE_EPOCH

deb:
	@set -e; for a in amd64 arm64 armhf; do \
		case $$a in armhf) goarch="GOARCH=arm GOARM=6";; *) goarch="GOARCH=$$a";; esac; \
		env CGO_ENABLED=0 GOOS=linux $$goarch $(GO) build -trimpath -ldflags '$(LDFLAGS) -buildid=' \
			-o $(DIST)/bin/$$a/picloud ./cmd/picloud; \
		$(GO) run ./packaging/cmd/mkdeb -arch $$a -binary $(DIST)/bin/$$a/picloud -version '$(VERSION)' -out $(DIST); \
	done

# apt-repo builds the packages and adds them to the signed apt repository in
# APT_DIR (pool/, dists/APT_SUITE/{InRelease,Release,Release.gpg},
# main/binary-*/Packages), signed with the armored secret key in the file
# APT_KEY (APT_KEY_ID picks one key when it holds several;
# APT_KEY_PASSPHRASE_FILE unlocks it). The public key is exported to
# APT_DIR/picloud-archive-keyring.pgp. Packages already in APT_DIR stay.
APT_DIR   ?= $(DIST)/apt
APT_SUITE ?= stable

apt-repo:
	@[ -n '$(APT_KEY)' ] || { echo "make apt-repo: set APT_KEY to an armored secret key file (see docs/install.md)" >&2; exit 1; }
	@$(MAKE) --no-print-directory deb
	packaging/apt-repo --key '$(APT_KEY)' --suite '$(APT_SUITE)' --out '$(APT_DIR)' \
		$(if $(APT_KEY_ID),--key-id '$(APT_KEY_ID)') $(if $(APT_KEY_PASSPHRASE_FILE),--passphrase-file '$(APT_KEY_PASSPHRASE_FILE)') \
		$(DIST)/picloud_$$($(GO) run ./packaging/cmd/mkdeb -print-version -version '$(VERSION)')_*.deb

# package-test builds the packages twice (same bytes), runs lintian on each,
# checks the systemd unit and runs the ARM binaries under qemu-user.
package-test:
	packaging/test

# qemu-smoke cross-builds the daemon for arm64 and runs it under qemu-user
# (qemu-aarch64-static, Debian's qemu-user-static; skipped without it) on a
# Cortex-A53, scripts in-process: kv and TypeScript routes called by
# concurrent clients, every answer checked; the rate is logged, not kept
# (cmd/picloud/qemu_test.go, build tag qemu; docs/performance.md).
qemu-smoke: deps
	$(GO) test -tags qemu ./cmd/picloud -run 'TestArm64Smoke$$' -count=1 -v

# system-test installs the packages from a signed repository (made with
# make apt-repo and a throwaway key) into a Debian bookworm system booted
# with systemd-nspawn, and checks install, READY, a route over HTTP, the
# watchdog, upgrade, reboot, socket activation and purge. Needs root; the
# root file system is cached in .cache/system-test.
system-test:
	packaging/system-test

# system-test-vm runs the same test in a virtual machine (qemu, with
# Debian's kernel) instead of a container: its own cgroup v2 hierarchy, so
# that the kernel's limits on the executor workers are checked on any
# x86_64 host. Software emulation where there is no KVM: slower.
system-test-vm:
	SYSTEM_TEST_BOOT=qemu packaging/system-test

clean:
	rm -rf bin dist
