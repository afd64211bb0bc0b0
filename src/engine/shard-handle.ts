/**
 * The main thread's handle on one shard worker: sends it work, matches replies to callers, and
 * turns the worker's death into SLUICE_ERR_PARTITION_UNAVAILABLE for everything it owned.
 *
 * Appends issued in the same turn of the event loop are coalesced into one message (flushed in a
 * microtask), so a burst of N appends costs one postMessage, not N.
 */
import { Worker } from 'node:worker_threads'
import { SluiceError, type WireError } from '../errors.js'
import type { AppendAck, AppendRequest, FromShard, PartitionKey, ToShard } from './shard-protocol.js'
import { workerScriptPath } from './worker-path.js'

interface Pending {
  resolve: (value: unknown) => void
  reject: (error: Error) => void
}

export class ShardHandle {
  private readonly worker: Worker
  private readonly pending = new Map<number, Pending>()
  private outgoing: AppendRequest[] = []
  private outgoingTransfers: ArrayBuffer[] = []
  private nextId = 1
  private deathError: SluiceError | null = null
  private closing = false

  constructor(
    readonly shardId: number,
    private readonly onDeath: (shard: ShardHandle, error: SluiceError) => void,
    private readonly onBackgroundDelete: (paths: string[]) => void,
  ) {
    this.worker = new Worker(workerScriptPath('shard'), { name: `sluice-shard-${shardId}` })
    this.worker.on('message', (message: FromShard) => this.receive(message))
    this.worker.on('error', (error) => this.die(error))
    this.worker.on('exit', (code) => {
      if (!this.closing) this.die(new Error(`shard thread exited with code ${code}`))
    })
  }

  get isAlive(): boolean {
    return this.deathError === null
  }

  /**
   * Queues an append for this turn's message. With `transfer`, batches that own their whole
   * ArrayBuffer are moved to the shard rather than copied (the caller must not touch them after);
   * small batches share Node's buffer pool and are copied as before.
   */
  append(key: PartitionKey, batches: Uint8Array[], transfer = false): Promise<AppendAck> {
    if (this.deathError !== null) return Promise.reject(this.deathError)
    const id = this.nextId++
    const promise = new Promise<unknown>((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
    })
    if (this.outgoing.length === 0) queueMicrotask(() => this.flushAppends())
    this.outgoing.push({ id, key, batches })
    if (transfer) {
      for (const batch of batches) {
        if (isWholeArrayBuffer(batch)) this.outgoingTransfers.push(batch.buffer)
      }
    }
    return promise as Promise<AppendAck>
  }

  request(message: DistributiveOmit<Exclude<ToShard, { type: 'append' | 'crashForTesting' }>, 'id'>)
    : Promise<unknown> {
    if (this.deathError !== null) return Promise.reject(this.deathError)
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.worker.postMessage({ ...message, id })
    })
  }

  /** Makes the shard thread throw, as a bug would (tests of shard death). */
  crashForTesting(): void {
    this.worker.postMessage({ type: 'crashForTesting' } satisfies ToShard)
  }

  async close(): Promise<void> {
    if (this.deathError === null) await this.request({ type: 'close' })
    this.closing = true
    await this.worker.terminate()
  }

  private flushAppends(): void {
    const requests = this.outgoing
    const transfers = this.outgoingTransfers
    this.outgoing = []
    this.outgoingTransfers = []
    if (requests.length === 0) return
    this.worker.postMessage({ type: 'append', requests } satisfies ToShard, transfers)
  }

  private receive(message: FromShard): void {
    switch (message.type) {
      case 'acks':
        for (const ack of message.acks) this.settle(ack.id, ack, ack.error)
        return
      case 'reply':
        this.settle(message.id, message.result, message.error)
        return
      case 'backgroundDelete':
        this.onBackgroundDelete(message.paths)
        return
    }
  }

  private settle(id: number, value: unknown, error: WireError | undefined): void {
    const pending = this.pending.get(id)
    if (pending === undefined) return
    this.pending.delete(id)
    if (error !== undefined) pending.reject(SluiceError.fromWire(error))
    else pending.resolve(value)
  }

  private die(cause: Error): void {
    if (this.deathError !== null) return
    this.deathError = new SluiceError(
      'SLUICE_ERR_PARTITION_UNAVAILABLE',
      `shard ${this.shardId} died (${cause.message}); its partitions are unavailable until the ` +
        'log is reopened, which recovers them',
      { cause },
    )
    for (const pending of this.pending.values()) pending.reject(this.deathError)
    this.pending.clear()
    this.onDeath(this, this.deathError)
  }
}

/** True when `view` covers all of a plain ArrayBuffer, so moving that buffer moves only it. */
function isWholeArrayBuffer(view: Uint8Array): view is Uint8Array & { buffer: ArrayBuffer } {
  return view.buffer instanceof ArrayBuffer && view.byteOffset === 0
    && view.byteLength === view.buffer.byteLength
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never
