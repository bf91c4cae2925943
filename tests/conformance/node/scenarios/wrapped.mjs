// Every failure of the other stacks once more, as agent code hands it on: wrapped in its own
// Error, `new Error(`step failed: ${err.message}`, { cause: err })`. The JS SDK's
// recordException writes the wrapper's name and message only (never `cause`), so:
//
// - `wrapped`: only the wrapper is recorded (on the case's span). The catalog must know the
//   failure from the library's wording inside the wrapper's message: a category that lives
//   only in the error's type or code is lost, and those cases are left out below, by name.
// - `nested`: the failure is also recorded where it happened, on a span of its own under the
//   case's span, as an agent that records at each level does. One failure, one row: the
//   receiver folds the wrapper, whose message carries the inner one, into the inner recording.
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { cases as anthropic } from './anthropic.mjs';
import { cases as axios } from './axios.mjs';
import { cases as langchain } from './langchain.mjs';
import { cases as mcp } from './mcp.mjs';
import { cases as node } from './node.mjs';
import { cases as openai } from './openai.mjs';
import { cases as ordinary } from './ordinary.mjs';
import { cases as vercelAi } from './vercel-ai.mjs';

const STACKS = { openai, anthropic, 'vercel-ai': vercelAi, langchain, mcp, node, axios, ordinary };

// Known only by type or code once wrapped: the wording says nothing the catalog can rely on.
const TYPE_ONLY = new Map([
  ['vercel-ai.response-without-choices', 'AI_InvalidResponseDataError: "Response did not contain any choices."'],
  ['vercel-ai.unsupported-file-part', "AI_UnsupportedFunctionalityError: \"'…' functionality not supported.\""],
  ['vercel-ai.missing-tool-results', 'AI_MissingToolResultsError: "Tool result is missing for tool call …"'],
  ['vercel-ai.invalid-argument', 'AI_InvalidArgumentError: "Invalid argument for parameter …"'],
  ['vercel-ai.download-refused', 'AI_DownloadError: "URL with IP address … is not allowed"'],
  ['mcp.http-endpoint-401', 'the status is the error\'s code (exception.type 401); the text is the server\'s'],
  ['axios.cancelled', 'CanceledError "canceled": the bare word, too common to match on'],
]);

function wrapping(stack, inner, recordInner) {
  return {
    id: `${stack}.${inner.id}`,
    expect: inner.expect,
    run: () =>
      trace.getTracer('failcat-node-conformance').startActiveSpan(`step ${inner.id}`, async (span) => {
        try {
          return await inner.run();
        } catch (err) {
          if (recordInner) {
            span.recordException(err);
            span.setStatus({ code: SpanStatusCode.ERROR, message: String(err?.message ?? err) });
          }
          throw new Error(`step failed: ${err?.message ?? err}`, { cause: err });
        } finally {
          span.end();
        }
      }),
  };
}

const all = Object.entries(STACKS).flatMap(([stack, list]) => list.map((inner) => [stack, inner]));
const known = new Set(all.map(([stack, inner]) => `${stack}.${inner.id}`));
for (const id of TYPE_ONLY.keys()) {
  if (!known.has(id)) throw new Error(`wrapped.mjs: TYPE_ONLY names no case ${id}`);
}

export const wrapped = all
  .filter(([stack, inner]) => !TYPE_ONLY.has(`${stack}.${inner.id}`))
  .map(([stack, inner]) => wrapping(stack, inner, false));

export const nested = all.map(([stack, inner]) => wrapping(stack, inner, true));
