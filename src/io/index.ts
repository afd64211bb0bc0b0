/**
 * The io room's public face: the FileSystem interface every file access goes through, the real
 * implementation over node:fs, the in-memory one (durability 'memory', tests) and the fault
 * double that injects ENOSPC, EIO, torn writes and power loss.
 */
export type { FileHandle, FileStat, FileSystem } from './file-system.js'
export { NodeFileSystem, isNotFound } from './node-file-system.js'
export { MemoryFileSystem, fsError, type MemoryFileSystemOptions } from './memory-file-system.js'
export {
  FaultFileSystem, type CrashOutcome, type FaultCode, type PathFilter,
} from './fault-file-system.js'
