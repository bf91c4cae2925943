// Node.js itself: `fetch` (undici) against a refused port and a peer that hangs up, timeouts and
// aborts of AbortSignal, `node:net` / `node:http` socket errors, a missing file, and JSON.parse /
// Response.json() on malformed model output, and an allocation V8 refuses.
import { execFile, execSync, spawn } from 'node:child_process';
import dns from 'node:dns/promises';
import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { closedPort, hangingUp } from './_http.mjs';

// A server that accepts and never answers, so only the caller's timeout or abort ends a request.
async function silent(fn) {
  const sockets = new Set();
  const server = net.createServer((socket) => sockets.add(socket));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await fn(server.address().port);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}

const MODEL_OUTPUT = 'Here is the JSON you asked for: {"city": "Paris"}';

export const cases = [
  {
    // A coding agent's shell tool: the command exits non-zero and execSync throws.
    id: 'tool-command-failed',
    expect: 'tool',
    run: async () => execSync(`${process.execPath} -e "process.exit(2)"`, { stdio: 'pipe' }),
  },
  {
    // The tool's program is not installed: spawn fails with ENOENT.
    id: 'tool-program-missing',
    expect: 'tool',
    run: () =>
      new Promise((resolve, reject) => {
        const child = spawn('failcat-conformance-no-such-program', ['--version']);
        child.on('error', reject);
        child.on('exit', resolve);
      }),
  },
  {
    // A buffer far larger than the machine can give (1 TiB): V8 refuses it at once with a
    // RangeError the process survives, as when an agent reads a huge download whole.
    id: 'array-buffer-allocation-failed',
    expect: 'resource',
    run: async () => new ArrayBuffer(2 ** 40),
  },
  {
    // A tool run in a worker thread with a heap limit, which it outgrows: V8 ends the worker
    // and its 'error' event carries ERR_WORKER_OUT_OF_MEMORY.
    id: 'worker-out-of-memory',
    expect: 'resource',
    run: () =>
      new Promise((resolve, reject) => {
        const worker = new Worker('const held = []; for (;;) held.push(new Array(1e5).fill(held.length));', {
          eval: true,
          resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
        });
        worker.on('error', reject);
        worker.on('exit', resolve);
      }),
  },
  {
    // A shell tool whose command prints more than exec's maxBuffer: the child is killed and
    // the callback gets ERR_CHILD_PROCESS_STDIO_MAXBUFFER.
    id: 'child-output-over-maxbuffer',
    expect: 'resource',
    run: () =>
      new Promise((resolve, reject) => {
        execFile(process.execPath, ['-e', "process.stdout.write('x'.repeat(65536))"], { maxBuffer: 1024 }, (error) =>
          error ? reject(error) : resolve(),
        );
      }),
  },
  {
    // Unbounded recursion (a tool result that refers to itself, walked without a depth bound):
    // V8 stops it with a RangeError, as Python's RecursionError.
    id: 'call-stack-exhausted',
    expect: 'limit_exceeded',
    run: async () => {
      const walk = (node) => 1 + walk(node.next);
      const loop = {};
      loop.next = loop;
      return walk(loop);
    },
  },
  {
    id: 'fetch-connection-refused',
    expect: 'connection',
    run: async () => fetch(`http://127.0.0.1:${await closedPort()}/v1/chat`),
  },
  {
    id: 'fetch-peer-hung-up',
    expect: 'connection',
    run: () => hangingUp((port) => fetch(`http://127.0.0.1:${port}/v1/chat`)),
  },
  {
    id: 'fetch-abort-signal-timeout',
    expect: 'timeout',
    run: () => silent((port) => fetch(`http://127.0.0.1:${port}/v1/chat`, { signal: AbortSignal.timeout(30) })),
  },
  {
    id: 'fetch-aborted',
    expect: 'cancelled',
    run: () =>
      silent((port) => {
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 20);
        return fetch(`http://127.0.0.1:${port}/v1/chat`, { signal: controller.signal });
      }),
  },
  {
    id: 'net-connect-refused',
    expect: 'connection',
    run: async () => {
      const port = await closedPort();
      await new Promise((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', resolve);
        socket.on('error', reject);
      });
    },
  },
  {
    id: 'http-socket-hang-up',
    expect: 'connection',
    run: () =>
      hangingUp(
        (port) =>
          new Promise((resolve, reject) => {
            http.get(`http://127.0.0.1:${port}/`, resolve).on('error', reject);
          }),
      ),
  },
  {
    // Aborted by the caller. (Aborted by AbortSignal.timeout, node:http raises the same AbortError,
    // "The operation was aborted", with the timeout only in its `cause`, which recordException
    // does not record: such a failure is stored as cancelled, not timeout. fetch is not affected:
    // it raises the signal's own TimeoutError.)
    id: 'http-request-aborted',
    expect: 'cancelled',
    run: () =>
      silent(
        (port) =>
          new Promise((resolve, reject) => {
            const controller = new AbortController();
            setTimeout(() => controller.abort(), 20);
            http.get(`http://127.0.0.1:${port}/`, { signal: controller.signal }, resolve).on('error', reject);
          }),
      ),
  },
  {
    id: 'dns-not-found',
    expect: 'connection',
    // The reserved .invalid top-level domain never resolves, so the lookup fails at once offline.
    run: () => dns.lookup('agent-tools.invalid'),
  },
  {
    id: 'file-not-found',
    expect: 'not_found',
    run: () => fs.readFile('/nonexistent/agent/prompts/system.md', 'utf8'),
  },
  {
    id: 'json-parse-prose',
    expect: 'output_parse',
    run: () => JSON.parse(MODEL_OUTPUT),
  },
  {
    id: 'json-parse-truncated',
    expect: 'output_parse',
    run: () => JSON.parse('{"city": "Paris", "days": [1, 2'),
  },
  {
    id: 'json-parse-unquoted-key',
    expect: 'output_parse',
    run: () => JSON.parse("{city: 'Paris'}"),
  },
  {
    id: 'json-parse-empty',
    expect: 'output_parse',
    run: () => JSON.parse(''),
  },
  {
    id: 'response-json-html',
    expect: 'output_parse',
    run: () => new Response('<html><body>502 Bad Gateway</body></html>').json(),
  },
  {
    id: 'fetch-body-terminated',
    expect: 'connection',
    // The peer sends the headers and part of the body, then drops the connection.
    run: async () => {
      const server = http.createServer((request, response) => {
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        response.write('{"choices": [');
        setTimeout(() => response.socket.destroy(), 20);
      });
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const response = await fetch(`http://127.0.0.1:${server.address().port}/v1/chat`);
        return await response.text();
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    },
  },
  {
    id: 'fetch-url-without-scheme',
    expect: 'configuration',
    run: () => fetch('api.search.example/v1/query'),
  },
  {
    id: 'url-invalid',
    expect: 'configuration',
    run: () => new URL('${SEARCH_API_URL}/v1/query'),
  },
  {
    id: 'zod-model-output',
    expect: 'output_parse',
    // The agent validates the model's JSON answer with zod before using it.
    run: () => z.object({ city: z.string(), days: z.number() }).parse(JSON.parse('{"city": "Paris"}')),
  },
];
