/**
 * The monitoring endpoint (`--metrics-port`), shaped like Flume's HTTPMetricsServer:
 * GET /metrics answers Flume's JSON; GET /metrics/prometheus (or /metrics with an Accept header
 * asking for Prometheus or OpenMetrics text) answers the Prometheus text format; GET / is a small
 * HTML page linking both; TRACE and OPTIONS are 403; everything else is 404.
 */
import * as http from 'node:http'
import { flumeJson, prometheusText, type MetricsView } from './report.js'
import { listenServer } from '../listen.js'

const PROMETHEUS_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

function wantsPrometheus(request: http.IncomingMessage): boolean {
  const accept = request.headers.accept ?? ''
  return accept.includes('application/openmetrics-text') || accept.includes('version=0.0.4')
}

export class MetricsServer {
  private server: http.Server | null = null

  constructor(private readonly view: () => MetricsView) {}

  get port(): number {
    const address = this.server?.address()
    return typeof address === 'object' && address !== null ? address.port : 0
  }

  async start(port: number, bind = '0.0.0.0'): Promise<void> {
    const server = http.createServer((request, response) => this.handle(request, response))
    this.server = server
    await listenServer(server, port, bind, 'metrics')
    // After listen, an accept error must not crash the agent it reports on.
    server.on('error', () => undefined)
  }

  async stop(): Promise<void> {
    const server = this.server
    this.server = null
    if (server === null) return
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    const path = (request.url ?? '/').split('?')[0]
    if (request.method === 'TRACE' || request.method === 'OPTIONS') {
      response.writeHead(403).end()
    } else if (request.method !== 'GET') {
      response.writeHead(404).end()
    } else if (path === '/metrics/prometheus'
      || (path === '/metrics' && wantsPrometheus(request))) {
      response.writeHead(200, { 'content-type': PROMETHEUS_TYPE }).end(prometheusText(this.view()))
    } else if (path === '/metrics') {
      response.writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(flumeJson(this.view())))
    } else if (path === '/') {
      response.writeHead(200, { 'content-type': 'text/html' }).end(
        '<html><body><a href="/metrics">Metrics</a> · ' +
        '<a href="/metrics/prometheus">Prometheus</a></body></html>')
    } else {
      response.writeHead(404).end()
    }
  }
}
