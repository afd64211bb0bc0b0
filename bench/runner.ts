/**
 * Runs a bench plan end to end: measures the machine's limits, runs the engine scenarios on one
 * embedded `Log` in a scratch directory, then the agent pipelines and (in --full, or when
 * `--scenario broker` asks) the broker with real Kafka clients, then the peers (Redis Streams,
 * NATS JetStream) beside the sluice cases they compare with, lists what was skipped and why,
 * checks the results
 * (validateResults), and writes `<outRoot>/<timestamp>/results.json` and `report.html`.
 *
 * A scenario that throws fails the run: a bench that silently drops a broken case would report
 * numbers for a system that does not work.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { measureLimits } from './limits/index.js'
import { runMicro } from './micro/micro.js'
import { runPeerScenarios } from './peers/peers.js'
import { buildPlan, filterPlan, planSteps, type BenchPlan } from './plan.js'
import type { Progress } from './progress.js'
import { renderHtml } from './report/html.js'
import {
  RESULTS_SCHEMA, validateResults, type BenchMode, type BenchResults, type Limit,
  type ScenarioResult, type Skipped,
} from './results.js'
import { runAgentScenarios } from './scenarios/agent.js'
import { runAgentPathScenarios } from './scenarios/agent-paths.js'
import { appendCaseName, runAppendCase } from './scenarios/append.js'
import { runBrokerScenarios } from './scenarios/broker.js'
import { kafkaLatencyCaseName, runKafkaLatencyCase } from './scenarios/broker-latency.js'
import { settle, withBenchLog, type BenchLog } from './scenarios/engine.js'
import { latencyCaseName, runLatencyCase } from './scenarios/latency.js'
import { readCaseName, runReadCase } from './scenarios/read.js'

export interface RunOptions {
  mode: BenchMode
  scenario: string | null
  /** results go to <outRoot>/<timestamp>/ */
  outRoot: string
  /** Scratch space for the engine and the disk limits; default a new dir in os.tmpdir(). */
  dataRoot?: string
  /** Replaces the mode's plan (the self-test uses a tiny one). */
  plan?: BenchPlan
  /** Makes the progress reporter once the number of steps is known. */
  progress: (totalSteps: number) => Progress
}

export interface RunOutput {
  results: BenchResults
  dir: string
  jsonPath: string
  htmlPath: string
}

function timestampDirName(date: Date): string {
  return date.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')
}

function machineInfo(dataDir: string): BenchResults['machine'] {
  const cpus = os.cpus()
  return { cpus: os.availableParallelism(), cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    totalMemoryBytes: os.totalmem(), node: process.version,
    platform: `${os.platform()} ${os.release()}`, dataDir }
}

function hasEngineWork(plan: BenchPlan): boolean {
  return plan.append.cases.length + plan.read.cases.length + plan.latency.cases.length > 0
    || plan.micro !== null
}

/**
 * The agents (one agent, then the avro / kafka / hdfs paths), latency over the Kafka protocol
 * and the broker: each runs its own processes and directories under dataRoot.
 */
async function runPipelineScenarios(plan: BenchPlan, dataRoot: string, limits: Limit[],
  progress: Progress): Promise<{ scenarios: ScenarioResult[]; skipped: Skipped[] }> {
  const scenarios = await runAgentScenarios(plan.agent.cases, plan.agent.phase,
    path.join(dataRoot, 'agents'), limits, (name) => progress.step(name))
  scenarios.push(...await runAgentPathScenarios(plan.agentPaths.cases, plan.agent.phase,
    path.join(dataRoot, 'agent-paths'), limits, (name) => progress.step(name)))
  for (const c of plan.kafkaLatency.cases) {
    scenarios.push(await runKafkaLatencyCase(c, plan.kafkaLatency.phase,
      path.join(dataRoot, 'kafka-latency'),
      (rate) => progress.step(`${kafkaLatencyCaseName(c)} @ ${rate}/s`)))
  }
  if (plan.broker.cases.length === 0) return { scenarios, skipped: [] }
  const brokerRoot = path.join(dataRoot, 'broker')
  mkdirSync(brokerRoot, { recursive: true })
  const broker = await runBrokerScenarios(plan.broker.cases, plan.broker.phase, brokerRoot,
    limits, (label) => progress.step(label))
  return { scenarios: [...scenarios, ...broker.scenarios], skipped: broker.skipped }
}

/**
 * Each case gets a fresh `Log` in its own directory, removed afterwards: cases cannot slow each
 * other through leftover files, background deletes or warm shard state.
 */
async function runEngineScenarios(plan: BenchPlan, dataRoot: string, limits: Limit[],
  progress: Progress): Promise<ScenarioResult[]> {
  const scenarios: ScenarioResult[] = []
  let caseNumber = 0
  const fresh = async <T>(body: (bench: BenchLog) => Promise<T>) => {
    await settle()
    return withBenchLog(dataRoot, `case-${caseNumber++}`, body)
  }
  for (const c of plan.append.cases) {
    progress.step(appendCaseName(c))
    scenarios.push(await fresh((bench) => runAppendCase(bench, c, plan.append.phase, limits)))
  }
  for (const c of plan.read.cases) {
    progress.step(readCaseName(c))
    scenarios.push(await fresh((bench) => runReadCase(bench, c, plan.read.phase, limits)))
  }
  for (const c of plan.latency.cases) {
    scenarios.push(await fresh((bench) => runLatencyCase(bench, c, plan.latency.phase, limits,
      (rate) => progress.step(`${latencyCaseName(c)} push + pull @ ${rate}/s`))))
  }
  if (plan.micro !== null) {
    const micro = plan.micro
    progress.step('micro (tinybench)')
    scenarios.push(await fresh((bench) => runMicro(bench, micro)))
  }
  return scenarios
}

export function writeResults(results: BenchResults, outRoot: string, startedAt: Date)
  : Omit<RunOutput, 'results'> {
  validateResults(results)
  let dir = path.join(outRoot, timestampDirName(startedAt))
  for (let n = 2; ; n++) {
    try {
      mkdirSync(dir, { recursive: false })
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        mkdirSync(outRoot, { recursive: true })
      } else if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        dir = path.join(outRoot, `${timestampDirName(startedAt)}-${n}`)
      } else {
        throw error
      }
    }
  }
  const jsonPath = path.join(dir, 'results.json')
  const htmlPath = path.join(dir, 'report.html')
  writeFileSync(jsonPath, `${JSON.stringify(results, null, 2)}\n`)
  writeFileSync(htmlPath, renderHtml(results))
  return { dir, jsonPath, htmlPath }
}

export async function runBench(options: RunOptions): Promise<RunOutput> {
  const startedAt = new Date()
  const plan = filterPlan(options.plan ?? buildPlan(options.mode), options.scenario)
  const ownsDataRoot = options.dataRoot === undefined
  const dataRoot = options.dataRoot ?? mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-'))
  const skipped: Skipped[] = []
  const progress = options.progress(planSteps(plan))
  try {
    progress.step('machine limits')
    const sizes = [...plan.append.cases.map((c) => c.recordBytes), 100]
    const limits = measureLimits(plan.limits, path.join(dataRoot, 'limits'), sizes)
    const scenarios = hasEngineWork(plan)
      ? await runEngineScenarios(plan, dataRoot, limits, progress) : []
    const pipelines = await runPipelineScenarios(plan, dataRoot, limits, progress)
    scenarios.push(...pipelines.scenarios)
    skipped.push(...pipelines.skipped)
    const peers = await runPeerScenarios(plan.peers.cases, plan.peers.phase,
      { dataRoot, limits, scenarios, step: (label) => progress.step(label) })
    skipped.push(...peers.skipped)
    for (const skip of skipped) progress.note(`skipped ${skip.name}: ${skip.reason}`)
    const results: BenchResults = {
      schema: RESULTS_SCHEMA, startedAt: startedAt.toISOString(),
      durationMs: Date.now() - startedAt.getTime(), mode: plan.mode,
      scenarioFilter: options.scenario, machine: machineInfo(dataRoot), limits, scenarios,
      skipped,
    }
    return { results, ...writeResults(results, options.outRoot, startedAt) }
  } finally {
    if (ownsDataRoot) rmSync(dataRoot, { recursive: true, force: true })
    progress.done()
  }
}
