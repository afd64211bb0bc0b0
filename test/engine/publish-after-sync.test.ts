// Proves the shard's publication rule on the roll path: a group whose write rolls the segment
// is made visible (high watermark, segment directory) only after its fdatasync succeeded, so
// when that sync fails no reader ever sees the unsynced records.
import { mkdirSync } from 'node:fs'
import { afterEach, expect, it } from 'vitest'
import { encodeBatch } from '../../src/format/record-batch.js'
import { FaultFileSystem } from '../../src/io/fault-file-system.js'
import { NodeFileSystem } from '../../src/io/node-file-system.js'
import { ShardRuntime } from '../../src/engine/shard-runtime.js'
import type { AppendAck, FromShard } from '../../src/engine/shard-protocol.js'
import { SharedIndexReader, createSharedIndexBuffer } from '../../src/engine/shared-index.js'
import { createTailWindowBuffers } from '../../src/engine/tail-window.js'
import { resolveTopicConfig } from '../../src/engine/topic-config.js'
import { tempDir, until } from '../helpers.js'

const scratch = tempDir('sluice-publish-')
afterEach(() => scratch.remove())

it('publishes a rolled group only after its sync, and not at all when the sync fails', async () => {
  const fs = new FaultFileSystem(new NodeFileSystem())
  const acks: AppendAck[] = []
  const runtime = new ShardRuntime(fs, (message: FromShard) => {
    if (message.type === 'acks') acks.push(...message.acks)
  })
  const dir = `${scratch.dir}/t-0`
  mkdirSync(dir, { recursive: true })
  const indexBuffer = createSharedIndexBuffer()
  runtime.handle({ type: 'open', id: 1, partitions: [{ key: 't-0', dir, indexBuffer,
    config: resolveTopicConfig({ partitions: 1, durability: 'fsync', segmentBytes: 1024 }),
    window: createTailWindowBuffers(64 * 1024, 2), recovery: undefined }] })
  const index = new SharedIndexReader(indexBuffer)
  const batch = () => encodeBatch([{ value: 'v'.repeat(600) }])

  runtime.handle({ type: 'append', requests: [{ id: 1, key: 't-0', batches: [batch()] }] })
  await until('the first append is acknowledged', () => acks.length === 1)
  expect(index.offsets().highWatermark).toBe(1)

  // The second batch does not fit in the 1 KiB segment: its group rolls (the sealed segment is
  // synced then), and the sync of the new segment, the group's own, fails.
  fs.failNextSync('EIO', (file) => file.endsWith('00000000000000000001.log'))
  runtime.handle({ type: 'append', requests: [{ id: 2, key: 't-0', batches: [batch()] }] })
  await until('the second append is answered', () => acks.length === 2)
  expect(acks[1]!.error?.code).toBe('SLUICE_ERR_STORAGE')
  expect(index.offsets().highWatermark).toBe(1)
})
