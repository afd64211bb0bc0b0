// Proves one channel contract for both the memory and the file channel: FIFO delivery with
// headers intact, invisible uncommitted puts, rollback to the head in order, transactionCapacity
// and capacity limits with keep-alive, put-xor-take and the transaction state machine, plus a
// seeded random walk checked against a model queue.
import { afterAll, describe, expect, it } from 'vitest'
import { isSluiceError } from '../../src/errors.js'
import { inTransaction, type Channel } from '../../src/flow/transaction.js'
import { seedFromEnv, seededRandom, tempDir } from '../helpers.js'
import {
  event, fileMaker, memoryMaker, putAll, takeAll, type ChannelMaker, type ChannelSpec,
} from './flow-helpers.js'

const scratch = tempDir('sluice-channel-contract-')
afterAll(() => scratch.remove())

const spec: ChannelSpec = { capacity: 10, transactionCapacity: 5, keepAliveSeconds: 0 }
let counter = 0

async function withChannel(make: ChannelMaker, body: (channel: Channel) => Promise<void>,
  overrides: Partial<ChannelSpec> = {}): Promise<void> {
  const channel = make(`c${counter++}`, { ...spec, ...overrides })
  await channel.start()
  try {
    await body(channel)
  } finally {
    await channel.stop()
  }
}

function contract(kind: string, make: ChannelMaker): void {
  describe(`${kind} channel contract`, () => {
    it('delivers committed events first in, first out, headers and body intact', async () => {
      await withChannel(make, async (channel) => {
        await inTransaction(channel, (tx) => {
          tx.put(event('a', { host: 'h1' }))
          tx.put(event('b'))
        })
        await putAll(channel, ['c'])
        expect(channel.size()).toBe(3)
        const first = await inTransaction(channel, (tx) => tx.take())
        expect(first?.headers).toEqual({ host: 'h1' })
        expect(await takeAll(channel, 5)).toEqual(['b', 'c'])
        expect(await takeAll(channel, 5)).toEqual([])
        expect(channel.size()).toBe(0)
      })
    })

    it('hides uncommitted puts and discards rolled-back ones', async () => {
      await withChannel(make, async (channel) => {
        const tx = channel.getTransaction()
        tx.begin()
        tx.put(event('x'))
        expect(await takeAll(channel, 5)).toEqual([])
        await tx.rollback()
        tx.close()
        expect(channel.size()).toBe(0)
        expect(await takeAll(channel, 5)).toEqual([])
      })
    })

    it('returns rolled-back takes to the head in their original order', async () => {
      await withChannel(make, async (channel) => {
        await putAll(channel, ['1', '2', '3', '4'])
        const tx = channel.getTransaction()
        tx.begin()
        expect((await tx.take())?.body.toString()).toBe('1')
        expect((await tx.take())?.body.toString()).toBe('2')
        expect(channel.size()).toBe(2)
        await tx.rollback()
        tx.close()
        expect(channel.size()).toBe(4)
        expect(await takeAll(channel, 5)).toEqual(['1', '2', '3', '4'])
      })
    })

    it('refuses more than transactionCapacity puts or takes in one transaction', async () => {
      await withChannel(make, async (channel) => {
        const tx = channel.getTransaction()
        tx.begin()
        for (let i = 0; i < 5; i++) tx.put(event(String(i)))
        expect(() => tx.put(event('6'))).toThrow(/Put queue for transaction of capacity 5/)
        await tx.commit()
        tx.close()
        await putAll(channel, ['5'])
        const taker = channel.getTransaction()
        taker.begin()
        for (let i = 0; i < 5; i++) expect(await taker.take()).not.toBeNull()
        await expect(taker.take()).rejects.toThrow(/Take list for transaction of capacity 5/)
        await taker.rollback()
        taker.close()
      })
    })

    it('fails a put commit past capacity with SLUICE_ERR_CHANNEL_FULL', async () => {
      await withChannel(make, async (channel) => {
        await putAll(channel, ['1', '2', '3', '4', '5'])
        await putAll(channel, ['6', '7', '8', '9', '10'])
        const error = await putAll(channel, ['11']).catch((e: unknown) => e)
        expect(isSluiceError(error, 'SLUICE_ERR_CHANNEL_FULL')).toBe(true)
        expect(channel.size()).toBe(10)
      })
    })

    it('keeps an open take\'s slots until it commits, then a waiting put gets in', async () => {
      await withChannel(make, async (channel) => {
        await putAll(channel, ['1', '2', '3', '4', '5'])
        const taker = channel.getTransaction()
        taker.begin()
        await taker.take()
        await putAll(channel, ['6', '7', '8', '9', '10'])
        let settled = false
        const late = putAll(channel, ['x']).then(() => 'put', (error: unknown) => error)
          .finally(() => { settled = true })
        await new Promise((resolve) => setImmediate(resolve))
        expect(settled).toBe(false)
        await taker.commit()
        taker.close()
        expect(await late).toBe('put')
        expect(channel.size()).toBe(10)
      }, { keepAliveSeconds: 2 })
    })

    it('enforces put-xor-take and the begin/commit/close state machine', async () => {
      await withChannel(make, async (channel) => {
        await putAll(channel, ['1'])
        const tx = channel.getTransaction()
        expect(() => tx.put(event('early'))).toThrow(/put\(\) in state NEW/)
        tx.begin()
        await tx.take()
        expect(() => tx.put(event('both'))).toThrow(/puts or takes, not both/)
        expect(() => tx.close()).toThrow(/needs commit\(\) or rollback\(\) first/)
        await tx.commit()
        await expect(tx.commit()).rejects.toThrow(/commit\(\) in state COMPLETED/)
        tx.close()
      })
    })

    it('wakes data listeners when a put commits', async () => {
      await withChannel(make, async (channel) => {
        let woken = false
        channel.dataAvailable.add(() => { woken = true })
        await putAll(channel, ['1'])
        expect(woken).toBe(true)
      })
    })

    it('matches a model queue over a seeded random walk', async () => {
      const random = seededRandom(seedFromEnv(`SLUICE_CHANNEL_SEED_${kind.toUpperCase()}`))
      await withChannel(make, async (channel) => {
        const model: string[] = []
        let next = 0
        for (let step = 0; step < 60; step++) {
          const count = 1 + Math.floor(random() * 5)
          const choice = random()
          if (choice < 0.45) {
            const bodies = Array.from({ length: count }, () => String(next++))
            const fits = model.length + count <= 10
            const result = await putAll(channel, bodies).then(() => true, () => false)
            expect(result).toBe(fits)
            if (fits) model.push(...bodies)
          } else if (choice < 0.8) {
            expect(await takeAll(channel, count)).toEqual(model.splice(0, count))
          } else {
            const tx = channel.getTransaction()
            tx.begin()
            for (let i = 0; i < count; i++) await tx.take()
            await tx.rollback()
            tx.close()
          }
          expect(channel.size()).toBe(model.length)
        }
      })
    })
  })
}

contract('memory', memoryMaker)
contract('file', fileMaker(scratch.dir))
