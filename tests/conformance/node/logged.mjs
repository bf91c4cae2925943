// A Node.js agent that reports the failures it catches as OpenTelemetry log records, inside its
// own step span, while the Anthropic JS SDK traces its calls itself and marks its span failed by
// status alone (error.type, no exception event). One failure, two signals, two export requests:
// the receiver must store it once, whichever request arrives first. The order is the test's to
// choose, so both are exercised: `logs-first` flushes the log records (and waits for the
// receiver's answer) before the spans, `spans-first` the other way round. The failure is one of
// the Anthropic scenarios (scenarios/anthropic.mjs), by id.
//
//   FAILCAT_OTLP_HTTP=http://127.0.0.1:4318 node logged.mjs logs-first|spans-first [case-id]
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { logs, SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { cases } from './scenarios/anthropic.mjs';

const [order, caseId = 'authentication-401'] = process.argv.slice(2);
const endpoint = process.env.FAILCAT_OTLP_HTTP;
const scenario = cases.find((c) => c.id === caseId);
if (!endpoint || !['logs-first', 'spans-first'].includes(order) || !scenario) {
  console.error('usage: FAILCAT_OTLP_HTTP=... node logged.mjs logs-first|spans-first [anthropic case id]');
  process.exit(2);
}

const resource = resourceFromAttributes({ 'service.name': `node-logged-${caseId}-${order}` });
const held = { maxQueueSize: 512, maxExportBatchSize: 512, scheduledDelayMillis: 600_000 };
const tracing = new NodeTracerProvider({
  resource,
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }), held)],
});
tracing.register();
const logging = new LoggerProvider({
  resource,
  processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${endpoint}/v1/logs` }), ...held })],
});
logs.setGlobalLoggerProvider(logging);

const tracer = trace.getTracer('node-logged-agent');
const logger = logs.getLogger('node-logged-agent');
const recorded = await tracer.startActiveSpan('agent.step plan', async (span) => {
  try {
    await scenario.run();
    return { raised: false };
  } catch (error) {
    // The agent's own report: a log record in the step span's context, with the exception
    // attributes of the semantic conventions. The step span itself stays OK.
    logger.emit({
      severityNumber: SeverityNumber.ERROR,
      severityText: 'ERROR',
      body: `planning failed: ${error.message}`,
      attributes: {
        'exception.type': error.constructor.name,
        'exception.message': error.message,
        'exception.stacktrace': error.stack,
      },
    });
    span.setStatus({ code: SpanStatusCode.UNSET });
    return { raised: true, exception_type: error.constructor.name };
  } finally {
    span.end();
  }
});

let exportError = null;
try {
  const flushes = order === 'logs-first' ? [logging, tracing] : [tracing, logging];
  for (const provider of flushes) {
    await provider.forceFlush(); // resolves once the receiver has answered the export
  }
  await logging.shutdown();
  await tracing.shutdown();
} catch (error) {
  exportError = String(error?.message ?? error);
}
process.stdout.write(`${JSON.stringify({ ...recorded, order, export_error: exportError })}\n`, () =>
  process.exit(exportError === null ? 0 : 1),
);
