/**
 * The disk's limits, measured in the bench's own data directory through the engine's FileSystem:
 * sequential write bandwidth into the page cache, the same with an fdatasync after every chunk
 * (the durable ceiling a group-committing log can approach), fdatasync latency after a small
 * append, and page-cache read bandwidth (the ceiling of reads from sealed segments).
 *
 * A limit is a ceiling, and interference from other work on a shared machine only ever lowers a
 * measurement, so each limit is the best of several passes (the range is kept in `method`).
 * Every pass writes a fresh file and unlinks it, as a log's new segments do. The first pass is a
 * warm-up and is discarded: on this VM, page-cache pages touched for the first time cost a host
 * fault (~0.6 GB/s) while pages freed a moment earlier are reused at full speed
 * (shared/reference/performance.md §1), and the engine's steady state is the second case.
 */
import * as path from 'node:path'
import type { FileSystem } from '../../src/io/file-system.js'
import type { Limit } from '../results.js'
import {
  MIB, latencyHistogram, megabytesPerSec, nowMs, percentilesOf, recordMicros,
} from '../measure.js'

export interface DiskPlan {
  /** Bytes written per measured pass. */
  passBytes: number
  /** Measured passes per mode; the best is reported. */
  passes: number
  chunkBytes: number
  /** fdatasync samples for the latency figure. */
  syncSamples: number
  syncAppendBytes: number
}

export const DISK_LIMIT_NAMES = {
  writeOs: 'seq-write (page cache)',
  writeSync: 'seq-write + fdatasync',
  syncP50: 'fdatasync p50',
  syncP99: 'fdatasync p99',
  read: 'page-cache read',
} as const

/** Writes `passBytes` in `chunkBytes` writes to a new file; returns the elapsed ms. */
function writePass(fs: FileSystem, file: string, chunk: Buffer, plan: DiskPlan, sync: boolean)
  : number {
  const handle = fs.open(file, 'create')
  try {
    const started = nowMs()
    for (let position = 0; position < plan.passBytes; position += chunk.byteLength) {
      fs.writev(handle, [chunk], position)
      if (sync) fs.fdatasync(handle)
    }
    return nowMs() - started
  } finally {
    fs.close(handle)
  }
}

function readPass(fs: FileSystem, file: string, chunk: Buffer, totalBytes: number): number {
  const handle = fs.open(file, 'read')
  try {
    const started = nowMs()
    let position = 0
    while (position < totalBytes) {
      const read = fs.read(handle, chunk, 0, chunk.byteLength, position)
      if (read === 0) break
      position += read
    }
    return nowMs() - started
  } finally {
    fs.close(handle)
  }
}

function syncLatency(fs: FileSystem, file: string, plan: DiskPlan): Limit[] {
  const histogram = latencyHistogram()
  const block = Buffer.alloc(plan.syncAppendBytes, 0x61)
  const handle = fs.open(file, 'create')
  try {
    for (let i = 0; i < plan.syncSamples; i++) {
      fs.writev(handle, [block], i * block.byteLength)
      const started = nowMs()
      fs.fdatasync(handle)
      recordMicros(histogram, (nowMs() - started) * 1000)
    }
  } finally {
    fs.close(handle)
    fs.unlink(file)
  }
  const percentiles = percentilesOf(histogram)
  const method = `fdatasync after each ${plan.syncAppendBytes} B append, ` +
    `${plan.syncSamples} samples`
  return [
    { name: DISK_LIMIT_NAMES.syncP50, value: percentiles.p50, unit: 'µs', method },
    { name: DISK_LIMIT_NAMES.syncP99, value: percentiles.p99, unit: 'µs', method },
  ]
}

export function measureDiskLimits(fs: FileSystem, dir: string, plan: DiskPlan): Limit[] {
  const chunk = Buffer.alloc(plan.chunkBytes)
  for (let i = 0; i < chunk.byteLength; i++) chunk[i] = (i * 31) & 0xff
  const file = path.join(dir, 'limits-seq-write.bin')
  const osRuns: number[] = []
  const syncRuns: number[] = []
  const readRuns: number[] = []
  writePass(fs, file, chunk, plan, false)
  fs.unlink(file)
  for (let pass = 0; pass < plan.passes; pass++) {
    osRuns.push(writePass(fs, file, chunk, plan, false))
    readRuns.push(readPass(fs, file, chunk, plan.passBytes))
    fs.unlink(file)
    syncRuns.push(writePass(fs, file, chunk, plan, true))
    fs.unlink(file)
  }
  const chunkMiB = plan.chunkBytes / MIB
  const what = `${plan.passBytes / MIB} MiB in ${chunkMiB} MiB writes to a new file, ` +
    `best of ${plan.passes} passes after a warm-up pass`
  const range = (runs: number[]) => `; passes ranged ` +
    `${megabytesPerSec(plan.passBytes, Math.max(...runs)).toFixed(0)}–` +
    `${megabytesPerSec(plan.passBytes, Math.min(...runs)).toFixed(0)} MB/s`
  return [
    { name: DISK_LIMIT_NAMES.writeOs, unit: 'MB/s', method: `${what}${range(osRuns)}`,
      value: megabytesPerSec(plan.passBytes, Math.min(...osRuns)) },
    { name: DISK_LIMIT_NAMES.writeSync, unit: 'MB/s',
      method: `${what}; fdatasync after every ${chunkMiB} MiB${range(syncRuns)}`,
      value: megabytesPerSec(plan.passBytes, Math.min(...syncRuns)) },
    ...syncLatency(fs, file, plan),
    { name: DISK_LIMIT_NAMES.read, unit: 'MB/s',
      method: `${plan.passBytes / MIB} MiB just written, read back in ${chunkMiB} MiB reads, ` +
        `best of ${plan.passes} passes`,
      value: megabytesPerSec(plan.passBytes, Math.min(...readRuns)) },
  ]
}
