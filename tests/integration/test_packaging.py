"""Installing Keyward as a user would: `cmake --install` into a scratch prefix (binaries, the
keyward-sentinel link, headers, libraries, the CMake package, pkg-config, the default
configuration, the systemd units), programs built out of tree against what was installed (with
find_package(Keyward) and with pkg-config) and run against a server, the systemd units verified
by systemd-analyze, the .deb built by cpack (its metadata, contents and maintainer scripts) and
unpacked into a scratch root where its server runs, and the container's entry point run directly
in both modes.

The build tree is the one KEYWARD_SERVER comes from (ctest builds every target first)."""

import os
import shutil
import subprocess
import unittest

from keyward_harness import (ServerProcess, ServerTestCase, _wait_ready, decode, free_port,
                             keyward_binary, make_workdir)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def build_dir():
    return os.path.dirname(os.path.dirname(os.path.abspath(keyward_binary())))


def run(argv, **kwargs):
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=600, **kwargs)
    if proc.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s" % (" ".join(argv), proc.returncode,
                                                       proc.stdout[-6000:]))
    return proc.stdout


class Packaging(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        cls.work = make_workdir("keyward-packaging-")
        cls.root = os.path.join(cls.work, "root")
        cls.prefix = os.path.join(cls.root, "usr")
        run(["cmake", "--install", build_dir(), "--prefix", cls.prefix])

    def test_installed_tree(self):
        p = self.prefix
        for path in ("bin/keyward-server", "bin/keyward", "include/keyward/client/client.h",
                     "include/keyward/redlock/redlock.h", "include/keyward/error_codes.h",
                     "lib/libkeyward_client.a", "lib/libkeyward_redlock.a",
                     "lib/cmake/Keyward/KeywardConfig.cmake",
                     "lib/cmake/Keyward/KeywardConfigVersion.cmake",
                     "lib/cmake/Keyward/KeywardTargets.cmake", "lib/pkgconfig/keyward.pc",
                     "share/keyward/keyward.conf", "share/keyward/sentinel.conf",
                     "lib/systemd/system/keyward.service",
                     "lib/systemd/system/keyward-sentinel.service"):
            self.assertTrue(os.path.exists(os.path.join(p, path)), path)
        self.assertEqual(os.readlink(os.path.join(p, "bin/keyward-sentinel")), "keyward-server")
        # The installed binaries run, and the link starts sentinel mode.
        self.assertIn("Keyward server", run([os.path.join(p, "bin/keyward-server"), "--version"]))

    def test_programs_built_against_the_installed_package(self):
        srv = self.start_keyward()
        src = os.path.join(self.work, "app")
        shutil.rmtree(src, ignore_errors=True)
        os.makedirs(src)
        shutil.copy(os.path.join(REPO, "examples/client/sync_basics.cc"), src)
        shutil.copy(os.path.join(REPO, "examples/fenced_store/fenced_store.cc"), src)
        with open(os.path.join(src, "CMakeLists.txt"), "w") as f:
            f.write("cmake_minimum_required(VERSION 3.25)\n"
                    "project(app LANGUAGES CXX)\n"
                    "set(CMAKE_CXX_STANDARD 20)\n"
                    "find_package(Keyward 0.1 REQUIRED)\n"
                    "add_executable(sync_basics sync_basics.cc)\n"
                    "target_link_libraries(sync_basics PRIVATE Keyward::client)\n"
                    "add_executable(fenced_store fenced_store.cc)\n"
                    "target_link_libraries(fenced_store PRIVATE Keyward::redlock)\n")
        out = os.path.join(self.work, "app-build")
        run(["cmake", "-S", src, "-B", out, "-G", "Ninja", "-DCMAKE_PREFIX_PATH=" + self.prefix])
        run(["cmake", "--build", out])
        url = "redis://127.0.0.1:%d" % srv.port
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
        run([os.path.join(out, "sync_basics"), url], env=env)
        run([os.path.join(out, "fenced_store"), url], env=env)
        # pkg-config gives what a Makefile needs.
        pc_env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(self.prefix, "lib/pkgconfig"))
        flags = run(["pkg-config", "--cflags", "--libs", "keyward"], env=pc_env).split()
        includes = [os.path.realpath(f[2:]) for f in flags if f.startswith("-I")]
        self.assertEqual(includes, [os.path.realpath(os.path.join(self.prefix, "include"))])
        binary = os.path.join(self.work, "sync_basics_pc")
        run(["g++", os.path.join(src, "sync_basics.cc"), "-o", binary] + flags)
        run([binary, url], env=env)

    def test_systemd_units_verify(self):
        # A root with the installed tree and systemd's own units (targets the units name).
        units = os.path.join(self.root, "usr/lib/systemd/system")
        for name in os.listdir("/usr/lib/systemd/system"):
            if name.endswith(".target") and not os.path.exists(os.path.join(units, name)):
                shutil.copy(os.path.join("/usr/lib/systemd/system", name), units)
        proc = subprocess.run(["systemd-analyze", "verify", "--root=" + self.root,
                               "keyward.service", "keyward-sentinel.service"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.assertEqual((proc.returncode, proc.stdout), (0, ""))
        with open(os.path.join(units, "keyward.service")) as f:
            unit = f.read()
        for hardening in ("User=keyward", "NoNewPrivileges=yes", "ProtectSystem=strict",
                          "StateDirectory=keyward", "Type=notify"):
            self.assertIn(hardening, unit)

    def test_debian_package(self):
        out = os.path.join(self.work, "deb")
        os.makedirs(out, exist_ok=True)
        run(["cpack", "-G", "DEB", "--config", os.path.join(build_dir(), "CPackConfig.cmake"),
             "-B", out])
        debs = [f for f in os.listdir(out) if f.endswith(".deb")]
        self.assertEqual(len(debs), 1, debs)
        deb = os.path.join(out, debs[0])
        info = run(["dpkg-deb", "--info", deb])
        self.assertIn("Package: keyward", info)
        for dep in ("libssl3", "liblua5.1-0", "lua-cjson", "lua-bitop", "liblzf1", "libxxhash0",
                    "libspdlog1.10", "libfmt9", "adduser"):
            self.assertIn(dep, info)
        contents = run(["dpkg-deb", "--contents", deb])
        for path in ("./usr/bin/keyward-server", "./usr/bin/keyward-sentinel -> keyward-server",
                     "./usr/lib/systemd/system/keyward.service",
                     "./usr/share/keyward/keyward.conf",
                     "./usr/lib/cmake/Keyward/KeywardConfig.cmake"):
            self.assertIn(path, contents)
        # Unpacked into a scratch root: the server runs from there.
        scratch = os.path.join(self.work, "deb-root")
        run(["dpkg-deb", "-x", deb, scratch])
        self.assertIn("Keyward server", run([os.path.join(scratch, "usr/bin/keyward-server"),
                                             "--version"]))
        control = os.path.join(self.work, "deb-control")
        run(["dpkg-deb", "-e", deb, control])
        for script in ("postinst", "prerm", "postrm"):
            path = os.path.join(control, script)
            self.assertTrue(os.access(path, os.X_OK), script)
            run(["sh", "-n", path])

    def start_entrypoint(self, mode, port, data, env_extra=None):
        env = dict(os.environ, KEYWARD_BIN_DIR=os.path.join(self.prefix, "bin"),
                   KEYWARD_CONF_DIR=os.path.join(self.prefix, "share/keyward"),
                   KEYWARD_DATA=data, **(env_extra or {}))
        argv = [os.path.join(REPO, "packaging/docker/entrypoint.sh"), mode, "--port", str(port)]
        srv = ServerProcess("entrypoint-" + mode, argv, port, None, data, env=env)
        self.addCleanup(srv.stop)
        _wait_ready(srv, 30)
        return srv

    def test_container_entrypoint(self):
        data = make_workdir("keyward-entrypoint-")
        port = free_port()
        srv = self.start_entrypoint("server", port, data)
        c = self.raw_client(srv)
        config = dict(zip(*[iter(decode(c.call("CONFIG", "GET", "*")))] * 2))
        self.assertEqual(config[b"dir"], data.encode())
        self.assertEqual(config[b"appendonly"], b"yes")
        self.assertEqual(config[b"protected-mode"], b"no")
        self.assertEqual(config[b"bind"], b"* -::*")
        self.assertEqual(c.call("SET", "k", "v"), b"+OK\r\n")
        # Sentinel mode, its file written from KEYWARD_SENTINEL_MONITOR once.
        sdata = make_workdir("keyward-entrypoint-sentinel-")
        s = self.start_entrypoint("sentinel", free_port(), sdata, {
            "KEYWARD_SENTINEL_MONITOR": "mymaster 127.0.0.1 %d 1" % port})
        sc = self.raw_client(s)
        master = dict(zip(*[iter(decode(sc.call("SENTINEL", "MASTER", "mymaster")))] * 2))
        self.assertEqual(master[b"port"], str(port).encode())
        with open(os.path.join(sdata, "sentinel.conf")) as f:
            text = f.read()
        self.assertIn("sentinel monitor mymaster 127.0.0.1 %d 1" % port, text)
        self.assertIn("sentinel myid ", text)


if __name__ == "__main__":
    unittest.main()
