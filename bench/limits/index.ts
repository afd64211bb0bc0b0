/**
 * Measures every machine limit a run's scenarios are compared against, in the same run and the
 * same data directory, before any scenario starts (so the engine's threads do not share the
 * cores with them).
 */
import { NodeFileSystem } from '../../src/io/node-file-system.js'
import { SluiceError } from '../../src/errors.js'
import type { Limit } from '../results.js'
import { measureDiskLimits, type DiskPlan } from './disk.js'
import { measureLz4, measureMemcpy, type CpuPlan } from './cpu.js'

export interface LimitsPlan {
  disk: DiskPlan
  cpu: CpuPlan
}

export function measureLimits(plan: LimitsPlan, dir: string, recordSizes: readonly number[])
  : Limit[] {
  const fs = new NodeFileSystem()
  fs.mkdirp(dir)
  const limits = [...measureDiskLimits(fs, dir, plan.disk), measureMemcpy(plan.cpu)]
  for (const size of new Set(recordSizes)) limits.push(...measureLz4(size, plan.cpu))
  return limits
}

/** The named limit; a missing one is a bug in the plan, reported as such. */
export function findLimit(limits: readonly Limit[], name: string): Limit {
  const limit = limits.find((l) => l.name === name)
  if (limit === undefined) {
    throw new SluiceError('SLUICE_ERR_INVALID_CONFIG', `bench: limit "${name}" was not measured`)
  }
  return limit
}
