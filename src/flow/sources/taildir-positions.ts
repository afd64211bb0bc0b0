/**
 * TAILDIR's position file, in Flume's exact format so a Flume agent's file can be picked up (and
 * the other way round): a JSON array with one object per tailed file,
 *
 *   [{"inode":2883976,"pos":1024,"file":"/var/log/app/app.log"}, …]
 *
 * `pos` is the byte offset just past the last line committed to the channel, never further, so
 * a restart re-reads at most the lines read since the last write (at-least-once).
 *
 * Writes are atomic (FileSystem.writeFileAtomic: temp file, fsync, rename, directory fsync):
 * a crash leaves the previous file or the new one, never half of one (Flume's FileUtils.write can
 * leave a torn file). Reading is strict where Flume is lax: Flume logs a file it cannot parse and
 * starts every file from the beginning (or, with skipToEnd, from the end, losing data silently);
 * sluice refuses to start, naming the file and what is wrong with it, so nothing is re-read or
 * skipped without a person deciding.
 */
import * as path from 'node:path'
import { SluiceError } from '../../errors.js'
import type { FileSystem } from '../../io/file-system.js'

export interface TailPosition {
  inode: number
  pos: number
  file: string
}

function corrupt(file: string, what: string): SluiceError {
  return new SluiceError('SLUICE_ERR_SOURCE_INPUT', `TAILDIR position file ${file} is not ` +
    `usable: ${what}. Expected Flume's format [{"inode":<n>,"pos":<n>,"file":"<absolute ` +
    `path>"}, …]; fix it, or move it aside to read every file from its start (duplicates) ` +
    'or from its end with skipToEnd (skipping data)')
}

/** Flume's text for a list of positions. */
export function encodePositions(positions: readonly TailPosition[]): string {
  // Built by hand so each object keeps Flume's key order (Gson writes inode, pos, file).
  return `[${positions.map((p) =>
    `{"inode":${p.inode},"pos":${p.pos},"file":${JSON.stringify(p.file)}}`).join(',')}]`
}

/** Parses and checks a position file's text; `file` names it in errors. */
export function decodePositions(text: string, file: string): TailPosition[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw corrupt(file, `invalid JSON (${(error as Error).message})`)
  }
  if (!Array.isArray(parsed)) throw corrupt(file, 'the top level is not an array')
  return parsed.map((entry: unknown, i) => {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      throw corrupt(file, `entry ${i} is not an object`)
    }
    const { inode, pos, file: tailed } = entry as Record<string, unknown>
    if (!isCount(inode)) throw corrupt(file, `entry ${i}: inode ${describe(inode)}`)
    if (!isCount(pos)) throw corrupt(file, `entry ${i}: pos ${describe(pos)}`)
    if (typeof tailed !== 'string' || !path.isAbsolute(tailed)) {
      throw corrupt(file, `entry ${i}: file ${describe(tailed)}, needs an absolute path`)
    }
    return { inode, pos, file: tailed }
  })
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

function describe(value: unknown): string {
  if (value === undefined) return 'is missing'
  return `is ${JSON.stringify(value)}, not a whole number of 0 or more below 2^53`
}

/** The positions in `file`; none when it does not exist (a first start). */
export function readPositions(fs: FileSystem, file: string): TailPosition[] {
  let bytes: Buffer | null
  try {
    bytes = fs.readFile(file)
  } catch (error) {
    throw corrupt(file, `it cannot be read (${(error as Error).message})`)
  }
  if (bytes === null) return []
  return decodePositions(bytes.toString('utf8'), file)
}

export function writePositions(fs: FileSystem, file: string,
  positions: readonly TailPosition[]): void {
  fs.mkdirp(path.dirname(file))
  fs.writeFileAtomic(file, Buffer.from(encodePositions(positions), 'utf8'))
}
