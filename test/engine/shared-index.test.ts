// Proves the shared index: readers plan reads from what the shard published, binary-search the
// segment directory and the active offset index, and wake on a high-watermark change.
import { expect, it } from 'vitest'
import {
  SharedIndexReader, SharedIndexWriter, createSharedIndexBuffer,
} from '../../src/engine/shared-index.js'

function published() {
  const buffer = createSharedIndexBuffer()
  const writer = new SharedIndexWriter(buffer)
  writer.publishLayout({
    logStartOffset: 100,
    highWatermark: 350,
    segments: [
      { baseOffset: 100, committedBytes: 5000, nextOffset: 200 },
      { baseOffset: 200, committedBytes: 8000, nextOffset: 300 },
      { baseOffset: 300, committedBytes: 9000, nextOffset: 350 },
    ],
  }, [{ offset: 300, position: 0 }, { offset: 320, position: 4096 }])
  return { writer, reader: new SharedIndexReader(buffer) }
}

it('finds the segment and the index entry at or before an offset', () => {
  const { reader } = published()
  expect(reader.offsets()).toEqual({ logStartOffset: 100, highWatermark: 350 })
  expect(reader.plan(99)).toBeNull()
  expect(reader.plan(100)).toMatchObject({ segmentBaseOffset: 100, isActiveSegment: false })
  expect(reader.plan(299)).toMatchObject({ segmentBaseOffset: 200, committedBytes: 8000 })
  expect(reader.plan(300)).toMatchObject({ segmentBaseOffset: 300, startPosition: 0,
    isActiveSegment: true })
  expect(reader.plan(319)).toMatchObject({ startPosition: 0 })
  expect(reader.plan(320)).toMatchObject({ startPosition: 4096 })
  expect(reader.plan(349)).toMatchObject({ startPosition: 4096, committedBytes: 9000 })
})

it('publishes appends and wakes a waiting reader', async () => {
  const { writer, reader } = published()
  const epoch = reader.epoch
  const waiting = reader.waitForChange(epoch, 10_000)
  writer.publishAppend(360, 9500, [{ offset: 355, position: 9200 }])
  expect(await waiting).toBe(true)
  expect(reader.offsets().highWatermark).toBe(360)
  expect(reader.plan(356)).toMatchObject({ startPosition: 9200, committedBytes: 9500 })
  expect(await reader.waitForChange(reader.epoch, 5)).toBe(false)
})

it('refuses a high watermark that moves backwards', () => {
  const { writer } = published()
  expect(() => writer.publishAppend(10, 9000, [])).toThrow(/backwards/)
})

it('waits out a writer descheduled inside its write, and names a writer that never finishes',
  async () => {
    const { Worker } = await import('node:worker_threads')
    const buffer = createSharedIndexBuffer()
    new SharedIndexWriter(buffer).publishLayout({ logStartOffset: 0, highWatermark: 7,
      segments: [{ baseOffset: 0, committedBytes: 700, nextOffset: 7 }] }, [])
    const reader = new SharedIndexReader(buffer)
    const seq = new Int32Array(buffer, 0, 1)
    // Another thread holds the write open for 50 ms, as a preempted shard would: far longer than
    // any number of spins, so the reader must sleep rather than give up.
    const writer = new Worker(`
      const { workerData, parentPort } = require('node:worker_threads')
      const seq = new Int32Array(workerData, 0, 1)
      Atomics.add(seq, 0, 1)
      parentPort.postMessage('inside')
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50)
      Atomics.add(seq, 0, 1)
    `, { eval: true, workerData: buffer })
    await new Promise((resolve) => writer.once('message', resolve))
    expect(Atomics.load(seq, 0) % 2).toBe(1)
    expect(reader.offsets()).toEqual({ logStartOffset: 0, highWatermark: 7 })
    await writer.terminate()

    Atomics.add(seq, 0, 1) // a write that never ends
    expect(() => reader.offsets()).toThrow(/no stable snapshot for 1000 ms \(writer stuck\?\)/)
  })
