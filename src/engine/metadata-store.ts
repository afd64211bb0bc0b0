/**
 * The engine's own metadata file, `<dataDir>/sluice-meta.json`: the topic configurations and the
 * partition → shard assignment, which is fixed when a partition is created and survives restarts.
 *
 * Layout: UTF-8 JSON, then one trailer line `#xxh64:<16 hex digits>` holding the xxhash64 of the
 * JSON bytes. A file whose trailer is missing or wrong is refused with SLUICE_ERR_CHECKSUM rather
 * than guessed at: losing the assignment would move partitions between shards.
 * Writes are atomic (temp file, fsync, rename, fsync of the directory).
 */
import * as path from 'node:path'
import xxhash from 'xxhash-wasm'
import { SluiceError } from '../errors.js'
import type { FileSystem } from '../io/file-system.js'
import type { ResolvedTopicConfig } from './types.js'

export const METADATA_FILE = 'sluice-meta.json'
const TRAILER_PREFIX = '\n#xxh64:'
const METADATA_VERSION = 1

export interface TopicRecord {
  config: ResolvedTopicConfig
  /** partitionShards[p] is the shard that owns partition p, for life. */
  partitionShards: number[]
}

export interface EngineMetadata {
  version: number
  shardCount: number
  topics: Record<string, TopicRecord>
}

type Hasher = Awaited<ReturnType<typeof xxhash>>
let hasherPromise: Promise<Hasher> | null = null

/** xxhash-wasm compiles a small WebAssembly module once per thread. */
export function loadHasher(): Promise<Hasher> {
  hasherPromise ??= xxhash()
  return hasherPromise
}

export function checksumHex(hasher: Hasher, bytes: Uint8Array): string {
  return hasher.h64Raw(bytes).toString(16).padStart(16, '0')
}

export function encodeChecksummed(hasher: Hasher, body: string): Buffer {
  const bodyBytes = Buffer.from(body, 'utf8')
  const trailer = Buffer.from(`${TRAILER_PREFIX}${checksumHex(hasher, bodyBytes)}\n`, 'utf8')
  return Buffer.concat([bodyBytes, trailer])
}

/** Returns the body, or throws SLUICE_ERR_CHECKSUM naming the file and what was wrong. */
export function decodeChecksummed(hasher: Hasher, bytes: Buffer, filePath: string): string {
  const text = bytes.toString('utf8')
  const at = text.lastIndexOf(TRAILER_PREFIX)
  if (at < 0) {
    throw new SluiceError('SLUICE_ERR_CHECKSUM', `${filePath}: no #xxh64 trailer; file truncated?`)
  }
  const body = text.slice(0, at)
  const stored = text.slice(at + TRAILER_PREFIX.length).trim()
  const actual = checksumHex(hasher, Buffer.from(body, 'utf8'))
  if (stored !== actual) {
    throw new SluiceError(
      'SLUICE_ERR_CHECKSUM', `${filePath}: xxhash64 is ${actual}, trailer says ${stored}`,
    )
  }
  return body
}

export class MetadataStore {
  private constructor(
    private readonly fs: FileSystem,
    private readonly filePath: string,
    private readonly hasher: Hasher,
  ) {}

  static async open(fs: FileSystem, dataDir: string): Promise<MetadataStore> {
    return new MetadataStore(fs, path.join(dataDir, METADATA_FILE), await loadHasher())
  }

  /** The stored metadata, or null for a new data directory. */
  load(): EngineMetadata | null {
    const bytes = this.fs.readFile(this.filePath)
    if (bytes === null) return null
    const body = decodeChecksummed(this.hasher, bytes, this.filePath)
    const parsed = JSON.parse(body) as EngineMetadata
    if (parsed.version !== METADATA_VERSION) {
      throw new SluiceError(
        'SLUICE_ERR_CHECKSUM',
        `${this.filePath}: metadata version ${parsed.version}, this sluice reads ${METADATA_VERSION}`,
      )
    }
    return parsed
  }

  save(metadata: EngineMetadata): void {
    const body = JSON.stringify({ ...metadata, version: METADATA_VERSION }, null, 2)
    this.fs.writeFileAtomic(this.filePath, encodeChecksummed(this.hasher, body))
  }
}
