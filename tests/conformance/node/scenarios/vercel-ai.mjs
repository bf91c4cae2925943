// The Vercel AI SDK (`ai`): provider failures through the real OpenAI provider (`@ai-sdk/openai`)
// on a custom `fetch`, and the SDK's own failures (no object, unknown tool, bad tool input,
// retries exhausted) through its `ai/test` mock model, which stands in for the provider only.
import { createOpenAI } from '@ai-sdk/openai';
import { customProvider, generateObject, generateText, stepCountIs, streamText, tool } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { z } from 'zod';
import { answering, closedPort, neverAnswering } from './_http.mjs';

const USAGE = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 5, text: 5, reasoning: undefined },
};

function provider(fetch, apiKey = 'sk-test-not-a-key') {
  return createOpenAI({ apiKey, fetch });
}

function ask(model, extra = {}) {
  return generateText({ model, prompt: 'Plan the trip.', maxRetries: 0, ...extra });
}

const openaiError = (status, message, type, code) =>
  answering(status, { error: { message, type, param: null, code } }, { 'retry-after-ms': '1' });

// A mock model answering one step with the given content (text or tool calls).
function answeringModel(content, finishReason = 'stop') {
  return new MockLanguageModelV3({
    doGenerate: async () => ({
      content,
      finishReason: { unified: finishReason, raw: finishReason },
      usage: USAGE,
      warnings: [],
    }),
  });
}

// The SDK does not throw for a tool call it cannot run: the call comes back marked `invalid`
// with the SDK's own error (NoSuchToolError, InvalidToolInputError) on it, and an agent that
// checks its tool calls raises that error.
function raiseInvalidToolCall(result) {
  for (const call of result.toolCalls) if (call.invalid) throw call.error;
  return result;
}

const weather = tool({
  description: 'Weather of a city',
  inputSchema: z.object({ city: z.string() }),
  execute: async ({ city }) => `sunny in ${city}`,
});

// streamText reports a failed stream to onError and ends it; an agent that wants the failure
// raises what onError got.
async function streamFailure(model) {
  let failure;
  const result = streamText({
    model,
    prompt: 'Plan the trip.',
    maxRetries: 0,
    onError: ({ error }) => {
      failure = error;
    },
  });
  await result.consumeStream();
  if (failure) throw failure;
  return result;
}

const emptyStream = async () => new Response(null, { status: 200, headers: { 'content-type': 'text/event-stream' } });

export const cases = [
  {
    id: 'api-call-rate-limit-429',
    expect: 'rate_limit',
    run: () =>
      ask(
        provider(
          openaiError(429, 'Rate limit reached for gpt-4o on requests per min (RPM): Limit 500, Used 500, Requested 1.', 'requests', 'rate_limit_exceeded'),
        )('gpt-4o'),
      ),
  },
  {
    id: 'retry-error-429',
    expect: 'retries_exhausted',
    run: () =>
      ask(
        provider(
          openaiError(429, 'Rate limit reached for gpt-4o on tokens per min (TPM): Limit 30000, Used 30000, Requested 900.', 'tokens', 'rate_limit_exceeded'),
        )('gpt-4o'),
        { maxRetries: 2 },
      ),
  },
  {
    id: 'api-call-auth-401',
    expect: 'auth',
    run: () =>
      ask(provider(openaiError(401, 'Incorrect API key provided: sk-test-***-key.', 'invalid_request_error', 'invalid_api_key'))('gpt-4o')),
  },
  {
    id: 'api-call-context-length-400',
    expect: 'context_length',
    run: () =>
      ask(
        provider(
          openaiError(
            400,
            "This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens.",
            'invalid_request_error',
            'context_length_exceeded',
          ),
        )('gpt-4o'),
      ),
  },
  {
    // A reasoning model refuses a sampling parameter the agent sends: a 400 about one parameter.
    id: 'api-call-unsupported-parameter-400',
    expect: 'bad_request',
    run: () =>
      ask(
        provider(
          openaiError(
            400,
            "Unsupported parameter: 'temperature' is not supported with this model.",
            'invalid_request_error',
            'unsupported_parameter',
          ),
        )('o3-mini'),
        { temperature: 0.2 },
      ),
  },
  {
    id: 'api-call-server-500',
    expect: 'overloaded',
    run: () =>
      ask(provider(openaiError(500, 'The server had an error while processing your request. Sorry about that!', 'server_error', null))('gpt-4o')),
  },
  {
    id: 'abort-signal-timeout',
    expect: 'timeout',
    run: () => ask(provider(neverAnswering())('gpt-4o'), { abortSignal: AbortSignal.timeout(30) }),
  },
  {
    id: 'missing-api-key',
    expect: 'auth',
    run: () => {
      delete process.env.OPENAI_API_KEY;
      return ask(createOpenAI({ fetch: neverAnswering() })('gpt-4o'));
    },
  },
  {
    id: 'no-object-generated',
    expect: 'output_parse',
    run: () =>
      generateObject({
        model: answeringModel([{ type: 'text', text: 'Sure! Here is the plan: {"city": Paris' }]),
        schema: z.object({ city: z.string() }),
        prompt: 'Plan the trip.',
      }),
  },
  {
    id: 'object-schema-mismatch',
    expect: 'output_parse',
    run: () =>
      generateObject({
        model: answeringModel([{ type: 'text', text: '{"town": "Paris", "days": "three"}' }]),
        schema: z.object({ city: z.string(), days: z.number() }),
        prompt: 'Plan the trip.',
      }),
  },
  {
    // A provider registry asked for a model it does not hold (NoSuchModelError).
    id: 'no-such-model',
    expect: 'not_found',
    run: async () => {
      const provider = customProvider({ languageModels: { fast: answeringModel([{ type: 'text', text: 'ok' }]) } });
      return ask(provider.languageModel('smart-v9'));
    },
  },
  {
    id: 'no-such-tool',
    expect: 'tool',
    run: () =>
      ask(
        answeringModel(
          [{ type: 'tool-call', toolCallId: 'call_1', toolName: 'search_web', input: '{"query":"paris"}' }],
          'tool-calls',
        ),
        { tools: { weather }, stopWhen: stepCountIs(1) },
      ).then(raiseInvalidToolCall),
  },
  {
    id: 'invalid-tool-input',
    expect: 'tool',
    run: () =>
      ask(
        answeringModel(
          [{ type: 'tool-call', toolCallId: 'call_2', toolName: 'weather', input: '{"town": 42}' }],
          'tool-calls',
        ),
        { tools: { weather }, stopWhen: stepCountIs(1) },
      ).then(raiseInvalidToolCall),
  },
  {
    // toolChoice 'required', and the model answered in text: the SDK enforces the choice.
    id: 'tool-choice-required-ignored',
    expect: 'tool',
    run: () =>
      ask(answeringModel([{ type: 'text', text: 'It is sunny in Paris.' }]), {
        tools: { weather },
        toolChoice: 'required',
        stopWhen: stepCountIs(1),
      }),
  },
  {
    id: 'stream-text-rate-limit-429',
    expect: 'rate_limit',
    run: () =>
      streamFailure(
        provider(
          openaiError(429, 'Rate limit reached for gpt-4o-mini on requests per min (RPM): Limit 3, Used 3, Requested 1.', 'requests', 'rate_limit_exceeded'),
        )('gpt-4o-mini'),
      ),
  },
  {
    id: 'api-call-quota-429',
    expect: 'limit_exceeded',
    run: () =>
      ask(
        provider(
          openaiError(429, 'You exceeded your current quota, please check your plan and billing details.', 'insufficient_quota', 'insufficient_quota'),
        )('gpt-4o'),
      ),
  },
  {
    id: 'api-call-model-not-found-404',
    expect: 'not_found',
    run: () =>
      ask(
        provider(
          openaiError(404, 'The model `gpt-5-turbo` does not exist or you do not have access to it.', 'invalid_request_error', 'model_not_found'),
        )('gpt-5-turbo'),
      ),
  },
  {
    // With telemetry on, the SDK records the error on its outer span (ai.generateText) and on
    // the attempt's (ai.generateText.doGenerate), and the agent records it once more: one
    // failure, one row (the attempt's, the deepest).
    id: 'telemetry-api-call-server-500',
    expect: 'overloaded',
    run: () =>
      ask(provider(openaiError(500, 'The server had an error while processing your request. Sorry about that!', 'server_error', null))('gpt-4o'), {
        experimental_telemetry: { isEnabled: true, functionId: 'plan-trip' },
      }),
  },
  {
    id: 'api-call-overloaded-503',
    expect: 'overloaded',
    run: () =>
      ask(provider(openaiError(503, 'The engine is currently overloaded, please try again later', 'server_error', null))('gpt-4o')),
  },
  {
    id: 'cannot-connect',
    expect: 'connection',
    run: async () =>
      ask(createOpenAI({ apiKey: 'sk-test-not-a-key', baseURL: `http://127.0.0.1:${await closedPort()}/v1` })('gpt-4o')),
  },
  {
    // A 200 whose body is not a completion the provider can read: no choices at all.
    id: 'response-without-choices',
    expect: 'output_parse',
    run: () =>
      ask(
        provider(
          answering(200, { id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'gpt-4o', choices: [], usage: { prompt_tokens: 9, completion_tokens: 0, total_tokens: 9 } }),
        ).chat('gpt-4o'),
      ),
  },
  {
    // A stream answered 200 with no body: onError gets the provider's failure to read it.
    id: 'stream-empty-body',
    expect: 'output_parse',
    run: () => streamFailure(provider(emptyStream).chat('gpt-4o')),
  },
  {
    // The same stream awaited for its text, with no onError: the SDK's own NoOutputGeneratedError.
    id: 'stream-no-output-generated',
    expect: 'output_parse',
    run: async () => {
      const result = streamText({
        model: provider(emptyStream).chat('gpt-4o'),
        prompt: 'Plan the trip.',
        maxRetries: 0,
        onError: () => {},
      });
      return await result.text;
    },
  },
  {
    id: 'unsupported-file-part',
    expect: 'bad_request',
    run: () =>
      generateText({
        model: provider(answering(200, {})).chat('gpt-4o'),
        maxRetries: 0,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Summarise the clip.' }, { type: 'file', data: new Uint8Array([0, 0, 0, 24]), mediaType: 'video/mp4' }] }],
      }),
  },
  {
    id: 'missing-tool-results',
    expect: 'bad_request',
    run: () =>
      generateText({
        model: provider(answering(200, {})).chat('gpt-4o'),
        maxRetries: 0,
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          { role: 'assistant', content: [{ type: 'tool-call', toolCallId: 'call_1', toolName: 'weather', input: { city: 'Paris' } }] },
          { role: 'user', content: 'And tomorrow?' },
        ],
      }),
  },
  {
    id: 'invalid-argument',
    expect: 'configuration',
    run: () => ask(provider(answering(200, {}))('gpt-4o'), { maxRetries: 1.5 }),
  },
  {
    // A prompt's image by URL, for a model that takes no URLs: the SDK would download it, and
    // refuses a private address.
    id: 'download-refused',
    expect: 'bad_request',
    run: () =>
      ask(answeringModel([{ type: 'text', text: 'A cat.' }]), {
        prompt: undefined,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image', image: new URL('http://127.0.0.1:9/cat.png') }] }],
      }),
  },
];
