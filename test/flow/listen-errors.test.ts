// Proves that a source or metrics server that cannot bind at start fails the agent's start with
// a typed SLUICE_ERR_FLOW_CONFIG naming the component and the address, not a raw socket error.
import * as net from 'node:net'
import { afterEach, expect, it } from 'vitest'
import { Agent } from '../../src/flow/agent.js'
import { listenServer } from '../../src/flow/listen.js'
import { capturingLogger } from './flow-helpers.js'

const servers: net.Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))))
})

async function takenPort(): Promise<number> {
  const server = net.createServer()
  servers.push(server)
  await listenServer(server, 0, '127.0.0.1', 'test')
  return (server.address() as net.AddressInfo).port
}

it('refuses to start a netcat source on a port in use, naming source and address', async () => {
  const port = await takenPort()
  const agent = Agent.fromText(['a1.sources = r1', 'a1.channels = c1', 'a1.sinks = k1',
    'a1.sources.r1.type = netcat', 'a1.sources.r1.bind = 127.0.0.1',
    `a1.sources.r1.port = ${port}`, 'a1.sources.r1.channels = c1',
    'a1.channels.c1.type = memory', 'a1.sinks.k1.type = null', 'a1.sinks.k1.channel = c1',
    ''].join('\n'), 'ports.conf', { agentName: 'a1', logger: capturingLogger() })
  await expect(agent.start()).rejects.toMatchObject({ code: 'SLUICE_ERR_FLOW_CONFIG',
    message: `source r1: cannot listen on 127.0.0.1:${port}: the address is already in use ` +
      '(EADDRINUSE)' })
  await agent.stop()
})
