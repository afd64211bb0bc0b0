/**
 * What the interop tests with real librdkafka clients share:
 *
 * - `startBroker`: a `sluice broker` child process (the CLI a user runs) on a loopback port the
 *   OS picks, ready once it says so; `stop()` sends SIGTERM, then SIGKILL after a bound.
 * - `runTool`: runs kcat (or any command) with stdin, a time bound and the output kept.
 * - `interopGate`: decides whether a missing client skips the file (a developer's machine) or
 *   fails it (CI, where `.ci/run` installs kcat and builds node-rdkafka and exports
 *   SLUICE_REQUIRE_INTEROP=1, so a broken install can never look like a green run).
 *
 * Every child started here is tracked and killed by `killChildren()`, which each file calls in
 * afterAll, so a failed assertion never leaves a broker or a kcat running.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import * as path from 'node:path'
import { repoRoot, tempDir } from '../helpers.js'

export const REQUIRE_INTEROP = process.env.SLUICE_REQUIRE_INTEROP === '1'
const CLI_PATH = path.join(repoRoot, 'dist', 'src', 'cli', 'main.js')
const OUTPUT_KEEP_CHARS = 256 * 1024
const live = new Set<ChildProcess>()

export interface Gate {
  /** true when the file's tests must not run (the client is missing and not required) */
  skip: boolean
  /** why the client is unusable, or null when it is there */
  missing: string | null
}

/**
 * A gate for one client. When the client is missing it prints why; the file then skips, or, with
 * SLUICE_REQUIRE_INTEROP=1, its beforeAll throws `missing` so the run fails.
 */
export function interopGate(client: string, missing: string | null): Gate {
  if (missing !== null) {
    const verdict = REQUIRE_INTEROP ? 'FAILING (SLUICE_REQUIRE_INTEROP=1)' : 'skipping'
    console.warn(`[kafka-interop] ${client}: ${missing}; ${verdict}`)
  }
  return { skip: missing !== null && !REQUIRE_INTEROP, missing }
}

export function assertGateOpen(gate: Gate): void {
  if (gate.missing !== null) throw new Error(`interop client unavailable: ${gate.missing}`)
}

/** Why kcat cannot run here, or null when `kcat -V` works. */
export function kcatMissing(): string | null {
  const probe = spawnSync('kcat', ['-V'], { encoding: 'utf8', timeout: 10_000 })
  if (probe.error !== undefined) {
    return `kcat is not installed (${probe.error.message}); apt-get install -y kcat`
  }
  return probe.status === 0 ? null : `kcat -V exited ${probe.status}: ${probe.stderr}`
}

/** node-rdkafka's module, or the reason it cannot be loaded (not built, or the build failed). */
export function loadRdkafka()
  : { rdkafka: typeof import('node-rdkafka') | null; missing: string | null } {
  try {
    const require = createRequire(import.meta.url)
    return { rdkafka: require('node-rdkafka') as typeof import('node-rdkafka'), missing: null }
  } catch (error) {
    return { rdkafka: null, missing: `node-rdkafka does not load (${(error as Error).message})` }
  }
}

export function track(child: ChildProcess): ChildProcess {
  live.add(child)
  child.once('exit', () => live.delete(child))
  return child
}

/** SIGKILLs every child still running; for afterAll. */
export function killChildren(): void {
  for (const child of live) child.kill('SIGKILL')
  live.clear()
}

function keepTail(text: string): string {
  return text.length > OUTPUT_KEEP_CHARS ? text.slice(-OUTPUT_KEEP_CHARS) : text
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}

export interface BrokerProcess {
  port: number
  /** `127.0.0.1:<port>`, as clients are given it */
  bootstrap: string
  dataDir: string
  child: ChildProcess
  /** everything the broker printed so far (stdout and stderr), for failure messages */
  output(): string
  /** SIGTERM, then SIGKILL after `graceMs`; resolves to the exit code (null when killed) */
  stop(graceMs?: number): Promise<number | null>
  /** stop, then remove the data directory */
  cleanup(): Promise<void>
}

export interface BrokerOptions {
  args?: string[]
  readyTimeoutMs?: number
}

const LISTENING = /sluice broker listening on (\S+):(\d+)\n/

/**
 * Starts `node dist/src/cli/main.js broker --listen 127.0.0.1:0` and resolves once it prints
 * `sluice broker listening on HOST:PORT` (the port the OS gave it, so no two runs collide).
 */
export async function startBroker(options: BrokerOptions = {}): Promise<BrokerProcess> {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run npm run build first`)
  const scratch = tempDir('sluice-interop-')
  const args = [CLI_PATH, 'broker', '--data-dir', scratch.dir, '--listen', '127.0.0.1:0',
    ...(options.args ?? [])]
  const child = track(spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] }))
  let output = ''
  let stdout = ''
  let onOutput = () => undefined as void
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout = keepTail(stdout + chunk.toString('utf8'))
    output = keepTail(output + chunk.toString('utf8'))
    onOutput()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    output = keepTail(output + chunk.toString('utf8'))
  })
  const stop = async (graceMs = 10_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    const code = await exited(child)
    clearTimeout(timer)
    return code
  }
  const cleanup = async () => {
    await stop()
    scratch.remove()
  }
  const timeoutMs = options.readyTimeoutMs ?? 20_000
  const ready = await new Promise<RegExpExecArray | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), timeoutMs)
    const check = () => {
      const match = LISTENING.exec(stdout)
      if (match === null && child.exitCode === null && child.signalCode === null) return
      clearTimeout(timer)
      resolve(match)
    }
    onOutput = check
    child.once('exit', check)
    check()
  })
  if (ready === null) {
    await cleanup()
    throw new Error(`sluice broker did not say it was listening within ${timeoutMs} ms ` +
      `(exit ${child.exitCode ?? child.signalCode}): ${args.join(' ')}\n${output}`)
  }
  const port = Number(ready[2])
  return { port, bootstrap: `${ready[1]}:${port}`, dataDir: scratch.dir, child,
    output: () => output, stop, cleanup }
}

export interface ToolResult {
  code: number | null
  stdout: string
  stderr: string
}

export interface ToolOptions {
  input?: string | Buffer
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
  /** stdout kept (its tail); default 256 KiB, raise it to read a whole topic's dump */
  maxStdoutBytes?: number
}

/** The last `limit` bytes of a stream, gathered as chunks (no quadratic string growth). */
function tailCollector(limit: number): { add(chunk: Buffer): void; text(): string } {
  const chunks: Buffer[] = []
  let bytes = 0
  return {
    add(chunk) {
      chunks.push(chunk)
      bytes += chunk.byteLength
      while (bytes - chunks[0]!.byteLength >= limit) bytes -= chunks.shift()!.byteLength
    },
    text: () => {
      const all = Buffer.concat(chunks)
      return all.subarray(Math.max(0, all.byteLength - limit)).toString('utf8')
    },
  }
}

/** Runs a command to its exit; rejects (after SIGKILL) when it outlives `timeoutMs`. */
export function runTool(command: string, args: string[], options: ToolOptions = {})
  : Promise<ToolResult> {
  const timeoutMs = options.timeoutMs ?? 30_000
  const child = track(spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'],
    env: options.env ?? process.env }))
  const stdout = tailCollector(options.maxStdoutBytes ?? OUTPUT_KEEP_CHARS)
  const stderr = tailCollector(OUTPUT_KEEP_CHARS)
  child.stdout?.on('data', (chunk: Buffer) => stdout.add(chunk))
  child.stderr?.on('data', (chunk: Buffer) => stderr.add(chunk))
  child.stdin?.on('error', () => undefined)
  child.stdin?.end(options.input ?? '')
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${command} ${args.join(' ')} still running after ${timeoutMs} ms\n` +
        `stdout: ${stdout.text().slice(-4000)}\nstderr: ${stderr.text().slice(-4000)}`))
    }, timeoutMs)
    child.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout: stdout.text(), stderr: stderr.text() })
    })
  })
}

export interface RunningTool {
  child: ChildProcess
  stdout(): string
  stderr(): string
  /** Resolves once `check` holds, re-checked on every chunk of output; rejects after the bound. */
  waitFor(what: string, check: () => boolean, timeoutMs?: number): Promise<void>
  /** SIGTERM (the tool's clean shutdown), SIGKILL after `graceMs`; resolves to the exit code. */
  stop(graceMs?: number): Promise<number | null>
}

/** Starts a long-running command (a group member) whose output the test watches as it comes. */
export function startTool(command: string, args: string[]): RunningTool {
  const child = track(spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] }))
  let stdout = ''
  let stderr = ''
  const waiters = new Set<() => void>()
  const poke = () => { for (const waiter of [...waiters]) waiter() }
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout = keepTail(stdout + chunk.toString('utf8'))
    poke()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = keepTail(stderr + chunk.toString('utf8'))
    poke()
  })
  child.once('exit', poke)
  return {
    child, stdout: () => stdout, stderr: () => stderr,
    waitFor(what, check, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const done = (error?: Error) => {
          clearTimeout(timer)
          waiters.delete(waiter)
          if (error === undefined) resolve()
          else reject(error)
        }
        const waiter = () => {
          if (check()) done()
          else if (child.exitCode !== null || child.signalCode !== null) {
            done(new Error(`${command} exited (${child.exitCode ?? child.signalCode}) before ` +
              `${what}\nstdout: ${stdout.slice(-4000)}\nstderr: ${stderr.slice(-4000)}`))
          }
        }
        const timer = setTimeout(() => done(new Error(`timed out after ${timeoutMs} ms waiting ` +
          `for ${what}\nstdout: ${stdout.slice(-4000)}\nstderr: ${stderr.slice(-4000)}`)),
        timeoutMs)
        waiters.add(waiter)
        waiter()
      })
    },
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      const code = await exited(child)
      clearTimeout(timer)
      return code
    },
  }
}

/** Like runTool, but a non-zero exit is an error that shows what the tool printed. */
export async function runOk(command: string, args: string[], options: ToolOptions = {})
  : Promise<ToolResult> {
  const result = await runTool(command, args, options)
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.code}\n` +
      `stdout: ${result.stdout.slice(-2000)}\nstderr (repeats counted):\n` +
      `${countedLines(result.stderr).slice(-4000)}`)
  }
  return result
}

/** Distinct lines with how often each came, in first-seen order: a thousand failed deliveries
 *  read as one line. */
function countedLines(text: string): string {
  const counts = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line.trim() !== '') counts.set(line, (counts.get(line) ?? 0) + 1)
  }
  return [...counts].map(([line, n]) => (n > 1 ? `${n} × ${line}` : line)).join('\n')
}

/** One record as kcat -C -J prints it (headers as [name, value, name, value …]). */
export interface KcatRecord {
  topic: string
  partition: number
  offset: number
  tstype?: string
  ts?: number
  broker: number
  headers?: (string | null)[]
  key: string | null
  payload: string | null
}

export function parseJsonLines<T>(stdout: string): T[] {
  return stdout.split('\n').filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T)
}

/** Sorted by partition, then offset: the order a test compares in. */
export function byPartitionOffset<T extends { partition: number; offset: number }>(
  records: T[]): T[] {
  return [...records].sort((a, b) => a.partition - b.partition || a.offset - b.offset)
}
