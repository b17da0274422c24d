import { Duration } from "aws-cdk-lib";
import type { HttpApi } from "aws-cdk-lib/aws-apigatewayv2";
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  Metric,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import type { IKey } from "aws-cdk-lib/aws-kms";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { Topic } from "aws-cdk-lib/aws-sns";
import { EmailSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { METRICS_NAMESPACE, POWERTOOLS_SERVICE_NAME } from "./tourniquet-function.js";

/** The intake's counts (lib/runtime/metrics.ts createIntakeMetrics). */
export const INTAKE_METRICS = [
  "ReportsReceived",
  "TokensReported",
  "TokensVerified",
  "TruePositives",
] as const;

/** A Powertools count metric summed over 5 minutes. */
const countOf = (metricName: string) =>
  new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: POWERTOOLS_SERVICE_NAME },
    statistic: "Sum",
    period: Duration.minutes(5),
  });

/**
 * The custom metric the worker publishes (Powertools EMF, milliseconds from first report to the key
 * re-verified dead), in namespace `Tourniquet` with Powertools' default dimension `service`.
 */
export const TIME_TO_REVOKE_METRIC = {
  namespace: METRICS_NAMESPACE,
  metricName: "TimeToRevoke",
  dimensionsMap: { service: POWERTOOLS_SERVICE_NAME },
} as const;

/** Intake 4xx in 5 minutes that count as a spike (bad signatures, floods); 5xx in 5 minutes. */
export const API_4XX_SPIKE = 50;
export const API_5XX_SPIKE = 5;

export interface TourniquetAlarmsProps {
  readonly stage: string;
  readonly encryptionKey: IKey;
  readonly alarmEmail?: string | undefined;
  readonly deadLetterQueue: IQueue;
  readonly functions: Record<string, IFunction>;
  readonly api: HttpApi;
  readonly timeToRevokeTargetMs: number;
}

/** Alarms on the things that mean a leak is not being handled, all sent to one SNS topic. */
export class TourniquetAlarms extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: TourniquetAlarmsProps) {
    super(scope, id);

    this.topic = new Topic(this, "Topic", {
      topicName: `tourniquet-${props.stage}-alarms`,
      masterKey: props.encryptionKey,
      enforceSSL: true,
    });
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    const action = new SnsAction(this.topic);

    const alarm = (alarmId: string, metric: IMetric, threshold: number, description: string) => {
      const created = new Alarm(this, alarmId, {
        metric,
        alarmName: `tourniquet-${props.stage}-${alarmId}`,
        alarmDescription: description,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(action);
      this.alarms.push(created);
      return created;
    };

    alarm(
      "DeadLetters",
      props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: "Maximum",
      }),
      0,
      "A remediation message is in the dead-letter queue: a leak was not handled. See docs/deploy.md.",
    );

    for (const [name, fn] of Object.entries(props.functions)) {
      alarm(
        `${name}Errors`,
        fn.metricErrors({ period: Duration.minutes(5) }),
        0,
        `${name} failed invocations`,
      );
      alarm(
        `${name}Throttles`,
        fn.metricThrottles({ period: Duration.minutes(5) }),
        0,
        `${name} was throttled`,
      );
    }

    alarm(
      "ConfigRejected",
      countOf("ConfigRejected"),
      0,
      "A changed config (SSM parameter or its secret) does not validate or construct: the functions keep the last good one. Fix the parameter; see docs/deploy.md.",
    );

    alarm(
      "Api4xxSpike",
      props.api.metricClientError({ period: Duration.minutes(5) }),
      API_4XX_SPIKE,
      "Many rejected requests: a misconfigured sender, a signature key problem or a flood.",
    );
    alarm(
      "Api5xx",
      props.api.metricServerError({ period: Duration.minutes(5) }),
      API_5XX_SPIKE,
      "The API answers with server errors: GitHub's reports may be lost.",
    );

    const timeToRevoke = new Metric({
      ...TIME_TO_REVOKE_METRIC,
      statistic: "p99",
      period: Duration.minutes(15),
    });
    alarm(
      "TimeToRevokeP99",
      timeToRevoke,
      props.timeToRevokeTargetMs,
      `p99 time from report to revoked key above ${props.timeToRevokeTargetMs} ms over 15 minutes`,
    );

    new Dashboard(this, "Dashboard", {
      dashboardName: `tourniquet-${props.stage}`,
      widgets: [
        [
          new GraphWidget({ title: "Time to revoke (ms)", left: [timeToRevoke], width: 12 }),
          new GraphWidget({
            title: "API 4xx / 5xx",
            left: [props.api.metricClientError(), props.api.metricServerError()],
            width: 12,
          }),
        ],
        [
          new GraphWidget({
            title: "Errors by function",
            left: Object.values(props.functions).map((fn) => fn.metricErrors()),
            width: 12,
          }),
          new GraphWidget({
            title: "Dead letters",
            left: [props.deadLetterQueue.metricApproximateNumberOfMessagesVisible()],
            width: 12,
          }),
        ],
        [
          new GraphWidget({
            title: "Reports and tokens (intake)",
            left: INTAKE_METRICS.map((metricName) => countOf(metricName)),
            width: 12,
          }),
          new GraphWidget({
            title: "Leaks revoked / failed (worker)",
            left: [countOf("LeaksRevoked"), countOf("LeaksFailed")],
            width: 12,
          }),
        ],
      ],
    });
  }
}
