// Proves the file channel's promise end to end: an http → file channel → file_roll agent, run as
// `sluice agent` in a child process, is SIGKILLed mid-stream over several rounds while clients
// POST; after the last restart drains the channel, every event the HTTP source answered 200
// for is in the sink's files. Duplicates are allowed (and counted); losses fail the test. The
// channel rotates its log generation every 4000 events, so kills land across rotations too.
import { readdirSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { seedFromEnv, seededRandom, tempDir, until } from '../helpers.js'
import { channelEmpty, httpSourcePort, killLeftoverProcesses, startAgent, type AgentProcess }
  from './cli-process.js'
import { linesOfFiles, tallyDelivery } from './delivery-tally.js'
import { fileChannelProperties, HTTP_AGENT_A1, postUntilStopped } from './flow-helpers.js'

const scratch = tempDir('sluice-flow-crash-')
afterAll(async () => {
  await killLeftoverProcesses()
  scratch.remove()
})
const ROUNDS = 4
const CLIENTS = 4
const EVENTS_PER_POST = 20

const CONF = `${HTTP_AGENT_A1}${fileChannelProperties('a1.channels.c1', scratch.dir)}
a1.channels.c1.rotateAfterEvents = 4000
a1.sinks.k1.type = file_roll
a1.sinks.k1.channel = c1
a1.sinks.k1.sink.directory = ${path.join(scratch.dir, 'out')}
a1.sinks.k1.sink.rollInterval = 1
a1.sinks.k1.sink.batchSize = 100
`

async function startHttpAgent(): Promise<AgentProcess & { httpPort: number }> {
  const confFile = path.join(scratch.dir, 'agent.conf')
  writeFileSync(confFile, CONF)
  const agent = await startAgent(confFile, 'a1')
  return { ...agent, httpPort: httpSourcePort(agent.output()) }
}

it(`delivers every acknowledged event across ${ROUNDS} SIGKILLs (duplicates counted)`, async () => {
  const random = seededRandom(seedFromEnv('SLUICE_FLOW_CRASH_SEED'))
  const acked: string[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const agent = await startHttpAgent()
    const stop = { dead: false }
    const clients = Array.from({ length: CLIENTS }, (_, c) =>
      postUntilStopped(agent.httpPort, `r${round}-c${c}`, stop, EVENTS_PER_POST))
    const killAfterMs = 300 + Math.floor(random() * 900)
    await new Promise((resolve) => setTimeout(resolve, killAfterMs))
    await agent.stop('SIGKILL')
    stop.dead = true
    for (const list of await Promise.all(clients)) acked.push(...list)
  }
  const last = await startHttpAgent()
  await until('the channel to drain', () => channelEmpty(last.metricsPort, 'c1'), 30_000)
  await last.stop('SIGTERM')
  // Events posted but not answered (the kill cut the reply) may be delivered too: not counted.
  const { lost, summary } = tallyDelivery(acked, linesOfFiles(path.join(scratch.dir, 'out')))
  console.log(`acknowledged ${acked.length}, delivered ${summary}`)
  expect(acked.length).toBeGreaterThan(ROUNDS * CLIENTS * EVENTS_PER_POST)
  expect(lost).toEqual([])
  // The run crossed log generations (each holds 4000 events), so rotation was under fire too.
  const generations = readdirSync(path.join(scratch.dir, 'data'))
    .map((entry) => /^channel-(\d+)-0$/.exec(entry)?.[1]).filter((g) => g !== undefined)
  expect(Math.max(...generations.map(Number))).toBeGreaterThan(0)
})
