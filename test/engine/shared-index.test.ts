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
