/**
 * A real Prometheus server for the harness (built by `build.sh` from the pinned
 * `github.com/prometheus/prometheus` module): on a free loopback port, scraping every
 * `scrapeIntervalMs` the targets that tests add at run time through file-based service discovery
 * (one JSON file per target, picked up without a reload, so test files sharing one Prometheus
 * never rewrite each other's configuration).
 *
 * @module
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { freePort, type Supervised, stopSupervised, supervised, waitReady } from './supervised.ts';

/** Options of the harness's Prometheus. */
export interface PrometheusOptions {
  /** Scrape (and rule evaluation) interval, default 1000 ms. */
  scrapeIntervalMs?: number;
}

/** One scrape target. */
export interface ScrapeTarget {
  /** Unique among the targets of this Prometheus (a file name: letters, digits, `-`, `_`, `.`). */
  readonly name: string;
  /** `host:port` serving `/metrics` over plain HTTP. */
  readonly address: string;
  /** Extra labels on every series scraped from it. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** Where a running Prometheus is: enough to reach it from another process (JSON-safe). */
export interface PrometheusCoordinates {
  /** `http://127.0.0.1:<port>`: the HTTP API (`/api/v1/query`, ...). */
  readonly url: string;
  readonly scrapeIntervalMs: number;
  /** The directory its file-based service discovery reads targets from. */
  readonly targetsDir: string;
}

/** A running Prometheus. */
export interface PrometheusServer {
  /** `http://127.0.0.1:<port>`: the HTTP API (`/api/v1/query`, ...). */
  readonly url: string;
  readonly scrapeIntervalMs: number;
  readonly coordinates: PrometheusCoordinates;
  /**
   * Starts scraping `target` (job `elasti-test`, plus its labels); returns a function that stops it.
   * Prometheus notices the file within about a second.
   */
  addTarget(target: ScrapeTarget): () => void;
}

/** The job name of every target added with {@link PrometheusServer.addTarget}. */
export const PROMETHEUS_TEST_JOB = 'elasti-test';

/** Internal: the server plus its process, for the harness. */
export interface StartedPrometheus {
  readonly server: PrometheusServer;
  readonly proc: Supervised;
  stop(): Promise<void>;
}

/** Starts Prometheus with its data and targets under `dir` (removed with the control plane). */
export async function startPrometheus(
  binDir: string,
  binary: string,
  dir: string,
  options: PrometheusOptions,
  verbose: boolean,
  readyTimeoutMs: number,
): Promise<StartedPrometheus> {
  const scrapeIntervalMs = options.scrapeIntervalMs ?? 1000;
  if (!Number.isInteger(scrapeIntervalMs) || scrapeIntervalMs < 100) {
    throw new Error(`prometheus.scrapeIntervalMs must be an integer >= 100, got ${scrapeIntervalMs}`);
  }
  const targetsDir = join(dir, 'targets');
  mkdirSync(targetsDir, { recursive: true });
  const configPath = join(dir, 'prometheus.yml');
  const interval = `${scrapeIntervalMs}ms`;
  writeFileSync(
    configPath,
    [
      'global:',
      `  scrape_interval: ${interval}`,
      `  scrape_timeout: ${interval}`,
      `  evaluation_interval: ${interval}`,
      'scrape_configs:',
      `- job_name: ${PROMETHEUS_TEST_JOB}`,
      '  file_sd_configs:',
      `  - files: ['${join(targetsDir, '*.json')}']`,
      '    refresh_interval: 1s',
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = supervised(
    binDir,
    [
      join(binDir, binary),
      `--config.file=${configPath}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      '--storage.tsdb.retention.time=2h',
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { verbose },
  );
  try {
    await waitReady(
      'prometheus',
      proc,
      async () => {
        const res = await request(`${url}/-/ready`);
        await res.body.text();
        return res.statusCode === 200;
      },
      readyTimeoutMs,
    );
  } catch (error) {
    await stopSupervised(proc);
    throw error;
  }
  const server = prometheusAt({ url, scrapeIntervalMs, targetsDir });
  return { server, proc, stop: () => stopSupervised(proc) };
}

/**
 * The handle of a Prometheus started by this harness, from its coordinates (e.g. in a test
 * process, for the Prometheus the suite's global setup started).
 */
export function prometheusAt(coordinates: PrometheusCoordinates): PrometheusServer {
  return {
    url: coordinates.url,
    scrapeIntervalMs: coordinates.scrapeIntervalMs,
    coordinates,
    addTarget(target) {
      if (!/^[A-Za-z0-9_.-]+$/.test(target.name)) throw new Error(`bad scrape target name ${target.name}`);
      const file = join(coordinates.targetsDir, `${target.name}.json`);
      // Written beside and renamed, so Prometheus never reads half a file (the glob skips *.tmp).
      writeFileSync(
        `${file}.tmp`,
        JSON.stringify([{ targets: [target.address], labels: target.labels ?? {} }]),
      );
      renameSync(`${file}.tmp`, file);
      return () => rmSync(file, { force: true });
    },
  };
}
