/**
 * The byte pipe under the frames of one connection, layered as Flume's Netty pipelines are
 * (AvroSource's and NettyAvroRpcClient's `addFirst` order: SSL is added last, so it is nearest
 * the network):
 *
 *   frames ⇄ [zlib deflate / inflate] ⇄ [TLS] ⇄ TCP
 *
 * so with both on, the wire is TLS records whose plaintext is one zlib stream per direction per
 * connection. The zlib stream is Netty's ZlibEncoder/ZlibDecoder (JZlib, zlib wrapper): each
 * write is deflated and sync-flushed (Z_SYNC_FLUSH), so every frame is decodable as soon as it
 * arrives, and the dictionary carries over from frame to frame.
 *
 * The socket given here is already connected (and, with TLS, a TLSSocket); this room adds only
 * the compression and one write call per frame.
 */
import type * as net from 'node:net'
import type { Readable } from 'node:stream'
import * as zlib from 'node:zlib'

export interface FramePipe {
  /** The peer's bytes, inflated when compression is on. */
  readonly input: Readable
  /** Writes one whole frame; false when the output is above its high-water mark. */
  write(frame: Buffer[]): boolean
  /** Calls back once output can take more (at once if it can). */
  onceWritable(callback: () => void): void
  /** Flushes what is written, then closes the sending side. */
  end(): void
}

export function framePipe(socket: net.Socket, compressionLevel: number | null): FramePipe {
  if (compressionLevel === null) return plainPipe(socket)
  const inflate = zlib.createInflate()
  const deflate = zlib.createDeflate({ level: compressionLevel })
  socket.pipe(inflate)
  deflate.pipe(socket)
  // A peer's bad zlib data surfaces on the inflater; the reader of `input` decides what to do.
  deflate.on('error', (error) => socket.destroy(error))
  return {
    input: inflate,
    write(frame) {
      for (const part of frame) deflate.write(part)
      deflate.flush(zlib.constants.Z_SYNC_FLUSH)
      return !deflate.writableNeedDrain && !socket.writableNeedDrain
    },
    onceWritable(callback) {
      if (socket.destroyed || (!deflate.writableNeedDrain && !socket.writableNeedDrain)) {
        callback()
        return
      }
      const target = deflate.writableNeedDrain ? deflate : socket
      onDrainOrClose(target, socket, () => this.onceWritable(callback))
    },
    end() {
      deflate.end()
    },
  }
}

function plainPipe(socket: net.Socket): FramePipe {
  return {
    input: socket,
    write(frame) {
      let ok = true
      // cork/uncork: one TCP segment for the header and the buffers when they fit.
      socket.cork()
      for (const part of frame) ok = socket.write(part)
      socket.uncork()
      return ok
    },
    onceWritable(callback) {
      if (socket.destroyed || !socket.writableNeedDrain) callback()
      else onDrainOrClose(socket, socket, callback)
    },
    end() {
      socket.end()
    },
  }
}

/** Once `target` drains or the socket closes (a closed socket never drains). */
function onDrainOrClose(target: NodeJS.EventEmitter, socket: net.Socket, callback: () => void)
  : void {
  const fire = (): void => {
    target.off('drain', fire)
    socket.off('close', fire)
    callback()
  }
  target.once('drain', fire)
  socket.once('close', fire)
}
