// Proves that a shard thread that dies makes its partitions report a clear "unavailable" error
// while other shards keep working, and that reopening the log recovers them with no acked data lost.
import { expect, it } from 'vitest'
import { Log, isSluiceError } from '../../src/index.js'
import { tempDir, until } from '../helpers.js'

it('reports unavailable for a dead shard and recovers on reopen', async () => {
  const scratch = tempDir()
  let log = await Log.open({ dataDir: scratch.dir, shards: 2 })
  try {
    await log.createTopic('t', { partitions: 2, durability: 'fsync' })
    const doomedPartition = 0
    const doomedShard = log.shardOf('t', doomedPartition)
    const survivor = 1
    expect(log.shardOf('t', survivor)).not.toBe(doomedShard)
    for (let i = 0; i < 5; i++) {
      await log.append('t', doomedPartition, [{ value: `acked-${i}` }])
      await log.append('t', survivor, [{ value: `acked-${i}` }])
    }

    log.crashShardForTesting(doomedShard)
    let failure: unknown
    await until('the dead shard to refuse appends', async () => {
      try {
        await log.append('t', doomedPartition, [{ value: 'after-death' }])
        return false
      } catch (error) {
        failure = error
        return true
      }
    })
    expect(isSluiceError(failure, 'SLUICE_ERR_PARTITION_UNAVAILABLE')).toBe(true)
    expect((failure as Error).message).toMatch(/shard \d+ died/)
    await expect(log.read('t', doomedPartition, 0)).rejects.toMatchObject({
      code: 'SLUICE_ERR_PARTITION_UNAVAILABLE',
    })
    const alive = await log.append('t', survivor, [{ value: 'still-here' }])
    expect(alive.baseOffset).toBe(5)

    await log.close()
    log = await Log.open({ dataDir: scratch.dir })
    const { records } = await log.read('t', doomedPartition, 0)
    const values = records.map((r) => r.value!.toString())
    expect(values.slice(0, 5)).toEqual([0, 1, 2, 3, 4].map((i) => `acked-${i}`))
    const next = await log.append('t', doomedPartition, [{ value: 'recovered' }])
    expect(next.baseOffset).toBe(records.length)
  } finally {
    await log.close()
    scratch.remove()
  }
})
