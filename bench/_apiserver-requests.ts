/**
 * The apiserver's own metrics for benchmarks (not a benchmark itself): its `/metrics` text, and
 * the requests it counted (`apiserver_request_total`) by `VERB resource[/subresource]`, to know
 * how many requests a step cost.
 */
import { Agent, request } from 'undici';

/** `VERB resource[/subresource]` → requests served. */
export type RequestCounts = Map<string, number>;

/** The apiserver's `/metrics` text, read with `token`. */
export async function apiserverMetricsText(url: string, token: string, ca: string): Promise<string> {
  const dispatcher = new Agent({ connect: { ca } });
  try {
    const res = await request(`${url}/metrics`, {
      dispatcher,
      headers: { authorization: `Bearer ${token}` },
    });
    return await res.body.text();
  } finally {
    await dispatcher.close();
  }
}

/** Reads the apiserver's request counters now. */
export async function apiserverRequests(url: string, token: string, ca: string): Promise<RequestCounts> {
  const counts: RequestCounts = new Map();
  for (const line of (await apiserverMetricsText(url, token, ca)).split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const labels = Object.fromEntries(
      [...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1] as string, m[2] as string]),
    );
    const key = `${labels.verb} ${labels.resource}${labels.subresource ? `/${labels.subresource}` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return counts;
}

/** `after − before`, zero entries dropped, largest first. */
export function requestDelta(before: RequestCounts, after: RequestCounts): [string, number][] {
  const delta: [string, number][] = [];
  for (const [key, value] of after) {
    const d = value - (before.get(key) ?? 0);
    if (d > 0) delta.push([key, d]);
  }
  return delta.sort((a, b) => b[1] - a[1]);
}
