/**
 * Leader election on a `coordination.k8s.io/v1` Lease, so that only one replica of the
 * operator reconciles at a time.
 *
 * The protocol (the same facts client-go's leaderelection package relies on):
 * - A candidate that finds no Lease creates it; one that finds an expired Lease takes it over
 *   with an update guarded by the resourceVersion (optimistic concurrency: of two candidates,
 *   one gets 409 Conflict).
 * - Expiry is judged on the LOCAL clock from the moment this process last saw the Lease record
 *   change — never from `renewTime` written by another machine — so clock skew between
 *   replicas cannot make two of them leaders.
 * - The leader renews every `retryPeriodMs`; if it cannot renew within `renewDeadlineMs` it
 *   stops leading (the operator then exits, and its replacement campaigns again).
 * - On a clean shutdown the leader releases the Lease (empty holder, 1 s duration) so a
 *   successor takes over at once instead of waiting for expiry.
 *
 * @module
 */

import {
  isAlreadyExists,
  isConflict,
  isNotFound,
  type KubeClient,
  type Lease,
  type Logger,
  resources,
  silentLogger,
} from '../kube/index.ts';

/** The Lease GVR. */
export const LEASE_GVR = resources.leases.gvr;

/** Options of {@link LeaderElector}. */
export interface LeaderElectionOptions {
  client: Pick<KubeClient, 'get' | 'create' | 'replace'>;
  namespace: string;
  name: string;
  /** This candidate's identity (e.g. pod name + random suffix). */
  identity: string;
  /** How long a Lease is valid after its last renewal. Default 15 s. */
  leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before giving up. Default 10 s. */
  renewDeadlineMs?: number;
  /** Pause between attempts to acquire or renew. Default 2 s. */
  retryPeriodMs?: number;
  logger?: Logger;
  now?: () => number;
}

/** The callbacks of a campaign. */
export interface LeaderCallbacks {
  /** Called once leadership is acquired; `signal` aborts when leadership is lost or released. */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** Called once when leadership ends (lost or released). */
  onStoppedLeading?(reason: 'lost' | 'released'): void;
  /** Called when another identity is seen holding the lease. */
  onNewLeader?(identity: string): void;
}

/** What a candidate knows of its campaign, for readiness and logs. */
export interface LeaderElectionStatus {
  /** True while this candidate holds the lease. */
  readonly leading: boolean;
  /** The holder last seen on the lease (this identity, another, or undefined when none). */
  readonly holder: string | undefined;
  /**
   * Why the last attempt to read, take or renew the lease failed (a 403 from missing RBAC, a
   * refused connection…); `undefined` once an attempt got through, even if another replica
   * holds the lease (that is a normal standby, not a failure).
   */
  readonly lastError: Error | undefined;
}

/** Leader election options that cannot work (e.g. an empty lease name). */
export class LeaderElectionConfigError extends TypeError {
  override readonly name = 'LeaderElectionConfigError';
}

function microTime(ms: number): string {
  // Lease times are metav1.MicroTime: RFC 3339 with microseconds.
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * Runs one candidate's campaign.
 *
 * @example
 * ```ts
 * import { KubeClient } from 'elasti-informer';
 * import { LeaderElector } from 'elasti-informer/leader-election';
 *
 * const client = await KubeClient.create();
 * const elector = new LeaderElector({ client, namespace: 'my-operator', name: 'my-operator-leader', identity: process.env.POD_NAME ?? 'dev' });
 * const outcome = await elector.run(
 *   { onStartedLeading: (leading) => startControllers(leading) }, // `leading` aborts when leadership ends
 *   AbortSignal.timeout(3_600_000),
 * );
 * ```
 */
export class LeaderElector {
  readonly #opts: Required<Omit<LeaderElectionOptions, 'logger'>> & { logger: Logger };
  #observedRecord = '';
  #observedAt = 0;
  #observedLease: Lease | undefined;
  #leading = false;
  #lastError: Error | undefined;
  /** The message of the failure last logged at warn, so a repeating failure warns once. */
  #warned: string | undefined;

  /** @throws {LeaderElectionConfigError} for an empty lease name, namespace or identity, or inconsistent durations. */
  constructor(options: LeaderElectionOptions) {
    for (const field of ['name', 'namespace', 'identity'] as const) {
      if (typeof options[field] !== 'string' || options[field] === '') {
        throw new LeaderElectionConfigError(`leader election needs a non-empty lease ${field}`);
      }
    }
    this.#opts = {
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      now: Date.now,
      ...options,
      logger: (options.logger ?? silentLogger).child({ component: 'leader-election', lease: options.name }),
    };
    if (this.#opts.renewDeadlineMs >= this.#opts.leaseDurationMs) {
      throw new LeaderElectionConfigError('renewDeadlineMs must be shorter than leaseDurationMs');
    }
  }

  /** True while this candidate holds the lease. */
  get isLeader(): boolean {
    return this.#leading;
  }

  /** `namespace/name` of the lease. */
  get lease(): string {
    return `${this.#opts.namespace}/${this.#opts.name}`;
  }

  /** What this candidate knows of its campaign right now. */
  status(): LeaderElectionStatus {
    return {
      leading: this.#leading,
      holder: this.#observedLease?.spec?.holderIdentity || undefined,
      lastError: this.#lastError,
    };
  }

  /** An attempt failed: remembered for readiness; logged at warn once per distinct failure, then at debug. */
  #failed(error: unknown, what: string): void {
    this.#lastError = error instanceof Error ? error : new Error(String(error));
    const message = this.#lastError.message;
    if (this.#warned === message) {
      this.#opts.logger.debug({ err: message }, `${what} failed again`);
      return;
    }
    this.#warned = message;
    this.#opts.logger.warn({ err: message }, `${what} failed; retrying every ${this.#opts.retryPeriodMs} ms`);
  }

  /** An attempt got through (whatever its outcome): the lease is reachable. */
  #reached(): void {
    if (this.#lastError) this.#opts.logger.info({}, 'the lease is reachable again');
    this.#lastError = undefined;
    this.#warned = undefined;
  }

  /**
   * Campaigns until `signal` aborts: waits to acquire, leads (calling `onStartedLeading`),
   * and returns when leadership is lost or the signal aborts (then the lease is released).
   */
  async run(callbacks: LeaderCallbacks, signal: AbortSignal): Promise<'lost' | 'released' | 'aborted'> {
    const { retryPeriodMs, renewDeadlineMs, logger } = this.#opts;
    while (!signal.aborted) {
      if (await this.#tryAcquireOrRenew(callbacks)) break;
      await sleep(retryPeriodMs, signal);
    }
    if (signal.aborted) return 'aborted';

    this.#leading = true;
    logger.info({ identity: this.#opts.identity }, 'acquired leadership');
    const leadership = new AbortController();
    const started = Promise.resolve()
      .then(() => callbacks.onStartedLeading(leadership.signal))
      .catch((error: unknown) => logger.error({ err: error }, 'onStartedLeading failed'));

    let reason: 'lost' | 'released' = 'lost';
    let lastRenew = this.#opts.now();
    while (!signal.aborted) {
      await sleep(retryPeriodMs, signal);
      if (signal.aborted) break;
      if (await this.#tryAcquireOrRenew(callbacks)) {
        lastRenew = this.#opts.now();
      } else if (this.#opts.now() - lastRenew > renewDeadlineMs || !this.#holdsObserved()) {
        break; // could not renew in time, or someone else holds the lease now
      }
    }
    if (signal.aborted) {
      reason = 'released';
      await this.#release();
    }
    this.#leading = false;
    leadership.abort(new Error(`leadership ${reason}`));
    logger.info({ identity: this.#opts.identity, reason }, 'stopped leading');
    callbacks.onStoppedLeading?.(reason);
    await started;
    return reason;
  }

  #holdsObserved(): boolean {
    return this.#observedLease?.spec?.holderIdentity === this.#opts.identity;
  }

  #observe(lease: Lease): void {
    const record = JSON.stringify(lease.spec ?? {});
    if (record !== this.#observedRecord) {
      this.#observedRecord = record;
      this.#observedAt = this.#opts.now();
    }
    this.#observedLease = lease;
  }

  async #tryAcquireOrRenew(callbacks: LeaderCallbacks): Promise<boolean> {
    const { client, namespace, name, identity, leaseDurationMs, logger } = this.#opts;
    const now = this.#opts.now();
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
      renewTime: microTime(now),
    };
    let current: Lease;
    try {
      current = await client.get<Lease>(LEASE_GVR, namespace, name);
    } catch (error) {
      if (!isNotFound(error)) {
        this.#failed(error, 'reading the lease');
        return false;
      }
      try {
        const created = await client.create<Lease>(LEASE_GVR, namespace, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: { ...spec, acquireTime: microTime(now), leaseTransitions: 0 },
        });
        this.#observe(created);
        this.#reached();
        return true;
      } catch (createError) {
        // Another candidate created it first: a lost race, not a failure.
        if (isAlreadyExists(createError) || isConflict(createError)) {
          logger.debug({ err: createError }, 'creating the lease lost a race');
          this.#reached();
        } else {
          this.#failed(createError, 'creating the lease');
        }
        return false;
      }
    }

    this.#observe(current);
    const holder = current.spec?.holderIdentity ?? '';
    const durationMs = (current.spec?.leaseDurationSeconds ?? 0) * 1000;
    if (holder && holder !== identity) {
      callbacks.onNewLeader?.(holder);
      if (this.#observedAt + durationMs > now) {
        this.#reached();
        return false; // still valid as far as we have seen
      }
    }
    const transitions = current.spec?.leaseTransitions ?? 0;
    const next: Lease = {
      ...current,
      spec: {
        ...current.spec,
        ...spec,
        acquireTime: holder === identity ? current.spec?.acquireTime : microTime(now),
        leaseTransitions: holder === identity ? transitions : transitions + 1,
      },
    };
    try {
      const updated = await client.replace<Lease>(LEASE_GVR, namespace, name, next);
      this.#observe(updated);
      this.#reached();
      return true;
    } catch (error) {
      if (isConflict(error)) this.#reached();
      else this.#failed(error, 'updating the lease');
      return false;
    }
  }

  async #release(): Promise<void> {
    const { client, namespace, name, identity, logger } = this.#opts;
    try {
      const current = await client.get<Lease>(LEASE_GVR, namespace, name);
      if (current.spec?.holderIdentity !== identity) return;
      await client.replace<Lease>(LEASE_GVR, namespace, name, {
        ...current,
        spec: {
          ...current.spec,
          holderIdentity: '',
          leaseDurationSeconds: 1,
          renewTime: microTime(this.#opts.now()),
        },
      });
    } catch (error) {
      logger.warn({ err: error }, 'releasing the lease failed; the successor waits for expiry');
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
