// Proves TAILDIR's at-least-once promise end to end: a TAILDIR → file channel → file_roll
// agent, run as `sluice agent` in a child process, is SIGKILLed over several rounds while a
// writer appends numbered lines and rotates the file by rename (also while the agent is down);
// after the last restart drains, every line written is in the sink's files. Duplicates (lines
// read again after a position older than the commit, and rotations while the agent was down,
// which are re-read whole) are counted and reported; a loss fails the test.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { seedFromEnv, seededRandom, tempDir, until } from '../helpers.js'
import { channelEmpty, killLeftoverProcesses, startAgent, type AgentProcess }
  from './cli-process.js'
import { linesOfFiles, RotatingLineWriter, tallyDelivery } from './delivery-tally.js'
import { fileChannelProperties } from './flow-helpers.js'

const scratch = tempDir('sluice-taildir-crash-')
afterAll(async () => {
  await killLeftoverProcesses()
  scratch.remove()
})
const ROUNDS = 3
const LINES_PER_APPEND = 25
const LINES_PER_FILE = 400
const logDir = path.join(scratch.dir, 'logs')
const outDir = path.join(scratch.dir, 'out')

const CONF = `a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = TAILDIR
a1.sources.r1.channels = c1
a1.sources.r1.filegroups = f1
a1.sources.r1.filegroups.f1 = ${logDir}/app\\.log.*
a1.sources.r1.positionFile = ${path.join(scratch.dir, 'taildir_position.json')}
a1.sources.r1.writePosInterval = 200
a1.sources.r1.backoffSleepIncrement = 20
a1.sources.r1.maxBackoffSleep = 100
${fileChannelProperties('a1.channels.c1', scratch.dir)}
a1.sinks.k1.type = file_roll
a1.sinks.k1.channel = c1
a1.sinks.k1.sink.directory = ${outDir}
a1.sinks.k1.sink.rollInterval = 1
`

function startTailAgent(): Promise<AgentProcess> {
  const confFile = path.join(scratch.dir, 'agent.conf')
  writeFileSync(confFile, CONF)
  return startAgent(confFile, 'a1')
}

it(`delivers every line tailed across ${ROUNDS} SIGKILLs and rotations (duplicates counted)`,
  async () => {
    const random = seededRandom(seedFromEnv('SLUICE_TAILDIR_CRASH_SEED'))
    mkdirSync(logDir, { recursive: true })
    const writer = new RotatingLineWriter(logDir, LINES_PER_FILE, LINES_PER_APPEND)
    writer.append(300)
    for (let round = 0; round < ROUNDS; round++) {
      const agent = await startTailAgent()
      const stop = { dead: false }
      const writing = writer.appendWhile(() => !stop.dead, 2)
      await new Promise((resolve) => setTimeout(resolve, 300 + Math.floor(random() * 900)))
      await agent.stop('SIGKILL')
      stop.dead = true
      await writing
      // Written while the agent is down, across a rotation: picked up after the restart.
      writer.append(LINES_PER_FILE)
    }
    const last = await startTailAgent()
    await until('every line in the sink',
      () => new Set(linesOfFiles(outDir)).size >= writer.written, 60_000)
    await until('the channel to drain', () => channelEmpty(last.metricsPort, 'c1'), 30_000)
    await last.stop('SIGTERM')
    const expected = Array.from({ length: writer.written }, (_, i) => `line-${i}`)
    const { seen, lost, duplicates, unexpected } = tallyDelivery(expected, linesOfFiles(outDir))
    console.log(`written ${writer.written} lines in ${readdirSync(logDir).length} files, ` +
      `delivered ${seen.size} distinct, ${duplicates} duplicates, ${lost.length} lost`)
    expect(lost).toEqual([])
    expect(unexpected).toEqual([])
    expect(readdirSync(logDir).length).toBeGreaterThan(ROUNDS)
  }, 180_000)
