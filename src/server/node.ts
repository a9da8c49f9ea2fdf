/**
 * One otlp-store node: the store, the OTLP receivers (:4317 gRPC, :4318 HTTP), the Tempo-compatible
 * query API with /metrics, /ready and /healthz (:3200), the Jaeger-compatible API (:16686), periodic
 * retention, and graceful shutdown.
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type * as grpc from '@grpc/grpc-js';
import { pino, type Logger } from 'pino';
import type { Store, StoreConfig } from '../store/types.js';
import { READ_CONSISTENCY_LEVELS, type NodeConfig } from './config.js';
import { bindGrpc, buildGrpcServer, shutdownGrpc } from './grpc-receiver.js';
import { buildHttpReceiver, fastifyServerOptions } from './http-receiver.js';
import { IngestPipeline, type OtlpCodec } from './ingest.js';
import { InflightLimiter } from './limits.js';
import { NodeMetrics } from './metrics.js';
import { parseTenant } from './tenant.js';

export interface NodePorts {
  grpc: number;
  http: number;
  query: number;
  jaeger: number;
}

/** A fastify plugin of query/: registers its routes; reads the tenant of each request through tenantOf. */
export type QueryPlugin = (
  app: FastifyInstance,
  options: { store: Store; tenantOf: (request: FastifyRequest) => string; onUndecodableTrace?: () => void },
) => Promise<void>;

/** What the node is assembled from; `components.ts` binds the real modules. */
export interface NodeComponents {
  createStore(config: StoreConfig): Store;
  codec: OtlpCodec;
  tempoPlugin: QueryPlugin;
  jaegerPlugin: QueryPlugin;
}

export function storeConfigOf(config: NodeConfig): StoreConfig {
  return {
    dataDir: config.dataDir,
    shards: config.shards,
    fsync: config.fsync,
    retention: { defaultMs: config.retentionMs, perTenantMs: config.retentionPerTenantMs },
    cacheBytes: config.cacheBytes,
    memoryHeadBytes: config.memoryHeadBytes,
    maxQueuedSpans: config.maxQueuedSpans,
  };
}

/** The tenant of a query request (X-Scope-OrgID); query/ answers 400 for an InvalidTenantError. */
export function tenantOf(request: FastifyRequest): string {
  return parseTenant(request.headers['x-scope-orgid']);
}

type Phase = 'created' | 'starting' | 'serving' | 'stopping' | 'stopped';

export class OtlpStoreNode {
  readonly logger: Logger;
  readonly limiter: InflightLimiter;
  readonly metrics: NodeMetrics;
  private store: Store | undefined;
  private phase: Phase = 'created';
  private httpReceiver: FastifyInstance | undefined;
  private grpcServer: grpc.Server | undefined;
  private queryApp: FastifyInstance | undefined;
  private jaegerApp: FastifyInstance | undefined;
  private retentionTimer: NodeJS.Timeout | undefined;
  private retentionRunning: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  ports: NodePorts | undefined;

  constructor(
    readonly config: NodeConfig,
    private readonly components: NodeComponents,
    logger?: Logger,
  ) {
    this.logger = logger ?? pino({ level: config.logLevel, base: { pid: process.pid } });
    this.limiter = new InflightLimiter(config.maxInflightRequests, config.maxInflightBytes);
    this.metrics = new NodeMetrics(() => this.store, this.limiter);
  }

  get ready(): boolean {
    return this.phase === 'serving';
  }

  async start(): Promise<NodePorts> {
    if (this.phase !== 'created') throw new Error(`node.start() called in phase ${this.phase}`);
    this.phase = 'starting';
    const { config } = this;
    const store = this.components.createStore(storeConfigOf(config));
    await store.open();
    this.store = store;

    const accepting = (): boolean => this.phase === 'serving';
    const pipeline = new IngestPipeline(store, this.components.codec, this.metrics);
    const deps = { config, pipeline, limiter: this.limiter, metrics: this.metrics, logger: this.logger, accepting };

    this.queryApp = await this.buildQueryApp(store);
    this.jaegerApp = await this.buildJaegerApp(store);
    this.httpReceiver = buildHttpReceiver(deps);
    this.instrument(this.httpReceiver, 'otlp-http');
    this.grpcServer = buildGrpcServer(deps);

    const listen = async (app: FastifyInstance, port: number): Promise<number> => {
      await app.listen({ host: config.host, port });
      const address = app.server.address();
      if (address === null || typeof address === 'string') throw new Error('invariant: fastify bound no TCP port');
      return address.port;
    };
    const query = await listen(this.queryApp, config.queryPort);
    const jaeger = await listen(this.jaegerApp, config.jaegerPort);
    const grpcPort = await bindGrpc(this.grpcServer, config.host, config.grpcPort);
    const http = await listen(this.httpReceiver, config.httpPort);
    this.ports = { grpc: grpcPort, http, query, jaeger };

    this.retentionTimer = setInterval(() => this.runRetention(), config.retentionIntervalMs);
    this.retentionTimer.unref();
    this.phase = 'serving';
    return this.ports;
  }

  /** One retention pass; passes never overlap. */
  runRetention(): Promise<void> {
    if (this.retentionRunning || !this.store) return this.retentionRunning ?? Promise.resolve();
    const store = this.store;
    this.retentionRunning = store
      .runRetention()
      .then(
        (dropped) => {
          if (dropped > 0) this.logger.info({ dropped }, 'retention dropped spans');
        },
        (err: unknown) => this.logger.error({ err }, 'retention failed'),
      )
      .finally(() => {
        this.retentionRunning = undefined;
      });
    return this.retentionRunning;
  }

  /**
   * Stops accepting, lets in-flight requests finish (bounded by shutdown-timeout), then flushes and
   * closes the store. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.phase = 'stopping';
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    const timeout = this.config.shutdownTimeoutMs;
    const withTimeout = async (what: string, p: Promise<unknown>): Promise<void> => {
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeout);
      });
      const outcome = await Promise.race([p.then(() => 'done' as const, (err: unknown) => {
        this.logger.warn({ err }, `${what} close failed`);
        return 'done' as const;
      }), expired]);
      clearTimeout(timer);
      if (outcome === 'timeout') this.logger.warn({ timeoutMs: timeout }, `${what} did not close in time`);
    };
    // Receivers first: once they have finished their in-flight requests nothing writes any more.
    await Promise.all([
      this.httpReceiver ? withTimeout('otlp-http', this.httpReceiver.close()) : undefined,
      this.grpcServer ? shutdownGrpc(this.grpcServer, timeout) : undefined,
    ]);
    if (this.httpReceiver) this.httpReceiver.server.closeAllConnections();
    await Promise.all([
      this.queryApp ? withTimeout('query', this.queryApp.close()) : undefined,
      this.jaegerApp ? withTimeout('jaeger', this.jaegerApp.close()) : undefined,
    ]);
    await this.retentionRunning;
    if (this.store) await this.store.close();
    this.phase = 'stopped';
  }

  private instrument(app: FastifyInstance, server: string): void {
    // While stopping, connections are closed after their answer instead of idling in keep-alive,
    // so that closing the servers does not wait for clients to hang up.
    app.addHook('onSend', async (_request, reply, payload) => {
      if (this.phase === 'stopping') reply.header('connection', 'close');
      return payload;
    });
    app.addHook('onResponse', async (request, reply) => {
      this.metrics.httpDuration.observe(
        { server, method: request.method, route: request.routeOptions.url ?? 'unmatched', code: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
    });
  }

  /** Reads accept X-Consistency strong | quorum | one; a single node answers every level from its own store. */
  private validateReadConsistency(app: FastifyInstance): void {
    app.addHook('onRequest', async (request) => {
      const value = request.headers['x-consistency'];
      if (value === undefined) return;
      const text = (Array.isArray(value) ? value.join(',') : value).trim().toLowerCase();
      if (!(READ_CONSISTENCY_LEVELS as readonly string[]).includes(text)) {
        throw Object.assign(new Error(`X-Consistency "${text.slice(0, 40)}" is not a read level (${READ_CONSISTENCY_LEVELS.join(', ')})`), { statusCode: 400 });
      }
    });
  }

  private async buildQueryApp(store: Store): Promise<FastifyInstance> {
    const app = Fastify(fastifyServerOptions(this.config, this.logger.child({ component: 'query' })));
    this.instrument(app, 'query');
    this.validateReadConsistency(app);
    app.get('/metrics', async (_request, reply) => {
      const text = await this.metrics.registry.metrics();
      return reply.header('content-type', this.metrics.registry.contentType).send(text);
    });
    app.get('/healthz', async (_request, reply) => reply.code(200).send('ok\n'));
    await app.register(this.components.tempoPlugin, { store, tenantOf });
    // Tempo's /ready says whether the node serves; ours is false while starting and stopping.
    if (!app.hasRoute({ method: 'GET', url: '/ready' })) {
      app.get('/ready', async (_request, reply) => (this.ready ? reply.send('ready\n') : reply.code(503).send('not ready\n')));
    }
    return app;
  }

  private async buildJaegerApp(store: Store): Promise<FastifyInstance> {
    const app = Fastify(fastifyServerOptions(this.config, this.logger.child({ component: 'jaeger' })));
    this.instrument(app, 'jaeger');
    this.validateReadConsistency(app);
    await app.register(this.components.jaegerPlugin, { store, tenantOf, onUndecodableTrace: () => this.metrics.undecodableTraces.inc() });
    return app;
  }
}
