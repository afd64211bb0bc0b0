// Proves the file channel's in_use.lock (src/flow/channels/directory-lock.ts, one test per row of
// its table): a second channel or a second agent process on the same directories refuses to
// start with SLUICE_ERR_CHANNEL naming the directory and the pid, a failed start leaves the
// holder's lock alone, and a lock left by a dead process (an agent SIGKILLed) is taken over.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { isSluiceError } from '../../src/errors.js'
import { LOCK_FILE } from '../../src/flow/channels/directory-lock.js'
import { FileChannel, type FileChannelOptions } from '../../src/flow/channels/file-channel.js'
import { Agent } from '../../src/flow/agent.js'
import { tempDir } from '../helpers.js'
import { killLeftoverProcesses, runCli, type CliProcess } from './cli-process.js'
import { capturingLogger, fileChannelProperties, HTTP_AGENT_A1, putAll, takeAll }
  from './flow-helpers.js'

const scratch = tempDir('sluice-file-channel-lock-')
afterAll(() => scratch.remove())

function options(name: string, extra: Partial<FileChannelOptions> = {}): FileChannelOptions {
  return { checkpointDir: path.join(scratch.dir, name, 'cp'),
    dataDirs: [path.join(scratch.dir, name, 'data')], capacity: 100, transactionCapacity: 20,
    keepAliveSeconds: 0, minimumRequiredSpace: 1024 * 1024, ...extra }
}

const lockFiles = (opts: FileChannelOptions): string[] =>
  [opts.checkpointDir, opts.dataDirs[0]!].map((dir) => path.join(dir, LOCK_FILE))

async function startFails(channel: FileChannel): Promise<Error> {
  const error = await channel.start().then(() => null, (e: unknown) => e as Error)
  expect(error).not.toBeNull()
  expect(isSluiceError(error, 'SLUICE_ERR_CHANNEL')).toBe(true)
  return error!
}

/** The pid of a process that has exited and been reaped: no one is running under it. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
  await new Promise((resolve) => child.once('exit', resolve))
  return child.pid!
}

it('a second channel on the same directories refuses to start, naming the dir and the pid',
  async () => {
    const opts = options('twice')
    const first = new FileChannel('c1', opts)
    await first.start()
    for (const file of lockFiles(opts)) {
      expect(readFileSync(file, 'utf8').trim()).toBe(String(process.pid))
    }
    const error = await startFails(new FileChannel('c2', opts))
    expect(error.message).toContain(path.resolve(opts.checkpointDir))
    expect(error.message).toContain(`pid ${process.pid}`)
    // Sharing only the data dir is refused too.
    const dataOnly = { ...opts, checkpointDir: path.join(scratch.dir, 'twice', 'cp2') }
    const dataError = await startFails(new FileChannel('c3', dataOnly))
    expect(dataError.message).toContain(path.resolve(opts.dataDirs[0]!))
    expect(existsSync(path.join(dataOnly.checkpointDir, LOCK_FILE))).toBe(false)
    await putAll(first, ['still mine'])
    await first.stop()
    for (const file of lockFiles(opts)) expect(existsSync(file)).toBe(false)
    const second = new FileChannel('c2', opts)
    await second.start()
    expect(await takeAll(second, 10)).toEqual(['still mine'])
    await second.stop()
  })

it('an agent whose start is refused leaves the running agent\'s locks in place', async () => {
  const conf = (dir: string): string => ['a1.sources = r1', 'a1.channels = c1', 'a1.sinks = k1',
    'a1.sources.r1.type = exec', 'a1.sources.r1.command = true', 'a1.sources.r1.channels = c1',
    'a1.channels.c1.type = file', `a1.channels.c1.checkpointDir = ${dir}/cp`,
    `a1.channels.c1.dataDirs = ${dir}/data`, 'a1.channels.c1.minimumRequiredSpace = 1048576',
    'a1.sinks.k1.type = null', 'a1.sinks.k1.channel = c1', ''].join('\n')
  const dir = path.join(scratch.dir, 'agents')
  const make = (): Agent => Agent.fromText(conf(dir), 'lock.conf',
    { agentName: 'a1', logger: capturingLogger() })
  const running = make()
  await running.start()
  try {
    const refused = await make().start().then(() => null, (e: unknown) => e as Error)
    expect(isSluiceError(refused, 'SLUICE_ERR_CHANNEL')).toBe(true)
    expect(refused!.message).toMatch(/is in use/)
    expect(readFileSync(path.join(dir, 'cp', LOCK_FILE), 'utf8').trim())
      .toBe(String(process.pid))
    const again = await make().start().then(() => null, (e: unknown) => e as Error)
    expect(isSluiceError(again, 'SLUICE_ERR_CHANNEL')).toBe(true)
  } finally {
    await running.stop()
  }
})

it('a lock naming a dead pid is taken over, with a log line', async () => {
  const opts = options('stale')
  const first = new FileChannel('c', opts)
  await first.start()
  await putAll(first, ['before the crash'])
  await first.stop()
  const pid = await deadPid()
  for (const file of lockFiles(opts)) writeFileSync(file, `${pid}\n`)
  const logger = capturingLogger()
  const channel = new FileChannel('c', { ...opts, logger })
  await channel.start()
  expect(logger.warnings.filter((line) => line.includes(`taking over`)
    && line.includes(`pid ${pid}`))).toHaveLength(2)
  for (const file of lockFiles(opts)) {
    expect(readFileSync(file, 'utf8').trim()).toBe(String(process.pid))
  }
  expect(await takeAll(channel, 10)).toEqual(['before the crash'])
  await channel.stop()
})

it('a lock naming this process but held by no channel, or empty, is taken over', async () => {
  const opts = options('own-stale')
  const [checkpointLock, dataLock] = lockFiles(opts) as [string, string]
  const seed = new FileChannel('c', opts)
  await seed.start()
  await seed.stop()
  writeFileSync(checkpointLock, `${process.pid}\n`)
  writeFileSync(dataLock, '')
  const logger = capturingLogger()
  const channel = new FileChannel('c', { ...opts, logger })
  await channel.start()
  expect(logger.warnings.filter((line) => line.includes('taking over'))).toHaveLength(2)
  await channel.stop()
})

// ---- two agent processes, through the built CLI ----------------------------------------------

const CLI_DIR = path.join(scratch.dir, 'cli')
const CLI_CONF = `${HTTP_AGENT_A1}${fileChannelProperties('a1.channels.c1', CLI_DIR)}
a1.sinks.k1.type = null
a1.sinks.k1.channel = c1
`

function spawnAgent(): CliProcess {
  const confFile = path.join(scratch.dir, 'cli.conf')
  writeFileSync(confFile, CLI_CONF)
  return runCli(['agent', '-f', confFile, '-n', 'a1', '--metrics-port', '0'])
}

const started = (agent: CliProcess): Promise<unknown> =>
  agent.waitFor(/metrics on port \d+/, 'the agent to start', 20_000)

/** The exit code, or 'running' if the agent is still up after `waitMs`. */
const exitCode = (agent: CliProcess, waitMs: number): Promise<number | null | 'running'> =>
  Promise.race([agent.exited, new Promise<'running'>((resolve) =>
    setTimeout(() => resolve('running'), waitMs).unref())])

afterAll(killLeftoverProcesses)

it('a second agent process on the same directories exits 1; after a SIGKILL it takes over',
  async () => {
    const first = spawnAgent()
    await started(first)
    const second = spawnAgent()
    expect(await exitCode(second, 20_000)).toBe(1)
    expect(second.output()).toContain('SLUICE_ERR_CHANNEL')
    expect(second.output()).toContain(`pid ${first.child.pid}`)
    expect(second.output()).toContain(path.join(CLI_DIR, 'checkpoint'))
    await first.stop('SIGKILL')
    const third = spawnAgent()
    await started(third)
    expect(third.output()).toMatch(new RegExp(`taking over .* from pid ${first.child.pid}`))
    await third.stop('SIGTERM')
    expect(existsSync(path.join(CLI_DIR, 'checkpoint', LOCK_FILE))).toBe(false)
    expect(existsSync(path.join(CLI_DIR, 'data', LOCK_FILE))).toBe(false)
  }, 60_000)
