// LangChain.js (`@langchain/core`, `@langchain/openai`): ChatOpenAI on a custom `fetch` with
// provider-shaped answers (LangChain wraps the OpenAI SDK's errors its own way), the core output
// parsers on malformed model output, and a tool called with input its schema refuses.
import { JsonOutputParser, StructuredOutputParser } from '@langchain/core/output_parsers';
import { tool } from '@langchain/core/tools';
import { ChatOpenAI } from '@langchain/openai';
import { z } from 'zod';
import { answering, closedPort, neverAnswering } from './_http.mjs';

function model(fetch, extra = {}) {
  return new ChatOpenAI({
    model: 'gpt-4o',
    apiKey: 'sk-test-not-a-key',
    maxRetries: 0,
    configuration: { fetch },
    ...extra,
  });
}

const openaiError = (status, message, type, code, param = null) =>
  answering(status, { error: { message, type, param, code } });

const weather = tool(async ({ city }) => `sunny in ${city}`, {
  name: 'weather',
  description: 'Weather of a city',
  schema: z.object({ city: z.string() }),
});

export const cases = [
  {
    id: 'rate-limit-429',
    expect: 'rate_limit',
    run: () =>
      model(openaiError(429, 'Rate limit reached for gpt-4o on requests per min (RPM): Limit 500, Used 500, Requested 1.', 'requests', 'rate_limit_exceeded')).invoke('Plan the trip.'),
  },
  {
    id: 'insufficient-quota-429',
    expect: 'limit_exceeded',
    run: () =>
      model(openaiError(429, 'You exceeded your current quota, please check your plan and billing details.', 'insufficient_quota', 'insufficient_quota')).invoke('Plan the trip.'),
  },
  {
    id: 'auth-401',
    expect: 'auth',
    run: () =>
      model(openaiError(401, 'Incorrect API key provided: sk-test-***-key.', 'invalid_request_error', 'invalid_api_key')).invoke('Plan the trip.'),
  },
  {
    id: 'model-not-found-404',
    expect: 'not_found',
    run: () =>
      model(openaiError(404, 'The model `gpt-5-turbo` does not exist or you do not have access to it.', 'invalid_request_error', 'model_not_found')).invoke('Plan the trip.'),
  },
  {
    id: 'context-overflow-400',
    expect: 'context_length',
    run: () =>
      model(
        openaiError(
          400,
          "This model's maximum context length is 128000 tokens. However, your messages resulted in 140001 tokens.",
          'invalid_request_error',
          'context_length_exceeded',
          'messages',
        ),
      ).invoke('Plan the trip.'),
  },
  {
    id: 'server-error-500',
    expect: 'overloaded',
    run: () =>
      model(openaiError(500, 'The server had an error while processing your request. Sorry about that!', 'server_error', null)).invoke('Plan the trip.'),
  },
  {
    id: 'client-timeout',
    expect: 'timeout',
    run: () => model(neverAnswering(), { timeout: 50 }).invoke('Plan the trip.'),
  },
  {
    id: 'caller-abort',
    expect: 'cancelled',
    run: () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 20);
      return model(neverAnswering()).invoke('Plan the trip.', { signal: controller.signal });
    },
  },
  {
    id: 'connection-refused',
    expect: 'connection',
    run: async () =>
      new ChatOpenAI({
        model: 'gpt-4o',
        apiKey: 'sk-test-not-a-key',
        maxRetries: 0,
        configuration: { baseURL: `http://127.0.0.1:${await closedPort()}/v1` },
      }).invoke('Plan the trip.'),
  },
  {
    id: 'json-output-parser',
    expect: 'output_parse',
    run: () => new JsonOutputParser().parse('Sure! Here is the plan: {"city": Paris, days: 3'),
  },
  {
    id: 'structured-output-parser',
    expect: 'output_parse',
    run: () =>
      StructuredOutputParser.fromZodSchema(z.object({ city: z.string(), days: z.number() })).parse(
        '```json\n{"city": "Paris", "days": "three"}\n```',
      ),
  },
  {
    id: 'tool-input-schema',
    expect: 'tool',
    run: () => weather.invoke({ town: 42 }),
  },
  {
    id: 'structured-output-json-mode',
    expect: 'output_parse',
    run: () =>
      model(
        answering(200, {
          id: 'chatcmpl-3',
          object: 'chat.completion',
          created: 1,
          model: 'gpt-4o',
          choices: [
            { index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'Paris, for three days.' } },
          ],
        }),
      )
        .withStructuredOutput(z.object({ city: z.string(), days: z.number() }), { method: 'jsonMode' })
        .invoke('Plan the trip as JSON.'),
  },
];
