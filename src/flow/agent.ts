/**
 * An agent: a validated graph of channels, sources, sinks and runners, started and stopped in
 * Flume's order.
 *
 *   start  channels (the file channel replays), then sink runners, then sources, so nothing is
 *          accepted before there is somewhere durable to put it and something to drain it.
 *   stop   sources first (no new intake; batches in flight commit or are refused), then sink
 *          runners (the process() in flight commits or rolls back), then channels (the file
 *          channel's last take position is written). So a clean stop loses nothing: an event is
 *          either committed in a channel (and, for the file channel, on disk) or was never
 *          acknowledged to its client.
 */
import type { FlowLogger } from './event.js'
import { consoleLogger } from './event.js'
import { loadAgentFile, loadAgentText, type LoadOptions } from './config/load.js'
import type { AgentGraph } from './config/validate.js'
import type { CounterGroup } from './metrics/counters.js'
import { MetricsServer } from './metrics/metrics-server.js'
import type { MetricsView } from './metrics/report.js'
import { FLUME_RUNNER_TIMINGS, SinkRunner, type RunnerTimings } from './sink-runner.js'
import { runnerFor, type SourceRunner } from './sources/source.js'

export interface AgentOptions {
  logger?: FlowLogger
  /** Serve /metrics on this port (0 picks a free one); none when undefined. */
  metricsPort?: number
  metricsBind?: string
  runnerTimings?: RunnerTimings
}

export type AgentLoadOptions = Omit<LoadOptions, 'logger'> & AgentOptions

export class Agent {
  readonly logger: FlowLogger
  private readonly sinkRunners: SinkRunner[]
  private readonly sourceRunners: SourceRunner[]
  private metricsServer: MetricsServer | null = null
  private started = false

  constructor(readonly graph: AgentGraph, private readonly options: AgentOptions = {}) {
    this.logger = options.logger ?? consoleLogger
    const timings = options.runnerTimings ?? FLUME_RUNNER_TIMINGS
    this.sinkRunners = graph.groups.map((group) =>
      new SinkRunner(group.name, group.processor, this.logger, timings))
    this.sourceRunners = [...graph.sources.values()].map((s) => runnerFor(s, this.logger))
  }

  static fromFile(file: string, options: AgentLoadOptions): Agent {
    const logger = options.logger ?? consoleLogger
    return new Agent(loadAgentFile(file, { ...options, logger }), { ...options, logger })
  }

  static fromText(text: string, file: string, options: AgentLoadOptions): Agent {
    const logger = options.logger ?? consoleLogger
    return new Agent(loadAgentText(text, file, { ...options, logger }), { ...options, logger })
  }

  get name(): string {
    return this.graph.agent
  }

  /** The bound metrics port, once started with metricsPort. */
  get metricsPort(): number {
    return this.metricsServer?.port ?? 0
  }

  async start(): Promise<void> {
    if (this.started) return
    this.started = true
    try {
      for (const channel of this.graph.channels.values()) await channel.start()
      for (const runner of this.sinkRunners) await runner.start()
      for (const runner of this.sourceRunners) await runner.start()
      if (this.options.metricsPort !== undefined) {
        this.metricsServer = new MetricsServer(() => this.metrics())
        await this.metricsServer.start(this.options.metricsPort, this.options.metricsBind)
      }
    } catch (error) {
      await this.stop().catch(() => undefined)
      throw error
    }
    this.logger.info(`agent ${this.name} started: ${this.graph.sources.size} sources, ` +
      `${this.graph.channels.size} channels, ${this.graph.sinks.size} sinks`)
  }

  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    const settle = async (steps: Promise<void>[]): Promise<void> => {
      for (const result of await Promise.allSettled(steps)) {
        if (result.status === 'rejected') this.logger.error(`stop: ${String(result.reason)}`)
      }
    }
    await settle(this.sourceRunners.map((runner) => runner.stop()))
    await settle(this.sinkRunners.map((runner) => runner.stop()))
    await settle([...this.graph.channels.values()].map((channel) => channel.stop()))
    await this.metricsServer?.stop()
    this.metricsServer = null
    this.logger.info(`agent ${this.name} stopped`)
  }

  metrics(): MetricsView {
    const groups: CounterGroup<string>[] = [
      ...[...this.graph.sources.values()].map((s) => s.counter),
      ...[...this.graph.channels.values()].map((c) => c.counter),
      ...[...this.graph.sinks.values()].map((s) => s.counter),
    ]
    return { agent: this.name, groups, channels: [...this.graph.channels.values()] }
  }
}
