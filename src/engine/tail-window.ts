/**
 * The tail window of one partition: the newest bytes of the active segment, kept in shared
 * memory so readers on any thread get zero-copy `Buffer` views of hot data (DESIGN rule 5).
 *
 * The window is a ring of `slotCount` slots of `slotBytes` each, in one SharedArrayBuffer for the
 * data and one for the slot table. The shard copies each batch into the current slot *before*
 * writing it to the file, and writes the file from those same bytes. A slot holds a contiguous
 * run of one segment's file: [startPosition, startPosition + filledBytes).
 *
 * Slot table, per slot (SLOT_TABLE_I32 × i32 = 32 bytes):
 *   i32 generation   +1 each time the slot is reset to new file positions
 *   i32 pins         readers holding views of this slot
 *   f64 segmentBaseOffset, f64 startPosition, f64 filledBytes  (at byte 8, 16, 24)
 *
 * Safety: the shard resets a slot only when its pin count is 0. A reader reads the slot's
 * generation, pins it, then re-reads the generation: if it moved, the slot was reset in between
 * and the reader unpins and reads the file instead. Readers never see bytes above the high
 * watermark because they only ask for ranges below the published committed size.
 * A pin is released when every view handed out under it has been garbage-collected: each view
 * carries a reference to its lease, and a FinalizationRegistry watches the lease.
 */
import { assert } from '../errors.js'

const SLOT_TABLE_BYTES = 32
const GEN = 0
const PINS = 1
const F64_BASE = 1
const F64_START = 2
const F64_FILLED = 3

export const DEFAULT_WINDOW_SLOT_BYTES = 1024 * 1024
export const DEFAULT_WINDOW_SLOT_COUNT = 4

export interface TailWindowBuffers {
  data: SharedArrayBuffer
  table: SharedArrayBuffer
  slotBytes: number
  slotCount: number
}

export function createTailWindowBuffers(slotBytes: number, slotCount: number): TailWindowBuffers {
  assert(slotBytes > 0 && slotCount >= 2, 'a tail window needs at least two non-empty slots')
  return {
    data: new SharedArrayBuffer(slotBytes * slotCount),
    table: new SharedArrayBuffer(SLOT_TABLE_BYTES * slotCount),
    slotBytes,
    slotCount,
  }
}

class SlotTable {
  readonly i32: Int32Array
  readonly f64: Float64Array

  constructor(table: SharedArrayBuffer) {
    this.i32 = new Int32Array(table)
    this.f64 = new Float64Array(table)
  }

  generation(slot: number): number {
    return Atomics.load(this.i32, slot * 8 + GEN)
  }

  pins(slot: number): number {
    return Atomics.load(this.i32, slot * 8 + PINS)
  }

  field(slot: number, f64Field: number): number {
    return this.f64[slot * 4 + f64Field]!
  }
}

/** The shard's side: places batches into the window and hands back the bytes to write. */
export class TailWindowWriter {
  private readonly table: SlotTable
  private readonly data: Buffer
  private current = -1
  /** The slot used most recently, so the ring keeps its order after a pinned slot is skipped. */
  private previous = -1
  /** Slots filled since beginGroup: their bytes are not written to the file yet. */
  private readonly groupSlots = new Set<number>()

  constructor(private readonly buffers: TailWindowBuffers) {
    this.table = new SlotTable(buffers.table)
    this.data = Buffer.from(buffers.data)
  }

  /**
   * Starts a write group. Until the group is written, the slots it fills hold its only copy of
   * those bytes (the file is written from the window), so the ring must not wrap onto them:
   * a group larger than the window places what fits and the rest is written from the original.
   */
  beginGroup(): void {
    this.groupSlots.clear()
  }

  /**
   * Copies `batch` into the window at file position `position` of segment `segmentBaseOffset`
   * and returns the window's copy (write that one), or null when the batch cannot be placed
   * (too large, or the next slot is still pinned by readers): then write the original.
   */
  place(batch: Uint8Array, segmentBaseOffset: number, position: number): Buffer | null {
    const { slotBytes } = this.buffers
    if (batch.byteLength > slotBytes) return null
    if (!this.continues(segmentBaseOffset, position, batch.byteLength) && !this.advance()) {
      return null
    }
    const slot = this.current
    this.groupSlots.add(slot)
    if (this.table.field(slot, F64_FILLED) === 0) {
      this.table.f64[slot * 4 + F64_BASE] = segmentBaseOffset
      this.table.f64[slot * 4 + F64_START] = position
    }
    const filled = this.table.field(slot, F64_FILLED)
    const start = slot * slotBytes + filled
    this.data.set(batch, start)
    this.table.f64[slot * 4 + F64_FILLED] = filled + batch.byteLength
    return this.data.subarray(start, start + batch.byteLength)
  }

  /**
   * Forget every slot (after a roll, truncation or a write error). A slot can hold bytes that
   * never reached the file, at positions a later append reuses once recovery truncates, so each
   * slot is emptied, not merely left: the generation moves first, so a reader that pinned it
   * meanwhile falls back to the file, and views already handed out keep their bytes because a
   * pinned slot's data is never overwritten.
   */
  reset(): void {
    this.current = -1
    for (let slot = 0; slot < this.buffers.slotCount; slot++) {
      Atomics.add(this.table.i32, slot * 8 + GEN, 1)
      this.table.f64[slot * 4 + F64_FILLED] = 0
    }
  }

  private continues(segmentBaseOffset: number, position: number, bytes: number): boolean {
    const slot = this.current
    if (slot < 0) return false
    const filled = this.table.field(slot, F64_FILLED)
    if (filled === 0) return true
    return this.table.field(slot, F64_BASE) === segmentBaseOffset
      && this.table.field(slot, F64_START) + filled === position
      && filled + bytes <= this.buffers.slotBytes
  }

  /** Moves to the next slot if no reader holds it; resets it for new positions. */
  private advance(): boolean {
    const next = (this.previous + 1) % this.buffers.slotCount
    if (this.groupSlots.has(next)) {
      this.current = -1
      return false
    }
    this.previous = next
    if (this.table.pins(next) !== 0) {
      this.current = -1
      return false
    }
    // Bump the generation first: a reader that pins after this sees the new generation and
    // falls back to the file, so the bytes we are about to overwrite are never handed out.
    Atomics.add(this.table.i32, next * 8 + GEN, 1)
    if (this.table.pins(next) !== 0) {
      this.current = -1
      return false
    }
    this.table.f64[next * 4 + F64_FILLED] = 0
    this.current = next
    return true
  }
}

const LEASE = Symbol('sluice.windowLease')

interface Lease {
  slot: number
}

/** Any thread's side: zero-copy views of committed window bytes. */
export class TailWindowReader {
  private readonly table: SlotTable
  private readonly data: Buffer
  private readonly releases: FinalizationRegistry<number>

  constructor(private readonly buffers: TailWindowBuffers) {
    this.table = new SlotTable(buffers.table)
    this.data = Buffer.from(buffers.data)
    const pins = this.table.i32
    this.releases = new FinalizationRegistry((slot: number) => {
      Atomics.sub(pins, slot * 8 + PINS, 1)
    })
  }

  /**
   * A view from `position` to the end of the slot that holds it (at most `endLimit`), or null
   * when no slot holds that position. The caller guarantees endLimit ≤ the committed size
   * published in the shared index, so the view never shows bytes above the high watermark.
   */
  viewFrom(segmentBaseOffset: number, position: number, endLimit: number): Buffer | null {
    for (let slot = 0; slot < this.buffers.slotCount; slot++) {
      const generation = this.table.generation(slot)
      if (!this.holds(slot, segmentBaseOffset, position)) continue
      Atomics.add(this.table.i32, slot * 8 + PINS, 1)
      if (this.table.generation(slot) !== generation
        || !this.holds(slot, segmentBaseOffset, position)) {
        Atomics.sub(this.table.i32, slot * 8 + PINS, 1)
        continue
      }
      const slotStart = this.table.field(slot, F64_START)
      const slotEnd = slotStart + this.table.field(slot, F64_FILLED)
      const end = Math.min(endLimit, slotEnd)
      const dataStart = slot * this.buffers.slotBytes + (position - slotStart)
      const view = this.data.subarray(dataStart, dataStart + (end - position))
      const lease: Lease = { slot }
      this.releases.register(lease, slot)
      attachLease(view, lease)
      return view
    }
    return null
  }

  private holds(slot: number, base: number, position: number): boolean {
    const start = this.table.field(slot, F64_START)
    return this.table.field(slot, F64_BASE) === base
      && start <= position
      && position < start + this.table.field(slot, F64_FILLED)
  }
}

/** Makes `derived` (a sub-view of a leased view) keep the lease, and so the slot, alive. */
export function attachLease(derived: Uint8Array, leasedOrLease: Uint8Array | Lease): void {
  const lease = (leasedOrLease as { [LEASE]?: Lease })[LEASE] ?? leasedOrLease
  ;(derived as unknown as { [LEASE]: unknown })[LEASE] = lease
}

export function hasLease(view: Uint8Array): boolean {
  return (view as { [LEASE]?: Lease })[LEASE] !== undefined
}
