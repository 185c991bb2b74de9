/**
 * The wire format of list and watch responses: splitting a watch stream into lines, decoding a
 * watch event (an in-stream `ERROR` becomes a thrown `KubeApiError`) and validating a LIST body.
 * Pure functions over bytes and JSON, kept apart from the HTTP client that feeds them.
 *
 * @module
 */
import { StringDecoder } from 'node:string_decoder';
import type {
  BookmarkObject,
  KubeObject,
  KubeObjectLike,
  ListPage,
  WatchEvent,
  WatchEventType,
} from '../core/index.ts';
import { asStatus, KubeApiError, KubeDecodeError } from '../core/index.ts';

/**
 * Splits a UTF-8 byte stream into non-blank lines (the watch protocol: one JSON event per line).
 * Multi-byte characters and lines may span chunks; a large object arriving in many chunks is
 * joined once instead of rescanning a growing string for every chunk.
 */
export class LineSplitter {
  readonly #decoder = new StringDecoder('utf8');
  #partial: string[] = [];

  /** Feeds a chunk; returns the lines it completed. */
  push(chunk: Buffer): string[] {
    const text = this.#decoder.write(chunk);
    const lines: string[] = [];
    let start = 0;
    let newline = text.indexOf('\n');
    while (newline >= 0) {
      this.#partial.push(text.slice(start, newline));
      const line = this.#partial.join('');
      this.#partial = [];
      if (line.trim() !== '') lines.push(line);
      start = newline + 1;
      newline = text.indexOf('\n', start);
    }
    if (start < text.length) this.#partial.push(text.slice(start));
    return lines;
  }

  /** The unterminated last line, if any. */
  end(): string | undefined {
    const rest = this.#partial.join('') + this.#decoder.end();
    this.#partial = [];
    return rest.trim() === '' ? undefined : rest;
  }
}

const watchEventTypes: ReadonlySet<string> = new Set<WatchEventType>([
  'ADDED',
  'MODIFIED',
  'DELETED',
  'BOOKMARK',
  'ERROR',
]);

/** Decodes one line of a watch stream; an `ERROR` event becomes a thrown {@link KubeApiError}. */
export function decodeWatchEvent<T extends KubeObjectLike = KubeObject>(
  line: string,
  url: string,
): WatchEvent<T> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    throw new KubeDecodeError(url, `watch line is not JSON: ${line.slice(0, 120)}`, error);
  }
  if (typeof parsed !== 'object' || parsed === null) {
    throw new KubeDecodeError(url, 'watch event is not an object');
  }
  const { type, object } = parsed as { type?: unknown; object?: unknown };
  if (typeof type !== 'string' || !watchEventTypes.has(type)) {
    throw new KubeDecodeError(url, `unknown watch event type ${JSON.stringify(type)}`);
  }
  if (type === 'ERROR') {
    const status = asStatus(object) ?? { message: JSON.stringify(object)?.slice(0, 300) };
    throw new KubeApiError({ status: status.code ?? 500, verb: 'watch', url, body: status });
  }
  if (typeof object !== 'object' || object === null || typeof (object as KubeObject).metadata !== 'object') {
    throw new KubeDecodeError(url, `${type} event without an object with metadata`);
  }
  if (type === 'BOOKMARK') return { type, object: object as BookmarkObject };
  return { type: type as 'ADDED' | 'MODIFIED' | 'DELETED', object: object as T };
}

/** Validates a LIST body and fills in each item's `apiVersion`/`kind`. */
export function toListPage<T extends KubeObjectLike = KubeObject>(raw: unknown, url: string): ListPage<T> {
  if (typeof raw !== 'object' || raw === null) throw new KubeDecodeError(url, 'list body is not an object');
  const list = raw as { apiVersion?: unknown; kind?: unknown; metadata?: unknown; items?: unknown };
  const items = list.items ?? [];
  if (!Array.isArray(items)) throw new KubeDecodeError(url, 'list body has no items array');
  const meta = (typeof list.metadata === 'object' && list.metadata !== null ? list.metadata : {}) as {
    resourceVersion?: unknown;
    continue?: unknown;
  };
  if (typeof meta.resourceVersion !== 'string' || meta.resourceVersion === '') {
    throw new KubeDecodeError(url, 'list has no metadata.resourceVersion');
  }
  const kind =
    typeof list.kind === 'string' && list.kind.endsWith('List') ? list.kind.slice(0, -4) : undefined;
  const apiVersion = typeof list.apiVersion === 'string' ? list.apiVersion : undefined;
  for (const item of items) {
    if (typeof item !== 'object' || item === null || typeof item.metadata !== 'object') {
      throw new KubeDecodeError(url, 'list item without metadata');
    }
    if (kind && item.kind === undefined) item.kind = kind;
    if (apiVersion && item.apiVersion === undefined) item.apiVersion = apiVersion;
  }
  const page: ListPage<T> = { items: items as T[], resourceVersion: meta.resourceVersion };
  if (typeof meta.continue === 'string' && meta.continue !== '') page.continue = meta.continue;
  return page;
}
