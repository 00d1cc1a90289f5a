/**
 * Load generation for the accept benchmark: autocannon in this process (the server is in a
 * child), with every response's latency kept at sub-millisecond resolution (autocannon's own
 * histogram rounds to whole milliseconds, too coarse for a 2 ms median).
 */
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';

export interface LoadOptions {
  /** Several: the connections are spread over them (the nodes of a cluster), one autocannon each. */
  url: string | string[];
  connections: number;
  seconds: number;
  headers: Record<string, string>;
  body: string;
}

export interface LoadResult {
  seconds: number;
  responses: number;
  ok2xx: number;
  non2xx: number;
  /** Connection errors and timeouts, as autocannon counts them. */
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** Latency of 2xx responses, ms. */
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  /** CPU this process (the load generator) used during the run, as a share of one core. */
  loadGeneratorCpu: number;
  loadGeneratorCpuMs: number;
  wallMs: number;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  const cpu = process.cpuUsage();
  const startedAt = performance.now();
  const urls = Array.isArray(options.url) ? options.url : [options.url];
  const runs = urls.map(
    (url, index) =>
      new Promise<autocannon.Result>((resolve, reject) => {
        const instance = autocannon(
          {
            url,
            method: 'POST',
            headers: options.headers,
            body: options.body,
            // The connections spread as evenly as they go.
            connections: Math.floor(options.connections / urls.length) + (index < options.connections % urls.length ? 1 : 0),
            pipelining: 1,
            duration: options.seconds,
            timeout: 10,
          },
          (error, result: autocannon.Result) => (error ? reject(error) : resolve(result)),
        );
        instance.on('response', (_client, statusCode, _bytes, responseTime) => {
          statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
          if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
        });
      }),
  );
  const results = await Promise.all(runs);
  const sum = (pick: (r: autocannon.Result) => number) => results.reduce((total, r) => total + pick(r), 0);
  const result = { duration: Math.max(...results.map((r) => r.duration)), '2xx': sum((r) => r['2xx']), non2xx: sum((r) => r.non2xx), errors: sum((r) => r.errors), timeouts: sum((r) => r.timeouts) };
  const wallMs = performance.now() - startedAt;
  const used = process.cpuUsage(cpu);
  latencies.sort((a, b) => a - b);
  const at = (q: number) => (latencies.length === 0 ? NaN : latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!);
  const ok2xx = result['2xx'];
  return {
    seconds: result.duration,
    responses: ok2xx + result.non2xx,
    ok2xx,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    p999: at(0.999),
    max: latencies.at(-1) ?? NaN,
    loadGeneratorCpu: (used.user + used.system) / 1000 / wallMs,
    loadGeneratorCpuMs: (used.user + used.system) / 1000,
    wallMs,
  };
}
