/**
 * Label selectors as the API server understands them (`a=b`, `a==b`, `a!=b`, `a in (x,y)`,
 * `a notin (x)`, `a`, `!a`, comma = AND), parsed once into a matcher, so a cache can be read by
 * label without a round-trip and the cache's key can use one spelling of each selector.
 *
 * @module
 */
import type { KubeObjectLike } from '../kube/index.ts';

/** A label selector as a string (`app=web,tier!=db`) or as `matchLabels` (`{ app: 'web' }`). */
export type LabelSelectorInput = string | Readonly<Record<string, string>>;

/** A selector string that does not parse. Names the selector and the offending part. */
export class LabelSelectorError extends Error {
  readonly selector: string;
  constructor(selector: string, problem: string) {
    super(`invalid label selector "${selector}": ${problem}`);
    this.name = 'LabelSelectorError';
    this.selector = selector;
  }
}

type Requirement =
  | { readonly key: string; readonly op: 'in' | 'notin'; readonly values: readonly string[] }
  | { readonly key: string; readonly op: 'exists' | '!' };

/** A parsed selector: {@link matches} tests a label set, {@link text} is its canonical spelling. */
export interface LabelSelector {
  /** True when `labels` satisfy every requirement (an empty selector matches everything). */
  matches(labels: Readonly<Record<string, string>> | undefined): boolean;
  /** Canonical text: requirements sorted by key, values sorted, `=` for single-value `in`. */
  readonly text: string;
}

const keyPattern = /^([a-z0-9A-Z]([-a-z0-9A-Z.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;
const valuePattern = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?)?$/;

/**
 * Parses a selector. Throws {@link LabelSelectorError} for a malformed one.
 *
 * @example
 * ```ts
 * const web = parseLabelSelector('app in (web,api),!canary');
 * web.matches({ app: 'web' }); // true
 * web.text; // "!canary,app in (api,web)"
 * parseLabelSelector({ app: 'web' }).text; // "app=web"
 * ```
 */
export function parseLabelSelector(input: LabelSelectorInput | undefined): LabelSelector {
  const requirements =
    input === undefined
      ? []
      : typeof input === 'string'
        ? parseText(input)
        : Object.entries(input).map(([key, value]) =>
            checked(JSON.stringify(input), { key, op: 'in', values: [value] }),
          );
  requirements.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const text = requirements.map(format).join(',');
  return {
    text,
    matches: (labels) => requirements.every((r) => satisfied(r, labels ?? {})),
  };
}

/** The labels of any object (metadata-only objects included), or `undefined`. */
export function labelsOf(obj: KubeObjectLike): Readonly<Record<string, string>> | undefined {
  const meta = obj.metadata as { labels?: Record<string, string> } | undefined;
  return meta?.labels;
}

function satisfied(r: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, r.key);
  switch (r.op) {
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'in':
      return has && r.values.includes(labels[r.key] as string);
    case 'notin':
      return !has || !r.values.includes(labels[r.key] as string);
  }
}

function format(r: Requirement): string {
  switch (r.op) {
    case 'exists':
      return r.key;
    case '!':
      return `!${r.key}`;
    case 'in':
      return r.values.length === 1 ? `${r.key}=${r.values[0]}` : `${r.key} in (${r.values.join(',')})`;
    case 'notin':
      return r.values.length === 1 ? `${r.key}!=${r.values[0]}` : `${r.key} notin (${r.values.join(',')})`;
  }
}

/** Splits on commas outside parentheses, then parses each requirement. */
function parseText(selector: string): Requirement[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const ch = selector[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(selector.slice(start, i));
      start = i + 1;
    }
    if (depth < 0 || depth > 1) throw new LabelSelectorError(selector, 'unbalanced parentheses');
  }
  if (depth !== 0) throw new LabelSelectorError(selector, 'unbalanced parentheses');
  parts.push(selector.slice(start));
  if (parts.length === 1 && parts[0]?.trim() === '') return [];
  return parts.map((part) => checked(selector, parsePart(selector, part.trim())));
}

const setPattern = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/;
const equalityPattern = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/;

function parsePart(selector: string, part: string): Requirement {
  if (part === '') throw new LabelSelectorError(selector, 'empty requirement');
  const set = setPattern.exec(part);
  if (set) {
    const values = (set[3] ?? '').split(',').map((v) => v.trim());
    if (values.length === 0 || values.some((v) => v === '') || set[3]?.trim() === '') {
      throw new LabelSelectorError(selector, `"${part}" needs a non-empty value list`);
    }
    return { key: set[1] as string, op: set[2] as 'in' | 'notin', values: [...new Set(values)].sort() };
  }
  const eq = equalityPattern.exec(part);
  if (eq) return { key: eq[1] as string, op: eq[2] === '!=' ? 'notin' : 'in', values: [eq[3] ?? ''] };
  if (part.startsWith('!')) return { key: part.slice(1).trim(), op: '!' };
  return { key: part, op: 'exists' };
}

function checked(selector: string, r: Requirement): Requirement {
  if (!keyPattern.test(r.key)) throw new LabelSelectorError(selector, `bad label key "${r.key}"`);
  if ('values' in r) {
    for (const v of r.values) {
      if (v.length > 63 || !valuePattern.test(v)) {
        throw new LabelSelectorError(selector, `bad label value "${v}" for key "${r.key}"`);
      }
    }
  }
  return r;
}
