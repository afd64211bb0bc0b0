// Proves producer batching: sends in one turn share a batch, batches stay within batchBytes,
// lingerMs holds a batch open, offsets follow send order, buffered bytes are bounded
// (backpressure), and a failed append fails exactly the sends whose records it held.
import { describe, expect, it } from 'vitest'
import { decodeBatch } from '../../src/format/record-batch.js'
import { RecordAccumulator, type AppendTarget } from '../../src/client/record-accumulator.js'

/** An in-memory log partition that records each appended batch and can be told to hold acks. */
class RecordingTarget implements AppendTarget {
  readonly batches: Buffer[] = []
  private readonly nextOffsets = new Map<number, number>()
  held: (() => void)[] | null = null
  failNext = false

  async appendBatch(_topic: string, partition: number, batch: Uint8Array) {
    const bytes = Buffer.from(batch)
    if (this.failNext) {
      this.failNext = false
      throw new Error('disk on fire')
    }
    const count = decodeBatch(bytes).records.length
    const baseOffset = this.nextOffsets.get(partition) ?? 0
    this.nextOffsets.set(partition, baseOffset + count)
    this.batches.push(bytes)
    if (this.held !== null) await new Promise<void>((resolve) => this.held!.push(resolve))
    return { baseOffset, logStartOffset: 0 }
  }
}

const value = (i: number, bytes = 10) => ({ value: `${i}`.padEnd(bytes, '.') })

describe('RecordAccumulator', () => {
  it('puts sends from one turn into one batch and returns each send\'s first offset', async () => {
    const target = new RecordingTarget()
    const acc = new RecordAccumulator(target, { lingerMs: 0, batchBytes: 16384,
      maxBufferedBytes: 1 << 20 })
    const results = await Promise.all([0, 1, 2].map((i) =>
      acc.append('t', 0, 'none', 1 << 20, [value(i * 2), value(i * 2 + 1)])))
    expect(results.map((r) => r.baseOffset)).toEqual([0, 2, 4])
    expect(target.batches).toHaveLength(1)
  })

  it('seals a batch at batchBytes, so no batch is much larger than the limit', async () => {
    const target = new RecordingTarget()
    const acc = new RecordAccumulator(target, { lingerMs: 0, batchBytes: 1000,
      maxBufferedBytes: 1 << 20 })
    const records = Array.from({ length: 100 }, (_, i) => value(i, 100))
    const result = await acc.append('t', 0, 'none', 1 << 20, records)
    expect(result.baseOffset).toBe(0)
    expect(target.batches.length).toBeGreaterThan(10)
    for (const batch of target.batches) expect(batch.byteLength).toBeLessThanOrEqual(1000)
    const values = target.batches
      .flatMap((b) => decodeBatch(b).records.map((r) => r.value!.toString()))
    expect(values).toEqual(records.map((r) => r.value))
  })

  it('keeps a batch open for lingerMs, gathering sends from later turns', async () => {
    const target = new RecordingTarget()
    const acc = new RecordAccumulator(target, { lingerMs: 50, batchBytes: 16384,
      maxBufferedBytes: 1 << 20 })
    const first = acc.append('t', 0, 'none', 1 << 20, [value(0)])
    await new Promise((resolve) => setImmediate(resolve))
    const second = acc.append('t', 0, 'none', 1 << 20, [value(1)])
    await Promise.all([first, second])
    expect(target.batches).toHaveLength(1)
  })

  it('makes senders wait while maxBufferedBytes are in flight', async () => {
    const target = new RecordingTarget()
    target.held = []
    const acc = new RecordAccumulator(target, { lingerMs: 0, batchBytes: 16384,
      maxBufferedBytes: 200 })
    const first = acc.append('t', 0, 'none', 1 << 20, [value(0, 150)])
    let secondDone = false
    const second = acc.append('t', 0, 'none', 1 << 20, [value(1, 150)])
      .then((r) => { secondDone = true; return r })
    await new Promise((resolve) => setImmediate(resolve))
    await new Promise((resolve) => setImmediate(resolve))
    expect(target.batches).toHaveLength(1)
    expect(secondDone).toBe(false)
    const heldAcks = target.held
    target.held = null
    for (const release of heldAcks.splice(0)) release()
    await first
    expect((await second).baseOffset).toBe(1)
    expect(target.batches).toHaveLength(2)
  })

  it('fails only the sends whose records were in the failed batch', async () => {
    const target = new RecordingTarget()
    const acc = new RecordAccumulator(target, { lingerMs: 0, batchBytes: 16384,
      maxBufferedBytes: 1 << 20 })
    target.failNext = true
    const failed = acc.append('t', 0, 'none', 1 << 20, [value(0)])
    const other = acc.append('t', 1, 'none', 1 << 20, [value(1)])
    await expect(failed).rejects.toThrow('disk on fire')
    expect((await other).baseOffset).toBe(0)
    expect((await acc.append('t', 0, 'none', 1 << 20, [value(2)])).baseOffset).toBe(0)
  })
})
