import http from 'node:http';

/** What an SDK handed to node:http, and the status it got back. */
export interface WireExchange {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  response: Promise<number>;
}

/** A node:http stand-in (the SDKs' `http` option) that records each request, then really sends it. */
export function recordingHttp(wire: WireExchange[]) {
  return {
    request(options: http.RequestOptions) {
      const request = http.request(options);
      const response = new Promise<number>((resolve, reject) => {
        request.once('response', (res) => resolve(res.statusCode ?? 0));
        request.once('error', reject);
      });
      const end = request.end.bind(request) as (body?: string) => http.ClientRequest;
      (request as unknown as { end: (body?: string) => http.ClientRequest }).end = (body?: string) => {
        wire.push({
          method: String(options.method),
          path: String(options.path),
          headers: Object.fromEntries(Object.entries(options.headers ?? {}).map(([key, value]) => [key.toLowerCase(), String(value)])),
          body: body ?? '',
          response,
        });
        return end(body);
      };
      return request;
    },
  };
}
