/**
 * Flume's exec source (ExecSource, reference §2.1): runs `command` (through `shell`, e.g.
 * `/bin/sh -c`, when given) and turns each stdout line into an event, in batches of batchSize or
 * after batchTimeout ms.
 *
 * Flume documents that exec has no delivery guarantee; the loss is kept where Flume has it and
 * counted: when the channel refuses a batch, the command is killed and that batch plus any lines
 * already read are lost (EventLostCount), then the command restarts after restartThrottle ms if
 * `restart` is set. Short of a refusal nothing is lost: while a batch commits, stdout is paused,
 * so a fast command blocks on its pipe instead of growing our memory.
 *
 * Line length (a sluice extension; Flume's exec reads lines of any length): a line longer than
 * maxLineLengthBytes (default DEFAULT_EXEC_MAX_LINE_LENGTH_BYTES = 512 KiB, the `\n` not counted)
 * is dropped and counted (EventReadFail, a warning), so a command printing without newlines
 * (`cat /dev/zero`) costs at most that much memory. Lines are scanned once (bounded-lines.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import type { ChannelProcessor } from '../channel-processor.js'
import type { FlowLogger } from '../event.js'
import { sourceCounter } from '../metrics/counters.js'
import { BoundedLineSplitter } from './bounded-lines.js'
import type { EventDrivenSource } from './source.js'

const KILL_GRACE_MS = 2000
/** Large enough for any log line we know of, small enough that batchSize of them fit in RAM. */
export const DEFAULT_EXEC_MAX_LINE_LENGTH_BYTES = 512 * 1024

export interface ExecOptions {
  command: string
  shell: string
  restart: boolean
  restartThrottleMs: number
  logStdErr: boolean
  batchSize: number
  batchTimeoutMs: number
  /** Longest stdout line kept, `\n` not counted; longer ones are dropped and counted. */
  maxLineLengthBytes?: number
}

export class ExecSource implements EventDrivenSource {
  readonly kind = 'event-driven'
  readonly type = 'exec'
  readonly counter
  private child: ChildProcess | null = null
  private stopped = true
  private batch: Buffer[] = []
  private flushing: Promise<void> = Promise.resolve()
  private timer: NodeJS.Timeout | null = null
  private restartTimer: NodeJS.Timeout | null = null
  private exited: Promise<void> = Promise.resolve()

  constructor(readonly name: string, readonly processor: ChannelProcessor,
    private readonly options: ExecOptions, private readonly logger: FlowLogger) {
    this.counter = sourceCounter(name)
  }

  get batchSize(): number {
    return this.options.batchSize
  }

  async start(): Promise<void> {
    this.stopped = false
    this.launch()
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.restartTimer !== null) clearTimeout(this.restartTimer)
    const child = this.child
    child?.kill('SIGTERM')
    // A command that ignores SIGTERM gets SIGKILL after KILL_GRACE_MS: stop must end.
    const graceTimer = setTimeout(() => child?.kill('SIGKILL'), KILL_GRACE_MS)
    await this.exited
    clearTimeout(graceTimer)
    await this.flushing
    this.flush()
    await this.flushing
  }

  private launch(): void {
    const shell = this.options.shell.trim()
    const [file, ...args] = shell === ''
      ? this.options.command.split(/\s+/).filter((part) => part !== '')
      : [...shell.split(/\s+/), this.options.command]
    const child = spawn(file!, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    const lines = this.splitterFor(child)
    child.stdout!.on('data', (chunk: Buffer) => lines.push(chunk))
    child.stderr!.setEncoding('utf8')
    child.stderr!.on('data', (text: string) => {
      if (this.options.logStdErr) this.logger.info(`source ${this.name} stderr: ${text.trimEnd()}`)
    })
    child.on('error', (error) => this.logger.error(`source ${this.name}: ${error.message}`))
    this.exited = new Promise((resolve) => child.on('close', () => {
      lines.end()
      this.flush()
      resolve()
      this.onExit()
    }))
  }

  private splitterFor(child: ChildProcess): BoundedLineSplitter {
    const maxLineLengthBytes =
      this.options.maxLineLengthBytes ?? DEFAULT_EXEC_MAX_LINE_LENGTH_BYTES
    return new BoundedLineSplitter(maxLineLengthBytes, {
      onLine: (line) => this.add(child, toBody(line)),
      onOverLong: () => {
        this.counter.add('EventReadFail')
        this.logger.warn(`source ${this.name}: dropped a line longer than ` +
          `${maxLineLengthBytes} bytes from command: ${this.options.command}`)
      },
    })
  }

  private add(child: ChildProcess, line: Buffer): void {
    this.counter.add('EventReceivedCount')
    this.batch.push(line)
    if (this.batch.length >= this.options.batchSize) {
      child.stdout?.pause()
      this.flush()
      void this.flushing.then(() => child.stdout?.resume())
    } else if (this.timer === null) {
      this.timer = setTimeout(() => this.flush(), this.options.batchTimeoutMs)
    }
  }

  private flush(): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    if (this.batch.length === 0) return
    const lines = this.batch
    this.batch = []
    this.flushing = this.flushing.then(() => this.commit(lines))
  }

  private async commit(lines: Buffer[]): Promise<void> {
    this.counter.add('AppendBatchReceivedCount')
    try {
      await this.processor.processEventBatch(lines.map((body) => ({ headers: {}, body })))
      this.counter.add('EventAcceptedCount', lines.length)
      this.counter.add('AppendBatchAcceptedCount')
    } catch (error) {
      // Flume's ExecSource: a refused batch kills the command and the batch is lost.
      const lost = lines.length + this.batch.length
      this.batch = []
      this.counter.add('ChannelWriteFail')
      this.counter.add('EventLostCount', lost)
      this.logger.error(`source ${this.name}: Failed while running command: ` +
        `${this.options.command}: ${(error as Error).message}; ${lost} events lost`)
      this.child?.kill('SIGTERM')
    }
  }

  private onExit(): void {
    this.child = null
    if (this.stopped || !this.options.restart) return
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null
      if (!this.stopped) this.launch()
    }, this.options.restartThrottleMs)
  }
}

/**
 * The event body of a stdout line: without a trailing `\r` (as readLine), and decoded then
 * re-encoded as UTF-8 like Flume's charset reader, so malformed bytes become U+FFFD.
 */
function toBody(line: Buffer): Buffer {
  const end = line.byteLength > 0 && line[line.byteLength - 1] === 0x0d ? line.byteLength - 1
    : line.byteLength
  return Buffer.from(line.toString('utf8', 0, end), 'utf8')
}
