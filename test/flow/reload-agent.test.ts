// Proves live reload on a running agent (two pipelines, http → memory → file_roll and
// http → memory → null) whose file is rewritten under it: a sink's change restarts that sink
// only, and every other component keeps its objects and its counts, which go on rising past
// the reload; a syntax error, an unknown type or a missing required key is refused and the
// agent keeps delivering; a channel's change restarts its source and sink, and its events move
// (memory: carried over, and what no longer fits is counted lost; file: replayed from disk);
// components removed stop and added ones start, and the metrics view follows; without the
// reload option nothing is watched.
import { readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs'
import * as net from 'node:net'
import * as path from 'node:path'
import { afterAll, afterEach, expect, it } from 'vitest'
import { Agent } from '../../src/flow/agent.js'
import type { ReloadResult } from '../../src/flow/reload/live-reload.js'
import type { HttpSource } from '../../src/flow/sources/http-source.js'
import { tempDir, until } from '../helpers.js'
import { capturingLogger, httpSourceProperties, postEvents, type CapturingLogger }
  from './flow-helpers.js'

const scratch = tempDir('sluice-reload-')
afterAll(() => scratch.remove())
const FAST = { backoffSleepIncrementMs: 10, maxBackoffSleepMs: 50, errorSleepMs: 50 }
const running: Agent[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((agent) => agent.stop()))
})

const http = (name: string, channels: string): string =>
  httpSourceProperties(`a1.sources.${name}`, channels)

function twoPipelines(dir: string, out = 'out1'): string {
  return `a1.sources = r1 r2
a1.channels = c1 c2
a1.sinks = k1 k2
${http('r1', 'c1')}${http('r2', 'c2')}a1.channels.c1.type = memory
a1.channels.c2.type = memory
a1.sinks.k1.type = file_roll
a1.sinks.k1.channel = c1
a1.sinks.k1.sink.directory = ${dir}/${out}
a1.sinks.k2.type = null
a1.sinks.k2.channel = c2
`
}

interface Harness {
  agent: Agent
  file: string
  logger: CapturingLogger
  results: ReloadResult[]
  /** Rewrites the file and waits for the watcher's next attempt. */
  rewrite(text: string): Promise<ReloadResult>
}

async function startAgent(name: string, text: string, options: { watch?: boolean;
  strict?: boolean } = {}): Promise<Harness> {
  const file = path.join(scratch.dir, `${name}.conf`)
  writeFileSync(file, text)
  const logger = capturingLogger()
  const results: ReloadResult[] = []
  const agent = Agent.fromFile(file, { agentName: 'a1', logger, runnerTimings: FAST,
    strict: options.strict ?? false,
    ...options.watch === false ? {} : {
      reload: { pollIntervalMs: 20, onReload: (result) => results.push(result) } } })
  running.push(agent)
  await agent.start()
  return {
    agent, file, logger, results,
    async rewrite(next) {
      const seen = results.length
      // As editors save: a new file renamed over the old, so no poll sees half a file.
      writeFileSync(`${file}.tmp`, next)
      renameSync(`${file}.tmp`, file)
      await until('the reload attempt', () => results.length > seen, 20_000)
      return results[seen]!
    },
  }
}

const portOf = (agent: Agent, source: string): number =>
  (agent.graph.sources.get(source) as HttpSource).port

async function send(agent: Agent, source: string, bodies: string[]): Promise<void> {
  expect(await postEvents(portOf(agent, source), bodies.map((body) => ({ body })))).toBe(200)
}

const drained = (agent: Agent, sink: string): number =>
  agent.graph.sinks.get(sink)!.counter.get('EventDrainSuccessCount')

function linesIn(dir: string): string[] {
  return readdirSync(dir).flatMap((file) => readFileSync(path.join(dir, file), 'utf8')
    .split('\n').filter((line) => line !== ''))
}

it('a sink\'s change restarts that sink only; the rest keep their counters, still counting',
  async () => {
    const { agent, rewrite, logger } = await startAgent('sink-change', twoPipelines(scratch.dir))
    const first = Array.from({ length: 5 }, (_, i) => `first-${i}`)
    await send(agent, 'r1', first)
    await send(agent, 'r2', first)
    await until('both sinks drained', () => drained(agent, 'k1') === 5
      && drained(agent, 'k2') === 5)
    const before = agent.graph
    const untouched = [before.sources.get('r1')!, before.sources.get('r2')!,
      before.channels.get('c1')!, before.channels.get('c2')!, before.sinks.get('k2')!]
    const counters = untouched.map((component) => component.counter)
    const r1Port = portOf(agent, 'r1')
    const oldK1 = before.sinks.get('k1')!

    const result = await rewrite(twoPipelines(scratch.dir, 'out2'))
    expect(result).toMatchObject({ status: 'applied', restarted: ['sink k1'], added: [],
      removed: [], errors: [] })
    expect(logger.lines).toContain(`reload of ${result.file} applied: restarted [sink k1], ` +
      'added [], removed []')
    const after = agent.graph
    expect([after.sources.get('r1'), after.sources.get('r2'), after.channels.get('c1'),
      after.channels.get('c2'), after.sinks.get('k2')]).toEqual(untouched)
    untouched.forEach((component, i) => expect(component.counter).toBe(counters[i]))
    expect(after.sinks.get('k1')).not.toBe(oldK1)
    expect(portOf(agent, 'r1')).toBe(r1Port)

    const second = Array.from({ length: 5 }, (_, i) => `second-${i}`)
    await send(agent, 'r1', second)
    await send(agent, 'r2', second)
    await until('both sinks drained again', () => drained(agent, 'k1') === 5
      && drained(agent, 'k2') === 10)
    expect(before.sources.get('r1')!.counter.get('EventAcceptedCount')).toBe(10)
    expect(before.channels.get('c1')!.counter.get('EventTakeSuccessCount')).toBe(10)
    expect(linesIn(path.join(scratch.dir, 'out1'))).toEqual(first)
    expect(linesIn(path.join(scratch.dir, 'out2'))).toEqual(second)
    expect(agent.metrics().groups.map((group) => group.name).sort())
      .toEqual(['c1', 'c2', 'k1', 'k2', 'r1', 'r2'])
    expect(agent.metrics().groups).toContain(after.sinks.get('k1')!.counter)
  })

it('refuses a syntax error, an unknown type and a missing required key; keeps delivering',
  async () => {
    const good = twoPipelines(scratch.dir, 'out3')
    const { agent, rewrite, logger, file } = await startAgent('broken', good)
    const before = agent.graph
    const broken: [string, string, RegExp][] = [
      ['syntax', good.replace('a1.sinks.k2.type = null', 'a1.sinks.k2.type = nu\\u00zl'),
        /broken\.conf:\d+: nu\\u00zl: Malformed \\uxxxx encoding/],
      ['unknown type', good.replace('a1.sinks.k2.type = null', 'a1.sinks.k2.type = nosuch'),
        /broken\.conf:\d+: a1\.sinks\.k2\.type: Sink k2 has been removed: .*"nosuch" is not a /],
      ['missing key', good.replace(/a1\.sinks\.k1\.sink\.directory = .*\n/, ''),
        /broken\.conf:\d+: a1\.sinks\.k1\.sink\.directory: Sink k1 has been removed: .*required/],
    ]
    let sent = 0
    for (const [what, text, reason] of broken) {
      const result = await rewrite(text)
      expect(result.status, what).toBe('refused')
      expect(result.errors.join('\n'), what).toMatch(reason)
      expect(logger.warnings.at(-1), what).toMatch(new RegExp(`^reload of ${file} refused; ` +
        'agent a1 keeps running as it was: '))
      expect(agent.graph, what).toBe(before)
      await send(agent, 'r1', [`${what}-1`, `${what}-2`])
      await send(agent, 'r2', [`${what}-1`, `${what}-2`])
      sent += 2
      await until(`delivery after the ${what} refusal`, () => drained(agent, 'k1') === sent
        && drained(agent, 'k2') === sent)
    }
    // Back to the running text: compared with what runs, nothing changed.
    expect((await rewrite(good)).status).toBe('unchanged')
    expect(agent.graph).toBe(before)
  })

it('with --strict any warning refuses; without, the warning is logged and the change applies',
  async () => {
    const text = twoPipelines(scratch.dir, 'out4')
    const typo = `${text}a1.sinks.k2.batchSzie = 10\n`
    const strict = await startAgent('strict', text, { strict: true })
    const refused = await strict.rewrite(typo)
    expect(refused.status).toBe('refused')
    expect(refused.errors[0])
      .toMatch(/a1\.sinks\.k2\.batchSzie: unknown property .*INVALID_PROPERTY/)
    const lenient = await startAgent('lenient', text)
    const applied = await lenient.rewrite(typo)
    expect(applied).toMatchObject({ status: 'applied', restarted: ['sink k2'] })
    expect(lenient.logger.warnings.join('\n')).toMatch(/a1\.sinks\.k2\.batchSzie: unknown/)
  })

it('a channel\'s change restarts its source and sink and keeps its events', async () => {
  const dir = scratch.dir
  const conf = (c1: string, c3: string, c4: string): string => `a1.sources = r1 r3 r4
a1.channels = c1 c3 c4
a1.sinks = k1
${http('r1', 'c1')}${http('r3', 'c3')}${http('r4', 'c4')}a1.channels.c1.type = memory
${c1}a1.channels.c3.type = memory
${c3}a1.channels.c4.type = file
a1.channels.c4.checkpointDir = ${dir}/c4/cp
a1.channels.c4.dataDirs = ${dir}/c4/data
a1.channels.c4.minimumRequiredSpace = 1048576
${c4}a1.sinks.k1.type = null
a1.sinks.k1.channel = c1
`
  // c3 and c4 have no sink, so what is put there stays until the reload.
  const { agent, rewrite, logger } = await startAgent('channels', conf('', '', ''))
  await send(agent, 'r3', ['a', 'b', 'c', 'd', 'e'])
  await send(agent, 'r4', ['a', 'b', 'c', 'd', 'e'])
  const k1 = agent.graph.sinks.get('k1')!
  const r1 = agent.graph.sources.get('r1')!

  const memory = await rewrite(conf('', 'a1.channels.c3.capacity = 500\n', ''))
  expect(memory).toMatchObject({ status: 'applied', restarted: ['channel c3', 'source r3'],
    lostEvents: 0 })
  expect(agent.graph.channels.get('c3')!.size()).toBe(5)
  expect(agent.graph.sinks.get('k1')).toBe(k1)

  const file = await rewrite(conf('', 'a1.channels.c3.capacity = 500\n',
    'a1.channels.c4.capacity = 50000\n'))
  expect(file).toMatchObject({ status: 'applied', restarted: ['channel c4', 'source r4'] })
  expect(agent.graph.channels.get('c4')!.size()).toBe(5)

  const shrunk = await rewrite(conf('', 'a1.channels.c3.capacity = 3\n' +
    'a1.channels.c3.transactionCapacity = 3\na1.channels.c3.keep-alive = 0\n',
  'a1.channels.c4.capacity = 50000\n'))
  expect(shrunk).toMatchObject({ status: 'applied', lostEvents: 2 })
  expect(agent.graph.channels.get('c3')!.size()).toBe(3)
  expect(logger.warnings.join('\n')).toMatch(/channel c3: 2 events lost on rebuild/)

  const sinkSide = await rewrite(conf('a1.channels.c1.capacity = 500\n',
    'a1.channels.c3.capacity = 3\na1.channels.c3.transactionCapacity = 3\n' +
    'a1.channels.c3.keep-alive = 0\n', 'a1.channels.c4.capacity = 50000\n'))
  expect(sinkSide).toMatchObject({ status: 'applied',
    restarted: ['channel c1', 'source r1', 'sink k1'] })
  expect(agent.graph.sinks.get('k1')).not.toBe(k1)
  expect(agent.graph.sources.get('r1')).not.toBe(r1)
  expect(agent.graph.sinks.get('k1')!.channel).toBe(agent.graph.channels.get('c1'))
  await send(agent, 'r1', ['x', 'y'])
  await until('the new k1 drains the new c1', () => drained(agent, 'k1') === 2)
})

it('removed components stop, added ones start, and the metrics view follows', async () => {
  const text = twoPipelines(scratch.dir, 'out5')
  const { agent, rewrite } = await startAgent('add-remove', text)
  const r2Port = portOf(agent, 'r2')
  const k1 = agent.graph.sinks.get('k1')!
  const next = text.replace('a1.sources = r1 r2', 'a1.sources = r1 r4')
    .replace('a1.channels = c1 c2', 'a1.channels = c1 c4')
    .replace('a1.sinks = k1 k2', 'a1.sinks = k1 k4')
    + `${http('r4', 'c4')}a1.channels.c4.type = memory
a1.sinks.k4.type = logger
a1.sinks.k4.channel = c4
`
  const result = await rewrite(next)
  expect(result).toMatchObject({ status: 'applied', restarted: [],
    added: ['channel c4', 'source r4', 'sink k4'],
    removed: ['channel c2', 'source r2', 'sink k2'] })
  expect(agent.metrics().groups.map((group) => group.name).sort())
    .toEqual(['c1', 'c4', 'k1', 'k4', 'r1', 'r4'])
  expect(agent.graph.sinks.get('k1')).toBe(k1)
  await expect(postEvents(r2Port, [{ body: 'gone' }])).rejects.toMatchObject({
    code: 'ECONNREFUSED' })
  await send(agent, 'r4', ['hello'])
  await until('the added pipeline delivers', () => drained(agent, 'k4') === 1)
})

it('without the reload option nothing is watched; Agent.reload() still applies on demand',
  async () => {
    const text = twoPipelines(scratch.dir, 'out6').replace(/file_roll\n.*\n.*\n/, 'null\n' +
      'a1.sinks.k1.channel = c1\n')
    const quiet = await startAgent('unwatched', text, { watch: false })
    const watched = await startAgent('watched', text)
    const k1 = quiet.agent.graph.sinks.get('k1')!
    writeFileSync(quiet.file, text.replace('a1.sinks.k1.type', 'a1.sinks.k1.batchSize = 3\n' +
      'a1.sinks.k1.type'))
    // The watched agent polls on the same timers; two of its reloads bound the wait.
    for (const batchSize of [4, 5]) {
      const result = await watched.rewrite(text.replace('a1.sinks.k1.type',
        `a1.sinks.k1.batchSize = ${batchSize}\na1.sinks.k1.type`))
      expect(result.status).toBe('applied')
    }
    expect(quiet.agent.graph.sinks.get('k1')).toBe(k1)
    expect(quiet.logger.lines.join('\n')).not.toMatch(/reload|watching/)
    const onDemand = await quiet.agent.reload()
    expect(onDemand).toMatchObject({ status: 'applied', restarted: ['sink k1'] })
    expect(quiet.agent.graph.sinks.get('k1')!.batchSize).toBe(3)
  })

it('a sink group restarts with its sinks when its processor changes', async () => {
  const conf = (k1: number, k2: number): string => `a1.sources = r1
a1.channels = c1
a1.sinks = k1 k2
a1.sinkgroups = g1
${http('r1', 'c1')}a1.channels.c1.type = memory
a1.sinks.k1.type = null
a1.sinks.k1.channel = c1
a1.sinks.k2.type = null
a1.sinks.k2.channel = c1
a1.sinkgroups.g1.sinks = k1 k2
a1.sinkgroups.g1.processor.type = failover
a1.sinkgroups.g1.processor.priority.k1 = ${k1}
a1.sinkgroups.g1.processor.priority.k2 = ${k2}
`
  const { agent, rewrite } = await startAgent('group', conf(10, 5))
  await send(agent, 'r1', ['a', 'b', 'c'])
  await until('the preferred sink k1 drains', () => drained(agent, 'k1') === 3)
  const { sources, channels } = agent.graph
  const result = await rewrite(conf(10, 20))
  expect(result).toMatchObject({ status: 'applied',
    restarted: ['sink k1', 'sink k2', 'sinkgroup g1'] })
  expect(agent.graph.sources.get('r1')).toBe(sources.get('r1'))
  expect(agent.graph.channels.get('c1')).toBe(channels.get('c1'))
  await send(agent, 'r1', ['d', 'e'])
  await until('the now preferred sink k2 drains', () => drained(agent, 'k2') === 2)
  expect(drained(agent, 'k1')).toBe(0)
  expect(agent.graph.groups.map((group) => [group.name, group.processor.type]))
    .toEqual([['g1', 'failover']])
})

it('a component that cannot start is left out and named; the next change retries it',
  async () => {
    const blocker = net.createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const taken = (blocker.address() as net.AddressInfo).port
    const text = twoPipelines(scratch.dir, 'out7')
    const { agent, rewrite, logger } = await startAgent('port-taken', text)
    const next = text.replace('a1.sources.r2.port = 0', `a1.sources.r2.port = ${taken}`)
    const result = await rewrite(next)
    expect(result).toMatchObject({ status: 'failed', restarted: ['source r2'] })
    expect(result.errors).toEqual([expect.stringMatching(new RegExp('^source r2: ' +
      `cannot listen on 127\\.0\\.0\\.1:${taken}: the address is already in use`))])
    expect(logger.warnings.join('\n')).toMatch(/applied in part: .*not started: source r2/)
    expect(agent.graph.sources.has('r2')).toBe(false)
    expect(agent.metrics().groups.map((group) => group.name)).not.toContain('r2')
    await send(agent, 'r1', ['still delivering'])
    await until('r1 still delivers', () => drained(agent, 'k1') === 1)
    await new Promise((resolve) => blocker.close(resolve))
    const retry = await rewrite(`${next}# the port is free now\n`)
    expect(retry).toMatchObject({ status: 'applied', added: ['source r2'] })
    expect(portOf(agent, 'r2')).toBe(taken)
    await send(agent, 'r2', ['back'])
    await until('r2 delivers again', () => drained(agent, 'k2') === 1)
  })
