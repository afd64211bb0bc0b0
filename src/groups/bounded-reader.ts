/**
 * A bounds-checked cursor over Kafka's classic (non-flexible) encoding, which both the
 * ConsumerProtocol bytes members exchange and the __consumer_offsets records the coordinator
 * stores use:
 *
 *   int16 · int32 · int64   big-endian
 *   string                  int16 length · UTF-8 (length −1 = null)
 *   bytes                   int32 length · bytes (length −1 = null, read as empty)
 *   array                   int32 count · items
 *
 * Every length and count is checked against the bytes left before it is used, so a bad buffer
 * never reads past its end or allocates on a length it claims; the owner's `corrupt` names what
 * broke (its SLUICE_ERR_CORRUPT_BATCH, prefixed with what was being decoded).
 */
import type { SluiceError } from '../errors.js'

export class BoundedReader {
  private at = 0

  /** `unit` names the whole in the truncation message: "<unit> ends early". */
  constructor(private readonly buffer: Buffer,
    private readonly corrupt: (detail: string) => SluiceError, private readonly unit: string) {}

  int16(): number {
    this.need(2)
    const value = this.buffer.readInt16BE(this.at)
    this.at += 2
    return value
  }

  int32(): number {
    this.need(4)
    const value = this.buffer.readInt32BE(this.at)
    this.at += 4
    return value
  }

  int64(): number {
    this.need(8)
    const value = Number(this.buffer.readBigInt64BE(this.at))
    this.at += 8
    return value
  }

  /** A string that may not be null: length −1 is corrupt like any other negative length. */
  string(): string {
    const value = this.nullableString()
    if (value === null) throw this.corrupt('string length -1')
    return value
  }

  nullableString(): string | null {
    const length = this.int16()
    if (length === -1) return null
    if (length < 0) throw this.corrupt(`string length ${length}`)
    this.need(length)
    const value = this.buffer.toString('utf8', this.at, this.at + length)
    this.at += length
    return value
  }

  /** A copy, so the result does not pin the (possibly large) buffer it came from. */
  bytes(): Buffer {
    const length = this.int32()
    if (length === -1) return Buffer.alloc(0)
    if (length < 0) throw this.corrupt(`bytes length ${length}`)
    this.need(length)
    const value = Buffer.from(this.buffer.subarray(this.at, this.at + length))
    this.at += length
    return value
  }

  /** An int32 count, then that many items; items take at least 2 bytes each. */
  array<T>(readItem: () => T): T[] {
    const count = this.int32()
    this.checkCount(count, 2)
    const items: T[] = []
    for (let i = 0; i < count; i++) items.push(readItem())
    return items
  }

  /** A count is plausible only if that many smallest items still fit in what is left. */
  checkCount(count: number, minItemBytes: number): void {
    if (count < 0 || count * minItemBytes > this.buffer.length - this.at) {
      throw this.corrupt(`array count ${count} with ${this.buffer.length - this.at} bytes left`)
    }
  }

  /** Refuses bytes left over after the last field. */
  end(): void {
    const left = this.buffer.length - this.at
    if (left !== 0) throw this.corrupt(`${left} trailing bytes`)
  }

  private need(count: number): void {
    if (this.at + count > this.buffer.length) throw this.corrupt(`${this.unit} ends early`)
  }
}
