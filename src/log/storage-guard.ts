/**
 * A partition log's failed state. File work runs through guard(): an I/O error thrown by it (a
 * write, an fsync, a rename) fails the log, and from then on appends and syncs are refused with
 * SLUICE_ERR_STORAGE until PartitionLog.recover() has rescanned the files and cleared it. An
 * fsync is never retried: after a failed one the kernel may have dropped the dirty pages, so only
 * a rescan says what is on disk.
 *
 * Recovery must also cut what callers were never told is stored, so the guard keeps the end of
 * the acknowledged log as it was when the failure struck: before the append call that failed
 * and, in 'fsync' durability, at the last successful sync. Then a producer's retry does not
 * duplicate.
 *
 * Which errors count: typed ones (SluiceError: bad input, corrupt bytes read back) pass through
 * and leave the log as it was; a broken invariant (AssertionError) fails it but is rethrown as
 * itself, so the bug stays visible; anything else is an I/O error, wrapped in SLUICE_ERR_STORAGE.
 *
 * Invariants: once failed, the log stays failed until clear(); the acknowledged end recorded
 * first stands until clear().
 */
import { AssertionError, SluiceError } from '../errors.js'

export class StorageGuard {
  private failure: SluiceError | null = null
  private acknowledgedEnd: number | null = null

  /** `dir` names the partition in every error. */
  constructor(private readonly dir: string) {}

  get isFailed(): boolean {
    return this.failure !== null
  }

  /** Where recover() cuts the log: the acknowledged end, or null to keep all that is written. */
  get acknowledgedEndOffset(): number | null {
    return this.acknowledgedEnd
  }

  /** Throws SLUICE_ERR_STORAGE, naming the failure, if the log has failed. */
  refuseIfFailed(): void {
    if (this.failure !== null) {
      throw new SluiceError('SLUICE_ERR_STORAGE', `${this.dir} refuses appends after a storage ` +
        `error (${this.failure.message}); recover() it first`)
    }
  }

  /** Runs file work; an I/O error fails the log (and is rethrown as SLUICE_ERR_STORAGE). */
  guard<T>(work: () => T): T {
    return this.guardWith(null, work)
  }

  /** guard, also recording where the acknowledged log ends if `work` fails the log. */
  guardWith<T>(acknowledgedEndOffset: number | null, work: () => T): T {
    try {
      return work()
    } catch (error) {
      // Typed errors (bad input, corrupt bytes read back) are not storage failures.
      if (error instanceof SluiceError) throw error
      if (error instanceof AssertionError) {
        this.failure ??= new SluiceError('SLUICE_ERR_STORAGE', error.message)
        throw error
      }
      const message = error instanceof Error ? error.message : String(error)
      if (acknowledgedEndOffset !== null) this.acknowledgedEnd ??= acknowledgedEndOffset
      this.failure = new SluiceError('SLUICE_ERR_STORAGE', `${this.dir}: ${message}`,
        { cause: error })
      throw this.failure
    }
  }

  /** After a call that may have failed the log: if it did, the acknowledged log ends here. */
  noteAcknowledgedEnd(offset: number): void {
    if (this.failure !== null) this.acknowledgedEnd ??= offset
  }

  /** recover() has begun: the log refuses appends until it ends, failed before or not. */
  beginRecovery(): void {
    this.failure ??= new SluiceError('SLUICE_ERR_STORAGE', `${this.dir}: recovery in progress`)
  }

  /** recover() has ended: the files match what was acknowledged again. */
  clear(): void {
    this.failure = null
    this.acknowledgedEnd = null
  }
}
