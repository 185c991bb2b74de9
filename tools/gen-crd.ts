/**
 * Writes the ElastiService CRD manifest from its TypeScript source of truth.
 *
 *   ./node_modules/.bin/node tools/gen-crd.ts           # (re)write config/crd/…yaml
 *   ./node_modules/.bin/node tools/gen-crd.ts --check   # exit 1 if the committed file is stale
 *
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CRD_YAML_PATH, renderCrdYaml } from '../src/api/v1alpha1/crd-yaml.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, CRD_YAML_PATH);
const text = renderCrdYaml();

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    current = '';
  }
  if (current !== text) {
    process.stderr.write(`${CRD_YAML_PATH} is out of date: run ./node_modules/.bin/node tools/gen-crd.ts\n`);
    process.exit(1);
  }
  process.stdout.write(`${CRD_YAML_PATH} is up to date\n`);
} else {
  writeFileSync(target, text);
  process.stdout.write(`wrote ${CRD_YAML_PATH}\n`);
}
