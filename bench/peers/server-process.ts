/**
 * A peer's server as the bench runs it: a child process of Debian's binary on loopback, in a
 * fresh temporary data directory, ready once its log prints the line that says so (bounded), and
 * stopped with SIGTERM (SIGKILL after a grace period) — always, even when a case fails, since
 * `withServer` stops it in a `finally` and removes the directory.
 *
 * Ports: nats-server picks a free one itself (`listen: 127.0.0.1:-1`) and prints it; redis-server
 * cannot, so freePort() asks the kernel for one and the start is retried (bounded) if another
 * process takes it first.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import * as path from 'node:path'
import { SluiceError } from '../../src/errors.js'

const READY_TIMEOUT_MS = 20_000
const STOP_GRACE_MS = 10_000
/** Kept of a server's output, for the error when it does not start. */
const OUTPUT_TAIL_CHARS = 4096

export interface ServerChild {
  pid: number
  /** host:port the server listens on */
  address: string
  host: string
  port: number
  dataDir: string
  /** the server's log so far (its tail) */
  output(): string
  stop(): Promise<void>
}

export interface ServerSpec {
  /** what the error names: "redis-server" */
  label: string
  executable: string
  args: string[]
  /** matched against the output; group 1, if any, is the port the server listens on */
  ready: RegExp
  /** the port it was told to listen on, when it does not print one */
  port?: number
}

/** A port that was free a moment ago (the kernel's choice). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, host, () => {
      const address = probe.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      probe.close(() => resolve(port))
    })
  })
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
  return exited.finally(() => clearTimeout(timer))
}

/** Starts the server and waits for its ready line; a server that exits or stalls is an error. */
export async function startServer(spec: ServerSpec, dataDir: string): Promise<ServerChild> {
  const child = spawn(spec.executable, spec.args, { cwd: dataDir,
    stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const port = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), READY_TIMEOUT_MS)
    const onOutput = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS)
      const match = spec.ready.exec(output)
      if (match === null) return
      clearTimeout(timer)
      resolve(match[1] !== undefined ? Number(match[1]) : spec.port ?? null)
    }
    child.stdout.on('data', onOutput)
    child.stderr.on('data', onOutput)
    child.once('error', (error) => {
      output += `\n${error.message}`
      clearTimeout(timer)
      resolve(null)
    })
    // 'close', not 'exit': by then its last words (the reason it quit) have been read.
    child.once('close', () => { clearTimeout(timer); resolve(null) })
  })
  if (port === null || child.pid === undefined) {
    await stopChild(child)
    throw new SluiceError('SLUICE_ERR_INVALID_CONFIG', `bench: ${spec.label} did not start ` +
      `(${spec.executable} ${spec.args.join(' ')}): ${output.trim().slice(-1000)}`)
  }
  const host = '127.0.0.1'
  return { pid: child.pid, address: `${host}:${port}`, host, port, dataDir,
    output: () => output, stop: () => stopChild(child) }
}

/**
 * Runs `body` against a fresh server in a new directory under `root`, then stops the server and
 * removes the directory, whatever `body` did. `spec` is built per attempt (it may pick a port);
 * a start that fails is retried up to `attempts` times.
 */
export async function withServer<T>(root: string,
  makeSpec: (dataDir: string) => Promise<ServerSpec>,
  body: (server: ServerChild) => Promise<T>, attempts = 3): Promise<T> {
  mkdirSync(root, { recursive: true })
  const dataDir = mkdtempSync(path.join(root, 'peer-'))
  try {
    let server: ServerChild | null = null
    for (let attempt = 1; server === null; attempt++) {
      try {
        server = await startServer(await makeSpec(dataDir), dataDir)
      } catch (error) {
        if (attempt >= attempts) throw error
      }
    }
    try {
      return await body(server)
    } finally {
      await server.stop()
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
}
