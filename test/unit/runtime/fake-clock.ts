/** A manual clock for queue tests: time moves only when the test calls `advance`. */
import type { QueueClock } from '../../../src/runtime/workqueue.ts';

interface Timer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

export class FakeClock implements QueueClock {
  #now: number;
  #nextId = 1;
  #timers: Timer[] = [];

  constructor(start = 1_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(fn: () => void, delayMs: number): unknown {
    const timer = { id: this.#nextId++, at: this.#now + delayMs, fn };
    this.#timers.push(timer);
    return timer.id;
  }

  clearTimer(handle: unknown): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle);
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.#timers.length;
  }

  /** Moves time forward, firing due timers in due-time order (ties: creation order). */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#now = due.at;
      due.fn();
    }
    this.#now = target;
  }
}
