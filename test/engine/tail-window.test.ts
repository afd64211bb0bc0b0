// Proves the tail window's safety rule: a slot a reader holds views of is never overwritten, a
// reset slot is never handed out under its old positions, and views expose only placed bytes.
import { expect, it } from 'vitest'
import {
  TailWindowReader, TailWindowWriter, createTailWindowBuffers, hasLease,
} from '../../src/engine/tail-window.js'

const SLOT_BYTES = 4096

function filled(byte: number, length: number): Buffer {
  return Buffer.alloc(length, byte)
}

it('hands out views of placed bytes and refuses positions it does not hold', () => {
  const buffers = createTailWindowBuffers(SLOT_BYTES, 2)
  const writer = new TailWindowWriter(buffers)
  const reader = new TailWindowReader(buffers)
  const placed = writer.place(filled(1, 100), 0, 0)!
  expect(placed.buffer).toBe(buffers.data)
  writer.place(filled(2, 50), 0, 100)
  const view = reader.viewFrom(0, 100, 150)!
  expect(view.buffer).toBeInstanceOf(SharedArrayBuffer)
  expect([...view]).toEqual(new Array(50).fill(2))
  expect(hasLease(view)).toBe(true)
  expect(reader.viewFrom(0, 150, 200)).toBeNull()
  expect(reader.viewFrom(7, 0, 100)).toBeNull()
})

it('never reuses a slot while a reader holds a view of it', () => {
  const buffers = createTailWindowBuffers(SLOT_BYTES, 2)
  const writer = new TailWindowWriter(buffers)
  const reader = new TailWindowReader(buffers)
  let position = 0
  const place = (byte: number) => {
    const result = writer.place(filled(byte, SLOT_BYTES), 0, position)
    position += SLOT_BYTES
    return result
  }
  expect(place(1)).not.toBeNull() // slot 0
  const held = reader.viewFrom(0, 0, SLOT_BYTES)! // pins slot 0
  writer.beginGroup()
  expect(place(2)).not.toBeNull() // slot 1
  writer.beginGroup()
  expect(place(3)).toBeNull() // slot 0 is pinned: written straight to the file instead
  expect([...new Set(held)]).toEqual([1])
})

it('does not serve a slot that was reset for new positions', () => {
  const buffers = createTailWindowBuffers(SLOT_BYTES, 2)
  const writer = new TailWindowWriter(buffers)
  const reader = new TailWindowReader(buffers)
  // Three write groups of one batch each (a group never wraps onto its own slots).
  writer.beginGroup()
  writer.place(filled(1, SLOT_BYTES), 0, 0)
  writer.beginGroup()
  writer.place(filled(2, SLOT_BYTES), 0, SLOT_BYTES)
  writer.beginGroup()
  writer.place(filled(3, SLOT_BYTES), 0, 2 * SLOT_BYTES) // reuses slot 0
  expect(reader.viewFrom(0, 0, SLOT_BYTES)).toBeNull()
  expect([...new Set(reader.viewFrom(0, 2 * SLOT_BYTES, 3 * SLOT_BYTES)!)]).toEqual([3])
})

it('skips batches larger than a slot', () => {
  const writer = new TailWindowWriter(createTailWindowBuffers(SLOT_BYTES, 2))
  expect(writer.place(filled(9, SLOT_BYTES + 1), 0, 0)).toBeNull()
})

it('after a reset, serves the bytes placed again at a reused position, not the lost ones', () => {
  // A write error leaves a batch in the window that never reached the file; recovery truncates
  // the file and the next append lands at the same position with other bytes.
  const buffers = createTailWindowBuffers(SLOT_BYTES, 2)
  const writer = new TailWindowWriter(buffers)
  const reader = new TailWindowReader(buffers)
  writer.place(filled(1, 100), 0, 0)
  writer.place(filled(2, 200), 0, 100) // the batch whose write failed
  const heldBeforeReset = reader.viewFrom(0, 0, 100)!
  writer.reset()
  expect(reader.viewFrom(0, 100, 300)).toBeNull()
  writer.place(filled(3, 50), 0, 100)
  expect([...new Set(reader.viewFrom(0, 100, 150)!)]).toEqual([3])
  expect([...new Set(heldBeforeReset)]).toEqual([1])
})

it('never wraps onto slots of the group being placed: every view keeps its batch', () => {
  // One write group bigger than the whole ring: the file is written from the returned views, so
  // a view overwritten before the write would store another batch's bytes under these offsets.
  const buffers = createTailWindowBuffers(SLOT_BYTES, 2)
  const writer = new TailWindowWriter(buffers)
  writer.beginGroup()
  const placed: (Buffer | null)[] = []
  for (let i = 0; i < 6; i++) placed.push(writer.place(filled(i + 1, 3000), 0, i * 3000))
  expect(placed.filter((p) => p !== null).length).toBe(2)
  placed.forEach((view, i) => {
    if (view !== null) expect([...new Set(view)]).toEqual([i + 1])
  })
  // The next group may reuse those slots: their bytes are in the file by then.
  writer.beginGroup()
  expect(writer.place(filled(9, 3000), 0, 6 * 3000)).not.toBeNull()
})
