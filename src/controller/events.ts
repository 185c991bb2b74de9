/**
 * The event recorder is the runtime's (`src/runtime/events.ts`), shared by every controller;
 * re-exported here so the ElastiService controller's imports stay as they were.
 *
 * @module
 */
export {
  type CoreEvent,
  type EventRecorderOptions,
  KubeEventRecorder,
  MAX_EVENT_MESSAGE,
} from '../runtime/index.ts';
