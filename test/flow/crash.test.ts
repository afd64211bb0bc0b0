// Proves the file channel's promise end to end: an http → file channel → file_roll agent, run as
// `sluice agent` in a child process, is SIGKILLed mid-stream over several rounds while clients
// POST; after the last restart drains the channel, every event the HTTP source answered 200
// for is in the sink's files. Duplicates are allowed (and counted); losses fail the test. The
// channel rotates its log generation every 4000 events, so kills land across rotations too.
import { spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import * as http from 'node:http'
import * as path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { repoRoot, seedFromEnv, seededRandom, tempDir, until } from '../helpers.js'
import { getText, postEvents } from './flow-helpers.js'

const scratch = tempDir('sluice-flow-crash-')
afterAll(() => scratch.remove())
const ROUNDS = 4
const CLIENTS = 4
const EVENTS_PER_POST = 20

const CONF = `a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = http
a1.sources.r1.bind = 127.0.0.1
a1.sources.r1.port = 0
a1.sources.r1.channels = c1
a1.channels.c1.type = file
a1.channels.c1.checkpointDir = ${path.join(scratch.dir, 'checkpoint')}
a1.channels.c1.dataDirs = ${path.join(scratch.dir, 'data')}
a1.channels.c1.capacity = 100000
a1.channels.c1.transactionCapacity = 1000
a1.channels.c1.minimumRequiredSpace = 1048576
a1.channels.c1.rotateAfterEvents = 4000
a1.sinks.k1.type = file_roll
a1.sinks.k1.channel = c1
a1.sinks.k1.sink.directory = ${path.join(scratch.dir, 'out')}
a1.sinks.k1.sink.rollInterval = 1
a1.sinks.k1.sink.batchSize = 100
`

interface Running {
  child: ChildProcess
  output: () => string
  httpPort: number
  metricsPort: number
}

async function startAgent(): Promise<Running> {
  const confFile = path.join(scratch.dir, 'agent.conf')
  writeFileSync(confFile, CONF)
  const child = spawn(process.execPath, [path.join(repoRoot, 'dist/src/cli/main.js'), 'agent',
    '-f', confFile, '-n', 'a1', '--metrics-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  await until('the agent to start', () => /metrics on port \d+/.test(output), 20_000)
  return {
    child, output: () => output,
    httpPort: Number(/http listening on 127\.0\.0\.1:(\d+)/.exec(output)![1]),
    metricsPort: Number(/metrics on port (\d+)/.exec(output)![1]),
  }
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once('exit', () => resolve())
  })
}

/** Posts batches until the agent dies; returns the bodies answered 200. */
async function client(port: number, tag: string, stop: { dead: boolean }): Promise<string[]> {
  const acked: string[] = []
  const agent = new http.Agent({ keepAlive: true })
  for (let seq = 0; !stop.dead; seq++) {
    const bodies = Array.from({ length: EVENTS_PER_POST }, (_, i) => `${tag}-s${seq}-e${i}`)
    const status = await postEvents(port, bodies.map((body) => ({ body })), agent)
      .catch(() => 0)
    if (status === 200) acked.push(...bodies)
  }
  agent.destroy()
  return acked
}

function sinkLines(): string[] {
  const dir = path.join(scratch.dir, 'out')
  return readdirSync(dir).flatMap((file) =>
    readFileSync(path.join(dir, file), 'utf8').split('\n').filter((line) => line !== ''))
}

it(`delivers every acknowledged event across ${ROUNDS} SIGKILLs (duplicates counted)`, async () => {
  const random = seededRandom(seedFromEnv('SLUICE_FLOW_CRASH_SEED'))
  const acked: string[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const agent = await startAgent()
    const stop = { dead: false }
    const clients = Array.from({ length: CLIENTS }, (_, c) =>
      client(agent.httpPort, `r${round}-c${c}`, stop))
    const killAfterMs = 300 + Math.floor(random() * 900)
    await new Promise((resolve) => setTimeout(resolve, killAfterMs))
    agent.child.kill('SIGKILL')
    await killed(agent.child)
    stop.dead = true
    for (const list of await Promise.all(clients)) acked.push(...list)
  }
  const last = await startAgent()
  await until('the channel to drain', async () => {
    const metrics = JSON.parse((await getText(last.metricsPort, '/metrics')).body) as
      Record<string, Record<string, string>>
    return metrics['CHANNEL.c1']!.ChannelSize === '0'
  }, 30_000)
  last.child.kill('SIGTERM')
  await killed(last.child)
  const seen = new Map<string, number>()
  for (const line of sinkLines()) seen.set(line, (seen.get(line) ?? 0) + 1)
  const lost = acked.filter((body) => !seen.has(body))
  const duplicates = [...seen.values()].reduce((sum, n) => sum + (n - 1), 0)
  console.log(`acknowledged ${acked.length}, delivered ${seen.size} distinct, ` +
    `${duplicates} duplicates, ${lost.length} lost`)
  expect(acked.length).toBeGreaterThan(ROUNDS * CLIENTS * EVENTS_PER_POST)
  expect(lost).toEqual([])
  // The run crossed log generations (each holds 4000 events), so rotation was under fire too.
  const generations = readdirSync(path.join(scratch.dir, 'data'))
    .map((entry) => /^channel-(\d+)-0$/.exec(entry)?.[1]).filter((g) => g !== undefined)
  expect(Math.max(...generations.map(Number))).toBeGreaterThan(0)
})
