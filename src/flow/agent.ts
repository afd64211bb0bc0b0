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
 *
 * While it runs, an agent can reload its file (AgentOptions.reload, Agent.reload()): only the
 * components whose configuration changed restart, in the same order (src/flow/reload/).
 */
import type { FlowLogger } from './event.js'
import { consoleLogger } from './event.js'
import { readConfFile, type LoadOptions } from './config/load.js'
import type { AgentGraph } from './config/validate.js'
import type { CounterGroup } from './metrics/counters.js'
import { MetricsServer } from './metrics/metrics-server.js'
import type { MetricsView } from './metrics/report.js'
import { loadCandidate } from './reload/candidate.js'
import { LiveReload, type ReloadOptions, type ReloadResult } from './reload/live-reload.js'
import { runningAgent, type RunningAgent } from './reload/reconciler.js'
import { FLUME_RUNNER_TIMINGS, type RunnerTimings } from './sink-runner.js'

export interface AgentOptions {
  logger?: FlowLogger
  /** Serve /metrics on this port (0 picks a free one); none when undefined. */
  metricsPort?: number
  metricsBind?: string
  runnerTimings?: RunnerTimings
  /** Watch the configuration file and apply its changes (src/flow/reload/); off if unset. */
  reload?: ReloadOptions
  /** As the file was first loaded: a reload reads it again the same way. */
  strict?: boolean
  env?: Record<string, string | undefined>
}

export type AgentLoadOptions = Omit<LoadOptions, 'logger'> & AgentOptions

export class Agent {
  readonly logger: FlowLogger
  /** What runs now: a reload replaces it. */
  private running: RunningAgent
  private readonly live: LiveReload
  private metricsServer: MetricsServer | null = null
  private started = false

  constructor(graph: AgentGraph, private readonly options: AgentOptions = {}) {
    this.logger = options.logger ?? consoleLogger
    const timings = options.runnerTimings ?? FLUME_RUNNER_TIMINGS
    this.running = runningAgent(graph, this.logger, timings)
    this.live = new LiveReload({ file: graph.file, agentName: graph.agent,
      strict: options.strict ?? false, env: options.env ?? process.env, logger: this.logger,
      timings, running: () => this.running, replace: (next) => { this.running = next },
      isStarted: () => this.started }, options.reload)
  }

  static fromFile(file: string, options: AgentLoadOptions): Agent {
    return Agent.fromText(readConfFile(file), file, options)
  }

  static fromText(text: string, file: string, options: AgentLoadOptions): Agent {
    const logger = options.logger ?? consoleLogger
    // Loaded as a reload's candidate is, so the text is parsed once for the graph and the
    // configuration the first reload compares with.
    const { conf, graph } = loadCandidate(text, file, { agentName: options.agentName,
      strict: options.strict ?? false, env: options.env ?? process.env, logger })
    const agent = new Agent(graph, { ...options, logger })
    agent.live.setBaseline(text, conf)
    return agent
  }

  /** The running graph; after a reload, the new one. */
  get graph(): AgentGraph {
    return this.running.graph
  }

  get name(): string {
    return this.graph.agent
  }

  /**
   * Reads the configuration file again and applies what changed (src/flow/reload/). The first
   * reload compares with the text the agent was loaded from (fromFile, fromText), or, for an
   * agent built from a graph with AgentOptions.reload, with the file as it was at start().
   */
  reload(): Promise<ReloadResult> {
    return this.live.reloadFromFile()
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
      for (const runner of this.running.sinkRunners.values()) await runner.start()
      for (const runner of this.running.sourceRunners.values()) await runner.start()
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
    this.live.agentStarted()
  }

  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    await this.live.close()
    const settle = async (steps: Promise<void>[]): Promise<void> => {
      for (const result of await Promise.allSettled(steps)) {
        if (result.status === 'rejected') this.logger.error(`stop: ${String(result.reason)}`)
      }
    }
    await settle([...this.running.sourceRunners.values()].map((runner) => runner.stop()))
    await settle([...this.running.sinkRunners.values()].map((runner) => runner.stop()))
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
