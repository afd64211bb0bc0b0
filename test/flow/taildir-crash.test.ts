// Proves TAILDIR's at-least-once promise end to end: a TAILDIR → file channel → file_roll
// agent, run as `sluice agent` in a child process, is SIGKILLed over several rounds while a
// writer appends numbered lines and rotates the file by rename (also while the agent is down);
// after the last restart drains, every line written is in the sink's files. Duplicates (lines
// read again after a position older than the commit, and rotations while the agent was down,
// which are re-read whole) are counted and reported; a loss fails the test.
import { spawn, type ChildProcess } from 'node:child_process'
import { appendFileSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync }
  from 'node:fs'
import * as path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { repoRoot, seedFromEnv, seededRandom, tempDir, until } from '../helpers.js'
import { getText } from './flow-helpers.js'

const scratch = tempDir('sluice-taildir-crash-')
afterAll(() => scratch.remove())
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

/** Appends numbered lines to app.log, rotating it to app.log.<n> every LINES_PER_FILE lines. */
class Writer {
  written = 0
  private rotations = 0

  append(count: number): void {
    for (let done = 0; done < count; done += LINES_PER_APPEND) {
      const lines = Array.from({ length: Math.min(LINES_PER_APPEND, count - done) },
        () => `line-${this.written++}\n`)
      appendFileSync(path.join(logDir, 'app.log'), lines.join(''))
      if (this.written >= (this.rotations + 1) * LINES_PER_FILE) {
        renameSync(path.join(logDir, 'app.log'), path.join(logDir, `app.log.${++this.rotations}`))
      }
    }
  }

  /** Appends until `stop.dead`, a chunk per turn of the event loop. */
  async run(stop: { dead: boolean }): Promise<void> {
    while (!stop.dead) {
      this.append(LINES_PER_APPEND)
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
  }
}

function sinkLines(): string[] {
  return readdirSync(outDir).flatMap((file) =>
    readFileSync(path.join(outDir, file), 'utf8').split('\n').filter((line) => line !== ''))
}

it(`delivers every line tailed across ${ROUNDS} SIGKILLs and rotations (duplicates counted)`,
  async () => {
    const random = seededRandom(seedFromEnv('SLUICE_TAILDIR_CRASH_SEED'))
    mkdirSync(logDir, { recursive: true })
    const writer = new Writer()
    writer.append(300)
    for (let round = 0; round < ROUNDS; round++) {
      const agent = await startAgent()
      const stop = { dead: false }
      const writing = writer.run(stop)
      await new Promise((resolve) => setTimeout(resolve, 300 + Math.floor(random() * 900)))
      agent.child.kill('SIGKILL')
      await exited(agent.child)
      stop.dead = true
      await writing
      // Written while the agent is down, across a rotation: picked up after the restart.
      writer.append(LINES_PER_FILE)
    }
    const last = await startAgent()
    await until('every line in the sink', () => new Set(sinkLines()).size >= writer.written,
      60_000)
    await until('the channel to drain', async () => {
      const metrics = JSON.parse((await getText(last.metricsPort, '/metrics')).body) as
        Record<string, Record<string, string>>
      return metrics['CHANNEL.c1']!.ChannelSize === '0'
    }, 30_000)
    last.child.kill('SIGTERM')
    await exited(last.child)
    const seen = new Map<string, number>()
    for (const line of sinkLines()) seen.set(line, (seen.get(line) ?? 0) + 1)
    const expected = Array.from({ length: writer.written }, (_, i) => `line-${i}`)
    const lost = expected.filter((line) => !seen.has(line))
    const duplicates = [...seen.values()].reduce((sum, n) => sum + (n - 1), 0)
    console.log(`written ${writer.written} lines in ${readdirSync(logDir).length} files, ` +
      `delivered ${seen.size} distinct, ${duplicates} duplicates, ${lost.length} lost`)
    expect(lost).toEqual([])
    expect([...seen.keys()].filter((line) => !/^line-\d+$/.test(line))).toEqual([])
    expect(readdirSync(logDir).length).toBeGreaterThan(ROUNDS)
  }, 180_000)
