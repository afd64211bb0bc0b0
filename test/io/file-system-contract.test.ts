// Proves that the in-memory FileSystem behaves like the real one wherever the log relies on it:
// one contract suite, run against NodeFileSystem (a real temp dir) and MemoryFileSystem.
// The randomized case prints its seed (SLUICE_FS_SEED replays it).
import * as path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { FileSystem } from '../../src/io/file-system.js'
import { MemoryFileSystem } from '../../src/io/memory-file-system.js'
import { NodeFileSystem } from '../../src/io/node-file-system.js'
import { seedFromEnv, seededRandom, tempDir } from '../helpers.js'

interface Subject {
  fs: FileSystem
  root: string
  dispose: () => void
}

const implementations: [string, () => Subject][] = [
  ['NodeFileSystem', () => {
    const scratch = tempDir('sluice-fs-')
    return { fs: new NodeFileSystem(), root: scratch.dir, dispose: scratch.remove }
  }],
  ['MemoryFileSystem', () => ({ fs: new MemoryFileSystem(), root: '/data', dispose: () => {} })],
]

function codeOf(run: () => unknown): string | undefined {
  try {
    run()
  } catch (error) {
    return (error as NodeJS.ErrnoException).code
  }
  return undefined
}

describe.each(implementations)('%s', (_name, make) => {
  let subject: Subject
  let fs: FileSystem
  let dir: string

  beforeEach(() => {
    subject = make()
    fs = subject.fs
    dir = path.join(subject.root, 'p-0')
    fs.mkdirp(dir)
  })

  afterEach(() => subject.dispose())

  it('writes vectored at positions, zero-fills gaps, and reads back', () => {
    const file = path.join(dir, 'a.log')
    const handle = fs.open(file, 'create')
    expect(fs.writev(handle, [Buffer.from('abc'), Buffer.from('de')], 0)).toBe(5)
    expect(fs.writev(handle, [Buffer.from('Z')], 8)).toBe(1)
    expect(fs.size(handle)).toBe(9)
    const target = Buffer.alloc(12, 0x2e)
    expect(fs.read(handle, target, 1, 11, 0)).toBe(9)
    expect(target).toEqual(Buffer.from('.abcde\0\0\0Z..', 'latin1'))
    expect(fs.read(handle, target, 0, 4, 9)).toBe(0)
    fs.fdatasync(handle)
    fs.close(handle)
    expect(fs.readFile(file)).toEqual(Buffer.from('abcde\0\0\0Z', 'latin1'))
    expect(fs.stat(file)).toMatchObject({ size: 9, isDirectory: false })
  })

  it('truncates, and reads zeros where a file grows back', () => {
    const handle = fs.open(path.join(dir, 'b'), 'create')
    fs.writev(handle, [Buffer.from('123456')], 0)
    fs.truncate(handle, 2)
    fs.truncate(handle, 4)
    const bytes = Buffer.alloc(4)
    fs.read(handle, bytes, 0, 4, 0)
    expect(bytes).toEqual(Buffer.from('12\0\0', 'latin1'))
    fs.close(handle)
  })

  it('fails with ENOENT for missing files and parents, and EBADF on read-only writes', () => {
    expect(codeOf(() => fs.open(path.join(dir, 'missing'), 'read'))).toBe('ENOENT')
    expect(codeOf(() => fs.open(path.join(dir, 'missing'), 'readwrite'))).toBe('ENOENT')
    expect(codeOf(() => fs.open(path.join(dir, 'no', 'x'), 'create'))).toBe('ENOENT')
    expect(codeOf(() => fs.rename(path.join(dir, 'missing'), path.join(dir, 'y')))).toBe('ENOENT')
    expect(fs.stat(path.join(dir, 'missing'))).toBeNull()
    expect(fs.readFile(path.join(dir, 'missing'))).toBeNull()
    fs.unlink(path.join(dir, 'missing'))
    fs.close(fs.open(path.join(dir, 'r'), 'create'))
    const readOnly = fs.open(path.join(dir, 'r'), 'read')
    expect(codeOf(() => fs.writev(readOnly, [Buffer.from('x')], 0))).toBe('EBADF')
    fs.close(readOnly)
  })

  it('keeps an unlinked or renamed file readable through an open handle', () => {
    const file = path.join(dir, 'c.log')
    const writer = fs.open(file, 'create')
    fs.writev(writer, [Buffer.from('kept')], 0)
    const reader = fs.open(file, 'read')
    fs.rename(file, `${file}.deleted`)
    fs.unlink(`${file}.deleted`)
    const bytes = Buffer.alloc(4)
    expect(fs.read(reader, bytes, 0, 4, 0)).toBe(4)
    expect(bytes.toString()).toBe('kept')
    expect(fs.stat(file)).toBeNull()
    fs.close(reader)
    fs.close(writer)
  })

  it('matches a reference model under random writes and truncates across 1 MiB chunks', () => {
    const seed = seedFromEnv('SLUICE_FS_SEED')
    const random = seededRandom(seed)
    const handle = fs.open(path.join(dir, 'big'), 'create')
    let model = Buffer.alloc(0)
    for (let op = 0; op < 40; op++) {
      if (random() < 0.2) {
        const length = Math.floor(random() * 3_500_000)
        fs.truncate(handle, length)
        model = Buffer.concat([model.subarray(0, length),
          Buffer.alloc(Math.max(0, length - model.length))])
        continue
      }
      const position = Math.floor(random() * 3_000_000)
      const data = Buffer.alloc(1 + Math.floor(random() * 400_000), op + 1)
      fs.writev(handle, [data.subarray(0, 7), data.subarray(7)], position)
      const end = position + data.length
      if (end > model.length) model = Buffer.concat([model, Buffer.alloc(end - model.length)])
      data.copy(model, position)
    }
    expect(fs.size(handle), `seed ${seed}`).toBe(model.length)
    const back = Buffer.alloc(model.length)
    expect(fs.read(handle, back, 0, model.length, 0)).toBe(model.length)
    expect(back.equals(model), `seed ${seed}`).toBe(true)
    fs.close(handle)
    expect(fs.readFile(path.join(dir, 'big'))!.equals(model)).toBe(true)
  })

  it('lists, replaces atomically, renames and removes trees', () => {
    fs.writeFileAtomic(path.join(dir, 'cp'), Buffer.from('one'))
    fs.writeFileAtomic(path.join(dir, 'cp'), Buffer.from('two'))
    fs.mkdirp(path.join(dir, 'sub', 'deeper'))
    fs.close(fs.open(path.join(dir, 'sub', 'f'), 'create'))
    expect(fs.readFile(path.join(dir, 'cp'))!.toString()).toBe('two')
    expect(fs.readdir(dir).sort()).toEqual(['cp', 'sub'])
    expect(fs.stat(path.join(dir, 'sub'))).toMatchObject({ isDirectory: true })
    fs.rename(path.join(dir, 'cp'), path.join(dir, 'cp2'))
    expect(fs.readdir(dir).sort()).toEqual(['cp2', 'sub'])
    fs.syncDirectory(dir)
    fs.removeTree(path.join(dir, 'sub'))
    expect(fs.readdir(dir)).toEqual(['cp2'])
    expect(fs.readdir(path.join(dir, 'gone'))).toEqual([])
    fs.removeTree(path.join(dir, 'gone'))
  })
})

describe('MemoryFileSystem capacity', () => {
  it('fails a write past capacityBytes with ENOSPC, landing nothing; unlink frees', () => {
    const fs = new MemoryFileSystem({ capacityBytes: 10 })
    fs.mkdirp('/d')
    const handle = fs.open('/d/f', 'create')
    fs.writev(handle, [Buffer.alloc(8)], 0)
    expect(codeOf(() => fs.writev(handle, [Buffer.alloc(4)], 8))).toBe('ENOSPC')
    expect(fs.size(handle)).toBe(8)
    fs.close(handle)
    fs.unlink('/d/f')
    expect(fs.totalBytes).toBe(0)
    fs.writeFileAtomic('/d/g', Buffer.alloc(10))
    expect(fs.totalBytes).toBe(10)
  })

  it('never shows a deleted file\'s bytes through chunks it reuses', () => {
    const fs = new MemoryFileSystem()
    fs.mkdirp('/d')
    fs.writeFileAtomic('/d/old', Buffer.alloc(3 * 1024 * 1024, 0xaa))
    fs.unlink('/d/old')
    const handle = fs.open('/d/new', 'create')
    fs.writev(handle, [Buffer.from('end')], 2_500_000)
    fs.truncate(handle, 2_600_000)
    const bytes = fs.readFile('/d/new')!
    expect(bytes.byteLength).toBe(2_600_000)
    expect(bytes.subarray(0, 2_500_000).every((b) => b === 0)).toBe(true)
    expect(bytes.subarray(2_500_000, 2_500_003).toString()).toBe('end')
    expect(bytes.subarray(2_500_003).every((b) => b === 0)).toBe(true)
    fs.close(handle)
  })
})
