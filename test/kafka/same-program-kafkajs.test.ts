// Proves the client issue's "same program twice": the keyed produce / consume / commit / restart /
// resume program that test/client/same-program.test.ts runs on embedded sluice runs unchanged on
// kafkajs's own `new Kafka({ brokers })` against `sluice broker` semantics (sluice.listen), and
// gives the same answers: every message once, keys on kafkajs's partitions, resumed after a
// broker restart where the group committed.
import { afterEach, expect, it } from 'vitest'
import { Sluice, logLevel } from '../../src/index.js'
import { tempDir } from '../helpers.js'
import { expectProgramResult, runKeyedProgram, type KafkaLike } from '../client/same-program.js'
import { kafkaFor } from './kafkajs-helpers.js'

const scratch = tempDir('sluice-same-program-')
let sluice: Sluice | null = null
afterEach(async () => {
  await sluice?.close()
  scratch.remove()
})

/** A broker over the scratch directory; the port is kept across restarts, as a real one's. */
async function startBroker(port = 0): Promise<{ kafka: KafkaLike; port: number }> {
  sluice = new Sluice({ dataDir: scratch.dir, shards: 2, logLevel: logLevel.NOTHING })
  const broker = await sluice.listen({ port })
  return { kafka: kafkaFor(broker.port, 'same-program'), port: broker.port }
}

it('runs the keyed program on kafkajs over the wire, across a broker restart', async () => {
  let port = 0
  const result = await runKeyedProgram(async () => {
    const started = await startBroker()
    port = started.port
    return started.kafka
  }, async () => {
    await sluice!.close()
    return (await startBroker(port)).kafka
  }, 30_000)
  expectProgramResult(result)
}, 90_000)
