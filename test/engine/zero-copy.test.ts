// Proves that readers on another thread find data through the shared index alone and get hot
// data as views of the shard's SharedArrayBuffer window (no copy), and cold data from the file.
import { Worker } from 'node:worker_threads'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { Log } from '../../src/index.js'
import { distIndexUrl, tempDir } from '../helpers.js'

let scratch: ReturnType<typeof tempDir>
let log: Log

beforeEach(async () => {
  scratch = tempDir()
  log = await Log.open({ dataDir: scratch.dir, shards: 1, windowSlotBytes: 64 * 1024 })
})

afterEach(async () => {
  await log.close()
  scratch.remove()
})

/** Runs a reader in a fresh worker thread and reports what it saw of each read. */
function readInWorker(handle: unknown, offsets: number[]): Promise<unknown[]> {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads')
    import(workerData.indexUrl).then(async ({ PartitionReader }) => {
      const reader = new PartitionReader(workerData.handle)
      const seen = []
      for (const offset of workerData.offsets) {
        const { batches } = await reader.readBatches(offset, { maxBytes: 1 })
        const { records } = await reader.read(offset, { maxBytes: 1 })
        seen.push({
          batchIsSharedView: batches[0].buffer instanceof SharedArrayBuffer,
          valueIsSharedView: records[0].value.buffer instanceof SharedArrayBuffer,
          value: records[0].value.toString(),
          offset: records[0].offset,
        })
      }
      reader.close()
      parentPort.postMessage(seen)
    }).catch((error) => parentPort.postMessage({ error: String(error && error.stack) }))
  `
  const worker = new Worker(source, {
    eval: true,
    workerData: { handle, offsets, indexUrl: distIndexUrl },
  })
  return new Promise((resolve, reject) => {
    worker.once('message', (message) => {
      void worker.terminate()
      if (Array.isArray(message)) resolve(message)
      else reject(new Error((message as { error: string }).error))
    })
    worker.once('error', reject)
  })
}

it('serves hot data to another thread as views of shared memory, cold data from the file',
  async () => {
    await log.createTopic('hot', { partitions: 1, durability: 'os' })
    // 64 KiB slots, 4 of them: the first appends are pushed out of the window by later ones.
    const bigValue = 'x'.repeat(30_000)
    for (let i = 0; i < 20; i++) await log.append('hot', 0, [{ value: `${i}:${bigValue}` }])
    const seen = await readInWorker(log.readerHandle('hot', 0), [0, 19]) as {
      batchIsSharedView: boolean; valueIsSharedView: boolean; value: string; offset: number
    }[]
    expect(seen[0]).toMatchObject({ batchIsSharedView: false, valueIsSharedView: false, offset: 0 })
    expect(seen[0]!.value.startsWith('0:')).toBe(true)
    expect(seen[1]).toMatchObject({ batchIsSharedView: true, valueIsSharedView: true, offset: 19 })
    expect(seen[1]!.value.startsWith('19:')).toBe(true)
  })

it('returns hot data on the calling thread as views too', async () => {
  await log.createTopic('local', { partitions: 1 })
  await log.append('local', 0, [{ value: 'hello' }])
  const { records } = await log.read('local', 0, 0)
  expect(records[0]!.value!.buffer).toBeInstanceOf(SharedArrayBuffer)
  const { batches } = await log.readBatches('local', 0, 0)
  expect(batches[0]!.buffer).toBeInstanceOf(SharedArrayBuffer)
})
