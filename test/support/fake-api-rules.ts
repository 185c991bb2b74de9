/**
 * The pure rules of the in-memory fake API server ({@link ./fake-api-server.ts}): label and
 * field selectors, JSON merge patch (RFC 7386), and the `KubeApiError`s the server answers with.
 * Kept apart so the server module holds only state and protocol.
 */
import { KubeApiError } from '../../src/kube/core/errors.ts';
import type { GroupVersionResource, KubeObject } from '../../src/kube/core/types.ts';

/** `group/version/resource`: the server's key for a resource. */
export function gvrId(gvr: GroupVersionResource): string {
  return `${gvr.group}/${gvr.version}/${gvr.resource}`;
}

/** An error as the apiserver would answer it (a `Status` body with `code` and `reason`). */
export function apiError(
  status: number,
  reason?: string,
  extra: { verb?: string; what?: string; retryAfterSeconds?: number; gvr?: GroupVersionResource } = {},
): KubeApiError {
  const what = extra.what ?? 'fake';
  return new KubeApiError({
    status,
    reason,
    verb: extra.verb ?? 'test',
    url: `fake://${what}`,
    gvr: extra.gvr,
    body: { kind: 'Status', code: status, reason, message: `${reason ?? `fake ${status}`}: ${what}` },
    retryAfterSeconds: extra.retryAfterSeconds,
  });
}

/**
 * Whether `labels` satisfy a label selector: `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`,
 * `k notin (a,b)`, comma-separated (a comma inside parentheses belongs to the set).
 */
export function labelsMatch(
  labels: Record<string, string> | undefined,
  selector: string | undefined,
): boolean {
  if (!selector) return true;
  const l = labels ?? {};
  for (const raw of selector.split(/,(?![^(]*\))/)) {
    const part = raw.trim();
    if (!part) continue;
    const set = /^(\S+)\s+(in|notin)\s+\((.*)\)$/.exec(part);
    if (set) {
      const [, key, op, values] = set as unknown as [string, string, string, string];
      const has =
        key in l &&
        values
          .split(',')
          .map((v) => v.trim())
          .includes(l[key] ?? '');
      if (op === 'in' ? !has : has) return false;
      continue;
    }
    if (part.startsWith('!')) {
      if (part.slice(1) in l) return false;
      continue;
    }
    const ne = part.indexOf('!=');
    if (ne >= 0) {
      if (l[part.slice(0, ne)] === part.slice(ne + 2)) return false;
      continue;
    }
    const eq = /^([^=]+)==?(.*)$/.exec(part);
    if (!eq) {
      if (!(part in l)) return false;
      continue;
    }
    if (l[eq[1] ?? ''] !== eq[2]) return false;
  }
  return true;
}

/** Whether `obj` satisfies a field selector over `metadata.name` / `metadata.namespace` (`=`, `==`, `!=`). */
export function fieldsMatch(obj: KubeObject, selector: string | undefined): boolean {
  if (!selector) return true;
  for (const part of selector.split(',')) {
    const m = /^(metadata\.name|metadata\.namespace)(!=|==|=)(.*)$/.exec(part.trim());
    if (!m) throw apiError(400, 'BadRequest', { what: `field selector ${part}` });
    const [, field, op, value] = m as unknown as [string, string, string, string];
    const actual = field === 'metadata.name' ? obj.metadata.name : obj.metadata.namespace;
    if ((actual === value) === (op === '!=')) return false;
  }
  return true;
}

/** RFC 7386 JSON merge patch: objects merge, `null` deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return structuredClone(patch);
  const base: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete base[key];
    else base[key] = mergePatch(base[key], value);
  }
  return base;
}

/** Whether two specs differ (a spec change bumps `metadata.generation`). */
export function specChanged(a: KubeObject | undefined, b: KubeObject): boolean {
  return JSON.stringify(a?.spec) !== JSON.stringify(b.spec);
}
