"""test_docker - docker/ checked without a Docker engine (none on our machines; issue 11):
- the runtime stage installs exactly the packages that hold what the built binaries link
  (ldd -> dpkg -S), closed under apt's dependencies, and nothing stale;
- the build stage uses the same script and make target as CI, and every file COPY names exists;
- the image's user, paths and volumes are eclipse-mosquitto's;
- the configs it ships start the real broker (/mosquitto-no-auth.conf lets anyone in);
- the HEALTHCHECK script, run here against the real broker, tells serving from not serving,
  also on a PROXY listener;
- compose/haproxy.cfg and compose/mosquitto.conf, run with Debian's HAProxy and the broker,
  carry the real client address through send-proxy-v2.
What stays unchecked here: that `docker build` itself succeeds (base image pull, layer order);
scripts/image-without-engine.sh does that with buildah, outside `make test`."""

import fnmatch
import os
import re
import shutil
import socket
import subprocess
import unittest

import proxy_fixture as pf
from broker import BIN, Broker, BrokerTest, free_port, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DOCKER = os.path.join(ROOT, "docker")
HEALTH = os.path.join(DOCKER, "healthcheck.sh")
PASSWD = os.environ.get("MOSQUITTO_PASSWD_BIN") or os.path.join(
    os.path.dirname(os.path.dirname(BIN)), "apps", "mosquitto_passwd")


def read(path):
    with open(path) as f:
        return f.read()


def dockerfile():
    return read(os.path.join(DOCKER, "Dockerfile"))


def stages(text):
    """The Dockerfile's stages as lists of logical lines (continuations joined)."""
    text = re.sub(r"\\\n", " ", text)
    out = []
    for line in text.splitlines():
        if line.startswith("FROM "):
            out.append([])
        if out and line.strip() and not line.lstrip().startswith("#"):
            out[-1].append(line.strip())
    return out


def runtime_packages():
    body = dockerfile()
    block = body[body.index("# runtime-packages: begin"):body.index("# runtime-packages: end")]
    m = re.search(r"apt-get install -y --no-install-recommends((?:\s+[a-z0-9][a-z0-9.+-]*)+)",
                  block.replace("\\\n", " "))
    return m.group(1).split()


def package_of(path):
    """The Debian package that ships a library path (usrmerge: /lib is /usr/lib)."""
    candidates = [path, os.path.realpath(path)]
    for p in list(candidates):
        if p.startswith("/usr/lib/"):
            candidates.append(p[4:])
        elif p.startswith("/lib/"):
            candidates.append("/usr" + p)
    for p in candidates:
        r = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True)
        if r.returncode == 0:
            return r.stdout.split(":")[0]
    raise AssertionError("no package ships %s" % path)


def linked_packages(binary):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    paths = re.findall(r"=> (/\S+)", out) + re.findall(r"^\s+(/\S+) \(", out, re.M)
    return {package_of(p) for p in paths}


def apt_closure(pkgs):
    """pkgs and everything apt would install for them (Depends and Pre-Depends)."""
    r = subprocess.run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
                        "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances"] +
                       list(pkgs), capture_output=True, text=True, check=True)
    names = set(re.findall(r"^(?:  \|?(?:Pre)?Depends: |)<?([a-z0-9][a-z0-9.+-]*)>?$",
                           r.stdout, re.M))
    return {n.split(":")[0] for n in names}


class DockerfileTest(unittest.TestCase):
    def test_runtime_packages_match_ldd(self):
        listed = runtime_packages()
        needed = linked_packages(BIN) | linked_packages(PASSWD)
        closure = apt_closure(listed)
        self.assertEqual(sorted(needed - closure), [], "linked but not installed by the image")
        # Nothing stale: each listed library is linked, or named as dlopen()ed / a tool.
        extra = {"libwebsockets-evlib-uv", "mosquitto-clients"}
        self.assertEqual(sorted(set(listed) - needed - extra), [])
        # The plugin libwebsockets loads for its libuv loop is what the extra entry brings.
        r = subprocess.run(["dpkg", "-L", "libwebsockets-evlib-uv"], capture_output=True,
                           text=True, check=True)
        self.assertRegex(r.stdout, r"libwebsockets-evlib_uv\.so")

    def test_build_stage_uses_ci_scripts(self):
        build, runtime = stages(dockerfile())
        self.assertRegex(build[0], r"^FROM debian:bookworm-slim AS build$")
        self.assertTrue(any("scripts/deps.sh build" in l for l in build))
        self.assertTrue(any(re.search(r"make -C /src build\b", l) for l in build))
        self.assertRegex(runtime[0], r"^FROM debian:bookworm-slim$")

    def test_copied_files_exist(self):
        for line in re.sub(r"\\\n", " ", dockerfile()).splitlines():
            if line.startswith("COPY ") and "--from=" not in line:
                src = line.split()[1]
                self.assertTrue(os.path.exists(os.path.join(ROOT, src)), src)
        for f in ("docker-entrypoint.sh", "healthcheck.sh"):
            self.assertTrue(os.access(os.path.join(DOCKER, f), os.X_OK), f)
            shell = "bash" if f == "healthcheck.sh" else "sh"
            r = subprocess.run([shell, "-n", os.path.join(DOCKER, f)])
            self.assertEqual(r.returncode, 0, f)

    def test_build_context_leaves_out_local_builds(self):
        # Found when the image was first built for real (scripts/image-without-engine.sh):
        # without .dockerignore, `COPY . /src` sent build/ and build-asan/ along.
        with open(os.path.join(ROOT, ".dockerignore")) as f:
            patterns = [l.strip() for l in f if l.strip() and not l.startswith("#")]
        for local in ("build", "build-asan", "build-release", ".git", "obj-x86_64-linux-gnu"):
            self.assertTrue(any(fnmatch.fnmatch(local, p) for p in patterns), local)
        # ...and keeps everything the build stage needs (git's files, minus the build folders).
        tracked = subprocess.run(["git", "-C", ROOT, "ls-files"], capture_output=True, text=True)
        for path in tracked.stdout.split() if tracked.returncode == 0 else []:
            top = path.split("/")[0]
            self.assertFalse(any(fnmatch.fnmatch(top, p) or fnmatch.fnmatch(path, p)
                                 for p in patterns), path)

    def test_eclipse_mosquitto_layout(self):
        text = dockerfile()
        self.assertIn("--uid 1883", text)
        self.assertIn("--gid 1883", text)
        self.assertIn('VOLUME ["/mosquitto/data", "/mosquitto/log"]', text)
        self.assertIn("COPY docker/mosquitto-no-auth.conf /mosquitto-no-auth.conf", text)
        self.assertIn("/mosquitto/config/mosquitto.conf", text)
        self.assertRegex(text, r"(?m)^HEALTHCHECK ")
        self.assertRegex(text, r"(?m)^EXPOSE 1883$")
        self.assertIn("mosquitto-clients", runtime_packages())
        entry = read(os.path.join(DOCKER, "docker-entrypoint.sh"))
        self.assertIn('usermod -o -u "$PUID" mosquitto', entry)
        self.assertIn('groupmod -o -g "$PGID" mosquitto', entry)


def port_config(path, port, extra=""):
    """The shipped config with its port moved to a free one (and /mosquitto paths to tmp)."""
    text = re.sub(r"(?m)^listener \d+$", "listener %d 127.0.0.1" % port, read(path))
    return text + extra


class ShippedConfigTest(BrokerTest):
    def test_no_auth_conf_lets_anyone_in(self):
        port = free_port()
        b = self.broker(port_config(os.path.join(DOCKER, "mosquitto-no-auth.conf"), port),
                        listener=False, anonymous=None, port=port)
        with b.client("anyone"):
            pass

    def test_default_conf_starts_and_refuses_anonymous(self):
        port = free_port()
        d = self.tmpdir()
        text = port_config(os.path.join(DOCKER, "mosquitto.conf"), port).replace(
            "/mosquitto/data/", d + "/")
        b = self.broker(text, listener=False, anonymous=None, port=port, logging=False)
        b.client("nobody", expect_rc=5).close()


def health(port, proxy=None):
    env = dict(os.environ, HEALTHCHECK_PORT=str(port))
    if proxy:
        env["HEALTHCHECK_PROXY"] = str(proxy)
    return subprocess.run([HEALTH], env=env, capture_output=True, timeout=20).returncode


class HealthcheckTest(BrokerTest):
    def test_serving_broker_is_healthy_even_when_it_refuses(self):
        b = self.broker(anonymous=False)
        self.assertEqual(health(b.port), 0)
        b.wait_log(r"disconnected: not authorised\.")

    def test_nothing_listening_is_unhealthy(self):
        self.assertEqual(health(free_port()), 1)

    def test_silent_listener_is_unhealthy(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        self.addCleanup(s.close)
        self.assertEqual(health(s.getsockname()[1]), 1)

    def test_proxy_listeners(self):
        p1, p2 = free_port(), free_port()
        b = self.broker("listener %d 127.0.0.1\nenable_proxy_protocol 1\n"
                        "listener %d 127.0.0.1\nenable_proxy_protocol 2\n" % (p1, p2))
        self.assertEqual(health(p1, 1), 0)
        self.assertEqual(health(p2, 2), 0)
        # Without the header a PROXY listener drops the probe: not mistaken for healthy.
        self.assertEqual(health(p2), 1)


@unittest.skipIf(shutil.which("haproxy") is None, "haproxy not installed (make test installs it)")
class ComposeExampleTest(BrokerTest):
    def test_real_address_through_haproxy_send_proxy_v2(self):
        front, back = free_port(), free_port()
        d = self.tmpdir()
        conf = read(os.path.join(DOCKER, "compose", "mosquitto.conf"))
        conf = conf.replace("listener 1884", "listener %d 127.0.0.1" % back).replace(
            "/mosquitto/data/", d + "/").replace("log_dest stdout", "")
        b = self.broker(conf, listener=False, anonymous=None, port=back)
        cfg = read(os.path.join(DOCKER, "compose", "haproxy.cfg"))
        cfg = cfg.replace("bind :1883", "bind 127.0.0.1:%d" % front).replace(
            "mosquitto:1884", "127.0.0.1:%d" % back).replace("log stdout format raw local0", "")
        cfg_path = os.path.join(d, "haproxy.cfg")
        with open(cfg_path, "w") as f:
            f.write(cfg)
        r = subprocess.run(["haproxy", "-c", "-f", cfg_path], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        hp = subprocess.Popen(["haproxy", "-db", "-f", cfg_path], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: (hp.terminate(), hp.wait(10)))
        b.wait_ready(port=front)

        # A client from 127.0.0.2: only a PROXY header can tell the broker that address.
        s = pf.open_conn(front, bind="127.0.0.2")
        self.addCleanup(s.close)
        s.sendall(pf.mqtt_connect("via-haproxy", proto=4, clean=True))
        self.assertEqual(pf.read_connack(s), 0)
        b.wait_log(r"New client connected from 127\.0\.0\.2:\d+ as via-haproxy")
        # HAProxy's health checks (check-send-proxy: a v2 LOCAL header) are not errors.
        self.assertFalse(b.log_has(r"(?i)proxy.*(error|invalid|reject)"), b.log_text())


if __name__ == "__main__":
    unittest.main()
