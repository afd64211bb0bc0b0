// Proves that a write group larger than the tail window stores every batch under its own
// offsets: many large appends in flight (one group bigger than the whole window) read back
// exactly, before and after a reopen.
import { afterEach, expect, it } from 'vitest'
import { Log, encodeBatch } from '../../src/index.js'
import { tempDir } from '../helpers.js'

const scratch = tempDir('sluice-large-group-')
let log: Log | null = null
afterEach(async () => {
  await log?.close()
  log = null
  scratch.remove()
})

const RECORDS_PER_BATCH = 60
const VALUE_BYTES = 1000
const BATCHES = 24

function letterBatch(n: number): Buffer {
  const letter = String.fromCharCode(65 + (n % 26))
  return encodeBatch(Array.from({ length: RECORDS_PER_BATCH }, (_, i) => ({
    key: `${n}-${i}`, value: letter.repeat(VALUE_BYTES),
  })), { compression: 'none' })
}

async function expectEveryBatch(acked: { n: number; baseOffset: number }[]): Promise<void> {
  for (const { n, baseOffset } of acked) {
    const { records } = await log!.read('big', 0, baseOffset, { maxBytes: 1 })
    expect(records[0]!.key!.toString(), `batch ${n} at offset ${baseOffset}`).toBe(`${n}-0`)
    expect(records[0]!.value!.toString()).toBe(String.fromCharCode(65 + (n % 26)).repeat(VALUE_BYTES))
  }
}

it('keeps each batch of a group bigger than the window under its own offsets', async () => {
  // Two 128 KiB slots; each batch is ~61 KB, and 24 in flight make one group of ~1.4 MB.
  log = await Log.open({ dataDir: scratch.dir, shards: 1, windowSlotBytes: 128 * 1024,
    windowSlotCount: 2 })
  await log.createTopic('big', { partitions: 1, durability: 'os' })
  const batches = Array.from({ length: BATCHES }, (_, n) => letterBatch(n))
  const acks = await Promise.all(batches.map((batch) => log!.appendBatch('big', 0, batch)))
  const acked = acks.map((ack, n) => ({ n, baseOffset: ack.baseOffset }))
  await expectEveryBatch(acked)
  await log.close()
  log = await Log.open({ dataDir: scratch.dir })
  await expectEveryBatch(acked)
})
