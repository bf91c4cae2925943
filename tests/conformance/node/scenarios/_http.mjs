// Offline transports for the SDK clients: a `fetch` that answers every request with one
// provider-shaped response, a `fetch` that never answers (so the client's own timeout or the
// caller's abort fires), and the address of a local port nobody listens on.
import net from 'node:net';

export function answering(status, body, headers = {}) {
  return async (_url, init) => {
    init?.signal?.throwIfAborted();
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json', 'x-request-id': 'req_8f3a9c1d2e', ...headers },
    });
  };
}

export function neverAnswering() {
  return (_url, init) =>
    new Promise((_resolve, reject) => {
      const signal = init?.signal;
      if (!signal) return; // a client without a signal would hang: every SDK here passes one
      if (signal.aborted) return reject(signal.reason);
      // A real pending request holds a socket open, which keeps the process alive until the
      // answer or the abort; AbortSignal.timeout's own timer does not (it is unref'd).
      const pending = setInterval(() => {}, 1000);
      signal.addEventListener(
        'abort',
        () => {
          clearInterval(pending);
          reject(signal.reason);
        },
        { once: true },
      );
    });
}

// A port that was free a moment ago and is closed again: connecting to it is refused.
export async function closedPort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// A server that accepts a connection and closes it at once, before any HTTP answer.
export async function hangingUp(fn) {
  const server = net.createServer((socket) => socket.destroy());
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await fn(server.address().port);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}
