/**
 * The logger and null sinks (reference §2.3).
 *
 *   logger  logs `Event: { headers:{k=v} body: <hex of the first maxBytesToLog bytes> <text> }`,
 *           the shape of Flume's EventHelper.dumpEvent (Commons IO HexDump without the offset).
 *   null    discards; useful to measure the rest of the pipeline.
 */
import type { FlowEvent, FlowLogger } from '../event.js'
import type { Channel } from '../transaction.js'
import { BatchSink } from './sink.js'

const HEX_BYTES_PER_LINE = 16

/** Flume's dumpEvent format; one hexdump line per 16 bytes after the first. */
export function dumpEvent(event: FlowEvent, maxBytesToLog: number): string {
  const body = event.body.subarray(0, Math.min(maxBytesToLog, event.body.byteLength))
  const lines: string[] = []
  for (let start = 0; start < body.byteLength; start += HEX_BYTES_PER_LINE) {
    const chunk = body.subarray(start, start + HEX_BYTES_PER_LINE)
    let hex = ''
    let text = ''
    for (let i = 0; i < HEX_BYTES_PER_LINE; i++) {
      const byte = chunk[i]
      hex += byte === undefined ? '   ' : ` ${byte.toString(16).toUpperCase().padStart(2, '0')}`
      if (byte !== undefined) text += byte >= 32 && byte < 127 ? String.fromCharCode(byte) : '.'
    }
    lines.push(`${hex} ${text}`)
  }
  const headers = Object.entries(event.headers).map(([k, v]) => `${k}=${v}`).join(', ')
  return `{ headers:{${headers}} body:${lines.join('\n')} }`
}

export class LoggerSink extends BatchSink {
  readonly type = 'logger'

  constructor(name: string, channel: Channel, batchSize: number,
    private readonly maxBytesToLog: number, private readonly logger: FlowLogger) {
    super(name, channel, batchSize)
  }

  protected async deliver(events: FlowEvent[]): Promise<void> {
    for (const event of events) this.logger.info(`Event: ${dumpEvent(event, this.maxBytesToLog)}`)
  }
}

export class NullSink extends BatchSink {
  readonly type = 'null'

  protected async deliver(): Promise<void> {
    // Discarding is the point: the batch is counted by BatchSink and dropped here.
  }
}
