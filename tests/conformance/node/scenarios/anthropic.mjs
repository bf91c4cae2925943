// The Anthropic JS SDK (`@anthropic-ai/sdk`): provider-shaped error answers, the client's
// timeout, an abort and a refused port, all through the client's own request code.
import Anthropic from '@anthropic-ai/sdk';
import { answering, closedPort, neverAnswering } from './_http.mjs';

function send(fetch, extra = {}) {
  return new Anthropic({ apiKey: 'sk-ant-test-not-a-key', maxRetries: 0, fetch, ...extra }).messages.create({
    model: 'claude-sonnet-4-5',
    max_tokens: 256,
    messages: [{ role: 'user', content: 'Plan the trip.' }],
  });
}

const anthropicError = (type, message) => ({
  type: 'error',
  error: { type, message },
  request_id: 'req_011CSHoEeqs5C35K2UUqR7Fy',
});

export const cases = [
  {
    id: 'rate-limit-429',
    expect: 'rate_limit',
    run: () =>
      send(
        answering(
          429,
          anthropicError(
            'rate_limit_error',
            'This request would exceed the rate limit for your organization of 50,000 input tokens per minute.',
          ),
          { 'retry-after': '12' },
        ),
      ),
  },
  {
    id: 'overloaded-529',
    expect: 'overloaded',
    run: () => send(answering(529, anthropicError('overloaded_error', 'Overloaded'))),
  },
  {
    id: 'api-error-500',
    expect: 'overloaded',
    run: () => send(answering(500, anthropicError('api_error', 'Internal server error'))),
  },
  {
    id: 'authentication-401',
    expect: 'auth',
    run: () => send(answering(401, anthropicError('authentication_error', 'invalid x-api-key'))),
  },
  {
    id: 'permission-403',
    expect: 'auth',
    run: () =>
      send(answering(403, anthropicError('permission_error', 'Your API key does not have permission to use the specified resource.'))),
  },
  {
    id: 'not-found-404',
    expect: 'not_found',
    run: () => send(answering(404, anthropicError('not_found_error', 'model: claude-sonnet-9'))),
  },
  {
    id: 'prompt-too-long-400',
    expect: 'context_length',
    run: () =>
      send(answering(400, anthropicError('invalid_request_error', 'prompt is too long: 215472 tokens > 200000 maximum'))),
  },
  {
    id: 'invalid-request-400',
    expect: 'bad_request',
    run: () =>
      send(
        answering(
          400,
          anthropicError('invalid_request_error', 'messages: roles must alternate between "user" and "assistant", but found multiple "user" roles in a row'),
        ),
      ),
  },
  {
    id: 'request-too-large-413',
    expect: 'bad_request',
    run: () => send(answering(413, anthropicError('request_too_large', 'Request exceeds the maximum allowed number of bytes.'))),
  },
  {
    id: 'client-timeout',
    expect: 'timeout',
    run: () => send(neverAnswering(), { timeout: 50 }),
  },
  {
    id: 'caller-abort',
    expect: 'cancelled',
    run: () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 20);
      return new Anthropic({ apiKey: 'sk-ant-test-not-a-key', maxRetries: 0, fetch: neverAnswering() }).messages.create(
        { model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] },
        { signal: controller.signal },
      );
    },
  },
  {
    id: 'connection-refused',
    expect: 'connection',
    run: async () =>
      new Anthropic({ apiKey: 'sk-ant-test-not-a-key', maxRetries: 0, baseURL: `http://127.0.0.1:${await closedPort()}` }).models.list(),
  },
  {
    id: 'credit-balance-400',
    expect: 'limit_exceeded',
    run: () =>
      send(
        answering(
          400,
          anthropicError('invalid_request_error', 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.'),
        ),
      ),
  },
  {
    id: 'stream-overloaded-mid-answer',
    expect: 'overloaded',
    run: async () => {
      const events = [
        'event: message_start',
        'data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"usage":{"input_tokens":10,"output_tokens":1}}}',
        '',
        'event: error',
        'data: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
        '',
        '',
      ].join('\n');
      const stream = new Anthropic({
        apiKey: 'sk-ant-test-not-a-key',
        maxRetries: 0,
        fetch: answering(200, events, { 'content-type': 'text/event-stream' }),
      }).messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
      return stream.finalMessage();
    },
  },
  {
    id: 'missing-api-key',
    expect: 'auth',
    run: () => {
      delete process.env.ANTHROPIC_API_KEY;
      delete process.env.ANTHROPIC_AUTH_TOKEN;
      return new Anthropic({ maxRetries: 0, fetch: neverAnswering() }).messages.create({
        model: 'claude-sonnet-4-5',
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hi' }],
      });
    },
  },
];
