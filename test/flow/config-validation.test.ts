// Proves Flume's validation by pruning (reference §1.4), case by case with its message: each bad
// component is dropped with a warning naming it and why, the agent refuses only when nothing
// usable is left, and --strict refuses on the first problem instead, naming file, line and key.
import { describe, expect, it } from 'vitest'
import { isSluiceError } from '../../src/errors.js'
import { describeProblem, FlowConfigError } from '../../src/flow/config/errors.js'
import { loadAgentText } from '../../src/flow/config/load.js'
import type { AgentGraph } from '../../src/flow/config/validate.js'
import { capturingLogger } from './flow-helpers.js'

const FILE = '/etc/sluice/agent.conf'
const BASE = [
  'a1.sources = r1',
  'a1.channels = c1',
  'a1.sinks = k1',
  'a1.sources.r1.type = seq',
  'a1.sources.r1.channels = c1',
  'a1.channels.c1.type = memory',
  'a1.sinks.k1.type = null',
  'a1.sinks.k1.channel = c1',
]

function load(lines: string[], strict = false, env: Record<string, string> = {}): AgentGraph {
  return loadAgentText(lines.join('\n'), FILE, { agentName: 'a1', strict, env,
    logger: capturingLogger() })
}

/** Loads leniently expecting a problem with `message`, then strictly expecting it thrown. */
function expectPruned(lines: string[], message: RegExp | string): AgentGraph {
  const pattern = typeof message === 'string' ? new RegExp(escapeRegExp(message)) : message
  const graph = load(lines)
  const text = graph.problems.map(describeProblem).join('\n')
  expect(text).toMatch(pattern)
  let thrown: unknown = null
  try {
    load(lines, true)
  } catch (error) {
    thrown = error
  }
  expect(thrown).toBeInstanceOf(FlowConfigError)
  expect((thrown as Error).message).toMatch(pattern)
  return graph
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

function refusal(lines: string[]): FlowConfigError {
  try {
    load(lines)
  } catch (error) {
    expect(isSluiceError(error, 'SLUICE_ERR_FLOW_CONFIG')).toBe(true)
    return error as FlowConfigError
  }
  throw new Error('expected the agent to be refused')
}

describe('pruning, case by case (reference §1.4)', () => {
  it('accepts the base configuration with no problems', () => {
    const graph = load(BASE)
    expect(graph.problems).toEqual([])
    expect([...graph.sources.keys(), ...graph.channels.keys(), ...graph.sinks.keys()])
      .toEqual(['r1', 'c1', 'k1'])
  })

  it('1: resolves ${VAR} and config filters before validating', () => {
    const graph = load([...BASE.slice(0, 5), 'a1.channels.c1.type = ${CHANNEL_TYPE}',
      'a1.configfilters = f1', 'a1.configfilters.f1.type = env',
      "a1.channels.c1.capacity = ${f1['CAPACITY']}", ...BASE.slice(6)],
    false, { CHANNEL_TYPE: 'memory', CAPACITY: '321' })
    expect(graph.channels.get('c1')?.capacity).toBe(321)
  })

  it('2: refuses an agent whose channels list is empty', () => {
    expect(refusal(BASE.filter((l) => !l.startsWith('a1.channels = '))).message)
      .toMatch(/agent\.conf:1: a1\.channels: agent a1 cannot start: a1\.channels lists no channel/)
  })

  it('2: removes a channel with no type, and refuses when no channel is left', () => {
    const lines = BASE.map((l) => l === 'a1.channels.c1.type = memory'
      ? 'a1.channels.c1.capacity = 10' : l)
    expect(refusal(lines).message).toMatch(/no valid channel is left/)
    const graph = expectPruned([...lines, 'a1.channels = c1 c2', 'a1.channels.c2.type = memory',
      'a1.sources.r1.channels = c1 c2', 'a1.sinks.k1.channel = c2'],
    /agent\.conf:6: a1\.channels\.c1\.type: Channel c1 has been removed: Component has no type/)
    expect([...graph.channels.keys()]).toEqual(['c2'])
  })

  it('2: removes a listed channel that has no properties at all', () => {
    expectPruned([...BASE, 'a1.channels = c1 c9'],
      /a1\.channels: Channel c9 has been removed: it is listed in a1\.channels but has no/)
  })

  it('3: keeps only the valid channels of a source and warns about the rest', () => {
    const graph = expectPruned([...BASE, 'a1.sources.r1.channels = c1 c2'],
      /a1\.sources\.r1\.channels: channel c2 is not a valid channel; source r1 keeps c1/)
    expect(graph.sources.get('r1')?.processor.channels.map((c) => c.name)).toEqual(['c1'])
  })

  it('3: removes a source with no channels or no type', () => {
    expectPruned(BASE.filter((l) => l !== 'a1.sources.r1.channels = c1'),
      /Source r1 has been removed: it has no channels/)
    expectPruned(BASE.filter((l) => l !== 'a1.sources.r1.type = seq'),
      /a1\.sources\.r1\.type: Source r1 has been removed: Component has no type/)
  })

  it('3: removes a source whose selector does not configure', () => {
    expectPruned([...BASE, 'a1.sources.r1.selector.type = multiplexing',
      'a1.sources.r1.selector.mapping.CA = c7'],
    'agent.conf:10: a1.sources.r1.selector.mapping.CA: Source r1 has been removed: ' +
      'error during configuration: names channel c7')
  })

  it('4: removes a sink with no channel or an invalid one', () => {
    expectPruned(BASE.filter((l) => l !== 'a1.sinks.k1.channel = c1'),
      /Sink k1 has been removed: it has no channel/)
    expectPruned([...BASE, 'a1.sinks.k1.channel = c5'],
      'agent.conf:9: a1.sinks.k1.channel: Sink k1 has been removed: its channel c5 is not a ' +
        'valid channel')
  })

  it('5: a sink belongs to one group only, and an empty group is removed', () => {
    const groups = [...BASE, 'a1.sinks = k1 k2', 'a1.sinks.k2.type = null',
      'a1.sinks.k2.channel = c1', 'a1.sinkgroups = g1 g2', 'a1.sinkgroups.g1.sinks = k1 k2',
      'a1.sinkgroups.g1.processor.type = failover', 'a1.sinkgroups.g2.sinks = k2']
    expectPruned(groups, 'a1.sinkgroups.g2.sinks: sink k2 is already in group g1; a sink ' +
      'belongs to one group only, left out of g2 [PROPERTY_PART_OF_ANOTHER_GROUP]')
    const graph = load(groups)
    expect(graph.problems.map(describeProblem).join('\n'))
      .toMatch(/Sinkgroup g2 has been removed: it has no valid sink/)
    expect(graph.groups.map((g) => `${g.name}:${g.processor.type}`)).toEqual(['g1:failover'])
  })

  it('5b: accepts Flume\'s processor class names as processor.type', () => {
    const groups = [...BASE, 'a1.sinks = k1 k2', 'a1.sinks.k2.type = null',
      'a1.sinks.k2.channel = c1', 'a1.sinkgroups = g1', 'a1.sinkgroups.g1.sinks = k1 k2',
      'a1.sinkgroups.g1.processor.type = org.apache.flume.sink.FailoverSinkProcessor']
    const graph = load(groups)
    expect(graph.groups.map((g) => `${g.name}:${g.processor.type}`)).toEqual(['g1:failover'])
  })

  it('6: refuses an agent left with no source and no sink', () => {
    const lines = BASE.map((l) => l.replace('type = seq', 'type = thrift')
      .replace('type = null', 'type = hbase'))
    const error = refusal(lines)
    expect(error.message).toMatch(/no valid source and no valid sink is left/)
  })

  it('7: removes a component of an unknown or unbuilt type', () => {
    expectPruned(BASE.map((l) => l.replace('type = null', 'type = hbase')),
      'a1.sinks.k1.type: Sink k1 has been removed: error during configuration: "hbase" is a ' +
        'Flume sink type sluice does not build')
    expectPruned(BASE.map((l) => l.replace('type = null', 'type = com.example.MySink')),
      /"com\.example\.MySink" is not a known sink type/)
  })

  it('7: removes a component whose properties do not parse, naming line and key', () => {
    expectPruned([...BASE, 'a1.channels = c1 c2', 'a1.channels.c2.type = memory',
      'a1.channels.c2.capacity = lots'],
    'agent.conf:11: a1.channels.c2.capacity: Channel c2 has been removed: error during ' +
      'configuration: expected an integer, got "lots"')
  })

  it('7: refuses a batch larger than the channel\'s transactionCapacity', () => {
    expectPruned([...BASE, 'a1.channels.c1.transactionCapacity = 10', 'a1.sinks.k1.batchSize = 50'],
      'agent.conf:10: a1.sinks.k1.batchSize: ' +
        "Sink k1 has been removed: Incompatible sink and channel settings defined. sink's batch " +
        'size is greater than the channels transaction capacity. Sink: k1, batch size = 50, ' +
        'channel c1, transaction capacity = 10')
    expectPruned([...BASE, 'a1.channels.c1.transactionCapacity = 10', 'a1.sinks.k1.batchSize = 10',
      'a1.sources.r1.batchSize = 11'],
      /Source r1 has been removed: Incompatible source and channel settings defined/)
  })

  it('7: names each sink type\'s own batch-size key when the batch does not fit', () => {
    const cases: [string[], string][] = [
      [['a1.sinks.k1.type = kafka', 'a1.sinks.k1.kafka.bootstrap.servers = 127.0.0.1:9092',
        'a1.sinks.k1.flumeBatchSize = 50'], 'a1.sinks.k1.flumeBatchSize'],
      [['a1.sinks.k1.type = hdfs', 'a1.sinks.k1.hdfs.path = /tmp/x',
        'a1.sinks.k1.hdfs.batchSize = 50'], 'a1.sinks.k1.hdfs.batchSize'],
      [['a1.sinks.k1.type = avro', 'a1.sinks.k1.hostname = localhost', 'a1.sinks.k1.port = 4141',
        'a1.sinks.k1.batch-size = 50'], 'a1.sinks.k1.batch-size'],
    ]
    for (const [sink, key] of cases) {
      const lines = [...BASE.filter((l) => !l.startsWith('a1.sinks.k1.type')),
        'a1.channels.c1.transactionCapacity = 10', ...sink]
      expectPruned(lines, new RegExp(`:${lines.length}: ${escapeRegExp(key)}: Sink k1 has been ` +
        'removed: Incompatible sink and channel settings'))
    }
  })

  it('7: a memory channel\'s transactionCapacity may not exceed its capacity', () => {
    expectPruned([...BASE, 'a1.channels = c1 c2', 'a1.channels.c2.type = memory',
      'a1.channels.c2.capacity = 5', 'a1.channels.c2.transactionCapacity = 6',
      'a1.sinks.k1.channel = c2'],
    'a1.channels.c2.transactionCapacity: Channel c2 has been removed: error during ' +
      'configuration: Transaction Capacity of memory channel cannot be higher than the ' +
      'capacity (6 > 5)')
  })

  it('7: removes a file channel whose directories another file channel owns', () => {
    const graph = expectPruned([...BASE, 'a1.channels = c1 c2 c3', 'a1.channels.c2.type = file',
      'a1.channels.c2.checkpointDir = /var/sluice/cp', 'a1.channels.c2.dataDirs = /var/sluice/d',
      'a1.channels.c3.type = FILE', 'a1.channels.c3.checkpointDir = /var/sluice/cp2',
      'a1.channels.c3.dataDirs = /var/sluice/d', 'a1.sources.r1.channels = c1 c2 c3'],
    'a1.channels.c3: Channel c3 has been removed: directory /var/sluice/d is already used by ' +
      'channel c2')
    expect([...graph.channels.keys()]).toEqual(['c1', 'c2'])
  })

  it('7: removes a channel with no components connected', () => {
    const graph = expectPruned([...BASE, 'a1.channels = c1 c3', 'a1.channels.c3.type = memory'],
      /a1\.channels\.c3: Channel c3 has been removed: it has no components connected/)
    expect([...graph.channels.keys()]).toEqual(['c1'])
  })

  it('rejects the user guide\'s multiplexing example, whose channels have no type', () => {
    const error = refusal([
      'a1.sources = avro-AppSrv-source1',
      'a1.sinks = hdfs-Cluster1-sink1 avro-forward-sink2',
      'a1.channels = mem-channel-1 file-channel-2',
      'a1.sources.avro-AppSrv-source1.channels = mem-channel-1 file-channel-2',
      'a1.sinks.hdfs-Cluster1-sink1.channel = mem-channel-1',
      'a1.sinks.avro-forward-sink2.channel = file-channel-2',
      'a1.sources.avro-AppSrv-source1.selector.type = multiplexing',
      'a1.sources.avro-AppSrv-source1.selector.header = State',
      'a1.sources.avro-AppSrv-source1.selector.mapping.CA = mem-channel-1',
      'a1.sources.avro-AppSrv-source1.selector.default = mem-channel-1',
    ])
    expect(error.message).toMatch(/agent a1 cannot start: no valid channel is left/)
  })
})

describe('the properties format and the key grammar', () => {
  it('ignores empty values and keys without an agent, with Flume\'s codes', () => {
    const graph = load([...BASE, 'a1.sinks.k1.batchSize =', 'orphan = 1'])
    const text = graph.problems.map(describeProblem).join('\n')
    expect(text).toContain('agent.conf:9: a1.sinks.k1.batchSize: the value is empty; ignored ' +
      '[PROPERTY_VALUE_NULL]')
    expect(text).toMatch(/agent\.conf:10: orphan: the key has no agent name .*\[AGENT_NAME_MISS/)
  })

  it('reads Java properties: last duplicate wins, no inline comments, continuations', () => {
    const graph = load([...BASE, 'a1.channels.c1.capacity = 500', 'a1.channels.c1.capacity: 700',
      'a1.sinks.k1.batchSize \\', '    = 3', '! a bang comment', '# a hash comment'])
    expect(graph.channels.get('c1')?.capacity).toBe(700)
    expect(graph.sinks.get('k1')?.batchSize).toBe(3)
    expect(() => load([...BASE, 'a1.channels.c1.capacity = 5 # five'], true))
      .toThrow(/expected an integer, got "5 # five"/)
  })

  it('warns about a property no component reads (a typo), and --strict refuses it', () => {
    const graph = expectPruned([...BASE, 'a1.channels.c1.capcity = 5'],
      'agent.conf:9: a1.channels.c1.capcity: unknown property of channel c1; ignored ' +
        '[INVALID_PROPERTY]')
    expect(graph.channels.get('c1')?.capacity).toBe(100)
  })

  it('takes Flume file-channel checkpoint tuning keys without a problem', () => {
    const graph = load([...BASE.filter((l) => !l.startsWith('a1.channels.c1.type')),
      'a1.channels.c1.type = file', 'a1.channels.c1.checkpointDir = /tmp/cp',
      'a1.channels.c1.dataDirs = /tmp/data', 'a1.channels.c1.checkpointInterval = 30000',
      'a1.channels.c1.useDualCheckpoints = false'], true)
    expect(graph.problems).toEqual([])
  })

  it('reads the exec source\'s max-line-length (sluice\'s bound) and rejects a bad one', () => {
    const exec = (value: string) => [...BASE.filter((l) => !l.startsWith('a1.sources.r1.type')),
      'a1.sources.r1.type = exec', 'a1.sources.r1.command = cat',
      `a1.sources.r1.max-line-length = ${value}`]
    expect(load(exec('1024'), true).problems).toEqual([])
    expectPruned(exec('0'), /max-line-length/)
  })

  it('matches type aliases case-insensitively and accepts Flume class names', () => {
    const graph = load(BASE.map((l) => l.replace('type = memory', 'type = MEMORY')
      .replace('type = seq', 'type = org.apache.flume.source.SequenceGeneratorSource')
      .replace('type = null', 'type = Null')))
    expect(graph.problems).toEqual([])
    expect(graph.channels.get('c1')?.type).toBe('memory')
  })

  it('names file, line and key for bad input', () => {
    expect(() => load([...BASE, 'a1.sinks.k1.channel = c1\\u12'], true))
      .toThrow(/agent\.conf:9: .*Malformed \\uxxxx encoding/)
    expect(() => load(BASE.map((l) => l.replace('type = seq', 'type = netcat')), true))
      .toThrow(/agent\.conf:4: a1\.sources\.r1\.port: .*is required/)
    expect(() => load([...BASE, 'a1.sources.r1.batchSize = -4'], true))
      .toThrow(/agent\.conf:9: a1\.sources\.r1\.batchSize: .*must be between 1 and/)
    expect(() => loadAgentText(BASE.join('\n'), FILE, { agentName: 'a2',
      logger: capturingLogger() }))
      .toThrow('agent.conf:1: a2.*: no agent named a2 in this file (agents found: a1)')
    expect(() => load([...BASE, 'a1.sink.k1.type = null'], true))
      .toThrow(/agent\.conf:9: a1\.sink\.k1\.type: unknown key/)
  })
})
