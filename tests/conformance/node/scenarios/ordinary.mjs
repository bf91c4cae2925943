// Ordinary programming errors of an agent's own code: none is a failure of a stack, so every one
// must stay UNCATALOGED (a catalog entry that catches one of these hides a bug as an outage).
import assert from 'node:assert/strict';
import path from 'node:path';

const UNCATALOGED = 'UNCATALOGED';

export const cases = [
  {
    id: 'not-a-function',
    expect: UNCATALOGED,
    run: () => {
      const planner = { plan: undefined };
      planner.plan('Paris');
    },
  },
  {
    id: 'property-of-undefined',
    expect: UNCATALOGED,
    run: () => {
      const response = { choices: [] };
      return response.choices[0].message.content;
    },
  },
  {
    id: 'not-defined',
    expect: UNCATALOGED,
    // eslint-disable-next-line no-undef
    run: () => undefinedPlannerState.steps,
  },
  {
    id: 'invalid-array-length',
    expect: UNCATALOGED,
    run: () => new Array(-1),
  },
  {
    id: 'to-fixed-digits',
    expect: UNCATALOGED,
    run: () => (3.14159).toFixed(101),
  },
  {
    id: 'assignment-to-constant',
    expect: UNCATALOGED,
    run: () => {
      const budget = 10;
      // biome-ignore lint: the bug under test
      eval('budget = 11');
      return budget;
    },
  },
  {
    id: 'syntax-error-of-code',
    expect: UNCATALOGED,
    run: () => new Function('return { steps: [1, 2 }'),
  },
  {
    id: 'assertion',
    expect: UNCATALOGED,
    run: () => assert.equal([1, 2].length, 3, 'plan must have three steps'),
  },
  {
    id: 'invalid-arg-type',
    expect: UNCATALOGED,
    run: () => path.join('prompts', 42),
  },
  {
    id: 'own-error',
    expect: UNCATALOGED,
    run: () => {
      throw new Error('invalid state: the plan has no steps');
    },
  },
  {
    id: 'circular-json-stringify',
    expect: UNCATALOGED,
    run: () => {
      const step = { name: 'plan' };
      step.self = step;
      return JSON.stringify(step);
    },
  },
  {
    id: 'bigint-mix',
    expect: UNCATALOGED,
    run: () => BigInt(10) + 1,
  },
  {
    id: 'uri-malformed',
    expect: UNCATALOGED,
    run: () => decodeURIComponent('%E0%A4%A'),
  },
];
