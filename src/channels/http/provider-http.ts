import { Agent, request } from 'undici';
import { parseRetryAfter } from '../../core/retry-after.js';

/**
 * The HTTP client of the HTTP providers (Graph API, Twilio, Vonage): one keep-alive pool per
 * provider instance, an overall deadline per call, and answers read only up to a bound, so a
 * provider (or something posing as one behind a misconfigured `base_url`) cannot hold a send
 * or fill memory. Network failures come back as `{ ok: false }`, never as a throw: the adapter
 * decides what they mean (they are always retryable).
 */

export interface ProviderResponse {
  ok: true;
  status: number;
  headers: Record<string, string | undefined>;
  /** The body as text, cut at MAX_RESPONSE_BYTES. */
  body: string;
}

export type ProviderCallResult = ProviderResponse | { ok: false; reason: string };

export interface ProviderCall {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Providers answer a send in a few hundred bytes; an error page or a JSON error rarely exceeds a few KB. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export class ProviderHttp {
  private readonly agent: Agent;

  constructor(
    private readonly timeoutMs: number,
    connections = 16,
  ) {
    this.agent = new Agent({ connections, keepAliveTimeout: 30_000, connectTimeout: timeoutMs });
  }

  async call(call: ProviderCall): Promise<ProviderCallResult> {
    const deadline = AbortSignal.timeout(this.timeoutMs);
    try {
      const response = await request(call.url, {
        method: call.method,
        headers: { 'user-agent': 'opendispatch', ...call.headers },
        body: call.body,
        dispatcher: this.agent,
        signal: deadline,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(response.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      return { ok: true, status: response.statusCode, headers, body: await readBounded(response.body) };
    } catch (error) {
      // The reason names the failure, never the URL: its query may carry a token.
      return { ok: false, reason: deadline.aborted ? `no answer within ${this.timeoutMs / 1000} s` : networkReason(error) };
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

async function readBounded(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const room = MAX_RESPONSE_BYTES - size;
    chunks.push(chunk.subarray(0, room));
    size += Math.min(chunk.length, room);
    if (size >= MAX_RESPONSE_BYTES) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

function networkReason(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? `connection failed (${code})` : 'connection failed';
}

/** A provider's Retry-After (seconds or an HTTP date) as ms, read as webhook receivers' is. */
export function retryAfterMs(headers: Record<string, string | undefined>, wallNow: number): number | undefined {
  const seconds = parseRetryAfter(headers['retry-after'], wallNow);
  return seconds === undefined ? undefined : seconds * 1000;
}

/** A JSON object body, or undefined for anything else (an HTML error page, an array, junk). */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
