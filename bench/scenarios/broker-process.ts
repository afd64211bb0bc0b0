/**
 * The broker under test: `sluice broker` started as a child process of the compiled CLI (what a
 * user runs), on a fresh data directory and an ephemeral loopback port, and the one-partition
 * topic a case produces to and fetches from.
 *
 * The child is ready once it prints `sluice broker listening on <host:port>` (bounded at 20 s);
 * stop() sends SIGTERM and, 15 s later, SIGKILL, and resolves once it has exited.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Kafka, logLevel } from 'kafkajs'
import type { Durability } from '../../src/engine/types.js'

/** The compiled CLI, from dist/bench/scenarios/ or (under vitest) from bench/scenarios/. */
const CLI_PATH = fileURLToPath(new URL(import.meta.url.endsWith('.ts')
  ? '../../dist/src/cli/main.js' : '../../src/cli/main.js', import.meta.url))

export interface BrokerChild {
  child: ChildProcess
  pid: number
  bootstrap: string
  stop(): Promise<void>
}

export async function startBrokerChild(dataDir: string, durability: Durability)
  : Promise<BrokerChild> {
  const child = spawn(process.execPath, [CLI_PATH, 'broker', '--data-dir', dataDir,
    '--listen', '127.0.0.1:0', '--default-durability', durability],
  { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const listening = await new Promise<string | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), 20_000)
    const check = () => {
      const match = /sluice broker listening on (\S+:\d+)\n/.exec(output)
      if (match === null && child.exitCode === null) return
      clearTimeout(timer)
      resolve(match?.[1] ?? null)
    }
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); check() })
    child.stderr.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8192)
    })
    child.once('exit', check)
  })
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
    await exited
    clearTimeout(timer)
  }
  if (listening === null || child.pid === undefined) {
    await stop()
    throw new Error(`bench: sluice broker did not start: ${output}`)
  }
  return { child, pid: child.pid, bootstrap: listening, stop }
}

export async function createTopic(bootstrap: string, topic: string, durability: Durability)
  : Promise<void> {
  const admin = new Kafka({ clientId: 'sluice-bench-admin', brokers: [bootstrap],
    logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1,
      configEntries: [{ name: 'sluice.durability', value: durability }] }] })
  } finally {
    await admin.disconnect()
  }
}
