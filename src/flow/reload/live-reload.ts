/**
 * Live reload of an agent's configuration file (Flume's reload, reference §1.5, made finer):
 * on a change the new file is read and validated as at start-up; a good one restarts only the
 * components whose configuration changed (config-diff.ts, reconciler.ts), a bad one is refused
 * and the agent runs on untouched. Each attempt logs one line and yields a ReloadResult.
 *
 * A candidate is refused when:
 *   - it does not load at all (unreadable file, an escape Java would reject, no such agent,
 *     no valid channel, nothing left to run): the loader's error, naming file, line and key;
 *   - with --strict, it has any problem at all (the first one, as at start-up);
 *   - it prunes a component the running configuration did not prune (candidate.ts): a typo
 *     must not silently take a running sink away, nor an added component vanish unnoticed.
 * Other warnings (an unknown property, say) are logged and the candidate applies, as at
 * start-up. Attempts are serialized, and stop() waits for the one in progress.
 */
import { NodeFileSystem } from '../../io/node-file-system.js'
import type { FileSystem } from '../../io/file-system.js'
import type { AgentConf } from '../config/grammar.js'
import type { FlowLogger } from '../event.js'
import type { RunnerTimings } from '../sink-runner.js'
import { readAgentConf } from '../config/load.js'
import { loadCandidate, refusalsOf, type Configured } from './candidate.js'
import { planIsEmpty, planReload, type ReloadPlan } from './config-diff.js'
import { ConfigWatcher, FLUME_POLL_INTERVAL_MS } from './config-watcher.js'
import { applyPlan, type RunningAgent } from './reconciler.js'

export type ReloadStatus = 'applied' | 'unchanged' | 'refused' | 'failed'

export interface ReloadResult {
  /** applied; unchanged (no component's configuration changed); refused (the agent runs on
   *  untouched); failed (applied, but some components did not start: see errors). */
  status: ReloadStatus
  file: string
  /** `channel c1`, `source r1`, `sink k1`, `sinkgroup g1`, in that order. */
  restarted: string[]
  added: string[]
  removed: string[]
  errors: string[]
  /** Events a rebuilt or removed memory channel could not pass on. */
  lostEvents: number
}

export interface ReloadOptions {
  /** How often the file is polled; Flume's 30 s when undefined. */
  pollIntervalMs?: number
  /** Called after every attempt, from the watcher or from Agent.reload(). */
  onReload?: (result: ReloadResult) => void
}

/** What LiveReload needs of its agent. */
export interface ReloadTarget {
  file: string
  agentName: string
  strict: boolean
  env: Record<string, string | undefined>
  logger: FlowLogger
  timings: RunnerTimings
  running(): RunningAgent
  replace(next: RunningAgent): void
  isStarted(): boolean
}

/**
 * The logger a candidate is built with: validation's warnings wait until the candidate is
 * judged, so a refusal does not print each reason twice; once released, it passes messages
 * straight through (a built component keeps its logger for what it logs while running).
 */
class HeldLogger implements FlowLogger {
  private held: [keyof FlowLogger, string][] | null = []

  constructor(private readonly logger: FlowLogger) {}

  info(message: string): void { this.write('info', message) }
  warn(message: string): void { this.write('warn', message) }
  error(message: string): void { this.write('error', message) }

  /** Passes on what was held, except messages `except` already says. */
  release(except: string[] = []): void {
    const held = this.held ?? []
    this.held = null
    for (const [level, message] of held) {
      if (!except.some((reason) => reason.includes(message))) this.logger[level](message)
    }
  }

  private write(level: keyof FlowLogger, message: string): void {
    if (this.held === null) this.logger[level](message)
    else this.held.push([level, message])
  }
}

function listed(plan: ReloadPlan, pick: 'restarted' | 'added' | 'removed'): string[] {
  return [
    ...plan.channels[pick].map((name) => `channel ${name}`),
    ...plan.sources[pick].map((name) => `source ${name}`),
    ...plan.sinks[pick].map((name) => `sink ${name}`),
    ...plan.runners[pick].filter((id) => id.startsWith('sinkgroup ')),
  ]
}

export class LiveReload {
  private applied: AgentConf | null = null
  private queue: Promise<unknown> = Promise.resolve()
  private watcher: ConfigWatcher | null = null
  private baselineText: string | null = null

  constructor(private readonly target: ReloadTarget,
    private readonly options: ReloadOptions | undefined,
    private readonly fs: FileSystem = new NodeFileSystem()) {}

  /**
   * The text the running graph was loaded from, and its configuration if the caller has it
   * already: what the first change is compared with.
   */
  setBaseline(text: string, conf?: AgentConf): void {
    this.baselineText = text
    this.applied = conf ?? readAgentConf(text, this.target.file, this.target)
  }

  /**
   * Called once the agent has started: starts polling when the agent was asked to
   * (AgentOptions.reload). An agent built from a graph rather than from its file's text takes
   * the file as it is now as the baseline its first reload is compared with.
   */
  agentStarted(): void {
    if (this.options === undefined || this.watcher !== null) return
    if (this.applied === null) {
      try {
        const text = this.readFile()
        if (text !== null) this.setBaseline(text)
      } catch (error) {
        this.target.logger.warn(`reload: ${(error as Error).message}`)
      }
    }
    const baseline = this.baselineText ?? ''
    this.watcher = new ConfigWatcher(this.target.file,
      this.options.pollIntervalMs ?? FLUME_POLL_INTERVAL_MS, this.fs, this.target.logger,
      async (text) => { await this.reloadText(text) }, baseline)
    this.watcher.start()
  }

  /** Stops polling and waits for an attempt in progress. */
  async close(): Promise<void> {
    await this.watcher?.stop()
    this.watcher = null
    await this.queue
  }

  reloadFromFile(): Promise<ReloadResult> {
    let text: string | null
    try {
      text = this.readFile()
    } catch {
      text = null
    }
    return this.reloadText(text)
  }

  /** Queues one attempt with this text (null: the file could not be read). */
  reloadText(text: string | null): Promise<ReloadResult> {
    const attempt = this.queue.then(() => this.attempt(text))
    this.queue = attempt.catch(() => undefined)
    return attempt
  }

  private readFile(): string | null {
    return this.fs.readFile(this.target.file)?.toString('utf8') ?? null
  }

  private async attempt(text: string | null): Promise<ReloadResult> {
    const { file, logger } = this.target
    const refused = (errors: string[]): ReloadResult => this.report({ status: 'refused', file,
      restarted: [], added: [], removed: [], errors, lostEvents: 0 })
    if (!this.target.isStarted()) return refused([`agent ${this.target.agentName} is not running`])
    if (text === null) return refused([`${file}: cannot read the file`])
    if (this.applied === null) {
      return refused([`${file}: nothing to compare with: the agent was built from a graph ` +
        'without AgentOptions.reload, or its file was unreadable when it started'])
    }
    const running: Configured = { conf: this.applied, graph: this.target.running().graph }
    const held = new HeldLogger(logger)
    let candidate: Configured
    try {
      candidate = loadCandidate(text, file, { ...this.target, logger: held })
    } catch (error) {
      held.release([(error as Error).message])
      return refused([(error as Error).message])
    }
    const refusals = refusalsOf(candidate, running)
    held.release(refusals)
    if (refusals.length > 0) return refused(refusals)
    const plan = planReload(running, candidate)
    this.applied = candidate.conf
    this.baselineText = text
    const result: ReloadResult = { status: 'unchanged', file, restarted: listed(plan, 'restarted'),
      added: listed(plan, 'added'), removed: listed(plan, 'removed'), errors: [], lostEvents: 0 }
    if (planIsEmpty(plan)) return this.report(result)
    const outcome = await applyPlan(this.target.running(), candidate, plan, logger,
      this.target.timings)
    this.target.replace(outcome.running)
    return this.report({ ...result, status: outcome.errors.length > 0 ? 'failed' : 'applied',
      errors: outcome.errors, lostEvents: outcome.lostEvents })
  }

  private report(result: ReloadResult): ReloadResult {
    const { logger, agentName } = this.target
    const changes = `restarted [${result.restarted.join(', ')}], added ` +
      `[${result.added.join(', ')}], removed [${result.removed.join(', ')}]`
    if (result.status === 'refused') {
      logger.error(`reload of ${result.file} refused; agent ${agentName} keeps running as it ` +
        `was: ${result.errors.join('; ')}`)
    } else if (result.status === 'unchanged') {
      logger.info(`reload of ${result.file}: no component's configuration changed`)
    } else if (result.status === 'failed') {
      logger.error(`reload of ${result.file} applied in part: ${changes}; not started: ` +
        result.errors.join('; '))
    } else {
      logger.info(`reload of ${result.file} applied: ${changes}`)
    }
    this.options?.onReload?.(result)
    return result
  }
}
