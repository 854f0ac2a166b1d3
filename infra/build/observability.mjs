// @ts-check

/**
 * What an operator watches, generated from the registry and the metric catalogue
 * (`lib/metrics/catalogue.ts`), both read once by `loadStackFacts` (sender-parts.mjs):
 *
 * - per sender, an alarm that the sender changed its format: the share of its callbacks whose body
 *   was read that were refused as unreadable (400) or invalid (422), over a window, once enough were
 *   read (deploy parameters `formatChangeAlarmPercent`, `formatChangeAlarmWindowSeconds`,
 *   `formatChangeAlarmMinCallbacks`);
 * - one dashboard: every alarm's state, a row per sender (rate, answers by outcome, what was kept
 *   where, answer time p50 and p99), and a row for the queues, the spool and the quarantine (depth,
 *   oldest age, dead letters).
 *
 * docs/operations.md says what each alarm means and what to do.
 */

/**
 * @typedef {{ readonly Name: string, readonly Unit: string }} MetricDefinition
 * @typedef {{
 *   readonly CALLBACK_METRICS: Readonly<Record<'callbacks' | 'answerTime' | 'bodyBytes' | 'quarantined' | 'claimChecked' | 'spooled' | 'redriven', MetricDefinition>>,
 *   readonly SPOOL_METRICS: Readonly<Record<'oldestAge' | 'left', MetricDefinition>>,
 *   readonly DIMENSIONS: { readonly service: string, readonly source: string, readonly type: string, readonly outcome: string },
 *   readonly OUTCOMES: readonly string[],
 *   readonly FORMAT_CHANGE: { readonly refused: readonly string[], readonly read: readonly string[] },
 * }} MetricFacts
 * @typedef {{ readonly name: string, readonly title: string }} SenderTitle
 */

/** The namespace and the `Service` dimension's value, as serverless.yml gives them to the functions. */
const NAMESPACE = '${self:service}/${sls:stage}';
const SERVICE = '${self:service}-${sls:stage}';

/** The name of a sender's format-change alarm. */
export const formatChangeAlarmName = (/** @type {string} */ sender) => `\${self:service}-\${sls:stage}-${sender}-format-change`;

/**
 * A sender's format-change alarm: metric math on its `Callbacks` per outcome (embedded in its
 * request log lines). `read` is every callback whose body was read, `refused` those refused as
 * unreadable or invalid; the alarm watches `100 * refused / read`, or 0 while fewer than the minimum
 * were read in the window (so one bad request alone does not page anyone).
 * @param {{ sender: SenderTitle, metrics: MetricFacts }} input
 */
export function formatChangeAlarm({ sender, metrics }) {
  const { CALLBACK_METRICS, DIMENSIONS, FORMAT_CHANGE } = metrics;
  const window = '${param:formatChangeAlarmWindowSeconds}';
  const outcomes = [...new Set([...FORMAT_CHANGE.read, ...FORMAT_CHANGE.refused])];
  /** `refused-422` → `refused422`: a metric math id is a letter, then letters, digits and `_`. */
  const idOf = (/** @type {string} */ outcome) => outcome.replace(/[^A-Za-z0-9]/g, '');
  const sum = (/** @type {readonly string[]} */ list) => list.map((outcome) => `FILL(${idOf(outcome)}, 0)`).join(' + ');
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmName: formatChangeAlarmName(sender.name),
      AlarmDescription:
        `${sender.title} (${sender.name}) may have changed its callback format: over \${param:formatChangeAlarmPercent}% of its ` +
        `callbacks read in \${param:formatChangeAlarmWindowSeconds} s (at least \${param:formatChangeAlarmMinCallbacks}) were refused ` +
        'as unreadable (400) or invalid (422), and each is kept in the quarantine. See docs/operations.md, "Format change".',
      Metrics: [
        ...outcomes.map((outcome) => ({
          Id: idOf(outcome),
          ReturnData: false,
          MetricStat: {
            Metric: {
              Namespace: NAMESPACE,
              MetricName: CALLBACK_METRICS.callbacks.Name,
              Dimensions: [
                { Name: DIMENSIONS.service, Value: SERVICE },
                { Name: DIMENSIONS.source, Value: sender.name },
                { Name: DIMENSIONS.outcome, Value: outcome },
              ],
            },
            Period: window,
            Stat: 'Sum',
          },
        })),
        { Id: 'read', Label: 'callbacks read', ReturnData: false, Expression: sum(FORMAT_CHANGE.read) },
        { Id: 'refused', Label: 'refused 400 or 422', ReturnData: false, Expression: sum(FORMAT_CHANGE.refused) },
        {
          Id: 'share',
          Label: `${sender.name}: % of callbacks read refused 400 or 422`,
          ReturnData: true,
          Expression: 'IF(read >= ${param:formatChangeAlarmMinCallbacks}, 100 * refused / read, 0)',
        },
      ],
      EvaluationPeriods: 1,
      Threshold: '${param:formatChangeAlarmPercent}',
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    },
  };
}

/** Grid units: a dashboard is 24 wide. */
const WIDTH = 24;

/**
 * The stack's dashboard (`<service>-<stage>`). Its body is JSON inside `Fn::Sub`, so queue names,
 * alarm ARNs and the region are filled in by CloudFormation.
 * @param {{ senders: readonly SenderTitle[], alarms: readonly string[], metrics: MetricFacts }} input
 *   `alarms`: the logical ids of every alarm of the stack, shown by state at the top
 */
export function dashboard({ senders, alarms, metrics }) {
  const { CALLBACK_METRICS, SPOOL_METRICS, DIMENSIONS, OUTCOMES } = metrics;
  /** @type {object[]} */
  const widgets = [];
  let y = 0;
  const text = (/** @type {string} */ markdown) => {
    widgets.push({ type: 'text', x: 0, y, width: WIDTH, height: 1, properties: { markdown } });
    y += 1;
  };
  /** @param {ReadonlyArray<{ title: string, metrics: unknown[], stat?: string, period?: number, stacked?: boolean }>} row */
  const graphs = (row) => {
    const width = WIDTH / row.length;
    row.forEach((graph, index) => {
      widgets.push({
        type: 'metric',
        x: index * width,
        y,
        width,
        height: 6,
        properties: {
          title: graph.title,
          region: '${AWS::Region}',
          view: 'timeSeries',
          stacked: graph.stacked ?? false,
          stat: graph.stat ?? 'Sum',
          period: graph.period ?? 300,
          metrics: graph.metrics,
        },
      });
    });
    y += 6;
  };
  const own = (/** @type {string} */ name, /** @type {string[]} */ dimensions, /** @type {object} */ options) => [
    NAMESPACE,
    name,
    DIMENSIONS.service,
    SERVICE,
    ...dimensions,
    options,
  ];
  const queue = (/** @type {string} */ name, /** @type {string} */ queueId, /** @type {string} */ label) => [
    'AWS/SQS',
    name,
    'QueueName',
    `\${${queueId}.QueueName}`,
    { label },
  ];

  widgets.push({
    type: 'alarm',
    x: 0,
    y,
    width: WIDTH,
    height: 3,
    properties: { title: 'Alarms (docs/operations.md says what each means)', alarms: alarms.map((id) => `\${${id}.Arn}`) },
  });
  y += 3;

  const { callbacks, answerTime, quarantined, spooled, claimChecked, redriven } = CALLBACK_METRICS;
  for (const sender of senders) {
    const source = [DIMENSIONS.source, sender.name];
    text(`## ${sender.title} (\`${sender.name}\`)`);
    graphs([
      { title: `${sender.name}: callbacks per minute`, period: 60, metrics: [own(callbacks.Name, source, { label: 'callbacks' })] },
      {
        title: `${sender.name}: answers (per 5 minutes)`,
        stacked: true,
        metrics: OUTCOMES.map((outcome) => own(callbacks.Name, [...source, DIMENSIONS.outcome, outcome], { label: outcome })),
      },
      {
        title: `${sender.name}: kept apart (per 5 minutes)`,
        metrics: [
          own(quarantined.Name, source, { label: 'quarantined' }),
          own(spooled.Name, source, { label: 'spooled' }),
          own(redriven.Name, source, { label: 'redriven from the spool' }),
          own(claimChecked.Name, source, { label: 'claim-checked (event in the bucket)' }),
        ],
      },
      {
        title: `${sender.name}: answer time (ms)`,
        metrics: [own(answerTime.Name, source, { stat: 'p50', label: 'p50' }), own(answerTime.Name, source, { stat: 'p99', label: 'p99' })],
      },
    ]);
  }

  text('## Queues, spool and quarantine');
  graphs([
    {
      title: 'Waiting (messages)',
      stat: 'Maximum',
      metrics: [
        queue('ApproximateNumberOfMessagesVisible', 'EventsQueue', 'events'),
        queue('ApproximateNumberOfMessagesNotVisible', 'EventsQueue', 'events in flight'),
        queue('ApproximateNumberOfMessagesVisible', 'QuarantineQueue', 'quarantined callbacks'),
        own(SPOOL_METRICS.left.Name, [], { label: 'spooled (after the last redrive)' }),
      ],
    },
    {
      title: 'Oldest (seconds)',
      stat: 'Maximum',
      metrics: [
        queue('ApproximateAgeOfOldestMessage', 'EventsQueue', 'event'),
        queue('ApproximateAgeOfOldestMessage', 'QuarantineQueue', 'quarantined callback'),
        own(SPOOL_METRICS.oldestAge.Name, [], { label: 'spooled event' }),
      ],
    },
    {
      title: 'Dead letters (events a consumer failed 5 times)',
      stat: 'Maximum',
      metrics: [queue('ApproximateNumberOfMessagesVisible', 'EventsDeadLetterQueue', 'dead letters')],
    },
  ]);

  return {
    Type: 'AWS::CloudWatch::Dashboard',
    Properties: {
      DashboardName: '${self:service}-${sls:stage}',
      DashboardBody: { 'Fn::Sub': JSON.stringify({ widgets }) },
    },
  };
}
