// Validates Kubernetes manifests offline, without a cluster:
//   node validate.mjs FILE.yaml...
// Prints "valid: N objects (...)" and exits 0, or prints one line per problem and exits 1.
//
// What it checks, for every object of every YAML document:
// - the object against the Kubernetes API's OpenAPI schema (kubernetes-models: types, required
//   fields, enumerations, formats);
// - no field the API does not know, at any depth (the official client's generated models list
//   every field of every type: what `kubectl apply --validate=strict` refuses);
// - names, labels and port names as the API server validates them;
// - the references between objects that the API server would accept but that leave a broken
//   deployment: a StatefulSet's selector must select its own pods and its serviceName must be a
//   headless Service of the same files, every volumeMount needs a volume, a configMap volume or
//   key reference needs the ConfigMap and its keys, a probe's named port must exist, a
//   Service's or PodDisruptionBudget's selector must select pods, and a scrape annotation must
//   name a container port.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import * as k8s from "@kubernetes/client-node";

const problems = [];
const objects = [];

function problem(where, message) {
  problems.push(`${where}: ${message}`);
}

// --- Reading ---------------------------------------------------------------------------------

for (const file of process.argv.slice(2)) {
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    problem(file, `cannot read: ${e.message}`);
    continue;
  }
  for (const doc of parseAllDocuments(text, { uniqueKeys: true })) {
    for (const e of doc.errors) problem(file, `YAML: ${e.message.split("\n")[0]}`);
    if (doc.errors.length) continue;
    const obj = doc.toJS();
    if (obj === null || obj === undefined) continue;
    const where = `${file}: ${obj.kind ?? "?"}/${obj.metadata?.name ?? "?"}`;
    objects.push({ file, where, obj });
  }
}

// --- One object against the API's schema -----------------------------------------------------

async function modelOf(apiVersion, kind) {
  try {
    const module = await import(`kubernetes-models/${apiVersion}/${kind}`);
    return module[kind];
  } catch {
    return undefined;
  }
}

function clientTypeOf(apiVersion, kind) {
  const version = apiVersion.split("/").pop();
  return k8s[version.charAt(0).toUpperCase() + version.slice(1) + kind];
}

// Walks `value` as the client's model type `type` and reports every field the type lacks.
function checkFields(where, path, value, type) {
  if (value === null || value === undefined) return;
  let m = /^Array<(.+)>$/.exec(type);
  if (m) {
    if (Array.isArray(value)) value.forEach((v, i) => checkFields(where, `${path}[${i}]`, v, m[1]));
    return;
  }
  m = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (m) {
    if (typeof value === "object") {
      for (const [k, v] of Object.entries(value)) checkFields(where, `${path}.${k}`, v, m[1]);
    }
    return;
  }
  const model = k8s[type];
  if (!model || typeof model.getAttributeTypeMap !== "function") return;  // a scalar type
  if (typeof value !== "object" || Array.isArray(value)) return;  // the schema reports it
  const fields = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value)) {
    const fieldType = fields.get(k);
    if (fieldType === undefined) {
      problem(where, `${path ? path + "." : ""}${k}: unknown field`);
    } else {
      checkFields(where, path ? `${path}.${k}` : k, v, fieldType);
    }
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const PORT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function checkName(where, what, name, pattern, max) {
  if (typeof name !== "string") return;
  if (!pattern.test(name) || name.length > max) problem(where, `${what} '${name}' is not a valid name`);
}

function checkLabels(where, path, labels) {
  for (const [key, value] of Object.entries(labels ?? {})) {
    const slash = key.indexOf("/");
    const [prefix, name] = slash >= 0 ? [key.slice(0, slash), key.slice(slash + 1)] : [undefined, key];
    if (!QUALIFIED.test(name) || name.length > 63 || (prefix !== undefined && prefix.length > 253)) {
      problem(where, `${path}: label key '${key}' is not valid`);
    }
    if (typeof value !== "string" || (value !== "" && (!QUALIFIED.test(value) || value.length > 63))) {
      problem(where, `${path}: label value '${value}' of '${key}' is not valid`);
    }
  }
}

function podSpecs(obj) {
  // [path, pod template] of the workload kinds these manifests use.
  if (["StatefulSet", "Deployment", "DaemonSet", "ReplicaSet"].includes(obj.kind)) {
    return [["spec.template", obj.spec?.template]];
  }
  if (obj.kind === "Pod") return [["", { metadata: obj.metadata, spec: obj.spec }]];
  return [];
}

function checkNames(where, obj) {
  const name = obj.metadata?.name;
  if (obj.kind === "Service") checkName(where, "Service name", name, DNS_1035, 63);
  else if (obj.kind === "StatefulSet") checkName(where, "StatefulSet name", name, DNS_LABEL, 52);
  else checkName(where, "name", name, DNS_LABEL, 253);
  checkLabels(where, "metadata.labels", obj.metadata?.labels);
  if (obj.kind === "ConfigMap") {
    for (const key of Object.keys(obj.data ?? {})) {
      if (!/^[-._a-zA-Z0-9]+$/.test(key)) problem(where, `data key '${key}' is not valid`);
    }
  }
  for (const [path, template] of podSpecs(obj)) {
    checkLabels(where, `${path}.metadata.labels`, template?.metadata?.labels);
    const names = new Set();
    for (const c of template?.spec?.containers ?? []) {
      checkName(where, "container name", c.name, DNS_LABEL, 63);
      if (names.has(c.name)) problem(where, `container name '${c.name}' is used twice`);
      names.add(c.name);
      for (const p of c.ports ?? []) {
        if (p.name !== undefined && (!PORT_NAME.test(p.name) || p.name.length > 15 || !/[a-z]/.test(p.name))) {
          problem(where, `port name '${p.name}' is not valid`);
        }
      }
    }
  }
}

async function checkSchema({ where, obj }) {
  if (typeof obj.apiVersion !== "string" || typeof obj.kind !== "string") {
    problem(where, "apiVersion and kind are required");
    return false;
  }
  const Model = await modelOf(obj.apiVersion, obj.kind);
  const clientType = clientTypeOf(obj.apiVersion, obj.kind);
  if (!Model || !clientType) {
    problem(where, `no such kind in the Kubernetes API: ${obj.apiVersion} ${obj.kind}`);
    return false;
  }
  try {
    new Model(obj).validate();
  } catch (e) {
    for (const err of e.errors ?? [{ instancePath: "", message: e.message }]) {
      problem(where, `${err.instancePath.replace(/^\//, "").replaceAll("/", ".") || "(object)"}: ${err.message}`);
    }
  }
  checkFields(where, "", obj, clientType.name);
  checkNames(where, obj);
  return true;
}

// --- References between objects --------------------------------------------------------------

function selects(selector, labels) {
  const match = selector?.matchLabels ?? {};
  const expressions = selector?.matchExpressions ?? [];
  if (Object.keys(match).length === 0 && expressions.length === 0) return false;
  const has = (k) => labels !== undefined && Object.hasOwn(labels, k);
  const holds = ({ key, operator, values = [] }) => {
    switch (operator) {
      case "In": return has(key) && values.includes(labels[key]);
      case "NotIn": return !has(key) || !values.includes(labels[key]);
      case "Exists": return has(key);
      case "DoesNotExist": return !has(key);
      default: return false;
    }
  };
  return Object.entries(match).every(([k, v]) => labels?.[k] === v) && expressions.every(holds);
}

function checkReferences(all) {
  const byKind = (kind) => all.filter((o) => o.obj.kind === kind);
  const configMaps = new Map(byKind("ConfigMap").map((o) => [o.obj.metadata.name, o.obj]));
  const services = new Map(byKind("Service").map((o) => [o.obj.metadata.name, o.obj]));
  const pods = [];  // { where, labels, containers, replicas }

  for (const { where, obj } of all) {
    for (const [path, template] of podSpecs(obj)) {
      const labels = template?.metadata?.labels ?? {};
      const spec = template?.spec ?? {};
      pods.push({ where, labels, containers: spec.containers ?? [], replicas: obj.spec?.replicas ?? 1 });
      if (obj.spec?.selector && !selects(obj.spec.selector, labels)) {
        problem(where, `spec.selector does not select the pods of ${path}`);
      }
      if (obj.kind === "StatefulSet") {
        const svc = services.get(obj.spec.serviceName);
        if (!svc) problem(where, `spec.serviceName '${obj.spec.serviceName}' is no Service of these files`);
        else if (svc.spec?.clusterIP !== "None") problem(where, `Service '${obj.spec.serviceName}' is not headless`);
        else if (!selects(svc.spec.selector ? { matchLabels: svc.spec.selector } : undefined, labels)) {
          problem(where, `Service '${obj.spec.serviceName}' does not select this StatefulSet's pods`);
        }
      }
      const volumes = new Map((spec.volumes ?? []).map((v) => [v.name, v]));
      for (const claim of obj.spec?.volumeClaimTemplates ?? []) volumes.set(claim.metadata?.name, claim);
      for (const v of spec.volumes ?? []) {
        if (!v.configMap) continue;
        const cm = configMaps.get(v.configMap.name);
        if (!cm) {
          if (!v.configMap.optional) problem(where, `volume '${v.name}': ConfigMap '${v.configMap.name}' is not in these files`);
          continue;
        }
        for (const item of v.configMap.items ?? []) {
          if (!(item.key in (cm.data ?? {}))) problem(where, `volume '${v.name}': ConfigMap '${cm.metadata.name}' has no key '${item.key}'`);
        }
      }
      const annotations = template?.metadata?.annotations ?? {};
      const allPorts = spec.containers?.flatMap((c) => c.ports ?? []) ?? [];
      if (annotations["prometheus.io/port"] !== undefined &&
          !allPorts.some((p) => String(p.containerPort) === annotations["prometheus.io/port"])) {
        problem(where, `annotation prometheus.io/port '${annotations["prometheus.io/port"]}' is no container port`);
      }
      for (const c of spec.containers ?? []) {
        for (const m of c.volumeMounts ?? []) {
          if (!volumes.has(m.name)) problem(where, `container '${c.name}': volumeMount '${m.name}' has no volume`);
        }
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.configMapKeyRef;
          if (ref && !ref.optional && !(ref.key in (configMaps.get(ref.name)?.data ?? {}))) {
            problem(where, `container '${c.name}': env '${e.name}' refers to a missing ConfigMap key ${ref.name}/${ref.key}`);
          }
        }
        const portNames = new Set((c.ports ?? []).map((p) => p.name));
        for (const probeName of ["livenessProbe", "readinessProbe", "startupProbe"]) {
          const probe = c[probeName];
          const port = probe?.tcpSocket?.port ?? probe?.httpGet?.port ?? probe?.grpc?.port;
          if (typeof port === "string" && !portNames.has(port)) {
            problem(where, `container '${c.name}': ${probeName} names port '${port}', which the container lacks`);
          }
        }
      }
    }
  }
  for (const { where, obj } of byKind("Service")) {
    if (!obj.spec?.selector) continue;
    const selected = pods.filter((p) => selects({ matchLabels: obj.spec.selector }, p.labels));
    if (selected.length === 0) problem(where, "spec.selector selects no pods of these files");
    for (const port of obj.spec.ports ?? []) {
      const target = port.targetPort ?? port.port;
      const found = selected.some((p) => p.containers.some((c) => (c.ports ?? []).some(
        (cp) => (typeof target === "string" ? cp.name === target : cp.containerPort === target))));
      if (selected.length && !found) problem(where, `port '${port.name ?? port.port}': no selected container has port ${target}`);
    }
  }
  for (const { where, obj } of byKind("PodDisruptionBudget")) {
    const selected = pods.filter((p) => selects(obj.spec?.selector, p.labels));
    if (selected.length === 0) problem(where, "spec.selector selects no pods of these files");
    const max = obj.spec?.maxUnavailable;
    for (const p of selected) {
      if (typeof max === "number" && max >= p.replicas) {
        problem(where, `maxUnavailable ${max} lets every one of the ${p.replicas} pods of ${p.where} go`);
      }
    }
  }
}

for (const o of objects) await checkSchema(o);
checkReferences(objects);

if (problems.length) {
  for (const p of problems) console.log(p);
  console.log(`invalid: ${problems.length} problem(s)`);
  process.exit(1);
}
const kinds = {};
for (const { obj } of objects) kinds[obj.kind] = (kinds[obj.kind] ?? 0) + 1;
console.log(`valid: ${objects.length} objects (${Object.entries(kinds).map(([k, n]) => `${n} ${k}`).join(", ")})`);
