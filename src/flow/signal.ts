/**
 * A one-to-many wake-up: waiters sleep until `notify()` or their own timeout, whichever comes
 * first. Used for "space freed in a channel" and "data arrived in a channel", so nobody polls.
 * Every wait is bounded by its timeout, and a timer never outlives its waiter (clean shutdown
 * does not wait for forgotten timers).
 */
export class Signal {
  private readonly waiters = new Set<() => void>()

  /** Resolves true when notified, false when `timeoutMs` passed first. */
  wait(timeoutMs: number): Promise<boolean> {
    return sleepUnless(timeoutMs, this)
  }

  notify(): void {
    const waiting = [...this.waiters]
    this.waiters.clear()
    for (const wake of waiting) wake()
  }

  /** One-shot registration; used by sleepUnless. */
  add(wake: () => void): void {
    this.waiters.add(wake)
  }

  remove(wake: () => void): void {
    this.waiters.delete(wake)
  }
}

/** What sleepUnless needs of a signal: one-shot registration. */
export interface Wakeable {
  add(wake: () => void): void
  remove(wake: () => void): void
}

/** Sleeps `ms`, cut short by a notify on any of `signals`; true when woken early. */
export function sleepUnless(ms: number, ...signals: Wakeable[]): Promise<boolean> {
  if (ms <= 0) return Promise.resolve(false)
  return new Promise((resolve) => {
    let settled = false
    const finish = (woken: boolean): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      for (const signal of signals) signal.remove(wake)
      resolve(woken)
    }
    const wake = (): void => finish(true)
    const timer = setTimeout(() => finish(false), ms)
    for (const signal of signals) signal.add(wake)
  })
}
