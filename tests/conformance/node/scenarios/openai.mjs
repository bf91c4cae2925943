// The OpenAI JS SDK (`openai`): every failure raised by the client's own request code, from a
// provider-shaped answer of a custom `fetch`, the client's timeout, an abort, or a refused port.
import OpenAI from 'openai';
import { answering, closedPort, neverAnswering } from './_http.mjs';

const MESSAGES = [{ role: 'user', content: 'Plan the trip.' }];

function client(options) {
  return new OpenAI({ apiKey: 'sk-test-not-a-key', maxRetries: 0, ...options });
}

function chat(fetch, extra = {}) {
  return client({ fetch, ...extra }).chat.completions.create({ model: 'gpt-4o', messages: MESSAGES });
}

const openaiError = (message, type, code, param = null) => ({ error: { message, type, param, code } });

export const cases = [
  {
    id: 'rate-limit-429',
    expect: 'rate_limit',
    run: () =>
      chat(
        answering(
          429,
          openaiError(
            'Rate limit reached for gpt-4o in organization org-AbC123 on tokens per min (TPM): Limit 30000, Used 29500, Requested 1200. Please try again in 1.4s.',
            'tokens',
            'rate_limit_exceeded',
          ),
          { 'retry-after': '2' },
        ),
      ),
  },
  {
    id: 'insufficient-quota-429',
    expect: 'limit_exceeded',
    run: () =>
      chat(
        answering(
          429,
          openaiError(
            'You exceeded your current quota, please check your plan and billing details.',
            'insufficient_quota',
            'insufficient_quota',
          ),
        ),
      ),
  },
  {
    // OpenRouter (an OpenAI-compatible router) refuses a call when the account's credits are used
    // up: 402, which the SDK raises as its base APIError.
    id: 'credits-used-up-402',
    expect: 'limit_exceeded',
    run: () =>
      chat(
        answering(402, {
          error: {
            message:
              'Insufficient credits. This account only has 0.02 credits remaining. Add more credits at https://openrouter.ai/settings/credits',
            code: 402,
          },
        }),
        { baseURL: 'https://openrouter.ai/api/v1' },
      ),
  },
  {
    id: 'invalid-api-key-401',
    expect: 'auth',
    run: () =>
      chat(
        answering(
          401,
          openaiError(
            'Incorrect API key provided: sk-test-***-key. You can find your API key at https://platform.openai.com/account/api-keys.',
            'invalid_request_error',
            'invalid_api_key',
          ),
        ),
      ),
  },
  {
    id: 'permission-denied-403',
    expect: 'auth',
    run: () =>
      chat(
        answering(
          403,
          openaiError('Project proj_abc does not have access to model gpt-4o', 'invalid_request_error', 'model_not_found'),
        ),
      ),
  },
  {
    id: 'model-not-found-404',
    expect: 'not_found',
    run: () =>
      chat(
        answering(
          404,
          openaiError(
            'The model `gpt-5-turbo` does not exist or you do not have access to it.',
            'invalid_request_error',
            'model_not_found',
          ),
        ),
      ),
  },
  {
    id: 'context-length-400',
    expect: 'context_length',
    run: () =>
      chat(
        answering(
          400,
          openaiError(
            "This model's maximum context length is 128000 tokens. However, your messages resulted in 130512 tokens. Please reduce the length of the messages.",
            'invalid_request_error',
            'context_length_exceeded',
            'messages',
          ),
        ),
      ),
  },
  {
    id: 'invalid-value-400',
    expect: 'bad_request',
    run: () =>
      chat(
        answering(
          400,
          openaiError(
            "Invalid value for 'temperature': must be between 0 and 2.",
            'invalid_request_error',
            'invalid_value',
            'temperature',
          ),
        ),
      ),
  },
  {
    id: 'server-error-500',
    expect: 'overloaded',
    run: () =>
      chat(
        answering(
          500,
          openaiError('The server had an error while processing your request. Sorry about that!', 'server_error', null),
        ),
      ),
  },
  {
    id: 'overloaded-503',
    expect: 'overloaded',
    run: () =>
      chat(answering(503, openaiError('The engine is currently overloaded, please try again later', 'server_error', null))),
  },
  {
    id: 'client-timeout',
    expect: 'timeout',
    run: () => chat(neverAnswering(), { timeout: 50 }),
  },
  {
    id: 'caller-abort',
    expect: 'cancelled',
    run: () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 20);
      return client({ fetch: neverAnswering() }).chat.completions.create(
        { model: 'gpt-4o', messages: MESSAGES },
        { signal: controller.signal },
      );
    },
  },
  {
    id: 'connection-refused',
    expect: 'connection',
    run: async () => client({ baseURL: `http://127.0.0.1:${await closedPort()}/v1` }).models.list(),
  },
  {
    id: 'length-finish-reason',
    expect: 'limit_exceeded',
    run: () =>
      client({
        fetch: answering(200, {
          id: 'chatcmpl-1',
          object: 'chat.completion',
          created: 1,
          model: 'gpt-4o',
          choices: [
            { index: 0, finish_reason: 'length', message: { role: 'assistant', content: '{"city": "Par' } },
          ],
        }),
      }).chat.completions.parse({
        model: 'gpt-4o',
        messages: MESSAGES,
        response_format: { type: 'json_schema', json_schema: { name: 'trip', schema: { type: 'object' } } },
      }),
  },
  {
    id: 'content-filter-400',
    expect: 'content_filter',
    run: () =>
      chat(
        answering(
          400,
          openaiError(
            "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
            null,
            'content_filter',
            'prompt',
          ),
        ),
      ),
  },
  {
    id: 'content-filter-finish-reason',
    expect: 'content_filter',
    run: () =>
      client({
        fetch: answering(200, {
          id: 'chatcmpl-2',
          object: 'chat.completion',
          created: 1,
          model: 'gpt-4o',
          choices: [{ index: 0, finish_reason: 'content_filter', message: { role: 'assistant', content: null } }],
        }),
      }).chat.completions.parse({
        model: 'gpt-4o',
        messages: MESSAGES,
        response_format: { type: 'json_schema', json_schema: { name: 'trip', schema: { type: 'object' } } },
      }),
  },
  {
    id: 'rate-limit-429-no-body',
    expect: 'rate_limit',
    run: () => chat(answering(429, '')),
  },
  {
    id: 'bad-gateway-502-html',
    expect: 'overloaded',
    run: () =>
      chat(answering(502, '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>', { 'content-type': 'text/html' })),
  },
  {
    id: 'embeddings-context-length-400',
    expect: 'context_length',
    run: () =>
      client({
        fetch: answering(
          400,
          openaiError(
            "This model's maximum context length is 8192 tokens, however you requested 9000 tokens (9000 in your prompt; 0 for the completion). Please reduce your prompt; or completion length.",
            'invalid_request_error',
            null,
          ),
        ),
      }).embeddings.create({ model: 'text-embedding-3-small', input: 'long document' }),
  },
  {
    id: 'missing-api-key',
    expect: 'auth',
    run: () => {
      delete process.env.OPENAI_API_KEY;
      return new OpenAI({ maxRetries: 0 }).models.list();
    },
  },
];
