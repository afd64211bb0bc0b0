// Proves behaviour on a full disk, on a real tiny tmpfs: appends fail with a storage error, the
// partition refuses appends until recovered, nothing acknowledged is lost, and after space is
// freed and the partition recovered, appends work again. Needs root to mount; skipped otherwise.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync, unlinkSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { Log, isSluiceError } from '../../src/index.js'

function canMountTmpfs(): string | null {
  if (process.getuid?.() !== 0) return 'not running as root'
  const probe = mkdtempSync(path.join(os.tmpdir(), 'sluice-tmpfs-probe-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'pipe' })
    execFileSync('umount', [probe])
    return null
  } catch (error) {
    return `cannot mount tmpfs: ${(error as Error).message.split('\n')[0]}`
  } finally {
    rmSync(probe, { recursive: true, force: true })
  }
}

const skipReason = canMountTmpfs()
if (skipReason !== null) console.log(`disk-full test skipped: ${skipReason}`)

let mountPoint = ''
beforeAll(() => {
  if (skipReason !== null) return
  mountPoint = mkdtempSync(path.join(os.tmpdir(), 'sluice-full-'))
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mountPoint])
})
afterAll(() => {
  if (mountPoint === '') return
  execFileSync('umount', [mountPoint])
  rmSync(mountPoint, { recursive: true, force: true })
})

it.skipIf(skipReason !== null)('fails appends with a storage error on ENOSPC and recovers',
  async () => {
    const log = await Log.open({ dataDir: path.join(mountPoint, 'data'), shards: 1 })
    try {
      await log.createTopic('full', { partitions: 1, durability: 'fsync' })
      const filler = path.join(mountPoint, 'filler')
      writeFileSync(filler, Buffer.alloc(2 * 1024 * 1024))
      const acked: string[] = []
      let failure: unknown = null
      for (let i = 0; i < 10_000 && failure === null; i++) {
        const value = `record-${i}-${'z'.repeat(4000)}`
        try {
          await log.append('full', 0, [{ value }])
          acked.push(value)
        } catch (error) {
          failure = error
        }
      }
      expect(isSluiceError(failure, 'SLUICE_ERR_STORAGE')).toBe(true)
      expect(acked.length).toBeGreaterThan(0)
      await expect(log.append('full', 0, [{ value: 'tiny' }])).rejects.toMatchObject({
        code: 'SLUICE_ERR_STORAGE',
      })
      const before = await log.read('full', 0, 0, { maxBytes: 64 * 1024 * 1024 })
      expect(before.records.map((r) => r.value!.toString())).toEqual(acked)

      unlinkSync(filler)
      await log.recoverPartition('full', 0)
      const after = await log.append('full', 0, [{ value: 'after-recovery' }])
      expect(after.baseOffset).toBe(acked.length)
      const all = await log.read('full', 0, 0, { maxBytes: 64 * 1024 * 1024 })
      expect(all.records.map((r) => r.value!.toString())).toEqual([...acked, 'after-recovery'])
    } finally {
      await log.close()
    }
  })
