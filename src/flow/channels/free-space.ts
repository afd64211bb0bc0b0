/**
 * Free bytes on the volume holding a directory, for the file channel's minimumRequiredSpace.
 *
 * This is the one node:fs call outside src/io: io's FileSystem interface has no statfs and that
 * room belongs to the storage engine, so rather than widen its interface from here the call lives
 * in this single function, and the file channel takes it as an injectable option (tests pass a
 * fake to exercise the floor without filling a disk).
 */
import { statfsSync } from 'node:fs'

export type FreeBytes = (dir: string) => number

export const volumeFreeBytes: FreeBytes = (dir) => {
  const stats = statfsSync(dir)
  return Number(stats.bavail) * Number(stats.bsize)
}
