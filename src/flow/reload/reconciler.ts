/**
 * Applies a ReloadPlan to a running agent, in agent.ts's order:
 *
 *   stop   the sources to restart or remove, then their sink runners (each stops its sinks),
 *          then the channels to rebuild or remove, so nothing is put to or taken from a
 *          channel while it goes;
 *   start  rebuilt and added channels (a rebuilt memory channel first receives the old one's
 *          events, carry-over.ts), then sink runners, then sources.
 *
 * Kept components are the running objects themselves, never touched. Restarted sources and
 * sinks are built again from the candidate's properties, wired to the final channels (kept
 * objects or new ones): the candidate graph's own sources and sinks point at candidate
 * channels, which for a kept channel are never started. A component that fails to start
 * (a port in use, a locked directory) is left out with an error, with what depends on it; the
 * rest of the new configuration runs, and the next change to the file tries it again.
 */
import { buildSink, buildSource } from '../config/components.js'
import { buildGroups, type GroupPlan } from '../config/groups.js'
import { Props } from '../config/props.js'
import { Pruner, type AgentGraph } from '../config/validate.js'
import { silentLogger, type FlowLogger } from '../event.js'
import { SinkRunner, type RunnerTimings } from '../sink-runner.js'
import type { Sink } from '../sinks/sink.js'
import { runnerFor, type AnySource, type SourceRunner } from '../sources/source.js'
import type { Channel } from '../transaction.js'
import type { Configured } from './candidate.js'
import { settleEvents } from './carry-over.js'
import { runnerId, type ComponentChanges, type ReloadPlan } from './config-diff.js'

/** What an agent runs now; a reload replaces it as a whole. */
export interface RunningAgent {
  graph: AgentGraph
  sourceRunners: Map<string, SourceRunner>
  /** Keyed by runnerId: `sinkgroup <g>` or `sink <k>`. */
  sinkRunners: Map<string, SinkRunner>
}

export function runningAgent(graph: AgentGraph, logger: FlowLogger, timings: RunnerTimings)
  : RunningAgent {
  return {
    graph,
    sourceRunners: new Map([...graph.sources].map(([name, source]) =>
      [name, runnerFor(source, logger)])),
    sinkRunners: new Map(graph.groups.map((plan) =>
      [runnerId(plan), new SinkRunner(plan.name, plan.processor, logger, timings)])),
  }
}

export interface ApplyOutcome {
  running: RunningAgent
  /** Components that failed to start, with why. */
  errors: string[]
  lostEvents: number
}

const going = (changes: ComponentChanges): string[] => [...changes.restarted, ...changes.removed]
const coming = (changes: ComponentChanges): Set<string> =>
  new Set([...changes.restarted, ...changes.added])

class Reconciler {
  readonly errors: string[] = []
  lostEvents = 0
  private readonly channels = new Map<string, Channel>()
  private readonly sinks = new Map<string, Sink>()
  private readonly groups: GroupPlan[] = []
  private readonly sinkRunners = new Map<string, SinkRunner>()
  private readonly sources = new Map<string, AnySource>()
  private readonly sourceRunners = new Map<string, SourceRunner>()

  constructor(private readonly current: RunningAgent, private readonly candidate: Configured,
    private readonly plan: ReloadPlan, private readonly logger: FlowLogger,
    private readonly timings: RunnerTimings) {}

  private async settle(what: string, steps: Promise<void>[]): Promise<void> {
    for (const result of await Promise.allSettled(steps)) {
      if (result.status === 'rejected') this.logger.error(`reload: ${what}: ${result.reason}`)
    }
  }

  private props(list: 'sources' | 'sinks', name: string): Props {
    const { conf } = this.candidate
    return new Props(conf.components[list].get(name)!, conf.file, conf.name)
  }

  private failed(what: string, error: unknown): void {
    const message = (error as Error).message
    // Start errors mostly name their component already (listen.ts: "source r2: cannot …").
    const named = message.startsWith(`${what}:`) ? message : `${what}: ${message}`
    this.errors.push(named)
    this.logger.error(`reload: left out ${named}`)
  }

  async stopLeaving(): Promise<Map<string, number>> {
    const { current, plan } = this
    await this.settle('stopping sources', going(plan.sources)
      .map((name) => current.sourceRunners.get(name)!.stop()))
    await this.settle('stopping sink runners', going(plan.runners)
      .map((id) => current.sinkRunners.get(id)!.stop()))
    const held = new Map<string, number>()
    for (const name of going(plan.channels)) {
      held.set(name, current.graph.channels.get(name)!.size())
    }
    await this.settle('stopping channels', going(plan.channels)
      .map((name) => current.graph.channels.get(name)!.stop()))
    return held
  }

  async startChannels(held: Map<string, number>): Promise<void> {
    const starting = coming(this.plan.channels)
    for (const [name, candidate] of this.candidate.graph.channels) {
      const channel = starting.has(name) ? candidate : this.current.graph.channels.get(name)!
      try {
        if (starting.has(name)) await channel.start()
        this.channels.set(name, channel)
      } catch (error) {
        this.failed(`channel ${name}`, error)
      }
    }
    for (const name of going(this.plan.channels)) {
      const old = this.current.graph.channels.get(name)!
      const replacement = this.plan.channels.restarted.includes(name)
        ? this.channels.get(name) ?? null : null
      this.lostEvents += await settleEvents(old, held.get(name) ?? 0, replacement, this.logger)
    }
  }

  async startRunners(): Promise<void> {
    const starting = coming(this.plan.sinks)
    for (const [name, candidate] of this.candidate.graph.sinks) {
      if (!starting.has(name)) {
        this.sinks.set(name, this.current.graph.sinks.get(name)!)
        continue
      }
      const channel = this.channels.get(candidate.channel.name)
      if (channel === undefined) {
        this.failed(`sink ${name}`,
          new Error(`its channel ${candidate.channel.name} did not start`))
        continue
      }
      try {
        this.sinks.set(name, buildSink(this.props('sinks', name), channel,
          { logger: this.logger }))
      } catch (error) {
        this.failed(`sink ${name}`, error)
      }
    }
    // Processors over the final sink objects; the findings were reported by validation.
    const pruner = new Pruner(this.candidate.conf, false, { logger: silentLogger })
    const oldPlans = new Map(this.current.graph.groups.map((plan) => [runnerId(plan), plan]))
    const startingRunners = coming(this.plan.runners)
    for (const plan of buildGroups(pruner, this.sinks)) {
      const id = runnerId(plan)
      if (!startingRunners.has(id) && oldPlans.has(id)) {
        this.groups.push(oldPlans.get(id)!)
        this.sinkRunners.set(id, this.current.sinkRunners.get(id)!)
        continue
      }
      const runner = new SinkRunner(plan.name, plan.processor, this.logger, this.timings)
      try {
        await runner.start()
        this.groups.push(plan)
        this.sinkRunners.set(id, runner)
      } catch (error) {
        await runner.stop().catch(() => undefined)
        for (const sink of plan.processor.sinks) this.sinks.delete(sink.name)
        this.failed(id, error)
      }
    }
  }

  async startSources(): Promise<void> {
    const starting = coming(this.plan.sources)
    for (const [name, candidate] of this.candidate.graph.sources) {
      if (!starting.has(name)) {
        this.sources.set(name, this.current.graph.sources.get(name)!)
        this.sourceRunners.set(name, this.current.sourceRunners.get(name)!)
        continue
      }
      const wanted = candidate.processor.channels.map((c) => c.name)
      const missing = wanted.filter((c) => !this.channels.has(c))
      if (missing.length > 0) {
        this.failed(`source ${name}`, new Error(`its channel ${missing.join(', ')} did not start`))
        continue
      }
      let runner: SourceRunner | null = null
      try {
        const source = buildSource(this.props('sources', name),
          wanted.map((c) => this.channels.get(c)!), { logger: this.logger })
        runner = runnerFor(source, this.logger)
        await runner.start()
        this.sources.set(name, runner.source)
        this.sourceRunners.set(name, runner)
      } catch (error) {
        await runner?.stop().catch(() => undefined)
        this.failed(`source ${name}`, error)
      }
    }
  }

  running(): RunningAgent {
    const { agent, file, problems } = this.candidate.graph
    return {
      graph: { agent, file, problems, channels: this.channels, sources: this.sources,
        sinks: this.sinks, groups: this.groups },
      sourceRunners: this.sourceRunners, sinkRunners: this.sinkRunners,
    }
  }
}

export async function applyPlan(current: RunningAgent, candidate: Configured, plan: ReloadPlan,
  logger: FlowLogger, timings: RunnerTimings): Promise<ApplyOutcome> {
  const reconciler = new Reconciler(current, candidate, plan, logger, timings)
  const held = await reconciler.stopLeaving()
  await reconciler.startChannels(held)
  await reconciler.startRunners()
  await reconciler.startSources()
  return { running: reconciler.running(), errors: reconciler.errors,
    lostEvents: reconciler.lostEvents }
}
