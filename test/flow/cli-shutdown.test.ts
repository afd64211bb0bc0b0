// Proves the `sluice agent` command's modes and its clean shutdown: --validate prints the
// resolved graph with the pruning warnings and exits 0; --strict refuses on the first problem,
// naming file, line and key, with exit code 1; and SIGTERM in mid-stream stops an
// http → file → file_roll agent cleanly (exit 0): after a restart every event answered 200
// reaches the sink, with no duplicate (a clean stop commits or rolls back every transaction).
import { writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { tempDir, until } from '../helpers.js'
import { channelEmpty, httpSourcePort, killLeftoverProcesses, runCli } from './cli-process.js'
import { linesOfFiles, tallyDelivery } from './delivery-tally.js'
import { fileChannelProperties, HTTP_AGENT_A1, postEvents } from './flow-helpers.js'

const scratch = tempDir('sluice-cli-agent-')
afterAll(async () => {
  await killLeftoverProcesses()
  scratch.remove()
})

const PRUNED = `a1.sources = r1
a1.channels = c1 c2
a1.sinks = k1
a1.sources.r1.type = seq
a1.sources.r1.channels = c1 c2
a1.channels.c1.type = memory
a1.sinks.k1.type = null
a1.sinks.k1.channel = c1
`

it('--validate prints the graph and the warnings; --strict refuses naming file, line, key',
  async () => {
    const file = path.join(scratch.dir, 'pruned.conf')
    writeFileSync(file, PRUNED)
    const validate = runCli(['agent', '-f', 'pruned.conf', '-c', scratch.dir, '-n', 'a1',
      '--validate'])
    expect(await validate.exited).toBe(0)
    expect(validate.output()).toContain('source r1: seq → c1 selector=replicating')
    expect(validate.output()).toContain('runner k1: default [k1]')
    expect(validate.output())
      .toContain('pruned.conf:2: a1.channels: Channel c2 has been removed: it is listed')
    const strict = runCli(['agent', '--conf-file', file, '--name', 'a1', '--strict'])
    expect(await strict.exited).toBe(1)
    expect(strict.output()).toMatch(/sluice: SLUICE_ERR_FLOW_CONFIG: .*pruned\.conf:2: /)
    expect(strict.output()).toContain('a1.channels: Channel c2 has been removed')
  })

it('stops cleanly on SIGTERM mid-stream: answered, durable, no loss', async () => {
  const conf = path.join(scratch.dir, 'http.conf')
  writeFileSync(conf, `${HTTP_AGENT_A1}${fileChannelProperties('a1.channels.c1', scratch.dir)}
a1.sinks.k1.type = file_roll
a1.sinks.k1.channel = c1
a1.sinks.k1.sink.directory = ${scratch.dir}/out
`)
  const acked: string[] = []
  const answered = new Map<number | string, number>()
  for (const round of [0, 1]) {
    // Round 1 asks for metrics the way Flume users do, with -D monitoring properties.
    const agent = runCli(['agent', '-f', conf, '-n', 'a1', ...round === 0
      ? ['--metrics-port', '0'] : ['-Dflume.monitoring.type=http', '-Dflume.monitoring.port=0']])
    const metricsPort = Number((await agent.waitFor(/metrics on port (\d+)/,
      'the agent to start'))[1])
    const port = httpSourcePort(agent.output())
    if (round === 1) {
      await until('the replay to drain', () => channelEmpty(metricsPort, 'c1'))
      expect(await agent.stop('SIGTERM')).toBe(0)
      break
    }
    let stopping = false
    const clients = Array.from({ length: 3 }, async (_, c) => {
      for (let seq = 0; !stopping; seq++) {
        const bodies = Array.from({ length: 10 }, (_, i) => `c${c}-s${seq}-e${i}`)
        const status = await postEvents(port, bodies.map((body) => ({ body })))
          .catch((error: NodeJS.ErrnoException) => error.code ?? 'error')
        answered.set(status, (answered.get(status) ?? 0) + 1)
        if (status === 200) acked.push(...bodies)
        if (status !== 200) stopping = true
      }
    })
    await until('some events accepted', () => acked.length >= 300)
    expect(await agent.stop('SIGTERM')).toBe(0)
    stopping = true
    await Promise.all(clients)
    expect(agent.output()).toContain('agent a1 stopped')
  }
  const lines = linesOfFiles(path.join(scratch.dir, 'out'))
  const { lost, duplicates } = tallyDelivery(acked, lines)
  console.log(`answers ${JSON.stringify([...answered])}, ${acked.length} acknowledged, ` +
    `${lines.length} delivered`)
  expect(lost).toEqual([])
  expect(duplicates).toBe(0)
})
