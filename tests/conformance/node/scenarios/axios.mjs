// axios, the HTTP client many Node.js agents and their tools call APIs with: error answers of a
// real local HTTP server, its own timeout, a cancel through an AbortSignal, and a refused port.
import http from 'node:http';
import axios from 'axios';
import { closedPort } from './_http.mjs';

// A local HTTP server answering every request with `status`, or never when `status` is null.
async function serving(status, fn) {
  const sockets = new Set();
  const server = http.createServer((request, response) => {
    if (status === null) return; // holds the request until the client gives up
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: http.STATUS_CODES[status] }));
  });
  server.on('connection', (socket) => sockets.add(socket));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await fn(`http://127.0.0.1:${server.address().port}/v1/search`);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}

const get = (status, options = {}) => serving(status, (url) => axios.get(url, options));

export const cases = [
  { id: 'status-429', expect: 'rate_limit', run: () => get(429) },
  { id: 'status-503', expect: 'overloaded', run: () => get(503) },
  { id: 'status-401', expect: 'auth', run: () => get(401) },
  { id: 'status-404', expect: 'not_found', run: () => get(404) },
  { id: 'status-400', expect: 'bad_request', run: () => get(400) },
  { id: 'timeout', expect: 'timeout', run: () => get(null, { timeout: 50 }) },
  {
    // The caller gives up (AbortController): axios rejects with CanceledError, code ERR_CANCELED.
    id: 'cancelled',
    expect: 'cancelled',
    run: () =>
      serving(null, (url) => {
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 20);
        return axios.get(url, { signal: controller.signal });
      }),
  },
  {
    id: 'connection-refused',
    expect: 'connection',
    run: async () => axios.get(`http://127.0.0.1:${await closedPort()}/v1/search`),
  },
];
