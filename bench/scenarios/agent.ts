/**
 * Agents end to end: an `http | netcat → memory | file channel → file_roll` agent (Flume's own
 * properties, embedded in this process) fed by clients posting Flume JSON batches over HTTP or
 * writing lines over TCP (netcat, batchSize 100, one OK per line). The load, the priming, the
 * closed and open loops and the figures are the shared harness's (bench/scenarios/
 * agent-harness.ts); this file says which agent runs.
 *
 * For the file channel the acknowledgement waits for the fsync (group-committed), so its events/s
 * sits beside the disk's `seq-write + fdatasync` limit; the memory channel beside memcpy. The
 * load generator shares the two cores with the agent, which the figures include.
 *
 * Run: `sluice bench --scenario agent` (also part of the quick set); cases come from agentPlan()
 * in bench/plan.ts, and bench/runner.ts writes the results with everything else's.
 */
import { mkdirSync, rmSync } from 'node:fs'
import * as path from 'node:path'
import type { BatchSink } from '../../src/flow/sinks/sink.js'
import type { HttpSource } from '../../src/flow/sources/http-source.js'
import type { NetcatSource } from '../../src/flow/sources/netcat-source.js'
import { DISK_LIMIT_NAMES } from '../limits/disk.js'
import { MEMCPY_LIMIT, sizeLabel } from '../limits/cpu.js'
import { findLimit } from '../limits/index.js'
import type { Limit, ScenarioResult } from '../results.js'
import {
  fileChannel, fileRollSink, httpSource, memoryChannel, netcatSource, startBenchAgent,
} from './agent-conf.js'
import { measurePath, pathResult, type AgentPhase } from './agent-harness.js'

export type { AgentPhase } from './agent-harness.js'

export interface AgentCase {
  source: 'http' | 'netcat'
  channel: 'memory' | 'file'
  eventBytes: number
}

export function agentCaseName(c: AgentCase): string {
  return `agent/${c.source}/${c.channel}/file_roll/${sizeLabel(c.eventBytes)}`
}

async function runAgentCase(c: AgentCase, phase: AgentPhase, dir: string, limits: Limit[])
  : Promise<ScenarioResult> {
  mkdirSync(dir, { recursive: true })
  const agent = await startBenchAgent('a1', {
    source: c.source === 'http' ? httpSource() : netcatSource(c.eventBytes),
    channel: c.channel === 'memory' ? memoryChannel() : fileChannel(dir),
    sink: fileRollSink(dir),
  })
  try {
    const measured = await measurePath({ ingressKind: c.source,
      ingress: agent.graph.sources.get('r1') as HttpSource | NetcatSource,
      egress: agent.graph.sinks.get('k1') as BatchSink }, c.eventBytes, phase)
    return pathResult({ name: agentCaseName(c), eventBytes: c.eventBytes,
      params: { source: c.source, channel: c.channel, sink: 'file_roll' },
      limit: findLimit(limits, c.channel === 'file' ? DISK_LIMIT_NAMES.writeSync : MEMCPY_LIMIT),
      latencyFrom: "source acknowledgement (put committed) to the sink's write" }, phase,
    measured)
  } finally {
    await agent.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

export async function runAgentScenarios(cases: readonly AgentCase[], phase: AgentPhase,
  dataRoot: string, limits: Limit[], onCase: (name: string) => void)
  : Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = []
  for (const [i, c] of cases.entries()) {
    onCase(agentCaseName(c))
    results.push(await runAgentCase(c, phase, path.join(dataRoot, `agent-${i}`), limits))
  }
  return results
}
