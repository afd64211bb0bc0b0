/**
 * `sluice pipeline`: the log, the broker that serves it, and the agents at its ends, in one
 * process. The log is the backbone; agents are the connectors (a Kafka sink into it, a Kafka
 * source out of it, through `embedded:` with no TCP hop, or over the broker like any client).
 *
 *   build  every agent's graph is loaded and validated before anything opens, so a bad file
 *          fails with nothing to clean up.
 *   start  the shared log (its embedded lease), then the broker, then the agents in order, so a
 *          Kafka sink or source finds the log and the broker already there.
 *   stop   agents in reverse order (each stops sources, sinks, then channels, so nothing
 *          acknowledged is lost), then the broker, then the log, whose partitions write their
 *          clean-shutdown markers.
 */
import type { KafkaBroker } from '../../kafka/index.js'
import { Agent } from '../agent.js'
import { readConfFile } from '../config/load.js'
import { consoleLogger, type FlowLogger } from '../event.js'
import { acquireEmbeddedSluice, type EmbeddedSluiceLease } from '../kafka/embedded-sluice.js'
import { readPipelineConfig, type PipelineConfig } from './pipeline-config.js'

export interface PipelineOptions {
  logger?: FlowLogger
  strict?: boolean
  env?: Record<string, string | undefined>
}

export class Pipeline {
  private lease: EmbeddedSluiceLease | null = null
  private brokerHandle: KafkaBroker | null = null
  private readonly running: Agent[] = []
  private readonly logger: FlowLogger

  private constructor(readonly config: PipelineConfig, readonly agents: Agent[],
    options: PipelineOptions) {
    this.logger = options.logger ?? consoleLogger
  }

  static fromText(text: string, file: string, options: PipelineOptions = {}): Pipeline {
    const config = readPipelineConfig(text, file, options.env)
    const logger = options.logger ?? consoleLogger
    // Appended, so a line number in any message still points into the file as written.
    const withDefaults = [text, ...config.defaults].join('\n')
    const agents = config.agents.map((agentName) => Agent.fromText(withDefaults, file, {
      agentName, strict: options.strict ?? false, logger,
      ...(options.env === undefined ? {} : { env: options.env }),
    }))
    return new Pipeline(config, agents, options)
  }

  static fromFile(file: string, options: PipelineOptions = {}): Pipeline {
    return Pipeline.fromText(readConfFile(file), file, options)
  }

  /** The broker, once started with `pipeline.broker.listen`. */
  get broker(): KafkaBroker | null {
    return this.brokerHandle
  }

  async start(): Promise<void> {
    try {
      const { dataDir, broker } = this.config
      if (dataDir !== null) {
        this.lease = acquireEmbeddedSluice(dataDir)
        if (broker !== null) {
          this.brokerHandle = await this.lease.sluice.listen({
            host: broker.host, port: broker.port,
            ...(broker.advertisedHost === undefined ? {} : {
              advertisedHost: broker.advertisedHost, advertisedPort: broker.advertisedPort }),
            autoCreateTopics: broker.autoCreateTopics,
            defaultPartitions: broker.defaultPartitions,
            topicDefaults: broker.defaultDurability === undefined ? {}
              : { durability: broker.defaultDurability },
          })
          this.logger.info(`pipeline: broker listening on ${this.brokerHandle.address}:` +
            `${this.brokerHandle.port}, log in ${dataDir}`)
        }
      }
      for (const agent of this.agents) {
        await agent.start()
        this.running.push(agent)
      }
    } catch (error) {
      await this.stop()
      throw error
    }
    this.logger.info(`pipeline: agents started: ${this.config.agents.join(', ')}`)
  }

  async stop(): Promise<void> {
    while (this.running.length > 0) {
      const agent = this.running.pop()!
      await agent.stop().catch((error: unknown) =>
        this.logger.error(`pipeline: agent ${agent.name} stop: ${String(error)}`))
    }
    if (this.brokerHandle !== null) {
      await this.brokerHandle.close().catch((error: unknown) =>
        this.logger.error(`pipeline: broker close: ${String(error)}`))
      this.brokerHandle = null
    }
    if (this.lease !== null) {
      const lease = this.lease
      this.lease = null
      await lease.release()
    }
  }
}
