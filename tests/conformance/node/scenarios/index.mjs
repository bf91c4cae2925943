// The stacks of the conformance run, by the name the test and `run.mjs` use.
import { cases as anthropic } from './anthropic.mjs';
import { cases as axios } from './axios.mjs';
import { cases as langchain } from './langchain.mjs';
import { cases as mcp } from './mcp.mjs';
import { cases as node } from './node.mjs';
import { cases as openai } from './openai.mjs';
import { cases as ordinary } from './ordinary.mjs';
import { cases as vercelAi } from './vercel-ai.mjs';
import { nested, wrapped } from './wrapped.mjs';

export const STACKS = {
  openai,
  anthropic,
  'vercel-ai': vercelAi,
  langchain,
  mcp,
  node,
  axios,
  ordinary,
  wrapped,
  nested,
};
