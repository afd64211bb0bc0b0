// Proves the components a Flume user configures behave as the reference §2 says: each
// interceptor, the replicating and multiplexing selectors (optional channels, default), the
// failover processor's priorities and penalties up to maxpenalty, load_balance order and
// back-off, the runner's back-off, seq retrying the same numbers, exec counting its documented
// loss, and file_roll rolling on its interval.
import { readdirSync, readFileSync } from 'node:fs'
import * as path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ChannelProcessor } from '../../src/flow/channel-processor.js'
import { MemoryChannel } from '../../src/flow/channels/memory-channel.js'
import { loadAgentText } from '../../src/flow/config/load.js'
import { sinkCounter } from '../../src/flow/metrics/counters.js'
import {
  FailoverSinkProcessor, LoadBalancingSinkProcessor,
} from '../../src/flow/sink-processors.js'
import { SinkRunner } from '../../src/flow/sink-runner.js'
import { FileRollSink } from '../../src/flow/sinks/file-roll-sink.js'
import type { Sink, Status } from '../../src/flow/sinks/sink.js'
import { ExecSource } from '../../src/flow/sources/exec-source.js'
import { SeqSource } from '../../src/flow/sources/seq-source.js'
import { tempDir, until } from '../helpers.js'
import { capturingLogger, event, putAll, takeAll } from './flow-helpers.js'

const scratch = tempDir('sluice-components-')
afterAll(() => scratch.remove())

function graphOf(extra: string[]) {
  return loadAgentText(['a1.sources = r1', 'a1.channels = c1 c2 c3', 'a1.sinks = k1 k2 k3',
    'a1.sources.r1.type = seq', 'a1.sources.r1.channels = c1 c2 c3',
    ...['c1', 'c2', 'c3'].map((c) => `a1.channels.${c}.type = memory`),
    ...['k1', 'k2', 'k3'].flatMap((k, i) => [`a1.sinks.${k}.type = null`,
      `a1.sinks.${k}.channel = c${i + 1}`]), ...extra].join('\n'), 'c.conf',
  { agentName: 'a1', logger: capturingLogger() })
}

describe('interceptors', () => {
  it('run in order and set, keep, extract, replace or drop as configured', async () => {
    const graph = graphOf(['a1.sources.r1.interceptors = ts st st2 id ex sr f',
      'a1.sources.r1.interceptors.ts.type = timestamp',
      'a1.sources.r1.interceptors.st.type = static', 'a1.sources.r1.interceptors.st.key = dc',
      'a1.sources.r1.interceptors.st.value = east',
      'a1.sources.r1.interceptors.st2.type = STATIC', 'a1.sources.r1.interceptors.st2.key = dc',
      'a1.sources.r1.interceptors.st2.value = west',
      'a1.sources.r1.interceptors.id.type = ' +
        'org.apache.flume.sink.solr.morphline.UUIDInterceptor$Builder',
      'a1.sources.r1.interceptors.ex.type = regex_extractor',
      'a1.sources.r1.interceptors.ex.regex = user=(\\\\w+) code=(\\\\d+)',
      'a1.sources.r1.interceptors.ex.serializers = u c',
      'a1.sources.r1.interceptors.ex.serializers.u.name = user',
      'a1.sources.r1.interceptors.ex.serializers.c.name = code',
      'a1.sources.r1.interceptors.sr.type = search_replace',
      'a1.sources.r1.interceptors.sr.searchPattern = code=(\\\\d+)',
      'a1.sources.r1.interceptors.sr.replaceString = code=<$1>',
      'a1.sources.r1.interceptors.f.type = regex_filter',
      'a1.sources.r1.interceptors.f.regex = ^DEBUG',
      'a1.sources.r1.interceptors.f.excludeEvents = true',
      'a1.sources.r1.selector.optional = c2 c3'])
    const processor = graph.sources.get('r1')!.processor
    expect(processor.interceptors.map((i) => i.type)).toEqual(['timestamp', 'static', 'static',
      'uuid', 'regex_extractor', 'search_replace', 'regex_filter'])
    const before = Date.now()
    await processor.processEventBatch([event('user=ann code=42 ok'), event('DEBUG noise')])
    const c1 = graph.channels.get('c1')!
    const tx = c1.getTransaction()
    tx.begin()
    const kept = (await tx.take())!
    expect(await tx.take()).toBeNull()
    await tx.commit()
    tx.close()
    expect(kept.body.toString()).toBe('user=ann code=<42> ok')
    expect(kept.headers.dc).toBe('east')
    expect(kept.headers.user).toBe('ann')
    expect(kept.headers.code).toBe('42')
    expect(kept.headers.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(Number(kept.headers.timestamp)).toBeGreaterThanOrEqual(before)
  })

  it('host sets the agent address unless one is there and preserveExisting is set', async () => {
    const graph = graphOf(['a1.sources.r1.interceptors = h',
      'a1.sources.r1.interceptors.h.type = host', 'a1.sources.r1.interceptors.h.useIP = false',
      'a1.sources.r1.interceptors.h.preserveExisting = true'])
    const [interceptor] = graph.sources.get('r1')!.processor.interceptors
    const [fresh, kept] = interceptor!.intercept([event('a'), event('b', { host: 'mine' })])
    expect(fresh!.headers.host!.length).toBeGreaterThan(0)
    expect(kept!.headers.host).toBe('mine')
  })
})

describe('selectors', () => {
  it('multiplexing routes by header, falls back to the default, adds optional channels',
    async () => {
      const graph = graphOf(['a1.sources.r1.selector.type = multiplexing',
        'a1.sources.r1.selector.header = State', 'a1.sources.r1.selector.mapping.CA = c1',
        'a1.sources.r1.selector.mapping.NY = c1 c2', 'a1.sources.r1.selector.default = c3',
        'a1.sources.r1.selector.optional.CA = c2'])
      const processor = graph.sources.get('r1')!.processor
      await processor.processEventBatch([event('ca', { State: 'CA' }), event('ny', { State: 'NY' }),
        event('tx', { State: 'TX' }), event('none'), event('blank', { State: ' ' })])
      const [c1, c2, c3] = ['c1', 'c2', 'c3'].map((c) => graph.channels.get(c)!)
      expect(await takeAll(c1!, 10)).toEqual(['ca', 'ny'])
      // Required channels commit first, then optional ones (ChannelProcessor's order).
      expect(await takeAll(c2!, 10)).toEqual(['ny', 'ca'])
      expect(await takeAll(c3!, 10)).toEqual(['tx', 'none', 'blank'])
    })

  it('replicating ignores a failing optional channel but fails on a required one', async () => {
    const required = new MemoryChannel('req', { capacity: 2, transactionCapacity: 2,
      keepAliveSeconds: 0 })
    const optional = new MemoryChannel('opt', { capacity: 1, transactionCapacity: 2,
      keepAliveSeconds: 0 })
    const logger = capturingLogger()
    const processor = new ChannelProcessor({ type: 'replicating', channels: [required, optional],
      required: () => [required], optional: () => [optional] }, [], logger)
    await processor.processEventBatch([event('1'), event('2')])
    expect(logger.warnings.join()).toMatch(/optional channel opt refused 2 events/)
    expect(required.size()).toBe(2)
    await expect(processor.processEvent(event('3'))).rejects.toThrow(/Space for commit/)
  })
})

/** A sink whose process() follows a script: 'ok', 'backoff' or 'fail'. */
function scripted(name: string, script: ('ok' | 'backoff' | 'fail')[], calls: string[]): Sink {
  const channel = new MemoryChannel(`${name}-ch`)
  return {
    name, type: 'scripted', channel, counter: sinkCounter(name), batchSize: 1,
    start: async () => undefined, stop: async () => undefined,
    process: async (): Promise<Status> => {
      calls.push(name)
      const step = script.shift() ?? 'ok'
      if (step === 'fail') throw new Error(`${name} failed`)
      return step === 'ok' ? 'READY' : 'BACKOFF'
    },
  }
}

describe('sink processors', () => {
  it('failover prefers the highest priority, penalises 2^n s up to maxpenalty, restores',
    async () => {
      let nowMs = 0
      const calls: string[] = []
      const high = scripted('high', ['fail', 'fail', 'fail', 'ok', 'ok'], calls)
      const low = scripted('low', [], calls)
      const processor = new FailoverSinkProcessor([low, high], new Map([[high, 10], [low, 5]]),
        3000, () => nowMs)
      expect(await processor.process()).toBe('READY')
      expect(calls).toEqual(['high', 'low'])
      expect(processor.liveSinks()).toEqual(['low'])
      nowMs = 1999
      await processor.process()
      expect(calls.slice(2)).toEqual(['low'])
      nowMs = 2000
      await processor.process()
      expect(calls.slice(3)).toEqual(['high', 'low'])
      nowMs = 2000 + 2999
      await processor.process()
      expect(calls.slice(5)).toEqual(['low'])
      nowMs = 5000
      await processor.process()
      expect(calls.slice(6)).toEqual(['high', 'low'])
      nowMs = 8000
      expect(await processor.process()).toBe('READY')
      expect(calls.slice(8)).toEqual(['high'])
      expect(processor.liveSinks()).toEqual(['high', 'low'])
    })

  it('failover keeps a cooled sink that answers BACKOFF failed, unpenalized, as Flume',
    async () => {
      let nowMs = 0
      const calls: string[] = []
      const high = scripted('high', ['fail', 'backoff', 'ok'], calls)
      const low = scripted('low', [], calls)
      const processor = new FailoverSinkProcessor([low, high], new Map([[high, 10], [low, 5]]),
        30_000, () => nowMs)
      await processor.process() // high fails: penalized 2 s, low serves
      nowMs = 2000
      expect(await processor.process()).toBe('BACKOFF') // cooled high tried first: BACKOFF
      expect(processor.liveSinks()).toEqual(['low'])
      expect(await processor.process()).toBe('READY') // retried first at once: not penalized
      expect(calls).toEqual(['high', 'low', 'high', 'high'])
      expect(processor.liveSinks()).toEqual(['high', 'low'])
    })

  it('failover throws once every sink has failed', async () => {
    const calls: string[] = []
    const processor = new FailoverSinkProcessor([scripted('a', ['fail'], calls),
      scripted('b', ['fail'], calls)], new Map(), 30_000, () => 0)
    await expect(processor.process()).rejects.toThrow(/All sinks failed to process/)
  })

  it('load_balance goes round robin, skips a backed-off sink, and restores it', async () => {
    let nowMs = 0
    const calls: string[] = []
    const sinks = [scripted('a', [], calls), scripted('b', ['fail'], calls),
      scripted('c', [], calls)]
    const processor = new LoadBalancingSinkProcessor(sinks, 'round_robin', true, 30_000,
      Math.random, () => nowMs)
    for (let i = 0; i < 4; i++) await processor.process()
    // Flume's round robin cycles over the sinks not backed off: [a c] once b has failed.
    expect(calls).toEqual(['a', 'b', 'c', 'a', 'c'])
    nowMs = 2000
    calls.length = 0
    for (let i = 0; i < 3; i++) await processor.process()
    expect(calls.sort()).toEqual(['a', 'b', 'c'])
  })
})

describe('runners and sources', () => {
  it('the sink runner backs off 1, 2, 3 … increments and wakes on new data', async () => {
    const calls: string[] = []
    const sink = scripted('k', ['backoff', 'backoff', 'backoff', 'backoff'], calls)
    const runner = new SinkRunner('k', { type: 'default', sinks: [sink],
      process: () => sink.process() }, capturingLogger(),
    { backoffSleepIncrementMs: 40, maxBackoffSleepMs: 100, errorSleepMs: 100 })
    const started = Date.now()
    await runner.start()
    await until('four back-offs', () => runner.consecutiveBackoffs === 4)
    // 40 + 80 + 100 ms of sleeps between the four calls, at least.
    expect(Date.now() - started).toBeGreaterThanOrEqual(200)
    await putAll(sink.channel, ['wake'])
    await until('a READY after the wake-up', () => runner.consecutiveBackoffs === 0, 2000)
    await runner.stop()
  })

  it('seq retries the same numbers when the channel refuses them', async () => {
    const channel = new MemoryChannel('c', { capacity: 4, transactionCapacity: 4,
      keepAliveSeconds: 0 })
    const seq = new SeqSource('r', new ChannelProcessor({ type: 'replicating',
      channels: [channel], required: () => [channel], optional: () => [] }, [],
    capturingLogger()), { batchSize: 3, totalEvents: 6, backoffSleepIncrementMs: 1,
      maxBackoffSleepMs: 1 })
    expect(await seq.process()).toBe('READY')
    expect(await seq.process()).toBe('BACKOFF')
    expect(seq.counter.get('ChannelWriteFail')).toBe(1)
    expect(await takeAll(channel, 4)).toEqual(['0', '1', '2'])
    expect(await seq.process()).toBe('READY')
    expect(await seq.process()).toBe('BACKOFF')
    expect(await takeAll(channel, 4)).toEqual(['3', '4', '5'])
  })

  it('exec turns lines into events and counts the batch it loses when refused', async () => {
    const channel = new MemoryChannel('c', { capacity: 5, transactionCapacity: 5,
      keepAliveSeconds: 0 })
    const logger = capturingLogger()
    const exec = new ExecSource('r', new ChannelProcessor({ type: 'replicating',
      channels: [channel], required: () => [channel], optional: () => [] }, [], logger), {
      command: 'for i in 1 2 3 4 5 6 7 8; do echo line$i; done', shell: '/bin/sh -c',
      restart: false, restartThrottleMs: 10, logStdErr: false, batchSize: 5, batchTimeoutMs: 50,
    }, logger)
    exec.counter.start()
    await exec.start()
    await until('all lines read', () => exec.counter.get('EventReceivedCount') === 8)
    await until('the refusal', () => exec.counter.get('ChannelWriteFail') === 1)
    await exec.stop()
    expect(await takeAll(channel, 5)).toEqual(['line1', 'line2', 'line3', 'line4', 'line5'])
    expect(exec.counter.get('EventLostCount')).toBe(3)
    expect(logger.warnings.join()).toMatch(/Failed while running command.*3 events lost/)
  })

  it('file_roll writes one line per body and rolls after rollInterval', async () => {
    let nowMs = 1_000_000
    const channel = new MemoryChannel('c')
    const dir = path.join(scratch.dir, 'roll')
    const sink = new FileRollSink('k', channel, { directory: dir, rollIntervalSeconds: 30,
      batchSize: 10, appendNewline: true, prefix: 'app-', extension: 'log', nowMs: () => nowMs })
    await sink.start()
    await putAll(channel, ['a', 'b'])
    expect(await sink.process()).toBe('READY')
    nowMs += 29_999
    await putAll(channel, ['c'])
    await sink.process()
    nowMs += 1
    await putAll(channel, ['d'])
    await sink.process()
    expect(await sink.process()).toBe('BACKOFF')
    await sink.stop()
    // Named as Flume's DefaultPathManager names them: series start time, then 1, 2, …
    expect(readdirSync(dir).sort()).toEqual(['app-1000000-1.log', 'app-1000000-2.log'])
    expect(readFileSync(path.join(dir, 'app-1000000-1.log'), 'utf8')).toBe('a\nb\nc\n')
    expect(readFileSync(path.join(dir, 'app-1000000-2.log'), 'utf8')).toBe('d\n')
    expect(sink.counter.get('BatchEmptyCount')).toBe(1)
    expect(sink.counter.get('EventDrainSuccessCount')).toBe(4)
  })
})
