"""Node modules for the tests that run node (the interop suites' ioredis and node-redlock, the
Kubernetes manifests' validator): `npm ci` of a directory's committed package-lock.json, once."""

import json
import os
import shutil
import subprocess


def _installed_matches_lock(node_dir):
    """True if node_modules holds exactly the packages of the committed package-lock.json
    (npm records what it installed in node_modules/.package-lock.json)."""
    try:
        with open(os.path.join(node_dir, "package-lock.json")) as f:
            wanted = json.load(f)["packages"]
        with open(os.path.join(node_dir, "node_modules", ".package-lock.json")) as f:
            installed = json.load(f)["packages"]
    except (OSError, ValueError, KeyError):
        return False
    wanted = {k: v.get("version") for k, v in wanted.items() if k}
    installed = {k: v.get("version") for k, v in installed.items() if k}
    return wanted == installed


def install_node_modules(node_dir):
    """Installs `node_dir`'s pinned modules with `npm ci` unless they are there already."""
    npm = shutil.which("npm")
    if not shutil.which("node") or not npm:
        raise AssertionError("node and npm are needed: run scripts/install-deps.sh --test")
    if _installed_matches_lock(node_dir):
        return
    proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                          cwd=node_dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=300)
    if proc.returncode != 0:
        raise AssertionError("npm ci failed in %s:\n%s" % (node_dir, proc.stdout[-4000:]))
