// The MCP TypeScript SDK (`@modelcontextprotocol/sdk`): a real client and McpServer joined by the
// SDK's InMemoryTransport, failing the ways a protocol exchange fails (unknown tool, prompt or
// resource, arguments the schema refuses, a method the server lacks, a request timeout or
// cancel, a connection closed under a pending request, HTTP endpoints refusing or unreachable).
import http from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { closedPort } from './_http.mjs';

// A plain HTTP server answering every request with `status` (a wrong MCP URL, a proxy in front
// of a server that is down).
async function answeringHttp(status, fn) {
  const server = http.createServer((request, response) => {
    response.writeHead(status, { 'content-type': 'text/plain' });
    response.end(http.STATUS_CODES[status]);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await fn(`http://127.0.0.1:${server.address().port}/mcp`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

async function connected(fn) {
  const server = new McpServer({ name: 'trip-tools', version: '1.0.0' });
  server.registerTool(
    'weather',
    { description: 'Weather of a city', inputSchema: { city: z.string() } },
    async ({ city }) => ({ content: [{ type: 'text', text: `sunny in ${city}` }] }),
  );
  server.registerTool('slow_search', { description: 'Slow', inputSchema: {} }, async () => {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    return { content: [{ type: 'text', text: 'late' }] };
  });
  server.registerPrompt('plan', { description: 'Plan a trip', argsSchema: { city: z.string() } }, ({ city }) => ({
    messages: [{ role: 'user', content: { type: 'text', text: `Plan ${city}` } }],
  }));
  server.registerResource('itinerary', 'trip://itinerary', { description: 'The itinerary' }, async (uri) => ({
    contents: [{ uri: uri.href, text: 'day 1: Paris' }],
  }));
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'trip-agent', version: '1.0.0' });
  await client.connect(clientSide);
  try {
    return await fn(client, server);
  } finally {
    await client.close();
    await server.close();
  }
}

// McpServer answers a failed tools/call with a result marked isError (the SDK's own error text in
// it) rather than a JSON-RPC error; an agent raises that text, as MCP tool adapters do.
async function callTool(client, params) {
  const result = await client.callTool(params);
  if (result.isError) throw new Error(result.content.map((part) => part.text).join('\n'));
  return result;
}

// A server on the SDK's low-level Server, as the reference servers are written: it answers a call
// of a tool it lacks with a JSON-RPC error, -32601 (method not found) and "Unknown tool: <name>".
async function connectedLowLevel(fn) {
  const server = new Server({ name: 'weather-tools', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: [{ name: 'weather', description: 'Weather of a city', inputSchema: { type: 'object' } }],
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    if (request.params.name !== 'weather') {
      throw new McpError(ErrorCode.MethodNotFound, `Unknown tool: ${request.params.name}`);
    }
    return { content: [{ type: 'text', text: 'sunny' }] };
  });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'trip-agent', version: '1.0.0' });
  await client.connect(clientSide);
  try {
    return await fn(client);
  } finally {
    await client.close();
    await server.close();
  }
}

export const cases = [
  {
    id: 'unknown-tool',
    expect: 'tool',
    run: () => connected((client) => callTool(client, { name: 'search_web', arguments: { query: 'paris' } })),
  },
  {
    id: 'unknown-tool-low-level-server',
    expect: 'tool',
    run: () => connectedLowLevel((client) => client.callTool({ name: 'get_forecast', arguments: { city: 'Paris' } })),
  },
  {
    id: 'tool-invalid-arguments',
    expect: 'tool',
    run: () => connected((client) => callTool(client, { name: 'weather', arguments: { town: 42 } })),
  },
  {
    id: 'unknown-prompt',
    expect: 'not_found',
    run: () => connected((client) => client.getPrompt({ name: 'book', arguments: {} })),
  },
  {
    id: 'prompt-invalid-arguments',
    expect: 'bad_request',
    run: () => connected((client) => client.getPrompt({ name: 'plan', arguments: { town: 'Paris' } })),
  },
  {
    id: 'unknown-resource',
    expect: 'not_found',
    run: () => connected((client) => client.readResource({ uri: 'trip://bookings' })),
  },
  {
    id: 'method-not-found',
    expect: 'not_found',
    run: () =>
      connected((client) =>
        client.complete({ ref: { type: 'ref/prompt', name: 'plan' }, argument: { name: 'city', value: 'Pa' } }),
      ),
  },
  {
    id: 'request-timeout',
    expect: 'timeout',
    run: () => connected((client) => client.callTool({ name: 'slow_search', arguments: {} }, undefined, { timeout: 50 })),
  },
  {
    // The SDK rejects an aborted request with McpError -32001 (its timeout code) and the abort
    // reason as text, so only the wording tells a cancel from a timeout.
    id: 'request-cancelled',
    expect: 'cancelled',
    run: () =>
      connected((client) => {
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 20);
        return client.callTool({ name: 'slow_search', arguments: {} }, undefined, { signal: controller.signal });
      }),
  },
  {
    id: 'request-cancelled-with-reason',
    expect: 'cancelled',
    run: () =>
      connected((client) => {
        const controller = new AbortController();
        setTimeout(() => controller.abort('user pressed stop'), 20);
        return client.callTool({ name: 'slow_search', arguments: {} }, undefined, { signal: controller.signal });
      }),
  },
  {
    id: 'connection-closed',
    expect: 'connection',
    run: () =>
      connected(async (client, server) => {
        const pending = client.callTool({ name: 'slow_search', arguments: {} });
        setTimeout(() => server.close(), 20);
        return pending;
      }),
  },
  {
    id: 'http-server-unreachable',
    expect: 'connection',
    run: async () => {
      const url = new URL(`http://127.0.0.1:${await closedPort()}/mcp`);
      const client = new Client({ name: 'trip-agent', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(url));
    },
  },
  {
    id: 'http-endpoint-404',
    expect: 'not_found',
    run: () =>
      answeringHttp(404, async (url) => {
        const client = new Client({ name: 'trip-agent', version: '1.0.0' });
        await client.connect(new StreamableHTTPClientTransport(new URL(url)));
      }),
  },
  {
    // No authProvider: the transport raises StreamableHTTPError with code 401, not
    // UnauthorizedError.
    id: 'http-endpoint-401',
    expect: 'auth',
    run: () =>
      answeringHttp(401, async (url) => {
        const client = new Client({ name: 'trip-agent', version: '1.0.0' });
        await client.connect(new StreamableHTTPClientTransport(new URL(url)));
      }),
  },
  {
    id: 'sse-server-unreachable',
    expect: 'connection',
    run: async () => {
      const url = new URL(`http://127.0.0.1:${await closedPort()}/sse`);
      const client = new Client({ name: 'trip-agent', version: '1.0.0' });
      await client.connect(new SSEClientTransport(url));
    },
  },
  {
    id: 'http-endpoint-503',
    expect: 'overloaded',
    run: () =>
      answeringHttp(503, async (url) => {
        const client = new Client({ name: 'trip-agent', version: '1.0.0' });
        await client.connect(new StreamableHTTPClientTransport(new URL(url)));
      }),
  },
  {
    id: 'not-connected',
    expect: 'connection',
    run: () =>
      connected(async (client) => {
        await client.close();
        return client.callTool({ name: 'weather', arguments: { city: 'Paris' } });
      }),
  },
];
