// How a Node.js agent records a failure with the OpenTelemetry JS SDK, and nothing more: the
// failure is raised inside a span of its own trace, recorded with span.recordException (which
// writes the error's `code`, else its `name`, as exception.type) and the span's status set to
// ERROR, then exported over OTLP/HTTP protobuf. The receiver sees exactly what a user's agent
// sends; no attribute is added that the SDK would not add itself, except the case's name.
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

export function startTracing(endpoint, serviceName) {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [
      // Every span waits for the final forceFlush and leaves in one export request, so a
      // library's own span (the Anthropic SDK traces its calls) and the agent's span that
      // records the failure always arrive together, as they do for an agent whose batch was
      // not cut between the two.
      new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }), {
        maxQueueSize: 4096,
        maxExportBatchSize: 4096,
        scheduledDelayMillis: 600_000,
      }),
    ],
  });
  provider.register();
  return provider;
}

function firstLine(text) {
  return typeof text === 'string' ? text.split('\n', 1)[0] : '';
}

// Runs one case in its own root span. The case must fail: a scenario that stops raising (a
// library that now swallows the failure) is reported as such, and the test fails on it.
export async function recordCase(stack, scenario) {
  const tracer = trace.getTracer('failcat-node-conformance');
  const name = `${stack}/${scenario.id}`;
  return tracer.startActiveSpan(
    `conformance ${name}`,
    { root: true, attributes: { 'conformance.case': name } },
    async (span) => {
      let error;
      let raised = false;
      try {
        await scenario.run();
      } catch (caught) {
        raised = true;
        error = caught;
        span.recordException(caught);
        span.setStatus({ code: SpanStatusCode.ERROR, message: String(caught?.message ?? caught) });
      } finally {
        span.end();
      }
      return {
        stack,
        id: scenario.id,
        expect: scenario.expect,
        trace_id: span.spanContext().traceId,
        raised,
        // What the SDK wrote, for the test's failure message when a category is wrong.
        exception_type: raised ? String(error?.code ?? error?.name ?? '') : '',
        message: raised ? String(error?.message ?? error) : '',
        stack_head: raised ? firstLine(error?.stack) : '',
      };
    },
  );
}
