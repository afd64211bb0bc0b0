/**
 * Entry point of a shard worker thread: wires a ShardRuntime to this thread's message port.
 * Everything else lives in src/engine/shard-runtime.ts.
 */
import { parentPort } from 'node:worker_threads'
import { NodeFileSystem } from '../src/io/node-file-system.js'
import { ShardRuntime } from '../src/engine/shard-runtime.js'
import type { FromShard, ToShard } from '../src/engine/shard-protocol.js'

if (parentPort === null) throw new Error('workers/shard.js must run as a worker thread')
const port = parentPort
const runtime = new ShardRuntime(new NodeFileSystem(), (message: FromShard) => port.postMessage(message))
port.on('message', (message: ToShard) => runtime.handle(message))
