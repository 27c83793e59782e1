# Thin wrapper around CMake. `make run` and `make test` are the two set-up commands of the README:
# both install missing Debian packages first, so they work on a fresh Debian 12 machine as root.
BUILD     ?= build
ASAN_BUILD ?= build-asan
RELEASE_BUILD ?= build-release
prefix    ?= /usr/local
CMAKE_FLAGS ?=
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps build release run test test-asan unit fuzz install clean bench

all: build

deps:
	@bash scripts/deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWERROR=ON $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

run: build
	./$(BUILD)/src/mosquitto -c mosquitto.conf

# Release build as packagers make it: GCC, -O3, warnings are errors (GCC at -O3 sees more, e.g.
# use-after-free and maybe-uninitialized).
release: deps
	CC=gcc cmake -S . -B $(RELEASE_BUILD) -DCMAKE_BUILD_TYPE=Release \
	    -DCMAKE_C_FLAGS_RELEASE="-O3 -DNDEBUG" -DWERROR=ON $(CMAKE_FLAGS) >/dev/null
	cmake --build $(RELEASE_BUILD) -j $(JOBS)

# The whole suite, within 30 minutes on 2 cores: under ASan+UBSan, then a short fuzz run of
# every target, then again on the -O3 Release binary (what users run). The RelWithDebInfo
# build of `make run` must compile warning-free and passes its unit and static checks; its
# integration suite would repeat the Release one on nearly the same code, so it is left out.
test: build release
	$(MAKE) --no-print-directory test-asan
	@bash scripts/fuzz.sh $(ASAN_BUILD) 20
	cd $(BUILD) && ctest --output-on-failure -j 2 -R '^(unit|static)_'
	cd $(RELEASE_BUILD) && ctest --output-on-failure -j 2

test-asan: deps
	CC=clang cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSANITIZE=ON -DWERROR=ON -DWITH_FUZZ=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j 2

install: build
	install -d $(DESTDIR)$(prefix)/sbin $(DESTDIR)$(prefix)/bin $(DESTDIR)/etc/mosquitto
	install -m 755 $(BUILD)/src/mosquitto $(DESTDIR)$(prefix)/sbin/mosquitto
	install -m 755 $(BUILD)/apps/mosquitto_passwd $(DESTDIR)$(prefix)/bin/mosquitto_passwd
	test -e $(DESTDIR)/etc/mosquitto/mosquitto.conf || install -m 644 mosquitto.conf $(DESTDIR)/etc/mosquitto/mosquitto.conf
	install -m 644 mosquitto.conf $(DESTDIR)/etc/mosquitto/mosquitto.conf.example
	install -d $(DESTDIR)$(prefix)/share/man/man1 $(DESTDIR)$(prefix)/share/man/man5 $(DESTDIR)$(prefix)/share/man/man8
	install -m 644 man/mosquitto_passwd.1 $(DESTDIR)$(prefix)/share/man/man1/
	install -m 644 man/mosquitto.conf.5 $(DESTDIR)$(prefix)/share/man/man5/
	install -m 644 man/mosquitto.8 $(DESTDIR)$(prefix)/share/man/man8/

bench: build
	@bash scripts/bench.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(RELEASE_BUILD)
