/**
 * `host:port` as sluice's commands and pipeline files write an address (`[::1]:9092` for IPv6).
 * Null when it is not one, so each caller names its own flag or key in the error.
 */
export interface HostPort {
  host: string
  port: number
}

export function parseHostPort(value: string): HostPort | null {
  const at = value.lastIndexOf(':')
  const host = value.slice(0, at).replace(/^\[(.*)\]$/, '$1')
  const portText = value.slice(at + 1)
  const port = Number(portText)
  if (at <= 0 || host === '' || portText === '' || !Number.isInteger(port) || port < 0
    || port > 65535) return null
  return { host, port }
}
