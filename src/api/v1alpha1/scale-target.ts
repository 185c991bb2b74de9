/**
 * Scale targets: legacy kind spellings, which apiVersion goes with which kind, and where each
 * kind lives in the API.
 *
 * @module
 */
import type { GroupVersionResource } from '../../kube/index.ts';
import type {
  NormalizedScaleTargetRef,
  ScaleTargetApiVersion,
  ScaleTargetKind,
  ScaleTargetRef,
} from './types.ts';

const LEGACY_TO_CANONICAL: Readonly<Record<string, ScaleTargetKind>> = {
  deployments: 'Deployment',
  rollouts: 'Rollout',
};

/** For each canonical kind: the only apiVersion it exists in, and its resource. */
const TARGETS: Readonly<
  Record<ScaleTargetKind, { apiVersion: ScaleTargetApiVersion; gvr: GroupVersionResource }>
> = {
  Deployment: { apiVersion: 'apps/v1', gvr: { group: 'apps', version: 'v1', resource: 'deployments' } },
  StatefulSet: { apiVersion: 'apps/v1', gvr: { group: 'apps', version: 'v1', resource: 'statefulsets' } },
  Rollout: {
    apiVersion: 'argoproj.io/v1alpha1',
    gvr: { group: 'argoproj.io', version: 'v1alpha1', resource: 'rollouts' },
  },
};

/**
 * The scale target cannot be resolved: its kind is unknown, or kind and apiVersion do not belong
 * together (e.g. a Rollout in `apps/v1`).
 */
export class ScaleTargetMismatchError extends Error {
  override readonly name = 'ScaleTargetMismatchError';
  readonly ref: ScaleTargetRef;
  constructor(ref: ScaleTargetRef, message: string) {
    super(message);
    this.ref = ref;
  }
}

/** Maps a legacy kind spelling (`deployments`, `rollouts`) to its canonical kind; other values pass through. */
export function normalizeKind(kind: string): string {
  return LEGACY_TO_CANONICAL[kind] ?? kind;
}

/** A copy of `ref` with the kind in canonical spelling. Does not check the apiVersion (see {@link scaleTargetGvr}). */
export function normalizeScaleTargetRef(ref: ScaleTargetRef): NormalizedScaleTargetRef {
  return { apiVersion: ref.apiVersion, kind: normalizeKind(ref.kind) as ScaleTargetKind, name: ref.name };
}

/** The apiVersion a (canonical or legacy) kind must be paired with, or undefined for an unknown kind. */
export function expectedApiVersion(kind: string): ScaleTargetApiVersion | undefined {
  return (TARGETS as Partial<Record<string, { apiVersion: ScaleTargetApiVersion }>>)[normalizeKind(kind)]
    ?.apiVersion;
}

/**
 * Where the scale target lives: `deployments`/`statefulsets` in `apps/v1`, `rollouts` in
 * `argoproj.io/v1alpha1`. Accepts legacy kind spellings.
 *
 * @throws {ScaleTargetMismatchError} when kind and apiVersion do not go together, or the kind is unknown.
 */
export function scaleTargetGvr(ref: ScaleTargetRef): GroupVersionResource {
  const kind = normalizeKind(ref.kind);
  const target = (TARGETS as Partial<Record<string, (typeof TARGETS)[ScaleTargetKind]>>)[kind];
  if (!target) {
    throw new ScaleTargetMismatchError(
      ref,
      `unsupported kind ${ref.kind} (use Deployment, StatefulSet or Rollout)`,
    );
  }
  if (target.apiVersion !== ref.apiVersion) {
    throw new ScaleTargetMismatchError(
      ref,
      `kind ${ref.kind} requires apiVersion ${target.apiVersion}, got ${ref.apiVersion}`,
    );
  }
  return { ...target.gvr };
}
