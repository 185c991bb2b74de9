/**
 * Test helper: evaluates the subset of OpenAPI v3 our CRD uses, the way the apiserver does for
 * custom resources (defaults first, then validation), so unit tests can show what the schema
 * enforces without a cluster. Unknown keywords throw: a keyword this helper ignored would make a
 * passing test meaningless. The integration tests check the same behaviour against the real apiserver.
 */
import type { JsonSchemaProps } from '../../../src/api/v1alpha1/schema.ts';

export interface SchemaViolation {
  path: string;
  keyword: string;
}

const KNOWN_KEYWORDS = new Set([
  'type',
  'description',
  'format',
  'properties',
  'items',
  'required',
  'enum',
  'default',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'minItems',
  'pattern',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKeywords(schema: JsonSchemaProps, path: string): void {
  for (const key of Object.keys(schema)) {
    if (!KNOWN_KEYWORDS.has(key)) throw new Error(`openapi-subset: unsupported keyword ${key} at ${path}`);
  }
}

/** Returns a copy of `value` with schema defaults filled in for absent object fields. */
export function applyDefaults(schema: JsonSchemaProps, value: unknown): unknown {
  if (isObject(value) && schema.properties) {
    const out: Record<string, unknown> = { ...value };
    for (const [key, child] of Object.entries(schema.properties)) {
      if (out[key] === undefined && child.default !== undefined) out[key] = structuredClone(child.default);
      if (out[key] !== undefined) out[key] = applyDefaults(child, out[key]);
    }
    return out;
  }
  if (Array.isArray(value) && schema.items) {
    const items = schema.items;
    return value.map((item) => applyDefaults(items, item));
  }
  return value;
}

/** Every violation of `schema` by `value`. */
export function validateAgainst(schema: JsonSchemaProps, value: unknown, path = ''): SchemaViolation[] {
  checkKeywords(schema, path || '<root>');
  const out: SchemaViolation[] = [];
  const fail = (keyword: string, at = path): void => {
    out.push({ path: at, keyword });
  };
  switch (schema.type) {
    case undefined:
      if (!schema['x-kubernetes-preserve-unknown-fields'])
        throw new Error(`openapi-subset: no type at ${path}`);
      break;
    case 'object':
      if (!isObject(value)) return [{ path, keyword: 'type' }];
      break;
    case 'array':
      if (!Array.isArray(value)) return [{ path, keyword: 'type' }];
      break;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) return [{ path, keyword: 'type' }];
      break;
    case 'number':
      if (typeof value !== 'number') return [{ path, keyword: 'type' }];
      break;
    case 'string':
      if (typeof value !== 'string') return [{ path, keyword: 'type' }];
      break;
    case 'boolean':
      if (typeof value !== 'boolean') return [{ path, keyword: 'type' }];
      break;
  }
  if (schema.enum && !schema.enum.includes(value as string | number)) fail('enum');
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) fail('minimum');
    if (schema.maximum !== undefined && value > schema.maximum) fail('maximum');
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) fail('minLength');
    if (schema.maxLength !== undefined && value.length > schema.maxLength) fail('maxLength');
    if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) fail('pattern');
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) fail('minItems');
    const items = schema.items;
    if (items) {
      value.forEach((item, i) => {
        out.push(...validateAgainst(items, item, `${path}[${i}]`));
      });
    }
  }
  if (isObject(value)) {
    for (const key of schema.required ?? []) {
      if (value[key] === undefined) fail('required', path ? `${path}.${key}` : key);
    }
    for (const [key, child] of Object.entries(schema.properties ?? {})) {
      if (value[key] !== undefined)
        out.push(...validateAgainst(child, value[key], path ? `${path}.${key}` : key));
    }
  }
  return out;
}

/** Visits every schema node with its path. */
export function walkSchema(
  schema: JsonSchemaProps,
  visit: (node: JsonSchemaProps, path: string) => void,
  path = '',
): void {
  visit(schema, path);
  for (const [key, child] of Object.entries(schema.properties ?? {}))
    walkSchema(child, visit, path ? `${path}.${key}` : key);
  if (schema.items) walkSchema(schema.items, visit, `${path}[]`);
}
