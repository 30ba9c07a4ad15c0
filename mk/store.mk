# The identity store (package store): PostgreSQL for its tests, and make bench-store for the
# issue's figures. Included by the Makefile, which provides ROOT, GO, STAMP, the cgo flags and the
# setup and models targets.
#
#   make bench-store                                  the figures on a 1,000,000-sample store (~10 min on 2 cores;
#                                                     the SQLite store is built once into build/bench-store)
#   make bench-store STORE_BENCH_SAMPLES=100000       a quick look
#
# The store tests start a real PostgreSQL 15 server (internal/pgtest) from Debian's postgresql-15,
# which this stamp installs; test-go and setup depend on it.

PG_APT_PACKAGES     := postgresql-15
STORE_BENCH_SAMPLES ?= 1000000
STORE_BENCH_DIR     ?= $(ROOT)/build/bench-store
STORE_KILL_TRIALS   ?= 100

$(STAMP)/postgresql:
	@mkdir -p $(STAMP)
	@if dpkg -s $(PG_APT_PACKAGES) >/dev/null 2>&1; then echo "apt: $(PG_APT_PACKAGES) present" >&2; \
	else echo "apt: installing $(PG_APT_PACKAGES)" >&2; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(PG_APT_PACKAGES); fi
	@test -x /usr/lib/postgresql/15/bin/postgres || { echo "no /usr/lib/postgresql/15/bin/postgres" >&2; exit 1; }
	@touch $@

.PHONY: bench-store
## bench-store: the identity store's figures (README "The identity store"): enrolment into and open of a
## 1,000,000-sample store (SQLite and PostgreSQL), identify over it, cross-server visibility, and 100 kill -9s.
bench-store: setup models $(STAMP)/postgresql
	@mkdir -p $(STORE_BENCH_DIR)
	FACENET_STORE_BENCH_SAMPLES=$(STORE_BENCH_SAMPLES) FACENET_STORE_BENCH_DIR=$(STORE_BENCH_DIR) FACENET_PGTEST_FSYNC=on \
	  $(GO) test -run '^$$' -bench '1M|Visibility' -benchtime 200x -timeout 90m ./store
	FACENET_STORE_KILL_TRIALS=$(STORE_KILL_TRIALS) FACENET_PGTEST_FSYNC=on $(GO) test -count=1 -run 'TestKill9' -v -timeout 60m ./store
	$(GO) test -count=1 -run 'TestStoreConcurrentEnroll' -v -timeout 30m ./cmd/facenet
