/**
 * The format room's public face: RecordBatch v2 bytes (header, records, whole batches), varints
 * and the compression codecs. Everything here is pure and synchronous, safe on any thread.
 * The two-pass record writer (planRecords/writeRecords) stays internal to record-batch.ts.
 */
export * from './batch-header.js'
export { codecIdOf, compress, decompress } from './compression.js'
export {
  LZ4_FLG_BLOCK_INDEPENDENCE, readLz4Frame, type Lz4Block, type Lz4FrameLayout,
} from './lz4-frame.js'
export * from './record-batch.js'
export {
  decodeRecords, type EncodableHeader, type EncodableRecord, type RecordsContext,
} from './records.js'
export * from './varint.js'
