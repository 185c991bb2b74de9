/**
 * The body of `GET /crd-cache`, byte for byte as upstream v0.1.30 serves it (its resolver polls
 * it for `spec.probeResponse`):
 *
 *   {"services":{"<namespace>/<spec.service>":{"name":"<ElastiService>","spec":{…},"status":{…}}}}
 *
 * Keys sorted (Go's map encoding); `spec` and `status` in Go's field order with its `omitempty`
 * rules (`lastReconciledTime` is `null` when unset, `lastScaledUpTime` and `mode` are omitted);
 * times as `metav1.Time` writes them (RFC 3339 in UTC, whole seconds); the kind exactly as
 * written in the spec; `<`, `>`, `&`, U+2028 and U+2029 escaped as Go's encoder does; a
 * trailing newline. Our own `status.conditions` are not part of it.
 *
 * @module
 */

import type { ElastiServiceSpec, ElastiServiceStatus } from '../api/v1alpha1/index.ts';
import type { DeepReadonly } from '../crddirectory/index.ts';

/** One service of the cache. */
export interface CrdCacheEntry {
  /** `namespace/service`. */
  readonly key: string;
  readonly crdName: string;
  readonly spec: DeepReadonly<ElastiServiceSpec> | Readonly<Record<string, unknown>>;
  readonly status: DeepReadonly<ElastiServiceStatus> | Readonly<Record<string, unknown>> | undefined;
}

type Json = unknown;
type Obj = Readonly<Record<string, unknown>>;

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Go string field (a missing or non-string value marshals as its zero value). */
function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** Go int field. */
function int(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : 0;
}

/** Adds `key: value` unless Go's `omitempty` drops it. */
function put(out: Record<string, Json>, key: string, value: Json, omitEmpty: boolean): void {
  if (
    omitEmpty &&
    (value === undefined || value === '' || value === 0 || (Array.isArray(value) && value.length === 0))
  ) {
    return;
  }
  out[key] = value;
}

/** `metav1.Time`: RFC 3339, UTC, seconds; `null` for the zero time. */
export function metav1Time(value: unknown): string | null {
  if (typeof value !== 'string' || value === '') return null;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) return null;
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}

function probeRule(rule: unknown): Json {
  const r = isObj(rule) ? rule : {};
  const out: Record<string, Json> = {};
  if (isObj(r.path)) {
    const path: Record<string, Json> = {};
    put(path, 'type', str(r.path.type), true);
    put(path, 'value', str(r.path.value), true);
    out.path = path;
  }
  const matchers = (list: unknown): Json[] =>
    (Array.isArray(list) ? list : []).map((m) => {
      const o = isObj(m) ? m : {};
      const item: Record<string, Json> = { name: str(o.name) };
      put(item, 'type', str(o.type), true);
      item.value = str(o.value);
      return item;
    });
  put(out, 'headers', matchers(r.headers), true);
  put(out, 'queryParams', matchers(r.queryParams), true);
  if (typeof r.method === 'string') out.method = r.method;
  const response = isObj(r.response) ? r.response : {};
  out.response = { status: int(response.status), body: str(response.body) };
  return out;
}

/** `ElastiServiceSpec` as Go marshals it. */
export function goSpec(spec: Obj): Json {
  const ref = isObj(spec.scaleTargetRef) ? spec.scaleTargetRef : {};
  const out: Record<string, Json> = {
    scaleTargetRef: { apiVersion: str(ref.apiVersion), kind: str(ref.kind), name: str(ref.name) },
    service: str(spec.service),
  };
  put(out, 'probeResponse', Array.isArray(spec.probeResponse) ? spec.probeResponse.map(probeRule) : [], true);
  put(out, 'minTargetReplicas', int(spec.minTargetReplicas), true);
  put(out, 'cooldownPeriod', int(spec.cooldownPeriod), true);
  const triggers = (Array.isArray(spec.triggers) ? spec.triggers : []).map((t) => {
    const o = isObj(t) ? t : {};
    const item: Record<string, Json> = { type: str(o.type) };
    // json.RawMessage with omitempty: dropped only when absent; a stored null stays null.
    if (o.metadata !== undefined) item.metadata = o.metadata;
    return item;
  });
  put(out, 'triggers', triggers, true);
  if (isObj(spec.autoscaler))
    out.autoscaler = { type: str(spec.autoscaler.type), name: str(spec.autoscaler.name) };
  if (isObj(spec.enabledPeriod)) {
    const period: Record<string, Json> = {};
    put(period, 'schedule', str(spec.enabledPeriod.schedule), true);
    put(period, 'duration', str(spec.enabledPeriod.duration), true);
    out.enabledPeriod = period;
  }
  return out;
}

/** `ElastiServiceStatus` as Go marshals it. */
export function goStatus(status: Obj | undefined): Json {
  const s = status ?? {};
  const out: Record<string, Json> = { lastReconciledTime: metav1Time(s.lastReconciledTime) };
  const scaledUp = metav1Time(s.lastScaledUpTime);
  if (scaledUp !== null) out.lastScaledUpTime = scaledUp;
  put(out, 'mode', str(s.mode), true);
  return out;
}

/** Go's `encoding/json` HTML-safe escaping of a JSON text. */
export function goEscape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The whole response body (see the module documentation). */
export function renderCrdCache(entries: Iterable<CrdCacheEntry>): string {
  const services: Record<string, Json> = {};
  const sorted = [...entries].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const entry of sorted) {
    services[entry.key] = {
      name: entry.crdName,
      spec: goSpec(entry.spec as Obj),
      status: goStatus(entry.status as Obj | undefined),
    };
  }
  return `${goEscape(JSON.stringify({ services }))}\n`;
}
