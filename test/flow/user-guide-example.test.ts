// Proves that Flume's own single-node example (user guide, "A simple example": netcat → memory →
// logger) runs unchanged: every line sent over TCP is answered OK and logged in Flume's
// `Event: { headers:{} body: <hex> <text> }` shape, both embedded and through `sluice agent`.
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import * as net from 'node:net'
import * as path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { Agent } from '../../src/flow/agent.js'
import { repoRoot, tempDir, until } from '../helpers.js'
import { LineClient, capturingLogger } from './flow-helpers.js'

const EXAMPLE = `# example.conf: A single-node Flume configuration

# Name the components on this agent
a1.sources = r1
a1.sinks = k1
a1.channels = c1

# Describe/configure the source
a1.sources.r1.type = netcat
a1.sources.r1.bind = localhost
a1.sources.r1.port = 44444

# Describe the sink
a1.sinks.k1.type = logger

# Use a channel which buffers events in memory
a1.channels.c1.type = memory
a1.channels.c1.capacity = 1000
a1.channels.c1.transactionCapacity = 100

# Bind the source and sink to the channel
a1.sources.r1.channels = c1
a1.sinks.k1.channel = c1
`

const scratch = tempDir('sluice-user-guide-')
afterAll(() => scratch.remove())
const LINES = ['Hello world!', 'second line', 'x'.repeat(40)]

function expectLogged(output: string): void {
  expect(output).toContain('Event: { headers:{} body: 48 65 6C 6C 6F 20 77 6F 72 6C 64 21 ' +
    '            Hello world! }')
  expect(output).toContain('Event: { headers:{} body: 73 65 63 6F 6E 64 20 6C 69 6E 65 ')
  // maxBytesToLog defaults to 16: a 40-byte body shows its first 16 bytes only.
  expect(output).toContain(`body: ${' 78'.repeat(16).slice(1)} ${'x'.repeat(16)} }`)
}

/**
 * The example binds the fixed port 44444, which sits inside Linux's ephemeral range: on a busy
 * machine another process's outgoing loopback connection can hold it for a moment. Wait
 * (bounded) until it can be bound, detected by binding it, rather than fail on a stranger.
 */
async function until44444IsFree(): Promise<void> {
  await until('port 44444 to be free', () => new Promise<boolean>((resolve) => {
    const probe = net.createServer()
    probe.once('error', () => resolve(false))
    probe.listen(44444, 'localhost', () => probe.close(() => resolve(true)))
  }), 50_000)
}

const FIXED_PORT_TEST_TIMEOUT_MS = 120_000

it('runs embedded: each line sent over TCP is acknowledged OK and logged', async () => {
  const logger = capturingLogger()
  const agent = Agent.fromText(EXAMPLE, 'example.conf', { agentName: 'a1', logger })
  expect(agent.graph.problems).toEqual([])
  await until44444IsFree()
  await agent.start()
  try {
    const client = await LineClient.connect(44444, 'localhost')
    client.send(LINES.map((line) => `${line}\n`).join(''))
    expect(await client.replyLines(3)).toEqual(['OK', 'OK', 'OK'])
    client.close()
    await until('three events logged', () =>
      logger.lines.filter((line) => line.startsWith('Event:')).length === 3)
    expectLogged(logger.lines.join('\n'))
  } finally {
    await agent.stop()
  }
}, FIXED_PORT_TEST_TIMEOUT_MS)

it('runs unchanged through `sluice agent --conf-file example.conf --name a1`', async () => {
  const file = path.join(scratch.dir, 'example.conf')
  writeFileSync(file, EXAMPLE)
  await until44444IsFree()
  const child = spawn(process.execPath, [path.join(repoRoot, 'dist/src/cli/main.js'), 'agent',
    '--conf-file', file, '--name', 'a1'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  try {
    await until('the agent to start', () => output.includes('agent a1 started'), 20_000)
    const client = await LineClient.connect(44444, 'localhost')
    client.send(LINES.map((line) => `${line}\n`).join(''))
    expect(await client.replyLines(3)).toEqual(['OK', 'OK', 'OK'])
    client.close()
    await until('three events logged', () => (output.match(/Event: /g) ?? []).length === 3)
    expectLogged(output)
  } finally {
    child.kill('SIGINT')
  }
  expect(await exited).toBe(0)
  expect(output).toContain('SIGINT: stopping agent a1')
}, FIXED_PORT_TEST_TIMEOUT_MS)
