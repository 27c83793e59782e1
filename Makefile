# Thin wrapper around CMake. `make run` and `make test` are the two set-up commands of the README:
# both install missing Debian packages first, so they work on a fresh Debian 12 machine as root.
BUILD     ?= build
ASAN_BUILD ?= build-asan
RELEASE_BUILD ?= build-release
prefix    ?= /usr/local
CMAKE_FLAGS ?=
DEB_PACKAGE := mosquitto-proxy
# Debian 12 keeps packaged units in /lib; units of a local install go with the local prefix.
SYSTEMD_UNITDIR ?= $(if $(filter /usr,$(prefix)),/lib/systemd/system,/etc/systemd/system)
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps deps-test build release run test test-asan unit fuzz install install-check install-files clean bench deb

all: build

# Build packages only: `make run` needs no HAProxy and no Debian mosquitto.
deps:
	@bash scripts/deps.sh build

deps-test:
	@bash scripts/deps.sh test

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
test: deps-test build release
	$(MAKE) --no-print-directory test-asan
	@bash scripts/fuzz.sh $(ASAN_BUILD) 20
	cd $(BUILD) && ctest --output-on-failure -j 2 -R '^(unit|static)_'
	cd $(RELEASE_BUILD) && ctest --output-on-failure -j 2

test-asan: deps-test
	CC=clang cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSANITIZE=ON -DWERROR=ON -DWITH_FUZZ=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j 2

# `make install` (default prefix /usr/local) refuses to overwrite files that a Debian package
# owns, such as /usr/sbin/mosquitto from Debian's mosquitto with prefix=/usr: dpkg would keep
# believing they are its files and put its own back on the next upgrade. Use `make deb` and
# install the package instead (it replaces Debian's mosquitto cleanly), or say
# OVERWRITE_PACKAGED=1 to do it anyway.
install: build install-check
	$(MAKE) --no-print-directory install-files
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then sh debian/$(DEB_PACKAGE).postinst configure; fi

install-check:
	@owned=""; for f in $(prefix)/sbin/mosquitto $(prefix)/bin/mosquitto_passwd \
	    $(SYSTEMD_UNITDIR)/mosquitto.service; do \
	    pkg=$$(dpkg-query -S "$(DESTDIR)$$f" 2>/dev/null | cut -d: -f1); \
	    case "$$pkg" in ""|$(DEB_PACKAGE)) ;; *) owned="$$owned $$f ($$pkg)";; esac; done; \
	if [ -n "$$owned" ] && [ "$(OVERWRITE_PACKAGED)" != 1 ]; then \
	    echo "make install: these files belong to Debian packages:$$owned" >&2; \
	    echo "  build and install the package instead: make deb && apt install ./$(BUILD)/deb/$(DEB_PACKAGE)_*.deb" >&2; \
	    echo "  or overwrite them anyway: make install OVERWRITE_PACKAGED=1 prefix=$(prefix)" >&2; \
	    exit 1; fi

# What gets installed, without building or checking: debian/rules calls this too.
install-files:
	install -d $(DESTDIR)$(prefix)/sbin $(DESTDIR)$(prefix)/bin
	install -m 755 $(BUILD)/src/mosquitto $(DESTDIR)$(prefix)/sbin/mosquitto
	install -m 755 $(BUILD)/apps/mosquitto_passwd $(DESTDIR)$(prefix)/bin/mosquitto_passwd
	install -m 755 $(BUILD)/apps/mosquitto_db_dump $(DESTDIR)$(prefix)/bin/mosquitto_db_dump
	install -d -m 755 $(DESTDIR)/etc/mosquitto/conf.d $(DESTDIR)/etc/mosquitto/ca_certificates
	install -d -m 750 $(DESTDIR)/etc/mosquitto/certs
	install -m 644 dist/readme/conf.d $(DESTDIR)/etc/mosquitto/conf.d/README
	install -m 644 dist/readme/certs $(DESTDIR)/etc/mosquitto/certs/README
	install -m 644 dist/readme/ca_certificates $(DESTDIR)/etc/mosquitto/ca_certificates/README
	test -e $(DESTDIR)/etc/mosquitto/mosquitto.conf || install -m 644 dist/mosquitto.conf $(DESTDIR)/etc/mosquitto/mosquitto.conf
	install -d $(DESTDIR)/etc/logrotate.d $(DESTDIR)/etc/fail2ban/filter.d $(DESTDIR)$(SYSTEMD_UNITDIR)
	# Kept if present, like mosquitto.conf: Debian's own does the same job (a reload).
	test -e $(DESTDIR)/etc/logrotate.d/mosquitto || install -m 644 dist/mosquitto.logrotate $(DESTDIR)/etc/logrotate.d/mosquitto
	install -m 644 dist/fail2ban-filter.conf $(DESTDIR)/etc/fail2ban/filter.d/mosquitto-proxy.conf
	sed 's|@SBINDIR@|$(prefix)/sbin|' dist/mosquitto.service.in > $(DESTDIR)$(SYSTEMD_UNITDIR)/mosquitto.service
	chmod 644 $(DESTDIR)$(SYSTEMD_UNITDIR)/mosquitto.service
	install -d $(DESTDIR)/var/lib/mosquitto $(DESTDIR)/var/log/mosquitto
	# Every page of man/, compressed as Debian installs them (gzip -9n: no name or time stamp,
	# so the package is reproducible).
	for m in man/*.[1-8]; do sec=$${m##*.}; install -d $(DESTDIR)$(prefix)/share/man/man$$sec; \
	    gzip -9n < $$m > $(DESTDIR)$(prefix)/share/man/man$$sec/$$(basename $$m).gz; done

# A Debian package of this tree, built (unsigned) from a copy in $(DEB_WORK) so that neither
# this folder nor its parent collect dpkg-buildpackage's by-products; the .deb ends up there.
DEB_WORK ?= $(CURDIR)/$(BUILD)/deb
deb: deps-test
	rm -rf $(DEB_WORK) && mkdir -p $(DEB_WORK)/src
	tar --exclude-vcs --exclude='./build*' --exclude='./obj-*' --exclude='./debian/$(DEB_PACKAGE)' \
	    --exclude='./debian/.debhelper' --exclude='./debian/tmp' -cf - . | tar -xf - -C $(DEB_WORK)/src
	cd $(DEB_WORK)/src && dpkg-buildpackage -b -uc -us -j$(JOBS)
	@ls $(DEB_WORK)/*.deb

bench: build
	@bash scripts/bench.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(RELEASE_BUILD)
