/**
 * The list/watch protocol: the reflector's pure state machine (`reflector-machine.ts` over
 * `reflector-types.ts`), the effects it asks for (`reflector-effects.ts`) and the driver that runs them
 * (`reflector.ts`). Depends on `core/` only: it reaches the server through the `ListerWatcher` contract.
 *
 * @module
 */

export { initialEventsEndAnnotation, Reflector, type ReflectorOptions } from './reflector.ts';
export {
  guardedLogger,
  ReflectorEffects,
  type ReflectorEffectsOptions,
  SinkError,
} from './reflector-effects.ts';
export { awaitingInitialEvents, initialState, transition } from './reflector-machine.ts';
export type {
  Effect,
  ListProgress,
  MachineCommon,
  MachineConfig,
  MachineInput,
  MachineState,
  MachineStatePhasesCovered,
  NextOp,
  Transition,
} from './reflector-types.ts';
