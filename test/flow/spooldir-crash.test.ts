// Proves spooldir's at-least-once promise end to end: a spooldir → file channel → file_roll
// agent, run as `sluice agent` in a child process, is SIGKILLed over several rounds while files
// of numbered lines are dropped into the spool (written aside, then renamed in, as Flume asks);
// after the last restart every file is completed and every line is in the sink's files. A kill
// between a batch's commit and its mark re-delivers that batch only: duplicates are counted and
// must stay below one batch per kill; a loss fails the test.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { repoRoot, seedFromEnv, seededRandom, tempDir, until } from '../helpers.js'
import { getText } from './flow-helpers.js'

const scratch = tempDir('sluice-spooldir-crash-')
afterAll(() => scratch.remove())
const ROUNDS = 3
const LINES_PER_FILE = 250
const BATCH_SIZE = 50
const spoolDir = path.join(scratch.dir, 'spool')
const stagingDir = path.join(scratch.dir, 'staging')
const outDir = path.join(scratch.dir, 'out')

const CONF = `a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = spooldir
a1.sources.r1.channels = c1
a1.sources.r1.spoolDir = ${spoolDir}
a1.sources.r1.batchSize = ${BATCH_SIZE}
a1.sources.r1.pollDelay = 20
a1.channels.c1.type = file
a1.channels.c1.checkpointDir = ${path.join(scratch.dir, 'checkpoint')}
a1.channels.c1.dataDirs = ${path.join(scratch.dir, 'data')}
a1.channels.c1.capacity = 100000
a1.channels.c1.transactionCapacity = 1000
a1.channels.c1.minimumRequiredSpace = 1048576
a1.sinks.k1.type = file_roll
a1.sinks.k1.channel = c1
a1.sinks.k1.sink.directory = ${outDir}
a1.sinks.k1.sink.rollInterval = 1
`

async function startAgent(): Promise<{ child: ChildProcess; metricsPort: number }> {
  const confFile = path.join(scratch.dir, 'agent.conf')
  writeFileSync(confFile, CONF)
  const child = spawn(process.execPath, [path.join(repoRoot, 'dist/src/cli/main.js'), 'agent',
    '-f', confFile, '-n', 'a1', '--metrics-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  await until('the agent to start', () => /metrics on port \d+/.test(output), 20_000)
  return { child, metricsPort: Number(/metrics on port (\d+)/.exec(output)![1]) }
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once('exit', () => resolve())
  })
}

/** Drops files of numbered lines into the spool: written aside, then renamed in. */
class Dropper {
  written = 0
  files = 0

  drop(): void {
    const lines = Array.from({ length: LINES_PER_FILE }, () => `line-${this.written++}\n`)
    const name = `events-${String(this.files++).padStart(5, '0')}.log`
    writeFileSync(path.join(stagingDir, name), lines.join(''))
    renameSync(path.join(stagingDir, name), path.join(spoolDir, name))
  }

  async run(stop: { dead: boolean }): Promise<void> {
    while (!stop.dead) {
      this.drop()
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
}

function sinkLines(): string[] {
  return readdirSync(outDir).flatMap((file) =>
    readFileSync(path.join(outDir, file), 'utf8').split('\n').filter((line) => line !== ''))
}

it(`delivers every spooled line across ${ROUNDS} SIGKILLs (duplicates counted)`, async () => {
  const random = seededRandom(seedFromEnv('SLUICE_SPOOLDIR_CRASH_SEED'))
  mkdirSync(spoolDir, { recursive: true })
  mkdirSync(stagingDir, { recursive: true })
  const dropper = new Dropper()
  for (let round = 0; round < ROUNDS; round++) {
    const agent = await startAgent()
    const stop = { dead: false }
    const dropping = dropper.run(stop)
    await new Promise((resolve) => setTimeout(resolve, 300 + Math.floor(random() * 900)))
    agent.child.kill('SIGKILL')
    await exited(agent.child)
    stop.dead = true
    await dropping
  }
  const last = await startAgent()
  await until('every file completed', () => readdirSync(spoolDir)
    .filter((name) => name.endsWith('.COMPLETED')).length === dropper.files, 60_000)
  await until('the channel to drain', async () => {
    const metrics = JSON.parse((await getText(last.metricsPort, '/metrics')).body) as
      Record<string, Record<string, string>>
    return metrics['CHANNEL.c1']!.ChannelSize === '0'
  }, 30_000)
  last.child.kill('SIGTERM')
  await exited(last.child)
  const seen = new Map<string, number>()
  for (const line of sinkLines()) seen.set(line, (seen.get(line) ?? 0) + 1)
  const expected = Array.from({ length: dropper.written }, (_, i) => `line-${i}`)
  const lost = expected.filter((line) => !seen.has(line))
  const duplicates = [...seen.values()].reduce((sum, n) => sum + (n - 1), 0)
  console.log(`spooled ${dropper.written} lines in ${dropper.files} files, delivered ` +
    `${seen.size} distinct, ${duplicates} duplicates, ${lost.length} lost`)
  expect(lost).toEqual([])
  expect(seen.size).toBe(dropper.written)
  // The source re-reads at most the batch whose mark a kill cut off; the file channel's own
  // redelivery (a take not yet committed by the sink) adds at most one sink batch per kill.
  expect(duplicates).toBeLessThanOrEqual(ROUNDS * (BATCH_SIZE + 100))
}, 180_000)
