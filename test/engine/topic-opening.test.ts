// Proves a topic is usable by every async caller from the moment createTopic is called: a
// topic is in the catalogue before its partitions are open, and a caller racing the creator
// (a consumer subscribing while a producer's first send creates the topic) used to find the
// topic and then "partition … is not open".
import { afterEach, beforeEach, expect, it } from 'vitest'
import { Log } from '../../src/index.js'
import { tempDir } from '../helpers.js'

let scratch: ReturnType<typeof tempDir>
let log: Log

beforeEach(async () => {
  scratch = tempDir()
  log = await Log.open({ dataDir: scratch.dir, shards: 2 })
})

afterEach(async () => {
  await log.close()
  scratch.remove()
})

it('waits for the partitions of a topic being created instead of failing', async () => {
  const creating = log.createTopic('racing', { partitions: 4 })
  const [described, appended, read, waited, lookedUp] = await Promise.all([
    log.describeTopic('racing'),
    log.append('racing', 3, [{ value: Buffer.from('first') }]),
    log.read('racing', 2, 0),
    log.waitForData('racing', 1, 0, 1),
    log.timeLookup('racing', 0, 0),
    creating,
  ])
  expect(described.partitions).toHaveLength(4)
  expect(appended.baseOffset).toBe(0)
  expect(read.records).toEqual([])
  expect(waited).toBe(false)
  expect(lookedUp).toBeNull()
})

it('waits for partitions being added, and still refuses a partition that does not exist', async () => {
  await log.createTopic('growing', { partitions: 1 })
  const adding = log.createPartitions('growing', 3)
  const appended = await log.append('growing', 2, [{ value: Buffer.from('x') }])
  await adding
  expect(appended.baseOffset).toBe(0)
  await expect(log.append('growing', 3, [{ value: Buffer.from('x') }])).rejects
    .toThrow(/partition/)
})
