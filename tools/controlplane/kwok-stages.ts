/**
 * The kwok configuration the harness runs with: Stage objects (kwok's `kwok.x-k8s.io/v1alpha1`
 * API, loaded from `--config` instead of CRDs) that play a kubelet's part for fake Nodes and the
 * Pods scheduled to them.
 *
 * - Node: `node-ready` turns a new Node Ready at once (conditions, addresses, generous capacity);
 *   `node-heartbeat` refreshes its status now and then. Liveness itself goes through the node
 *   Lease, which kwok renews (`--node-lease-duration-seconds`).
 * - Pod: `pod-started` gives a scheduled Pod its IP at once (phase Pending, not Ready);
 *   `pod-ready` makes it Running and Ready after `podReadyDelayMs` (a Pod's annotation
 *   `pod-ready.stage.kwok.x-k8s.io/delay`, e.g. `"5s"`, overrides that for the one Pod);
 *   `pod-delete` removes a deleted Pod after `podDeleteDelayMs` once its finalizers are gone, as a
 *   kubelet confirms a Pod's termination.
 *
 * The template functions (`Now`, `NodeIP`, `PodIPWith`, `NodeConditions`, ...) are kwok's.
 *
 * @module
 */

/** Pod lifecycle timings of the fake nodes. */
export interface KwokTimings {
  /** From a Pod getting its IP to Running and Ready. */
  readonly podReadyDelayMs: number;
  /** From a Pod's deletion (finalizers gone) to its removal. */
  readonly podDeleteDelayMs: number;
}

/** The annotation kwok's `--manage-nodes-with-annotation-selector` selects the harness's Nodes by. */
export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';

const stage = (name: string, kind: 'Node' | 'Pod', body: string): string =>
  [
    'apiVersion: kwok.x-k8s.io/v1alpha1',
    'kind: Stage',
    `metadata: {name: ${name}}`,
    'spec:',
    `  resourceRef: {apiGroup: v1, kind: ${kind}}`,
    body,
  ].join('\n');

const nodeReady = stage(
  'node-ready',
  'Node',
  `  selector:
    matchExpressions:
    - {key: '.status.conditions.[] | select( .type == "Ready" ) | .status', operator: NotIn, values: ['True']}
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      {{ range NodeConditions }}
      - lastHeartbeatTime: {{ $now | Quote }}
        lastTransitionTime: {{ $now | Quote }}
        message: {{ .message | Quote }}
        reason: {{ .reason | Quote }}
        status: {{ .status | Quote }}
        type: {{ .type | Quote }}
      {{ end }}
      addresses:
      - {address: {{ NodeIP | Quote }}, type: InternalIP}
      - {address: {{ NodeName | Quote }}, type: Hostname}
      allocatable: {cpu: "32", memory: 256Gi, pods: "110"}
      capacity: {cpu: "32", memory: 256Gi, pods: "110"}
      nodeInfo:
        architecture: amd64
        operatingSystem: linux
        kubeletVersion: {{ printf "kwok-%s" Version | Quote }}
        kubeProxyVersion: {{ printf "kwok-%s" Version | Quote }}
        containerRuntimeVersion: {{ printf "kwok-%s" Version | Quote }}
        kernelVersion: {{ printf "kwok-%s" Version | Quote }}
        bootID: ""
        machineID: ""
        osImage: ""
        systemUUID: ""
      phase: Running`,
);

const nodeHeartbeat = stage(
  'node-heartbeat',
  'Node',
  `  selector:
    matchExpressions:
    - {key: '.status.conditions.[] | select( .type == "Ready" ) | .status', operator: In, values: ['True']}
  delay: {durationMilliseconds: 60000, jitterDurationMilliseconds: 61000}
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      {{ range NodeConditions }}
      - lastHeartbeatTime: {{ $now | Quote }}
        message: {{ .message | Quote }}
        reason: {{ .reason | Quote }}
        status: {{ .status | Quote }}
        type: {{ .type | Quote }}
      {{ end }}`,
);

const podStarted = stage(
  'pod-started',
  'Pod',
  `  selector:
    matchExpressions:
    - {key: .metadata.deletionTimestamp, operator: DoesNotExist}
    - {key: .status.podIP, operator: DoesNotExist}
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - {type: Initialized, status: "True", lastTransitionTime: {{ $now | Quote }}}
      - {type: ContainersReady, status: "False", reason: ContainersNotReady, lastTransitionTime: {{ $now | Quote }}}
      - {type: Ready, status: "False", reason: ContainersNotReady, lastTransitionTime: {{ $now | Quote }}}
      containerStatuses:
      {{ range .spec.containers }}
      - {name: {{ .name | Quote }}, image: {{ .image | Quote }}, ready: false, started: false, restartCount: 0, state: {waiting: {reason: ContainerCreating}}}
      {{ end }}
      hostIP: {{ NodeIPWith .spec.nodeName | Quote }}
      podIP: {{ PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) | Quote }}
      phase: Pending`,
);

const podReady = (delayMs: number): string =>
  stage(
    'pod-ready',
    'Pod',
    `  selector:
    matchExpressions:
    - {key: .metadata.deletionTimestamp, operator: DoesNotExist}
    - {key: .status.phase, operator: In, values: [Pending]}
    - {key: .status.podIP, operator: Exists}
  delay:
    durationMilliseconds: ${delayMs}
    durationFrom: {expressionFrom: '.metadata.annotations["pod-ready.stage.kwok.x-k8s.io/delay"]'}
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - {type: Initialized, status: "True", lastTransitionTime: {{ $now | Quote }}}
      - {type: ContainersReady, status: "True", lastTransitionTime: {{ $now | Quote }}}
      - {type: Ready, status: "True", lastTransitionTime: {{ $now | Quote }}}
      containerStatuses:
      {{ range .spec.containers }}
      - {name: {{ .name | Quote }}, image: {{ .image | Quote }}, ready: true, started: true, restartCount: 0, state: {running: {startedAt: {{ $now | Quote }}}}}
      {{ end }}
      phase: Running
      startTime: {{ $now | Quote }}`,
  );

const podDelete = (delayMs: number): string =>
  stage(
    'pod-delete',
    'Pod',
    `  selector:
    matchExpressions:
    - {key: .metadata.deletionTimestamp, operator: Exists}
    - {key: .metadata.finalizers, operator: DoesNotExist}
  delay: {durationMilliseconds: ${delayMs}}
  next:
    delete: true`,
  );

/** The multi-document YAML given to `kwok --config`. */
export function kwokConfigYaml(timings: KwokTimings): string {
  return `${[
    nodeReady,
    nodeHeartbeat,
    podStarted,
    podReady(timings.podReadyDelayMs),
    podDelete(timings.podDeleteDelayMs),
  ].join('\n---\n')}\n`;
}

/** A fake Node for kwok to manage: annotated for its selector, labelled like a real one. */
export function kwokNode(name: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [KWOK_NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        type: 'kwok',
      },
    },
  };
}
