"""The Kubernetes deployment (deploy/kubernetes/): its manifests validated offline against the
Kubernetes API's schemas, and the same topologies started locally from the same files.

Validation: deploy/kubernetes/validate/validate.mjs (node, with the OpenAPI schemas of
`kubernetes-models` and the field lists of the official `@kubernetes/client-node`, pinned in its
package-lock.json) over both files, and over broken copies of them, each of which must be
refused with its reason.

Local start (`LocalCluster`): every pod of a StatefulSet gets a network namespace of its own,
joined to the others by a bridge; the name the cluster's DNS would give it (and every other pod)
is in the namespace's /etc/hosts (`ip netns exec` shows /etc/netns/<ns>/hosts there). A pod runs
its container's command and arguments, environment (downward API included) and mounted
ConfigMap files (read-only) exactly as the manifest has them, as the image's user (setpriv, the
uid the Dockerfile gives it), with its volume owned by that user; the image's paths are mapped
to this tree's as packaging/docker/Dockerfile lays them out (keyward-entrypoint, keyward-resp,
the binaries). Its probes run as the kubelet runs them (exec inside the pod as its user, TCP
from the node). So the servers listen on the manifest's ports, find each other by the
manifest's names, and fail over as in a cluster.

Needs root (CI and the quick start run as root), iproute2 and node."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import unittest

import yaml

import node_packages
from keyward_harness import (Error, RawClient, _set_parent_death_signal, decode, keyward_binary,
                             make_workdir, wait_for)

IP = "/usr/sbin/ip"
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEPLOY = os.path.join(REPO, "deploy", "kubernetes")
VALIDATE_DIR = os.path.join(DEPLOY, "validate")
REDLOCK = os.path.join(DEPLOY, "redlock.yaml")
REPLICATED = os.path.join(DEPLOY, "replicated.yaml")
DOCKERFILE = os.path.join(REPO, "packaging", "docker", "Dockerfile")
NAMESPACE = "keyward-test"
DOMAIN = "cluster.local"


def load(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def of_kind(docs, kind, name=None):
    found = [d for d in docs if d["kind"] == kind and name in (None, d["metadata"]["name"])]
    if name is not None:
        assert len(found) == 1, "%s/%s: %d found" % (kind, name, len(found))
        return found[0]
    return found


def validate(*paths):
    node_packages.install_node_modules(VALIDATE_DIR)
    env = dict(os.environ)
    env.pop("ASAN_OPTIONS", None)
    env.pop("UBSAN_OPTIONS", None)
    proc = subprocess.run([shutil.which("node"), "validate.mjs"] + list(paths), cwd=VALIDATE_DIR,
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=120)
    return proc.returncode, proc.stdout


class Image:
    """What packaging/docker/Dockerfile puts in the image, read from it: the files it copies,
    its entry point and its user."""

    def __init__(self):
        with open(DOCKERFILE) as f:
            text = f.read()
        final = text[text.rindex("\nFROM "):]
        self.files = {}
        for src, dst in re.findall(r"^COPY (packaging/\S+) (/\S+)$", final, re.M):
            self.files[dst] = os.path.join(REPO, src)
        self.entrypoint = json.loads(re.search(r"^ENTRYPOINT (\[.*\])$", final, re.M).group(1))
        self.user = re.search(r"^USER (\S+)$", final, re.M).group(1)


def ip(*argv):
    proc = subprocess.run([IP] + list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)
    if proc.returncode != 0:
        raise AssertionError("ip %s: %s" % (" ".join(argv), proc.stderr.strip()))


def remove_stale_namespaces():
    """Namespaces (and their /etc/netns files) left by a run that died: their names carry the
    pid of the run that made them."""
    listed = subprocess.run([IP, "netns", "list"], stdout=subprocess.PIPE, text=True).stdout
    for name in re.findall(r"^(kwk8s(\d+)-\d+)", listed, re.M):
        if not os.path.exists("/proc/%s" % name[1]):
            subprocess.run([IP, "netns", "del", name[0]], stderr=subprocess.DEVNULL)
            shutil.rmtree("/etc/netns/" + name[0], ignore_errors=True)


def free_subnet():
    """A 10.214.N.0/24 that no interface of this machine has."""
    used = subprocess.run([IP, "-o", "addr"], stdout=subprocess.PIPE, text=True).stdout
    for i in range(250):
        n = (os.getpid() + i) % 250
        if "10.214.%d." % n not in used:
            return "10.214.%d" % n
    raise AssertionError("no free 10.214.N.0/24 for the test's bridge")


class LocalCluster:
    """Pods of the manifests' StatefulSets, each in a network namespace of its own on one bridge,
    with the cluster's DNS names in their /etc/hosts, running as the image's user. Removed by
    `remove` (a test's cleanup)."""

    def __init__(self, case):
        case.assertEqual(os.geteuid(), 0, "network namespaces need root (CI runs as root)")
        self.tag = "%d" % (os.getpid() % 100000)
        self.bridge = "kwbr" + self.tag
        self.workdir = make_workdir("keyward-k8s-")
        os.chmod(self.workdir, 0o755)  # the pods' user reaches its files
        self.image = Image()
        self.uid, self.gid = (int(x) for x in self.image.user.split(":"))
        self.bin = os.path.join(self.workdir, "image-bin")
        os.makedirs(self.bin)
        for path, src in self.image.files.items():
            os.symlink(src, os.path.join(self.bin, os.path.basename(path)))
        built = os.path.dirname(keyward_binary())
        for name in ("keyward-server", "keyward-sentinel", "keyward"):
            target = os.path.join(built, name)
            if name == "keyward-sentinel" and not os.path.exists(target):
                target = keyward_binary()
            os.symlink(target, os.path.join(self.bin, name))
        self.pods = {}
        self.namespaces = []
        self.forward_rule = None
        remove_stale_namespaces()
        self.remove()  # a bridge left by a crashed run with the same tag
        self.subnet = free_subnet()
        case.addCleanup(self.remove)
        ip("link", "add", self.bridge, "type", "bridge")
        ip("addr", "add", self.subnet + ".1/24", "dev", self.bridge)
        ip("link", "set", self.bridge, "up")
        # A host whose FORWARD policy drops (Docker sets it) would drop bridged traffic when
        # br_netfilter hands it to iptables: let the test's own bridge through, for its lifetime.
        iptables = shutil.which("iptables")
        if iptables:
            policy = subprocess.run([iptables, "-S", "FORWARD"], stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, text=True).stdout
            if "-P FORWARD DROP" in policy:
                self.forward_rule = [iptables, "FORWARD", "-i", self.bridge, "-o", self.bridge,
                                     "-j", "ACCEPT"]
                subprocess.run([iptables, "-I"] + self.forward_rule[1:], check=True)

    def _namespace(self, index):
        ns = "kwk8s%d-%d" % (os.getpid(), index)
        veth = "kwk%s-%d" % (self.tag, index)
        address = "%s.%d" % (self.subnet, index + 2)
        subprocess.run([IP, "netns", "del", ns], stderr=subprocess.DEVNULL)
        self.namespaces.append(ns)
        ip("netns", "add", ns)
        ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
        ip("link", "set", veth, "master", self.bridge, "up")
        ip("-n", ns, "addr", "add", address + "/24", "dev", "eth0")
        ip("-n", ns, "link", "set", "eth0", "up")
        ip("-n", ns, "link", "set", "lo", "up")
        return ns, address

    def add_statefulset(self, docs, name):
        """Makes the network of every pod of StatefulSet `name` (started by `start`)."""
        sts = of_kind(docs, "StatefulSet", name)
        config_maps = {c["metadata"]["name"]: c for c in of_kind(docs, "ConfigMap")}
        for ordinal in range(sts["spec"]["replicas"]):
            pod = Pod(self, sts, ordinal, config_maps)
            pod.netns, pod.address = self._namespace(len(self.namespaces))
            self.pods[pod.name] = pod
        self._write_hosts()
        return [p for p in self.pods.values() if p.statefulset == name]

    def client_namespace(self):
        """A namespace for a client (like a pod of the user's application)."""
        ns, _ = self._namespace(len(self.namespaces))
        self._write_hosts()
        return ns

    def _write_hosts(self):
        lines = ["127.0.0.1 localhost"]
        for pod in self.pods.values():
            lines.append("%s %s %s.%s" % (pod.address, pod.fqdn, pod.name, pod.service))
        for ns in self.namespaces:
            os.makedirs("/etc/netns/" + ns, exist_ok=True)
            with open("/etc/netns/%s/hosts" % ns, "w") as f:
                f.write("\n".join(lines) + "\n")

    def as_user(self):
        """What runs a command as the image's user (the pods' runAsUser), as the kubelet does."""
        return [shutil.which("setpriv"), "--reuid", str(self.uid), "--regid", str(self.gid),
                "--clear-groups", "--pdeathsig", "SIGKILL"]

    def run_in(self, ns, argv, env=None, timeout=30, as_user=False):
        prefix = [IP, "netns", "exec", ns] + (self.as_user() if as_user else [])
        return subprocess.run(prefix + argv, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=timeout)

    def remove(self):
        for pod in list(self.pods.values()):
            pod.kill()
        for ns in self.namespaces:
            subprocess.run([IP, "netns", "del", ns], stderr=subprocess.DEVNULL)
            shutil.rmtree("/etc/netns/" + ns, ignore_errors=True)
        subprocess.run([IP, "link", "del", self.bridge], stderr=subprocess.DEVNULL)
        if self.forward_rule:
            subprocess.run([self.forward_rule[0], "-D"] + self.forward_rule[1:],
                           stderr=subprocess.DEVNULL)
            self.forward_rule = None


class Pod:
    """One pod of a StatefulSet: its container run as the manifest says, in its namespace."""

    def __init__(self, cluster, sts, ordinal, config_maps):
        self.cluster = cluster
        self.statefulset = sts["metadata"]["name"]
        self.service = sts["spec"]["serviceName"]
        self.name = "%s-%d" % (self.statefulset, ordinal)
        self.fqdn = "%s.%s.%s.svc.%s" % (self.name, self.service, NAMESPACE, DOMAIN)
        spec = sts["spec"]["template"]["spec"]
        assert len(spec["containers"]) == 1, self.name
        self.container = spec["containers"][0]
        self.dir = os.path.join(cluster.workdir, self.name)
        self.proc = None
        self.log = os.path.join(self.dir, "container.log")
        # Mounted volumes: ConfigMaps written out as read-only files, claims as a directory per
        # pod that outlives the pod's restarts (a PersistentVolumeClaim), the pod's user's
        # (fsGroup).
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        self.mounts = {}
        for mount in self.container.get("volumeMounts", []):
            local = os.path.join(self.dir, "volumes", mount["name"])
            os.makedirs(local, exist_ok=True)
            for d in (self.dir, os.path.dirname(local)):
                os.chmod(d, 0o755)
            volume = volumes.get(mount["name"])
            if volume and "configMap" in volume:
                for key, text in config_maps[volume["configMap"]["name"]]["data"].items():
                    with open(os.path.join(local, key), "w") as f:
                        f.write(text)
                    os.chmod(os.path.join(local, key), 0o444)
                os.chmod(local, 0o555)
            else:
                os.chown(local, cluster.uid, cluster.gid)
            self.mounts[mount["mountPath"]] = local
        self.ports = {p["name"]: p["containerPort"] for p in self.container.get("ports", [])}

    def map_path(self, arg):
        if arg in self.cluster.image.files:
            return os.path.join(self.cluster.bin, os.path.basename(arg))
        for mount, local in self.mounts.items():
            if arg == mount or arg.startswith(mount + "/"):
                return local + arg[len(mount):]
        return arg

    def env(self):
        env = {"PATH": self.cluster.bin + ":/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME": self.name,
               # The entry point's image paths (its defaults) as this tree lays them out.
               "KEYWARD_BIN_DIR": self.cluster.bin,
               "KEYWARD_CONF_DIR": self.map_path("/etc/keyward"),
               "KEYWARD_DATA": self.map_path("/data")}
        fields = {"metadata.namespace": NAMESPACE, "metadata.name": self.name,
                  "status.podIP": getattr(self, "address", "")}
        for var in self.container.get("env", []):
            if "value" in var:
                env[var["name"]] = var["value"]
            else:
                env[var["name"]] = fields[var["valueFrom"]["fieldRef"]["fieldPath"]]
        return env

    def start(self):
        argv = self.container.get("command") or self.cluster.image.entrypoint
        argv = [self.map_path(a) for a in argv + self.container.get("args", [])]
        log = open(self.log, "a")
        # Its own process group: a kill takes the start scripts' children too.
        self.proc = subprocess.Popen(
            [IP, "netns", "exec", self.netns] + self.cluster.as_user() + argv, env=self.env(),
            cwd=self.dir, stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=_set_parent_death_signal, start_new_session=True)
        log.close()

    def kill(self):
        """The pod dies at once (a node failure, an OOM kill): SIGKILL, no shutdown."""
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()

    def logs(self):
        with open(self.log, errors="replace") as f:
            return f.read()[-3000:]

    def probe(self, kind):
        """Runs the container's `kind` probe as the kubelet does; True if it passed."""
        probe = self.container[kind]
        if "exec" in probe:
            argv = [self.map_path(a) for a in probe["exec"]["command"]]
            try:
                proc = self.cluster.run_in(self.netns, argv, env=self.env(),
                                           timeout=probe.get("timeoutSeconds", 1), as_user=True)
            except subprocess.TimeoutExpired:
                return False
            return proc.returncode == 0
        port = probe["tcpSocket"]["port"]
        port = self.ports[port] if isinstance(port, str) else port
        try:
            socket.create_connection((self.address, port), timeout=1).close()
            return True
        except OSError:
            return False

    def client(self, port_name):
        return RawClient(host=self.address, port=self.ports[port_name], timeout=5)

    def call(self, port_name, *args):
        c = self.client(port_name)
        try:
            return decode(c.call(*args))
        finally:
            c.close()

    def info(self, field, port_name="redis"):
        text = self.call(port_name, "INFO")
        for line in text.split(b"\r\n"):
            if line.startswith(field.encode() + b":"):
                return line.split(b":", 1)[1].decode()
        return None


def ready(pods):
    return all(p.probe("readinessProbe") and p.probe("livenessProbe") for p in pods)


class ManifestValidation(unittest.TestCase):
    def test_the_manifests_are_valid_kubernetes_objects(self):
        code, out = validate(REDLOCK, REPLICATED)
        self.assertEqual(code, 0, out)
        self.assertIn("valid: 11 objects (2 ConfigMap, 3 Service, 3 StatefulSet, "
                      "3 PodDisruptionBudget)", out)

    def test_broken_manifests_are_refused(self):
        """Each breakage of a copy of the files must be refused, naming the problem: the
        validator can fail, on what the API server or a rollout would refuse."""

        def sts(docs):
            return of_kind(docs, "StatefulSet", "keyward-lock")

        def container(docs):
            return sts(docs)["spec"]["template"]["spec"]["containers"][0]

        breakages = {
            "unknown field": (lambda d: container(d).update(imagePullPolicyy="Always"),
                              "imagePullPolicyy: unknown field"),
            "a string port": (lambda d: container(d)["ports"][0].update(containerPort="6379"),
                              "containerPort: must be integer"),
            "no container name": (lambda d: container(d).pop("name"),
                                  "containers.0: must have required property name"),
            "bad enum": (lambda d: sts(d)["spec"].update(podManagementPolicy=3),
                         "podManagementPolicy: must be string"),
            "selector misses the pods": (
                lambda d: sts(d)["spec"]["selector"]["matchLabels"].update(extra="x"),
                "spec.selector does not select the pods"),
            "no such service": (lambda d: sts(d)["spec"].update(serviceName="nowhere"),
                                "spec.serviceName 'nowhere' is no Service"),
            "volume without a volume": (
                lambda d: container(d)["volumeMounts"].append({"name": "x", "mountPath": "/x"}),
                "volumeMount 'x' has no volume"),
            "probe port": (lambda d: container(d)["livenessProbe"]["tcpSocket"].update(port="rdis"),
                           "names port 'rdis'"),
            "uppercase name": (lambda d: sts(d)["metadata"].update(name="Keyward-Lock"),
                               "is not a valid name"),
            "scrape port": (lambda d: sts(d)["spec"]["template"]["metadata"]["annotations"].update(
                {"prometheus.io/port": "9999"}), "prometheus.io/port '9999' is no container port"),
            "budget lets all go": (
                lambda d: of_kind(d, "PodDisruptionBudget", "keyward-lock")["spec"].update(
                    maxUnavailable=3), "maxUnavailable 3 lets every one of the 3 pods"),
            "no such kind": (lambda d: sts(d).update(apiVersion="apps/v9"), "no such kind"),
        }
        tmp = tempfile.mkdtemp(prefix="keyward-k8s-broken-")
        self.addCleanup(shutil.rmtree, tmp, True)
        for what, (breakage, expected) in breakages.items():
            with self.subTest(what):
                docs = load(REDLOCK)
                breakage(docs)
                path = os.path.join(tmp, "broken.yaml")
                with open(path, "w") as f:
                    yaml.safe_dump_all(docs, f)
                code, out = validate(path)
                self.assertEqual(code, 1, out)
                self.assertIn(expected, out)
        with self.subTest("a duplicate key"):
            path = os.path.join(tmp, "duplicate.yaml")
            with open(REDLOCK) as f:
                text = f.read()
            with open(path, "w") as f:
                f.write(text.replace("  replicas: 3\n", "  replicas: 3\n  replicas: 5\n", 1))
            code, out = validate(path)
            self.assertEqual(code, 1, out)
            self.assertIn("Map keys must be unique", out)

    def test_pods_run_as_the_images_user(self):
        """runAsUser/runAsGroup/fsGroup must be the uid the Dockerfile gives its user, or the
        data volume is not writable (and runAsNonRoot cannot check a user name)."""
        uid, gid = Image().user.split(":")
        for path in (REDLOCK, REPLICATED):
            for sts in of_kind(load(path), "StatefulSet"):
                context = sts["spec"]["template"]["spec"]["securityContext"]
                self.assertEqual((str(context["runAsUser"]), str(context["runAsGroup"]),
                                  str(context["fsGroup"])), (uid, gid, gid), sts["metadata"])
                self.assertTrue(context["runAsNonRoot"])


class RedlockTopology(unittest.TestCase):
    """redlock.yaml's three independent lock instances, started locally."""

    def setUp(self):
        self.cluster = LocalCluster(self)
        self.docs = load(REDLOCK)
        self.pods = self.cluster.add_statefulset(self.docs, "keyward-lock")
        self.client_ns = self.cluster.client_namespace()
        for pod in self.pods:
            pod.start()
        wait_for(lambda: ready(self.pods), 30, 0.1, "the lock instances' probes")

    def lock(self, resource):
        """`keyward lock` as the manifest's header says, from a pod of the user's; returns the
        fencing token it ran its command with. It waits: an instance refuses locks for
        lock-restart-delay after it starts (the manifest's 10 s)."""
        service = of_kind(self.docs, "Service", "keyward-lock")
        port = service["spec"]["ports"][0]["port"]
        servers = ",".join("redis://%s.%s:%d" % (p.name, p.service, port) for p in self.pods)
        argv = [os.path.join(self.cluster.bin, "keyward"), "lock", "--servers", servers,
                "--timeout", "500", "--wait", "30000", resource, "--", "sh", "-c", "echo token=$KEYWARD_FENCING_TOKEN"]
        proc = self.cluster.run_in(self.client_ns, argv)
        self.assertEqual(proc.returncode, 0, proc.stdout)
        return int(re.search(r"token=(\d+)", proc.stdout).group(1))

    def test_instances_serve_locks_metrics_and_survive_a_restart(self):
        first = self.lock("nightly-report")
        # Each instance is an independent master with the manifest's configuration.
        for pod in self.pods:
            self.assertEqual(pod.info("role"), "master")
            self.assertEqual(pod.info("aof_enabled"), "1", pod.logs())
            self.assertEqual(pod.call("redis", "CONFIG", "GET", "maxmemory")[1], b"209715200")
        # The metrics endpoint the pod's annotations point at, on the pod's address.
        annotations = of_kind(self.docs, "StatefulSet", "keyward-lock")["spec"]["template"][
            "metadata"]["annotations"]
        pod = self.pods[0]
        with socket.create_connection((pod.address, int(annotations["prometheus.io/port"])),
                                      timeout=5) as s:
            s.sendall(b"GET %s HTTP/1.0\r\n\r\n" % annotations["prometheus.io/path"].encode())
            body = b""
            while chunk := s.recv(65536):
                body += chunk
        self.assertTrue(body.startswith(b"HTTP/1.1 200"), body[:200])
        self.assertIsNotNone(re.search(rb'\nkeyward_lock_acquisitions_total{result="granted"} [1-9]',
                                       body), body[-3000:])

        # A pod killed (a node lost): a majority still grants, with a higher token.
        self.pods[1].kill()
        wait_for(lambda: not self.pods[1].probe("livenessProbe"), 10, 0.1, "the pod down")
        second = self.lock("nightly-report")
        self.assertGreater(second, first)
        # It comes back from its volume's AOF with its fencing counter, and is ready again.
        counter_before = {p.name: p.call("redis", "LOCK.INFO", "nightly-report") for p in
                          (self.pods[0], self.pods[2])}
        self.pods[1].start()
        wait_for(lambda: ready([self.pods[1]]), 30, 0.1, "the restarted pod ready")
        info = dict(zip(*[iter(self.pods[1].call("redis", "LOCK.INFO", "nightly-report"))] * 2))
        self.assertGreaterEqual(int(info[b"token"]), first, (info, counter_before))
        third = self.lock("nightly-report")
        self.assertGreater(third, second)


class ReplicatedTopology(unittest.TestCase):
    """replicated.yaml's master, two replicas and three sentinels, started locally and failed
    over by killing the master's pod."""

    def setUp(self):
        self.cluster = LocalCluster(self)
        self.docs = load(REPLICATED)
        self.data = self.cluster.add_statefulset(self.docs, "keyward-data")
        self.sentinels = self.cluster.add_statefulset(self.docs, "keyward-sentinel")
        self.client_ns = self.cluster.client_namespace()
        env = self.data[0].env()
        self.master_name = env["KEYWARD_MASTER_NAME"]
        for pod in self.data + self.sentinels:
            pod.start()
        wait_for(lambda: ready(self.data + self.sentinels), 30, 0.1, "every pod's probes")

    def master_by(self, sentinel):
        try:
            reply = sentinel.call("sentinel", "SENTINEL", "get-master-addr-by-name",
                                  self.master_name)
        except OSError:
            return None
        return None if reply is None or isinstance(reply, Error) else reply[0].decode()

    def agreed_master(self):
        named = {self.master_by(s) for s in self.sentinels}
        return named.pop() if len(named) == 1 else None

    def sentinels_see_everyone(self):
        for s in self.sentinels:
            master = dict(zip(*[iter(s.call("sentinel", "SENTINEL", "master",
                                            self.master_name))] * 2))
            if (master[b"num-slaves"], master[b"num-other-sentinels"]) != (b"2", b"2"):
                return False
        return True

    def test_the_set_replicates_and_fails_over_by_name(self):
        pods = {p.fqdn: p for p in self.data}
        # Pod 0 is the master on the first start, the others replicate from it by its name.
        wait_for(lambda: self.agreed_master() == self.data[0].fqdn, 30, 0.1,
                 "the sentinels naming pod 0")
        for replica in self.data[1:]:
            wait_for(lambda: replica.info("master_link_status") == "up", 30, 0.1,
                     "%s linked" % replica.name)
            self.assertEqual(replica.info("master_host"), self.data[0].fqdn)
        wait_for(self.sentinels_see_everyone, 30, 0.1, "the sentinels seeing 2 replicas and "
                 "2 other sentinels")
        replicas = self.sentinels[0].call("sentinel", "SENTINEL", "replicas", self.master_name)
        names = sorted(dict(zip(*[iter(r)] * 2))[b"ip"].decode() for r in replicas)
        self.assertEqual(names, sorted(p.fqdn for p in self.data[1:]))

        # A client through the sentinels, as the manifest's header says.
        sentinel_port = self.sentinels[0].ports["sentinel"]
        servers = "redis+sentinel://%s/%s" % (",".join(
            "%s.%s:%d" % (s.name, s.service, sentinel_port) for s in self.sentinels),
            self.master_name)
        lock = [os.path.join(self.cluster.bin, "keyward"), "lock", "--servers", servers,
                "--timeout", "1000", "--wait", "30000", "deploy", "--", "sh", "-c", "echo token=$KEYWARD_FENCING_TOKEN"]
        proc = self.cluster.run_in(self.client_ns, lock)
        self.assertEqual(proc.returncode, 0, proc.stdout)
        before = int(re.search(r"token=(\d+)", proc.stdout).group(1))
        self.assertEqual(self.data[0].call("redis", "SET", "k", "v"), b"OK")
        wait_for(lambda: all(p.call("redis", "GET", "k") == b"v" for p in self.data[1:]), 10,
                 0.05, "the write on the replicas")

        # The master's pod dies: the sentinels promote a replica, named by its DNS name.
        self.data[0].kill()
        promoted = wait_for(lambda: (lambda m: m if m in pods and m != self.data[0].fqdn
                                     else None)(self.agreed_master()),
                            60, 0.2, "a failover to a replica")
        new_master = pods[promoted]
        wait_for(lambda: new_master.info("role") == "master", 10, 0.1, "the promotion")
        self.assertEqual(new_master.call("redis", "GET", "k"), b"v")

        # The old master's pod restarts: it asks the sentinels and comes back as a replica of
        # the new master, not as a second master.
        self.data[0].start()
        wait_for(lambda: ready([self.data[0]]), 30, 0.1, "the restarted pod ready")
        self.assertIn("replicates from %s" % promoted, self.data[0].logs())
        wait_for(lambda: self.data[0].info("master_link_status") == "up", 30, 0.1,
                 "the old master linked to the new one")
        self.assertEqual(self.data[0].info("role"), "slave")
        self.assertEqual(self.data[0].info("master_host"), promoted)

        # Tokens after the failover are above every token before it. The new master grants no
        # lock until the longest lease the old one may have granted has run out
        # (lock-promotion-delay): the client waits.
        proc = self.cluster.run_in(self.client_ns, lock)
        self.assertEqual(proc.returncode, 0, proc.stdout)
        self.assertGreater(int(re.search(r"token=(\d+)", proc.stdout).group(1)), before)

        # With two of the three sentinels gone, a data pod that restarts follows no lone
        # sentinel and does not guess the master (pod 0 is a replica now): it exits, and
        # Kubernetes would start it again until a majority answers.
        for s in self.sentinels[1:]:
            s.kill()
        self.assertEqual(self.master_by(self.sentinels[0]), promoted)
        replica = next(p for p in self.data if p is not new_master)
        replica.kill()
        replica.start()
        self.assertEqual(replica.proc.wait(timeout=60), 1, replica.logs())
        self.assertIn("no majority of sentinels names a master and %s has data: not guessing"
                      % replica.fqdn, replica.logs())


if __name__ == "__main__":
    unittest.main()
